"""The shared figure style: one look for every paper's figures."""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402

# Line roles shared by all papers: simulation solid, theory thick dotted, linear reference dashed.
SIMULATION = {"linestyle": "-", "linewidth": 1.5}
THEORY = {"linestyle": ":", "linewidth": 3.0, "alpha": 0.9}
REFERENCE = {"linestyle": "--", "linewidth": 1.5}
PHASE_COLOURS = {"lazy": "#cfe8cf", "catapult": "#fde7c4", "divergent": "#f6c9c9"}


def apply() -> None:
    """Set the shared seaborn/matplotlib style."""
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "axes.titlesize": 11, "legend.fontsize": 9})


def panels(n: int, ncols: int = 3, size: float = 3.6, title: str | None = None):
    """A figure with ``n`` panels in a grid; returns ``(fig, flat list of axes)``."""
    apply()
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * 0.85 * nrows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    for ax, letter in zip(flat, "abcdefghijklmnop"):
        ax.set_title(f"({letter})", loc="left", fontsize=10, fontweight="bold")
    if title:  # wrapped to the figure's width, so a one-panel figure does not crop it
        fig.suptitle(textwrap.fill(title, width=max(30, int(9 * size * ncols))))
    return fig, flat[:n]


# The lightest colour a line may take: relative luminance 0.36 is a 2.5:1 contrast on white
# (viridis stops at its green, plasma at its orange; their yellow ends vanish on white).
MAX_LUMINANCE = 0.36


def luminance(colour) -> float:
    """Relative luminance (WCAG) of a matplotlib colour: 0 is black, 1 is white."""
    rgb = np.asarray(matplotlib.colors.to_rgb(colour))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def visible_span(cmap: str) -> tuple[float, float]:
    """The part ``(lo, hi)`` of a sequential colormap that stays visible on white."""
    cm = plt.get_cmap(cmap)
    xs = np.linspace(0.0, 1.0, 201)
    ok = xs[[luminance(cm(x)) <= MAX_LUMINANCE for x in xs]]
    return (float(ok.min()), float(ok.max())) if len(ok) else (0.0, 1.0)


def colours(values, cmap: str = "viridis_r") -> dict:
    """A colour per value along a continuous colormap (e.g. leaky slope or learning rate).

    The smallest value takes the colormap's start, the largest its end, within the part of
    the map that is visible on white (see :func:`visible_span`).
    """
    values = sorted(set(values))
    cm = plt.get_cmap(cmap)
    lo, hi = visible_span(cmap)
    span = (max(values) - min(values)) or 1.0
    return {v: cm(lo + (hi - lo) * (v - min(values)) / span) for v in values}


def save(fig, png_path, pdf_path) -> None:
    """Save a figure as PNG and PDF atomically and close it."""
    from .io import _atomic

    fig.tight_layout()
    _atomic(png_path, lambda tmp: fig.savefig(tmp, format="png"))
    _atomic(pdf_path, lambda tmp: fig.savefig(tmp, format="pdf"))
    plt.close(fig)
