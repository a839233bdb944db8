import json

from _entry import logged

from relurepro import stages
from relurepro.papers import Job

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    w, p = sm.wildcards, sm.params
    job = Job.from_spec(w.experiment, w.point, json.loads(p.job))
    paths = {name: sm.input[name] for name in job.datasets}
    stages.train(w.paper, job, paths, sm.output[0], device=p.device, dtype=p.dtype, threads=sm.threads, code=p.code)
