# Stage 4: one runs table and one baselines table per paper, with provenance.


rule aggregate:
    """Concatenate a paper's runs and baselines into one table each."""
    message:
        "Aggregate the tables of {wildcards.paper}"
    input:
        runs=lambda w: run_files(w.paper),
        baselines=lambda w: [
            f"results/{w.paper}/baselines/{e}.parquet"
            for e in experiments(w.paper)
            if papers.has_baselines(w.paper, e)
        ],
    output:
        runs="results/{paper}/runs.parquet",
        baselines="results/{paper}/baselines.parquet",
    log:
        "logs/{paper}/aggregate.log",
    conda:
        ENV
    script:
        "../scripts/aggregate.py"
