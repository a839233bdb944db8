# Stage 5: figures, drawn only from the aggregated tables.
#
# A figure's report caption is `workflow/report/figure.rst`, which includes the snippet
# `results/report/captions/<stem>.rst` that rule report_tables writes: the stem's own caption
# (a generic one where `workflow/report/<stem>.rst` does not exist) and the claims of the
# experiment that draws it, with their values and verdicts. So a figure needs no caption to
# run, and a changed claim value rewrites that snippet without re-rendering the figure.


rule figure:
    """Render one figure (PNG and PDF) from a paper's aggregated runs and baselines."""
    message:
        "Figure {wildcards.stem}"
    input:
        runs="results/{paper}/runs.parquet",
        baselines="results/{paper}/baselines.parquet",
    output:
        png=report(
            "results/{paper}/figures/{stem}.png",
            caption="../report/figure.rst",
            category="{paper}",
            labels={"paper": "{paper}", "figure": "{stem}"},
        ),
        pdf="results/{paper}/figures/{stem}.pdf",
    log:
        "logs/{paper}/figures/{stem}.log",
    conda:
        ENV
    params:
        experiment=lambda w: FIGURE_EXPERIMENT[w.paper][w.stem],
        profile=config["profile"],
        # the drawing experiment's config section, keys sorted (a stable repr: no re-run on reordering)
        config=lambda w: json.loads(
            canon(
                PAPER_CFG[w.paper]["experiments"][FIGURE_EXPERIMENT[w.paper][w.stem]]
            )
        ),
        code=code("figure"),
    script:
        "../scripts/figure.py"
