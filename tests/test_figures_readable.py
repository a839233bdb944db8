"""Figures a new user can read at a glance: visible colours, readable legends, no empty panels."""

import pytest

from relurepro import config as rcfg
from relurepro import io, papers, plotting
from relurepro.papers.zhang2024 import common as zhang_common
from relurepro.tables import Tables

from .conftest import ROOT


@pytest.mark.parametrize("cmap", ["viridis_r", "plasma_r", "viridis", "plasma"])
def test_every_line_colour_is_visible_on_white(cmap):
    """The yellow end of viridis (alpha = 0 in zhang2024) and of plasma (small LRs in meltzer2023) vanished on white."""
    cols = plotting.colours([0.0, 0.25, 0.5, 1.0], cmap)
    assert max(plotting.luminance(c) for c in cols.values()) <= plotting.MAX_LUMINANCE
    assert len({tuple(c) for c in cols.values()}) == 4


def test_relu_and_linear_colours_are_the_ends_of_the_alpha_scale():
    import matplotlib.colors as mc

    col = zhang_common.alpha_colours([0.5])
    assert mc.to_hex(col[0.0]) == zhang_common.RELU_COLOUR
    assert mc.to_hex(col[1.0]) == zhang_common.LINEAR_COLOUR
    for c in (zhang_common.RELU_COLOUR, zhang_common.LINEAR_COLOUR):
        assert plotting.luminance(c) <= plotting.MAX_LUMINANCE


def _draw(project, paper, stem):
    cfg = rcfg.load(ROOT / "config" / "smoke.yaml", ROOT / "workflow" / "schemas")
    pc = rcfg.paper_config(cfg, paper)
    results = project / "results" / paper
    tables = Tables(io.read_parquet(results / "runs.parquet"), io.read_parquet(results / "baselines.parquet"), pc)
    return papers.figures(paper, pc)[stem](tables)


def _visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


@pytest.mark.slow
def test_relu_binary_has_readable_panels_and_legends(smoke_run):
    fig = _draw(smoke_run["project"], "meltzer2023", "meltzer2023_fig03_relu_binary")
    width, _ = fig.get_size_inches()
    assert width <= 14, "six panels in a row shrink every label when the report scales the figure down"
    for ax in _visible_axes(fig):
        legend = ax.get_legend()
        if legend is not None:
            assert min(t.get_fontsize() for t in legend.get_texts()) >= 8, ax.get_title(loc="left")
    labels = [t.get_text() for ax in _visible_axes(fig) if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert any("= 2" in label for label in labels), "the dotted lines at eta*lambda = 2 are explained"
    assert any("lazy" in label for label in labels), "the phase shading is explained"


@pytest.mark.slow
def test_pure_quadratic_last_panel_is_not_a_flat_line_at_the_floor(smoke_run):
    fig = _draw(smoke_run["project"], "meltzer2023", "meltzer2023_fig01_pure_quadratic")
    ax = _visible_axes(fig)[5]
    ys = [y for line in ax.get_lines() if len(line.get_ydata()) > 2 for y in line.get_ydata()]
    assert ys and max(ys) > 1.5 * min(ys), f"{ax.get_title(loc='left')}: {ys}"
    assert min(ys) > 1e-20


@pytest.mark.slow
def test_symmetry_breaking_deviation_panel_shows_both_nets(smoke_run):
    fig = _draw(smoke_run["project"], "zhang2024", "zhang2024_fig_symmetry_breaking")
    ax = _visible_axes(fig)[1]
    bars = [p for p in ax.patches if p.get_height() > 0]
    points = [line for line in ax.get_lines() if len(line.get_xdata()) >= 2 and "must" not in line.get_label()]
    assert len(bars) >= 2 or all(len(line.get_xdata()) >= 2 for line in points) and points
