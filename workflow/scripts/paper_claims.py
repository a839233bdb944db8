import json

from _entry import logged

from relurepro import stages

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    stages.paper_claims(sm.wildcards.paper, sm.input.runs, sm.input.baselines, json.loads(sm.params.cfg), sm.output[0])
