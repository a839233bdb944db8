# Stage 5: figures, drawn only from the aggregated tables.


rule figure:
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
        code=code("figure"),
        cfg=lambda w: canon(PAPER_CFG[w.paper]),
        caption=lambda w: (
            Path(workflow.basedir) / "workflow" / "report" / f"{w.stem}.rst"
        ).read_text(),
    script:
        "../scripts/figure.py"
