# Stage 7: material for the Snakemake HTML report (`snakemake --report results/report.html`).


report: "../report/workflow.rst"


rule report_tables:
    input:
        claims="results/claims.parquet",
    output:
        claims=report(
            "results/report/claims.html",
            caption="../report/claims.rst",
            category="Claims",
        ),
        choices=report(
            "results/report/choices.html",
            caption="../report/choices.rst",
            category="Configuration",
        ),
    log:
        "logs/report_tables.log",
    conda:
        ENV
    params:
        papers=PAPERS,
        cfg=canon(config),
    script:
        "../scripts/report_tables.py"
