import json

from _entry import logged

from relurepro import stages

with logged(snakemake):  # noqa: F821
    w = snakemake.wildcards  # noqa: F821
    stages.data(w.paper, w.dataset, json.loads(snakemake.params.spec), snakemake.output[0])  # noqa: F821
