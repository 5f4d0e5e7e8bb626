"""What the figure modules share: axes and panels, labels, bands of draws, human tick labels,
the legend under the axes, and the reference cards a figure draws beside a fit.

Private to bayescale's ``plots*`` modules; the figures themselves live in :mod:`bayescale.plots`
and its siblings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._api import check_ax, check_ci_prob
from .analysis import FLOPS_PER_PARAM_TOKEN
from .cards import Card, list_cards, load_card
from .fit import Fit
from .law import get_law

_CARD_STYLES = ("--", "-.", ":")
_CARD_COLORS = ("0.2", "C3", "C2", "C4")
AXIS_LABELS = {
    "N": "parameters N",
    "D": "training tokens D",
    "C": "training compute C (FLOPs)",
    "loss": "loss (nats/token)",
}


def _axes(ax: Any, figsize: tuple[float, float] = (6.4, 4.4)) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return check_ax(ax).figure, ax


def _panels(ax: Any, n: int, ncols: int, panel: tuple[float, float]) -> tuple[Any, np.ndarray]:
    """``n`` axes: new ones on a grid, or the ``n`` axes given in ``ax``."""
    import matplotlib.pyplot as plt

    if ax is None:
        ncols = min(ncols, n)
        nrows = -(-n // ncols)
        fig, grid = plt.subplots(
            nrows,
            ncols,
            figsize=(panel[0] * ncols, panel[1] * nrows),
            layout="constrained",
            squeeze=False,
        )
        flat = grid.ravel()
        for extra in flat[n:]:
            extra.set_visible(False)
        return fig, flat[:n]
    axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
    if len(axes) != n:
        raise ValueError(f"this figure needs {n} axes, got {len(axes)}")
    return axes[0].figure, axes


def _label(name: str) -> str:
    return AXIS_LABELS.get(name, name)


def _band(samples: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower, median and upper central-``prob`` quantiles along axis 0."""
    prob = check_ci_prob(prob)  # every figure's ci_prob reaches this
    lo, mid, hi = np.quantile(samples, [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0)
    return lo, mid, hi


def _draws(values: Any, n_last: int | None = None) -> np.ndarray:
    """Flatten every axis but the last into one draw axis (DataArrays in their own order)."""
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values, dtype=float)
    if n_last is None:
        return arr.ravel()
    if arr.ndim < 2 or arr.shape[-1] != n_last:
        raise ValueError(
            f"expected draws with a last axis of length {n_last} (the grid), got shape {arr.shape}"
        )
    return arr.reshape(-1, n_last)


def _sci(value: float) -> str:
    """``2.5e+09`` as ``2.5e9``."""
    mant, _, exp = f"{value:.2g}".partition("e")
    return f"{mant}e{int(exp)}" if exp else mant


def _plain_log_ticks(axis: Any) -> None:
    """Human tick labels on a log axis (:func:`bayescale.display.human_log_axis`): counts as
    70B, compute as 1e23, and at least three labels where the axis spans ≤ 2 decades."""
    from .display import human_log_axis

    label = axis.get_label_text()
    if (
        label in (AXIS_LABELS["N"], AXIS_LABELS["D"])
        or "parameters N" in label
        or "tokens D" in label
    ):
        kind = "count"
    elif "FLOPs" in label:
        kind = "flops"
    else:
        kind = "number"
    human_log_axis(axis, kind)


def _finish(*axes: Any) -> None:
    """Human tick labels on every log axis of ``axes`` (after labels and limits are set)."""
    for a in axes:
        if a is None or not a.get_visible():
            continue
        for axis, scale in ((a.xaxis, a.get_xscale()), (a.yaxis, a.get_yscale())):
            if scale == "log":
                _plain_log_ticks(axis)


def _is_log(values: np.ndarray) -> bool:
    values = values[np.isfinite(values)]
    return bool(values.size and values.min() > 0 and values.max() / values.min() >= 10)


def _law_names(fit: Any) -> list[str]:
    """The law of a fit, or the distinct laws of a stack's members."""
    return [fit.law.name] if isinstance(fit, Fit) else list(fit.law_names)


def _template(fit: Any, what: str) -> Fit:
    """The fit whose law's inputs and output a plot reads: the fit itself, or a stack's first
    member when every member's law has the same inputs and output."""
    if isinstance(fit, Fit):
        return fit
    members = list(fit.fits.items())
    first_name, first = members[0]
    for name, member in members[1:]:
        if (member.law.inputs, member.law.output) != (first.law.inputs, first.law.output):
            raise ValueError(
                f"{what}: stack member {name!r} ({member.law.key}) has inputs "
                f"{list(member.law.inputs)} and output {member.law.output!r}, member "
                f"{first_name!r} ({first.law.key}) {list(first.law.inputs)} and "
                f"{first.law.output!r}: plot the members separately"
            )
    return first


def _cards_for(law_name: str | Sequence[str], cards: Sequence[str | Card] | None) -> list[Card]:
    """The cards named in ``cards`` (loaded ones pass through), or every card of the law(s)."""
    laws = {law_name} if isinstance(law_name, str) else set(law_name)
    if cards is None:
        table = list_cards()
        names = [n for n, law in zip(table["name"], table["law"], strict=True) if law in laws]
    else:
        names = list(cards)
    return [n if isinstance(n, Card) else load_card(n) for n in names]


def _card_optimum(
    card: Card, C: np.ndarray, fixed: Mapping[str, Any] | None = None
) -> dict[str, np.ndarray] | None:
    """A card's point-estimate compute-optimal ``N`` and ``D`` at the budgets ``C``.

    Closed form when the card's law has one, numeric otherwise; the law's inputs besides N and
    D are taken from ``fixed`` (entries the card's law does not take are ignored). ``None``
    when the card cannot give an answer: a law without N and D inputs, a parameter the card
    does not report, or an input missing from ``fixed``.
    """
    from .analysis import _optimum

    law = get_law(card.law)
    others = [k for k in law.inputs if k not in ("N", "D")]
    fixed = dict(fixed or {})
    if (
        not {"N", "D"} <= set(law.inputs)
        or not set(law.natural_names) <= set(card.params)
        or any(k not in fixed for k in others)
    ):
        return None
    q = {n: np.asarray([card.params[n]], dtype=float) for n in law.natural_names}
    extra = {k: np.asarray(fixed[k], dtype=float) for k in others}
    n, d = _optimum(law, q, np.asarray(C, dtype=float), FLOPS_PER_PARAM_TOKEN, extra)
    return {"N": np.asarray(n, dtype=float), "D": np.asarray(d, dtype=float)}


def _legend_below(ax: Any, handles: list | None = None, ncols: int = 2, **kwargs: Any) -> Any:
    """A legend under the axes (outside the data area), in at least 9-pt type."""
    if handles is None:
        handles = ax.get_legend_handles_labels()[0]
    return ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncols=ncols,
        fontsize=9,
        frameon=False,
        **kwargs,
    )
