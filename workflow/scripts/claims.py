from _entry import logged

from relurepro import stages

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    stages.claims_table(list(sm.input), sm.output.parquet, sm.output.md, sm.params.config_hash)
