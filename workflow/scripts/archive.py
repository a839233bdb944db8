from _entry import logged

from relurepro import stages

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    stages.archive(sm.output[0], sm.params.configs, sm.params.config_hash)
