# Stage 8: a verifiable archive of a finished run (not part of `all`; `snakemake archive`).


rule archive:
    input:
        all_targets(),
        "results/report/claims.html",
    output:
        f"results/archive/relurepro-{rcfg.package_version()}-{CONFIG_HASH}.tar.gz",
    log:
        "logs/archive.log",
    conda:
        ENV
    params:
        config_hash=CONFIG_HASH,
        configs=lambda w: [str(p) for p in workflow.configfiles],
    script:
        "../scripts/archive.py"
