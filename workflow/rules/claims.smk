# Stage 6: each paper's acceptance checks, then one table for all papers.


rule paper_claims:
    """Evaluate every claim a paper declares."""
    message:
        "Claims of {wildcards.paper}"
    input:
        runs="results/{paper}/runs.parquet",
        baselines="results/{paper}/baselines.parquet",
    output:
        "results/{paper}/claims.parquet",
    log:
        "logs/{paper}/claims.log",
    conda:
        ENV
    params:
        code=code("claims"),
        cfg=lambda w: canon(PAPER_CFG[w.paper]),
    script:
        "../scripts/paper_claims.py"


rule claims:
    """Merge the papers' claims into results/claims.parquet and claims.md."""
    message:
        "Claims table of all papers"
    input:
        expand("results/{paper}/claims.parquet", paper=PAPERS),
    output:
        parquet=report(
            "results/claims.parquet",
            caption="../report/claims.rst",
            category="Claims",
        ),
        md="results/claims.md",
    log:
        "logs/claims.log",
    conda:
        ENV
    params:
        config_hash=CONFIG_HASH,
    script:
        "../scripts/claims.py"
