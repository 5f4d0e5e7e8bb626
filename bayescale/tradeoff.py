"""Training compute against test-time compute: the exchange rate at fixed performance.

A fit of the ``train_test`` law (win rate = σ(a·log10 C + b·log10 C_test + c), Jones 2021)
answers "how much test-time compute is k× the training compute worth?" per posterior draw: at a
fixed performance, log10 C_test falls by a/b for each decade of training compute, so k× the
training compute equals k^(a/b)× the test-time compute. :func:`tradeoff` returns those draws and
the iso-performance curve C_test(C) at a chosen win rate; :func:`plot_tradeoff` draws both.
Pure numpy on the posterior draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import CI_PROB, check_ci_prob, check_number, check_values
from .pooling import groupable

if TYPE_CHECKING:
    from .fit import Fit

__all__ = ["Tradeoff", "plot_tradeoff", "tradeoff"]

_DIMS = ("chain", "draw")
#: Default training-compute multiples of the exchange-rate table.
TRAIN_MULTIPLES = (1.0, 2.0, 5.0, 10.0)


def _check_ci_prob(ci_prob: Any) -> float:
    return check_ci_prob(ci_prob)


def _positive_grid(name: str, values: Any) -> np.ndarray:
    return check_values(name, values)


@dataclass(frozen=True, repr=False)
class Tradeoff:
    """Posterior of the train/test compute exchange rate (from :func:`tradeoff`).

    Attributes
    ----------
    draws : xarray.Dataset
        Per draw: ``exchange`` (a/b, decades of test-time compute per decade of training
        compute), ``test_multiple`` over ``train_multiple`` (k^(a/b)) and ``C_test`` over
        ``compute`` (the iso-performance curve at ``level``).
    level : float
        Win rate of the iso-performance curve.
    ci_prob : float
        Probability of the central intervals of :meth:`summary` and the figure.
    """

    draws: xr.Dataset
    level: float
    ci_prob: float = CI_PROB

    def summary(self) -> pd.DataFrame:
        """Median, ``ci_prob`` central interval and mean of every quantity, one row per grid
        point (see :func:`bayescale.decision_summary`).

        Examples
        --------
        >>> import bayescale as bs
        >>> fit = bs.testing.pinned_law_fit("train_test", random_seed=0)
        >>> table = bs.tradeoff(fit, train_multiples=[10.0]).summary()
        >>> rows = table.reset_index().query("variable == 'test_multiple'")
        >>> rows["median"].round(0).tolist()  # 10× training ≈ 16× test-time compute
        [16.0]
        """
        from .decisions import decision_summary

        return decision_summary(self.draws, ci_prob=self.ci_prob)

    def plot(self, *, ax: Any = None) -> tuple[Any, Any]:
        """The figure of :func:`plot_tradeoff`."""
        return plot_tradeoff(self, ax=ax)

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __str__(self) -> str:
        n = self.draws.sizes["chain"] * self.draws.sizes["draw"]
        head = f"Train/test compute exchange rate at win rate {self.level:.3g}, {n} draws"
        return head + "\n" + self.summary().to_string()

    def __repr__(self) -> str:
        return f"<bayescale.Tradeoff level={self.level:.3g} ci_prob={self.ci_prob:g}>"


def tradeoff(
    fit: Fit,
    *,
    train_multiples: Sequence[float] = TRAIN_MULTIPLES,
    level: float | None = None,
    compute: Any = None,
    ci_prob: float = CI_PROB,
    group: Any = None,
    random_seed: int | None = None,
) -> Tradeoff:
    """Posterior of how much test-time compute k× the training compute is worth, and the
    iso-performance curve.

    Parameters
    ----------
    fit : Fit
        A fit of the ``train_test`` law.
    train_multiples : sequence of float
        Factors k of training compute; for each, the factor k^(a/b) of test-time compute that
        gives the same performance (default 1, 2, 5, 10).
    level : float, optional
        Win rate in (0, 1) of the iso-performance curve; default: the median fitted win rate at
        the runs' mean log10 C and log10 C_test.
    compute : array-like, optional
        Training compute (FLOPs) along the curve; default 50 points over the runs' range.
    ci_prob : float
        Probability of the central intervals of ``summary()`` and the figure (default
        ``bs.CI_PROB``).
    group : label, list of labels or bs.NEW_GROUP, optional
        For a pooled fit (``bs.fit(..., group=...)``): one group, several, or a new group of
        the population. Default: every group, as a :class:`~bayescale.grouped.GroupedResult`
        (label → :class:`Tradeoff`). The groups share one ``level`` and one ``compute`` grid
        (defaults from all runs, the level the median over draws and groups), so their
        curves compare at the same performance.
    random_seed : int, optional
        Seeds a new group's draws (``group=bs.NEW_GROUP``); default the fit's seed.

    Returns
    -------
    Tradeoff
        ``draws`` (``exchange``; ``test_multiple`` over ``train_multiple``; ``C_test`` over
        ``compute``), ``level``, ``ci_prob``, ``summary()`` and ``plot()``.

    Raises
    ------
    ValueError
        A fit of another law, a level outside (0, 1), non-positive multiples or compute.

    Examples
    --------
    >>> import numpy as np
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_law_fit("train_test", random_seed=0)  # a = 2.9, b = 2.4
    >>> t = bs.tradeoff(fit, level=0.5, compute=[1e15, 1e16])
    >>> round(float(t.draws["exchange"].median()), 2)
    1.21
    >>> [round(float(v), 1) for v in np.log10(t.draws["C_test"].median(("chain", "draw")))]
    [9.0, 7.8]
    >>> pooled = bs.testing.pinned_pooled_fit("train_test", random_seed=0)
    >>> per_group = bs.tradeoff(pooled, level=0.5)
    >>> list(per_group), per_group.summary().index.names[0]
    (['a', 'b', 'c'], 'group')
    """
    if getattr(getattr(fit, "law", None), "name", None) != "train_test":
        law = getattr(getattr(fit, "law", None), "key", type(fit).__name__)
        raise ValueError(f"tradeoff needs a fit of the 'train_test' law, got {law!r}")
    ci_prob = _check_ci_prob(ci_prob)
    multiples = _positive_grid("train_multiples", train_multiples)
    log10_c = np.log10(fit.data["C"].to_numpy(dtype=float))
    log10_t = np.log10(fit.data["C_test"].to_numpy(dtype=float))
    if level is None:
        # the median fitted win rate at the runs' means (over every group of a pooled fit)
        a, b, c = (fit.posterior[k].to_numpy() for k in ("a", "b", "c"))
        z_mid = a * log10_c.mean() + b * log10_t.mean() + c
        level = float(np.median(1.0 / (1.0 + np.exp(-z_mid))))
    level = check_number(level, "level", high=1.0, example="0.5, a win rate")
    if compute is None:
        compute = np.logspace(log10_c.min(), log10_c.max(), 50)
    grid = _positive_grid("compute", compute)
    options = {"multiples": multiples, "level": level, "grid": grid, "ci_prob": ci_prob}
    if getattr(fit, "pooling", None) is None:
        if group is not None:
            raise ValueError(
                f"group={group!r}: this fit has no groups (fit with bs.fit(..., group=...))"
            )
        return _tradeoff(fit, **options)
    return _tradeoff(fit, **options, group=group, random_seed=random_seed)


@groupable
def _tradeoff(
    fit: Fit, *, multiples: np.ndarray, level: float, grid: np.ndarray, ci_prob: float
) -> Tradeoff:
    """:func:`tradeoff` of one fit without groups, on checked options."""
    params = fit.params("natural")
    a, b, c = (params[k].transpose(*_DIMS).to_numpy()[..., None] for k in ("a", "b", "c"))
    exchange = a / b
    logit = np.log(level) - np.log1p(-level)
    log10_test = (logit - c - a * np.log10(grid)) / b
    coords = {d: params["a"][d].to_numpy() for d in _DIMS}
    draws = xr.Dataset(
        {
            "exchange": (_DIMS, exchange[..., 0]),
            "test_multiple": ((*_DIMS, "train_multiple"), np.power(multiples, exchange)),
            "C_test": ((*_DIMS, "compute"), np.power(10.0, log10_test)),
        },
        coords={**coords, "train_multiple": multiples, "compute": grid},
    )
    draws["exchange"].attrs = {"long_name": "decades of test-time compute per decade of training"}
    draws["test_multiple"].attrs = {"long_name": "× test-time compute worth k× training compute"}
    draws["C_test"].attrs = {"long_name": f"test-time compute for win rate {level:g}"}
    draws.attrs.update({"level": level, "ci_prob": ci_prob})
    return Tradeoff(draws=draws, level=level, ci_prob=ci_prob)


def plot_tradeoff(result: Tradeoff, *, ax: Any = None) -> tuple[Any, Any]:
    """The iso-performance curve C_test(C) and the exchange rate k^(a/b), with intervals.

    Parameters
    ----------
    result : Tradeoff
        From :func:`tradeoff`.
    ax : pair of matplotlib Axes, optional
        Axes for (curve, exchange rate); a new figure when None.

    Returns
    -------
    fig, axes
        ``axes`` is the pair (iso-performance curve, exchange rate).

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_law_fit("train_test", random_seed=0)
    >>> fig, (curve, rate) = bs.tradeoff(fit).plot()
    >>> curve.get_xscale(), rate.get_ylabel()
    ('log', '× test-time compute worth k× training')
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .display import human_log_axis

    if not isinstance(result, Tradeoff):
        raise ValueError(f"result must be a Tradeoff from bs.tradeoff, got {type(result).__name__}")
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    else:
        axes = list(np.ravel(ax))
        if len(axes) != 2:
            raise ValueError("ax must be two Axes (curve, exchange rate)")
        fig = axes[0].figure
    curve_ax, rate_ax = axes
    pct = f"{100 * result.ci_prob:g}%"
    lo_q, hi_q = (1 - result.ci_prob) / 2, (1 + result.ci_prob) / 2

    ds = result.draws
    grid = ds["compute"].to_numpy()
    flat = ds["C_test"].to_numpy().reshape(-1, grid.size)
    lo, mid, hi = np.quantile(flat, [lo_q, 0.5, hi_q], axis=0)
    curve_ax.fill_between(grid, lo, hi, color="C0", alpha=0.25, lw=0)
    curve_ax.plot(grid, mid, color="C0", lw=1.8)
    curve_ax.set_xscale("log")
    curve_ax.set_yscale("log")
    curve_ax.set_xlabel("training compute C (FLOPs)", fontsize=10)
    curve_ax.set_ylabel("test-time compute C_test (FLOPs)", fontsize=10)
    curve_ax.set_title(f"iso-performance: win rate {result.level:.2g}", fontsize=10)
    human_log_axis(curve_ax.xaxis, "flops")
    human_log_axis(curve_ax.yaxis, "flops")

    k = ds["train_multiple"].to_numpy()
    rflat = ds["test_multiple"].to_numpy().reshape(-1, k.size)
    rlo, rmid, rhi = np.quantile(rflat, [lo_q, 0.5, hi_q], axis=0)
    rate_ax.fill_between(k, rlo, rhi, color="C1", alpha=0.25, lw=0)
    rate_ax.plot(k, rmid, color="C1", lw=1.8, marker="o", ms=4)
    rate_ax.set_xscale("log")
    rate_ax.set_yscale("log")
    rate_ax.set_xlabel("k × training compute", fontsize=10)
    rate_ax.set_ylabel("× test-time compute worth k× training", fontsize=10)
    rate_ax.set_title("exchange rate at fixed performance", fontsize=10)
    human_log_axis(rate_ax.xaxis)
    human_log_axis(rate_ax.yaxis)
    for a in axes:
        a.tick_params(labelsize=9)

    handles = [
        Line2D([], [], color="0.3", lw=1.8, label="posterior median"),
        Patch(color="0.3", alpha=0.25, lw=0, label=f"{pct} credible band"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    return fig, (curve_ax, rate_ax)
