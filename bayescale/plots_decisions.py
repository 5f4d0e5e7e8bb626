"""Figures of planning answers: the posteriors of :mod:`bayescale.decisions` at a glance.

Each function takes the Dataset its decision function returns (or a fit and that function's
arguments, and computes it), draws medians with central ``ci_prob`` bands over the draws, and
returns ``(fig, axes)``. Like :mod:`bayescale.plots`: options keyword-only, ``ax=`` accepted
(as many axes as the figure has panels), legends under the data, text of at least 9 pt and
human tick labels on log axes (70B, 1.4T, 1e23).

* :func:`plot_compute_for_loss` — compute needed against target loss, and the share of draws
  that can reach each target at all;
* :func:`plot_inference_optimal` — the model size that minimises training + inference cost
  against lifetime inference tokens, and the saving over the training-only optimum;
* :func:`plot_data_wall` — the budget at which the compute-optimal tokens exceed the supply,
  and (with budgets) the loss given up beyond it;
* :func:`plot_overtraining_penalty` — extra loss and compute efficiency of a model size held
  at a budget, against that size.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from ._api import CI_PROB, check_ci_prob
from ._plotting import _finish, _legend_below, _panels
from .display import human, human_log_axis, number
from .fit import Fit
from .stacking import StackedFit

__all__ = [
    "plot_compute_for_loss",
    "plot_data_wall",
    "plot_inference_optimal",
    "plot_overtraining_penalty",
]

_SAMPLE = ("chain", "draw")


def _result(obj: Any, question: str, solve: Callable[..., xr.Dataset], /, **kwargs: Any) -> Any:
    """The decision Dataset: ``obj`` itself when it answers ``question``, else computed from a
    fit with ``kwargs`` (each required)."""
    if isinstance(obj, xr.Dataset):
        asked = obj.attrs.get("question")
        if asked not in (None, question):
            raise ValueError(f"plot_{question} takes the result of {question}, not of {asked}")
        given = [k for k, v in kwargs.items() if v is not None]
        if given:
            raise ValueError(f"plot_{question}: {given} are taken from the result; omit them")
        return obj
    if not isinstance(obj, Fit | StackedFit):
        raise TypeError(
            f"plot_{question} takes a fit or the Dataset of bs.{question}, got {type(obj).__name__}"
        )
    missing = [k for k, v in kwargs.items() if v is None]
    if missing:
        raise ValueError(f"plot_{question}(fit, ...) needs {missing}")
    return solve(obj, **kwargs)


def _quantiles(values: xr.DataArray, ci_prob: float, dim: str) -> tuple[np.ndarray, ...]:
    """Lower, median and upper quantiles over the draws, ``dim`` last; NaN draws left out."""
    check_ci_prob(ci_prob)
    arr = values.transpose(*_SAMPLE, ..., dim).to_numpy().astype(float)
    arr = arr.reshape(-1, arr.shape[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        lo, mid, hi = np.nanquantile(arr, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2], axis=0)
    return lo, mid, hi


def _colours(n: int) -> list:
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("viridis")
    return [cmap(0.1 + 0.75 * i / max(n - 1, 1)) for i in range(n)]


def _legend(fig: Any, axes: Any, own: bool, ncols: int = 2) -> None:
    handles, labels, seen = [], [], set()
    for a in axes:
        for h, lab in zip(*a.get_legend_handles_labels(), strict=True):
            if lab not in seen:
                seen.add(lab)
                handles.append(h)
                labels.append(lab)
    if own and len(axes) > 1:
        fig.legend(handles, labels, loc="outside lower center", ncols=ncols, fontsize=9,
                   frameon=False)  # fmt: skip
    else:
        _legend_below(axes[-1], handles, ncols=ncols)


def _band_label(ci_prob: float) -> str:
    return f"median and {100 * ci_prob:g}% interval over the posterior draws"


def plot_compute_for_loss(
    result: Any,
    *,
    target_loss: Any = None,
    ci_prob: float = CI_PROB,
    ax: Any = None,
) -> tuple[Any, np.ndarray]:
    """Compute needed to reach each target loss, and the share of draws that reach it.

    Left: the compute-optimal budget C needed for a target loss (median, ``ci_prob`` band over
    the draws that reach it). Right: the share of draws that reach the target at all (below
    the law's floor E a target is unreachable; see :func:`~bayescale.compute_for_loss`).

    Parameters
    ----------
    result : Dataset or Fit
        The result of :func:`~bayescale.compute_for_loss`, or a fit (then ``target_loss``).
    target_loss : float or sequence, optional
        Targets, when ``result`` is a fit.
    ci_prob : float
        Probability of the band.
    ax : two matplotlib Axes, optional

    Returns
    -------
    fig, axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, bayescale as bs
    >>> from bayescale.plots_decisions import plot_compute_for_loss
    >>> fit = bs.testing.pinned_fit(random_seed=0, draws=50)
    >>> fig, axes = plot_compute_for_loss(fit, target_loss=np.linspace(1.9, 2.4, 6))
    >>> axes[0].get_xscale(), axes[1].get_xlabel()
    ('log', 'share of draws reaching it')
    """
    from .decisions import compute_for_loss

    ds = _result(result, "compute_for_loss", compute_for_loss, target_loss=target_loss)
    fig, axes = _panels(ax, 2, 2, (3.6, 4.2))
    loss = ds["target_loss"].to_numpy().astype(float)
    lo, mid, hi = _quantiles(ds["C_needed"], ci_prob, "target_loss")
    order = np.argsort(loss)
    main, share_ax = axes
    main.fill_betweenx(loss[order], lo[order], hi[order], color="C0", alpha=0.25, lw=0)
    main.plot(mid[order], loss[order], "o-", color="C0", ms=4, label=_band_label(ci_prob))
    main.set_xscale("log")
    main.set_xlabel("compute needed C (FLOPs)")
    main.set_ylabel("target loss (nats/token)")
    main.set_title("Compute to reach a target loss", fontsize=10)
    n_draws = ds.sizes["chain"] * ds.sizes["draw"]
    share = ds["n_reached"].to_numpy().astype(float) / n_draws
    share_ax.barh(loss, share, height=0.6 * np.min(np.diff(np.sort(loss)), initial=0.1) or 0.05,
                  color="0.55", label="share of draws that reach the target")  # fmt: skip
    share_ax.set_xlim(0, 1.05)
    share_ax.set_ylim(main.get_ylim())
    share_ax.set_xlabel("share of draws reaching it")
    share_ax.set_title("Reachable?", fontsize=10)
    for a in axes:
        a.grid(True, alpha=0.3)
    _finish(main)
    _legend(fig, axes, ax is None, ncols=1)
    return fig, axes


def plot_inference_optimal(
    result: Any,
    *,
    target_loss: Any = None,
    inference_tokens: Any = None,
    ci_prob: float = CI_PROB,
    ax: Any = None,
) -> tuple[Any, np.ndarray]:
    """Sardana & Frankle's optimum: model size and saving against lifetime inference tokens.

    Left: the model size N minimising training + inference FLOPs for each target loss, against
    the inference tokens (log axes; a dashed line marks the training-only optimum N*, which it
    equals at zero inference). Right: the saving in total FLOPs over training the
    compute-optimal model and serving it. Inference demand of 0 is the training-only plan and
    is not drawn on the log axis.

    Parameters
    ----------
    result : Dataset or Fit
        The result of :func:`~bayescale.inference_optimal`, or a fit (then ``target_loss``
        and ``inference_tokens``).
    target_loss, inference_tokens : float or sequence, optional
        When ``result`` is a fit.
    ci_prob : float
        Probability of the bands.
    ax : two matplotlib Axes, optional

    Returns
    -------
    fig, axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs
    >>> from bayescale.plots_decisions import plot_inference_optimal
    >>> fit = bs.testing.pinned_fit(random_seed=0, draws=20)
    >>> fig, axes = plot_inference_optimal(fit, target_loss=2.0, inference_tokens=[1e11, 1e13])
    >>> axes[0].get_ylabel()
    'model size N (parameters)'
    """
    from .decisions import inference_optimal

    ds = _result(
        result, "inference_optimal", inference_optimal,
        target_loss=target_loss, inference_tokens=inference_tokens,
    )  # fmt: skip
    fig, axes = _panels(ax, 2, 2, (3.9, 4.0))
    tokens = ds["inference_tokens"].to_numpy().astype(float)
    keep = tokens > 0
    if not keep.any():
        raise ValueError("plot_inference_optimal needs inference_tokens > 0 (0 is training only)")
    targets = ds["target_loss"].to_numpy().astype(float)
    colours = _colours(len(targets))
    for i, target in enumerate(targets):
        one = ds.isel(target_loss=i)
        colour = colours[i]
        label = f"target loss {number(target)}"
        lo, mid, hi = _quantiles(one["N_opt"], ci_prob, "inference_tokens")
        axes[0].fill_between(tokens[keep], lo[keep], hi[keep], color=colour, alpha=0.2, lw=0)
        axes[0].plot(tokens[keep], mid[keep], "o-", color=colour, ms=4, label=label)
        n_train = float(np.nanmedian(one["N_train_opt"].to_numpy()))
        axes[0].axhline(n_train, color=colour, ls="--", lw=1)
        lo, mid, hi = _quantiles(100 * one["savings"], ci_prob, "inference_tokens")
        axes[1].fill_between(tokens[keep], lo[keep], hi[keep], color=colour, alpha=0.2, lw=0)
        axes[1].plot(tokens[keep], mid[keep], "o-", color=colour, ms=4)
    axes[0].plot([], [], ls="--", color="0.4", lw=1, label="training-only optimum N*")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("model size N (parameters)")
    axes[0].set_title("Size that minimises training + inference", fontsize=10)
    axes[1].set_ylabel("FLOPs saved over N* (%)")
    axes[1].set_ylim(bottom=0)
    axes[1].set_title("Saving over the training-only plan", fontsize=10)
    for a in axes:
        a.set_xscale("log")
        a.set_xlabel("inference tokens over the model's life")
        a.grid(True, alpha=0.3)
    axes[0].plot([], [], color="0.4", lw=6, alpha=0.25, label=f"{100 * ci_prob:g}% interval")
    _finish(*axes)
    _legend(fig, axes, ax is None, ncols=min(len(targets) + 2, 3))
    return fig, axes


def plot_data_wall(
    result: Any,
    *,
    available_tokens: Any = None,
    compute: Any = None,
    ci_prob: float = CI_PROB,
    ax: Any = None,
) -> tuple[Any, np.ndarray]:
    """Where the data runs out: the wall's budget against the token supply, and the cost past it.

    Left: the budget C_wall at which the compute-optimal token count D*(C) reaches the unique
    tokens available (median and band over the draws). Right, when the result has budgets
    (``compute=``): the extra loss of the best plan under the token limit over the unlimited
    optimum, against the budget, one curve per token supply, with the wall's median budget
    dotted.

    Parameters
    ----------
    result : Dataset or Fit
        The result of :func:`~bayescale.data_wall`, or a fit (then ``available_tokens`` and,
        optionally, ``compute``).
    available_tokens, compute : float or sequence, optional
        When ``result`` is a fit.
    ci_prob : float
        Probability of the bands.
    ax : matplotlib Axes, optional
        One axes, or two when the result has budgets.

    Returns
    -------
    fig, axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs
    >>> from bayescale.plots_decisions import plot_data_wall
    >>> fit = bs.testing.pinned_fit(random_seed=0, draws=20)
    >>> fig, axes = plot_data_wall(fit, available_tokens=[5e12, 2e13], compute=[1e24, 1e26])
    >>> len(axes), axes[1].get_ylabel()
    (2, 'extra loss over unlimited data (nats/token)')
    """
    from .decisions import data_wall

    def compute_wall(fit: Any, available_tokens: Any) -> xr.Dataset:
        return data_wall(fit, available_tokens, compute=compute)

    if isinstance(result, xr.Dataset) and compute is not None:
        raise ValueError("plot_data_wall: ['compute'] are taken from the result; omit them")
    ds = _result(result, "data_wall", compute_wall, available_tokens=available_tokens)
    budgets = "compute" in ds.dims
    fig, axes = _panels(ax, 2 if budgets else 1, 2, (3.9, 4.0))
    tokens = ds["available_tokens"].to_numpy().astype(float)
    lo, mid, hi = _quantiles(ds["C_wall"], ci_prob, "available_tokens")
    order = np.argsort(tokens)
    axes[0].fill_between(tokens[order], lo[order], hi[order], color="C0", alpha=0.25, lw=0)
    axes[0].plot(tokens[order], mid[order], "o-", color="C0", ms=4, label=_band_label(ci_prob))
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("unique tokens available")
    axes[0].set_ylabel("budget at the wall C (FLOPs)")
    axes[0].set_title("Where D*(C) reaches the data", fontsize=10)
    if budgets:
        c = ds["compute"].to_numpy().astype(float)
        colours = _colours(len(tokens))
        for i, supply in enumerate(tokens):
            one = ds.isel(available_tokens=i)
            lo, mid, hi = _quantiles(one["extra_loss"], ci_prob, "compute")
            axes[1].fill_between(c, lo, hi, color=colours[i], alpha=0.2, lw=0)
            axes[1].plot(c, mid, "o-", color=colours[i], ms=4,
                         label=f"{human(supply, 'D', unit=False)} unique tokens")  # fmt: skip
            axes[1].axvline(
                float(np.nanmedian(one["C_wall"].to_numpy())), color=colours[i], ls=":", lw=1
            )
        axes[1].plot([], [], ls=":", color="0.4", lw=1, label="median budget at the wall")
        axes[1].set_xscale("log")
        axes[1].set_xlabel("training compute C (FLOPs)")
        axes[1].set_ylabel("extra loss over unlimited data (nats/token)")
        axes[1].set_title("Loss given up beyond the wall", fontsize=10)
    for a in axes:
        a.grid(True, alpha=0.3)
    _finish(*axes)
    human_log_axis(axes[0].xaxis, "count")  # token counts as 5T, 15T
    lo, hi = sorted(axes[0].get_xlim())
    if 0 < lo and 0.5 <= np.log10(hi / lo) < 1:  # 1-2-5 ticks: evenly spaced labels, no crowding
        from matplotlib.ticker import LogLocator

        axes[0].xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    _legend(fig, axes, ax is None, ncols=2)
    return fig, axes


def plot_overtraining_penalty(
    result: Any,
    *,
    N: Any = None,
    compute: Any = None,
    ci_prob: float = CI_PROB,
    ax: Any = None,
) -> tuple[Any, np.ndarray]:
    """What a model size off the optimum costs at a fixed budget.

    Left: the extra loss L(N, C/(6N)) − L*(C) against the planned size N, one curve per
    budget, with the median optimum N*(C) dotted. Right: the compute efficiency C_eq / C (the
    share of the budget that, spent optimally, reaches the same loss).

    Parameters
    ----------
    result : Dataset or Fit
        The result of :func:`~bayescale.overtraining_penalty`, or a fit (then ``N`` and
        ``compute``).
    N, compute : float or sequence, optional
        When ``result`` is a fit.
    ci_prob : float
        Probability of the bands.
    ax : two matplotlib Axes, optional

    Returns
    -------
    fig, axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, bayescale as bs
    >>> from bayescale.plots_decisions import plot_overtraining_penalty
    >>> fit = bs.testing.pinned_fit(random_seed=0, draws=20)
    >>> fig, axes = plot_overtraining_penalty(fit, N=np.geomspace(1e9, 3e11, 8), compute=1e24)
    >>> axes[1].get_ylabel()
    'compute efficiency C_eq / C (%)'
    """
    from .decisions import overtraining_penalty

    ds = _result(result, "overtraining_penalty", overtraining_penalty, N=N, compute=compute)
    fig, axes = _panels(ax, 2, 2, (3.9, 4.0))
    sizes = ds["N"].to_numpy().astype(float)
    budgets = ds["compute"].to_numpy().astype(float)
    colours = _colours(len(budgets))
    for i, c in enumerate(budgets):
        one = ds.isel(compute=i)
        label = f"C = {human(c, 'C')}"
        for a, var, scale in ((axes[0], "extra_loss", 1.0), (axes[1], "compute_efficiency", 100)):
            lo, mid, hi = _quantiles(scale * one[var], ci_prob, "N")
            a.fill_between(sizes, lo, hi, color=colours[i], alpha=0.2, lw=0)
            a.plot(sizes, mid, "o-", color=colours[i], ms=4, label=label)
        n_opt = float(np.nanmedian(one["N_opt"].to_numpy()))
        axes[0].axvline(n_opt, color=colours[i], ls=":", lw=1)
    axes[0].plot([], [], ls=":", color="0.4", lw=1, label="median optimum N*(C)")
    axes[0].set_ylabel("extra loss over the optimum (nats/token)")
    axes[0].set_ylim(bottom=0)
    axes[0].set_title("Loss given up by the size", fontsize=10)
    axes[1].set_ylabel("compute efficiency C_eq / C (%)")
    axes[1].set_ylim(top=101)
    axes[1].set_title("Budget that does useful work", fontsize=10)
    for a in axes:
        a.set_xscale("log")
        a.set_xlabel("model size N (parameters)")
        a.grid(True, alpha=0.3)
    _finish(*axes)
    _legend(fig, axes, ax is None, ncols=min(len(budgets) + 1, 3))
    return fig, axes
