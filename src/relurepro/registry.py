"""The paper plug-ins. Adding a paper: one line here and one section in the config."""

from __future__ import annotations

import importlib
from types import ModuleType

PAPERS: dict[str, str] = {
    "zhang2024": "relurepro.papers.zhang2024",
    "meltzer2023": "relurepro.papers.meltzer2023",
    "williams2024": "relurepro.papers.williams2024",
}


def plugin(paper: str) -> ModuleType:
    """Import the plug-in module of ``paper``."""
    if paper not in PAPERS:
        raise KeyError(f"unknown paper {paper!r}; registered: {sorted(PAPERS)}")
    return importlib.import_module(PAPERS[paper])
