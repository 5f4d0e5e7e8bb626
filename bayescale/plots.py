"""Figures of fits and of their decisions. Each function returns ``(fig, axes)`` and takes ``ax=``.

Plots read fits and analysis results; they never sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .analysis import compute_optimal
from .cards import load_card
from .fit import Fit
from .law import get_law
from .xp import numpy_ns

__all__ = ["plot_tokens_per_param"]

_CARD_STYLES = ("--", "-.", ":")


def _axes(ax: Any, figsize: tuple[float, float] = (6.4, 4.4)) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def plot_tokens_per_param(
    fit: Fit,
    *,
    compute: Sequence[float] | None = None,
    prob: float = 0.8,
    cards: Sequence[str] = ("hoffmann2022",),
    rule: float | None = 20.0,
    mark: float | None = 5.88e23,
    ax: Any = None,
    label: str | None = None,
    color: str = "C0",
) -> tuple[Any, Any]:
    """Compute-optimal tokens per parameter D*/N* against compute, with a posterior band.

    The posterior median and central ``prob`` interval of D*/N* are drawn over ``compute``;
    published fits (``cards``) are drawn as lines from their point values, and ``rule`` as a
    horizontal line (the "20 tokens per parameter" heuristic).

    Parameters
    ----------
    fit : Fit
        A fit of a law with N and D inputs.
    compute : sequence of float, optional
        FLOP budgets (default: 1e18 to 1e28, log-spaced).
    prob : float
        Probability mass of the band.
    cards : sequence of str
        Names of reference cards of the same law to overlay.
    rule : float or None
        Tokens-per-parameter rule of thumb to draw.
    mark : float or None
        A budget to mark with a vertical line (Chinchilla's 5.88e23 FLOPs).
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    fig, ax

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs
    >>> from bayescale.plots import plot_tokens_per_param
    >>> fig, ax = plot_tokens_per_param(bs.testing.pinned_fit(seed=0))
    >>> ax.get_xscale()
    'log'
    """
    fig, ax = _axes(ax)
    C = np.logspace(18, 28, 61) if compute is None else np.asarray(compute, dtype=float)
    ratio = compute_optimal(fit, C)["tokens_per_param"].stack(sample=("chain", "draw"))
    lo, mid, hi = np.quantile(ratio.to_numpy(), [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=-1)
    name = label or f"bayescale {fit.law.name} ({len(fit.data)} runs)"
    ax.fill_between(
        C, lo, hi, color=color, alpha=0.25, lw=0, label=f"{name}: {100 * prob:g}% interval"
    )
    ax.plot(C, mid, color=color, lw=2, label=f"{name}: posterior median")
    for style, card_name in zip(_CARD_STYLES * 3, cards, strict=False):
        card = load_card(card_name)
        law = get_law(card.law)
        if law.optimum is None:
            continue
        opt = law.optimum(numpy_ns, card.params, C)
        ax.plot(
            C, opt["D"] / opt["N"], style, color="0.25", lw=1.5, label=f"{card.name} point estimate"
        )
    if rule is not None:
        ax.axhline(rule, color="C3", lw=1, ls=":", label=f"{rule:g} tokens per parameter")
    if mark is not None:
        ax.axvline(mark, color="0.6", lw=0.8)
        ax.annotate(
            f"{mark:.3g} FLOPs",
            (mark, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            fontsize=8,
            color="0.4",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training compute C (FLOPs)")
    ax.set_ylabel("compute-optimal tokens per parameter D*/N*")
    ax.set_title("Compute-optimal tokens per parameter")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig, ax
