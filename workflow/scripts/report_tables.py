import json
from pathlib import Path

from _entry import logged

from relurepro import stages

with logged(snakemake):  # noqa: F821
    sm = snakemake  # noqa: F821
    stages.report_tables(
        sm.input.claims,
        list(sm.params.papers),
        json.loads(sm.params.cfg),
        sm.output.claims,
        sm.output.choices,
        sm.output.summary,
        caption_outs={Path(p).stem: p for p in sm.output.captions},
        sources={Path(p).stem: p for p in sm.input.captions},
    )
