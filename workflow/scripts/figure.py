from _entry import logged

from relurepro import stages

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    w, p = sm.wildcards, sm.params
    stages.figure(
        w.paper,
        w.stem,
        sm.input.runs,
        sm.input.baselines,
        p.experiment,
        p.config,
        p.profile,
        sm.output.png,
        sm.output.pdf,
    )
