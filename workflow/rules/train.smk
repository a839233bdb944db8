# Stage 2: one job per (paper, experiment, shape point); members train as one ensemble.


rule train:
    """Train one job's ensemble of networks and write its long table."""
    message:
        "Train {wildcards.paper} {wildcards.experiment}/{wildcards.point}"
    input:
        unpack(lambda w: {n: data_file(w.paper, n) for n in job_of(w).datasets}),
    output:
        "results/{paper}/runs/{experiment}/{point}.parquet",
    log:
        "logs/{paper}/train/{experiment}/{point}.log",
    benchmark:
        "benchmarks/{paper}/train/{experiment}/{point}.tsv"
    conda:
        ENV
    threads: config["train_threads"]
    resources:
        mem_mb=config["train_mem_mb"],
        runtime=config["train_runtime_min"],
        gpu=1 if USE_GPU else 0,
    params:
        code=code("train"),
        job=lambda w: canon(job_of(w).spec()),
        device=config["device"],
        dtype=config["dtype"],
    script:
        "../scripts/train.py"
