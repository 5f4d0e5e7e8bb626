"""Every gallery figure: type of at least 9 pt, legends off the data, labelled log axes."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.text import Text

GALLERY = Path(__file__).resolve().parents[1] / "examples" / "gallery.py"


def _gallery():
    spec = importlib.util.spec_from_file_location("bayescale_gallery", GALLERY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def drawn():
    figs = {}
    for name, draw in _gallery().figures().items():
        fig, _ = draw()
        fig.canvas.draw()
        figs[name] = fig
    yield figs
    plt.close("all")


def _texts(fig):
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text().strip() and t.get_figure() is not None:
            yield t


def test_the_gallery_covers_every_plot_function(drawn):
    source = GALLERY.read_text()
    import bayescale.plots as plots

    for name in plots.__all__:
        assert f"plots.{name}(" in source, name
    import bayescale.plots_decisions as plots_decisions

    for name in plots_decisions.__all__:
        assert f"plots_decisions.{name}(" in source, name
    assert 'by="C"' in source  # the isoFLOP view of plot_fit


def test_every_text_is_at_least_9_points(drawn):
    small = [
        (name, t.get_text()[:40], t.get_fontsize())
        for name, fig in drawn.items()
        for t in _texts(fig)
        if t.get_fontsize() < 9
    ]
    assert not small, small


def _data_points(ax):
    """Display coordinates of every data point drawn in ``ax`` that lies inside the axes."""
    pts = []
    for coll in ax.collections:
        offsets = np.asarray(coll.get_offsets(), dtype=float)
        if offsets.size:
            pts.append(coll.get_offset_transform().transform(offsets))
    for line in ax.lines:
        xy = np.asarray(line.get_xydata(), dtype=float)
        if xy.size:
            pts.append(line.get_transform().transform(xy))
    if not pts:
        return np.empty((0, 2))
    pts = np.concatenate(pts)
    pts = pts[np.isfinite(pts).all(axis=1)]
    box = ax.get_window_extent()
    inside = (
        (pts[:, 0] >= box.x0)
        & (pts[:, 0] <= box.x1)
        & (pts[:, 1] >= box.y0)
        & (pts[:, 1] <= box.y1)
    )
    return pts[inside]


def test_no_legend_covers_a_data_point(drawn):
    overlaps = []
    for name, fig in drawn.items():
        legends = [a.get_legend() for a in fig.axes if a.get_legend()] + list(fig.legends)
        assert legends, f"{name} has no legend"
        for legend in legends:
            bbox = legend.get_window_extent()
            for ax in fig.axes:
                pts = _data_points(ax)
                hit = (
                    (pts[:, 0] > bbox.x0)
                    & (pts[:, 0] < bbox.x1)
                    & (pts[:, 1] > bbox.y0)
                    & (pts[:, 1] < bbox.y1)
                )
                if hit.any():
                    overlaps.append((name, int(hit.sum())))
    assert not overlaps, overlaps


def test_short_log_axes_have_three_labelled_ticks(drawn):
    bad = []
    for name, fig in drawn.items():
        for ax in fig.axes:
            for axis, scale, lim in (
                (ax.xaxis, ax.get_xscale(), ax.get_xlim()),
                (ax.yaxis, ax.get_yscale(), ax.get_ylim()),
            ):
                if scale != "log" or not ax.get_visible():
                    continue
                lo, hi = sorted(lim)
                if math.log10(hi / lo) > 2:
                    continue
                labelled = [
                    t
                    for tick_set in (axis.get_major_ticks(), axis.get_minor_ticks())
                    for t in tick_set
                    if t.label1.get_visible()
                    and t.label1.get_text().strip()
                    and lo * (1 - 1e-9) <= t.get_loc() <= hi * (1 + 1e-9)
                ]
                if len(labelled) < 3:
                    bad.append(
                        (name, axis.get_label_text(), [t.label1.get_text() for t in labelled])
                    )
    assert not bad, bad


def test_every_plot_honours_ax(pinned):
    import bayescale as bs
    from bayescale import plots

    figs = _gallery().figures()
    _, one = plt.subplots()
    for name in ("isoflops", "fit", "tokens_per_param"):
        fn = {"isoflops": plots.plot_isoflops, "fit": plots.plot_fit,
              "tokens_per_param": plots.plot_tokens_per_param}[name]  # fmt: skip
        _fig, got = fn(pinned, ax=one)
        assert got is one, name
    _, two = plt.subplots(1, 2)
    _fig, got = plots.plot_residuals(pinned, ax=two)
    assert list(got) == list(two)
    assert figs and bs


def test_the_overlap_check_sees_a_legend_over_data():
    fig, ax = plt.subplots()
    x = np.linspace(0, 1, 50)
    ax.scatter(x, x, label="runs")
    ax.legend(loc="center")
    fig.canvas.draw()
    bbox = ax.get_legend().get_window_extent()
    pts = _data_points(ax)
    hit = (
        (pts[:, 0] > bbox.x0)
        & (pts[:, 0] < bbox.x1)
        & (pts[:, 1] > bbox.y0)
        & (pts[:, 1] < bbox.y1)
    )
    assert hit.any()
