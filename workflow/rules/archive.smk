# Stage 8: a verifiable archive of a finished run (not part of `all`; `snakemake archive`).
import os

# `relurepro rerender` sets this to the config hash of the restored results: re-rendering them
# under any other config would label them with values they were not made with.
_EXPECTED_HASH = os.environ.get("RELUREPRO_EXPECT_CONFIG_HASH")
if _EXPECTED_HASH and _EXPECTED_HASH != CONFIG_HASH:
    raise WorkflowError(
        f"refusing to re-render: the restored results were made with config hash {_EXPECTED_HASH}, "
        f"this config has hash {CONFIG_HASH}; use the restored config "
        "(relurepro rerender prints and uses it)"
    )


# the config files in the order Snakemake merged them: the Snakefile's, then --configfile
_CLI_CONFIGS = [str(p) for p in workflow.overwrite_configfiles]
ARCHIVE_CONFIGS = (
    _CLI_CONFIGS
    if _CLI_CONFIGS and workflow.config_settings.replace_workflow_config
    else [str(p) for p in workflow.configfiles if str(p) not in _CLI_CONFIGS]
    + _CLI_CONFIGS
)


rule archive:
    """Pack the finished run into a verifiable archive."""
    message:
        "Archive the run"
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
        configs=ARCHIVE_CONFIGS,
    script:
        "../scripts/archive.py"
