# Stage 1: generate or load each data set once, with its seed in the spec.


rule data:
    """Generate or load one data set from its seeded spec."""
    message:
        "Generate data set {wildcards.dataset} of {wildcards.paper}"
    input:
        lambda w: data_inputs(w.paper, w.dataset),
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
