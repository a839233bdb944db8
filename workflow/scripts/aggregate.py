from _entry import logged

from relurepro import stages

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    stages.aggregate(
        sm.wildcards.paper,
        list(sm.input.runs),
        list(sm.input.baselines),
        sm.output.runs,
        sm.output.baselines,
    )
