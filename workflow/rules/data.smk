# Stage 1: generate or load each data set once, with its seed in the spec.


rule data:
    output:
        "results/{paper}/data/{dataset}.npz",
    log:
        "logs/{paper}/data/{dataset}.log",
    conda:
        ENV
    params:
        code=code("data"),
        spec=lambda w: canon(DATASETS[w.paper][w.dataset]),
    script:
        "../scripts/data.py"
