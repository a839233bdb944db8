import json

from _entry import logged

from relurepro import stages

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    w = sm.wildcards
    stages.figure(
        w.paper, w.stem, sm.input.runs, sm.input.baselines, json.loads(sm.params.cfg), sm.output.png, sm.output.pdf
    )
