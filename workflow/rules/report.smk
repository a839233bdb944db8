# Stage 7: material for the Snakemake HTML report (`snakemake --report results/report.html`).
#
# The landing page (workflow.rst) and each figure's caption (figure.rst) include RST snippets
# that rule report_tables writes from the claims table, so the report shows the verdicts
# without re-rendering any figure when a claim value changes.


report: "../report/workflow.rst"


STEMS = sorted(stem for paper in PAPERS for stem in FIGURES[paper])
# the figures' own caption files; report_tables writes a generic caption for a stem without one
CAPTION_FILES = [
    str(path)
    for path in (
        Path(workflow.basedir) / "workflow" / "report" / f"{s}.rst" for s in STEMS
    )
    if path.exists()
]


rule report_tables:
    """Write the claims and configuration pages, the landing-page summary and each figure's caption."""
    message:
        "Report tables and figure captions"
    input:
        claims="results/claims.parquet",
        captions=CAPTION_FILES,
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
        summary="results/report/summary.rst",
        captions=[f"results/report/captions/{s}.rst" for s in STEMS],
    log:
        "logs/report_tables.log",
    conda:
        ENV
    params:
        papers=PAPERS,
        cfg=canon(config),
    script:
        "../scripts/report_tables.py"
