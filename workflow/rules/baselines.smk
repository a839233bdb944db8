# Stage 3: analytic and closed-form references, from each experiment's runs.


rule baselines:
    """Compute one experiment's analytic and closed-form references from its runs."""
    message:
        "Baselines of {wildcards.paper} {wildcards.experiment}"
    input:
        runs=lambda w: run_files(w.paper, w.experiment),
        data=lambda w: [
            data_file(w.paper, n) for n in experiment_datasets(w.paper, w.experiment)
        ],
    output:
        "results/{paper}/baselines/{experiment}.parquet",
    log:
        "logs/{paper}/baselines/{experiment}.log",
    benchmark:
        "benchmarks/{paper}/baselines/{experiment}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=config["train_mem_mb"],
        runtime=config["train_runtime_min"],
    params:
        code=code("baselines"),
        jobs=lambda w: canon(
            {
                j.point: j.spec()
                for j in GRID[w.paper].values()
                if j.experiment == w.experiment
            }
        ),
        datasets=lambda w: experiment_datasets(w.paper, w.experiment),
        dtype=config["dtype"],
    script:
        "../scripts/baselines.py"
