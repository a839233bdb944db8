import json

from _entry import logged

from relurepro import stages

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    paths = dict(zip(sm.params.datasets, sm.input.data))
    stages.baselines(
        sm.wildcards.paper,
        sm.wildcards.experiment,
        json.loads(sm.params.jobs),
        list(sm.input.runs),
        paths,
        sm.output[0],
        dtype=sm.params.dtype,
        code=sm.params.code,
    )
