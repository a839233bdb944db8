# relurepro: reproduce six papers on ReLU network theory from one command.
# Thin by design: config, validation, stage includes and the final targets.


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/baselines.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/archive.smk"


rule all:
    default_target: True
    input:
        all_targets(),
