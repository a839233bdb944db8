"""Shared set-up for the thin workflow scripts: log redirection and import path."""

import contextlib
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))


@contextlib.contextmanager
def logged(snakemake):
    """Send the stage's stdout and stderr, and any traceback, to the rule's log file."""
    with open(snakemake.log[0], "w", buffering=1) as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        try:
            yield
        except BaseException:
            traceback.print_exc(file=fh)
            raise
