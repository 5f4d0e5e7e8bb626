"""Figures of fits with groups (:mod:`bayescale.pooling`): runs coloured by group with each
group's fitted curve. Kept apart from :mod:`bayescale.plots`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._api import CI_PROB, check_ax

__all__ = ["plot_groups"]


def plot_groups(
    fit: Any,
    *,
    x: str = "compute",
    ci_prob: float = CI_PROB,
    ax: Any = None,
    n_points: int = 60,
) -> tuple[Any, Any]:
    """Loss against compute (or a law input such as ``N``) coloured by group, with each group's
    fitted curve and its central ``ci_prob`` band.

    ``x="compute"`` draws each group's compute-optimal frontier (expected loss at N*(C), D*(C));
    ``x`` = an input of a one-input law draws the law along it.

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(40, random_seed=0)
    >>> runs["corpus"] = ["a", "b"] * 20
    >>> fit = bs.fit("chinchilla", runs, group="corpus", draws=100, tune=100, chains=2,
    ...              progressbar=False, warn=False)
    >>> fig, ax = bs.plot_groups(fit)
    """
    import matplotlib.pyplot as plt

    from .analysis import compute_optimal, predict_loss
    from .display import human_log_axis
    from .structure import FLOPS_PER_PARAM_TOKEN

    pooling = getattr(fit, "pooling", None)
    if hasattr(fit, "weights") and hasattr(fit, "fits"):  # a StackedFit
        raise ValueError("plot_groups draws one pooled fit; plot a member: stack.fits[name]")
    if pooling is None:
        raise ValueError("plot_groups needs a fit with groups (bs.fit(..., group=...))")
    if not (isinstance(ci_prob, int | float) and 0 < ci_prob < 1):
        raise ValueError(f"ci_prob must be a number in (0, 1), got {ci_prob!r}")
    law = fit.law
    data = fit.data
    if x == "compute":
        if not {"N", "D"} <= set(law.inputs):
            raise ValueError(f"x='compute' needs a law of N and D; {law.name!r} has {law.inputs}")
        xs = FLOPS_PER_PARAM_TOKEN * data["N"].to_numpy() * data["D"].to_numpy()
    elif x in law.inputs and len(law.inputs) == 1:
        xs = data[x].to_numpy(dtype=float)
    else:
        raise ValueError(f"x must be 'compute' or the input of a one-input law, got {x!r}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 4.5), constrained_layout=True)
    else:
        fig = check_ax(ax).figure
    grid = np.geomspace(xs.min(), xs.max(), n_points)
    if x == "compute":
        curve = compute_optimal(fit, compute=grid)["loss_opt"]
    else:
        curve = predict_loss(fit, **{x: grid})
    lo_q, hi_q = (1 - ci_prob) / 2, 1 - (1 - ci_prob) / 2
    colours = plt.get_cmap("tab10")
    labels = data[pooling.column].astype(str).to_numpy()
    for i, g in enumerate(pooling.labels):
        c = colours(i % 10)
        mask = labels == str(g)
        y = data[law.output].to_numpy(dtype=float)[mask]
        ax.scatter(xs[mask], y, s=12, color=c, alpha=0.6, label=str(g))
        draws = curve.sel(group=g).transpose("chain", "draw", ...).to_numpy()
        draws = draws.reshape(-1, draws.shape[-1])
        lo, mid, hi = np.quantile(draws, [lo_q, 0.5, hi_q], axis=0)
        ax.plot(grid, mid, color=c, lw=1.5)
        ax.fill_between(grid, lo, hi, color=c, alpha=0.15, lw=0)
    ax.set_xscale("log")
    if fit.likelihood.output_domain != "unit":  # an accuracy stays on a linear axis
        ax.set_yscale("log")
    human_log_axis(ax.xaxis, "flops" if x == "compute" else "number")
    ax.set_xlabel("training compute (FLOPs)" if x == "compute" else x, fontsize=10)
    ax.set_ylabel(law.output, fontsize=10)
    ax.set_title(f"{law.name} by {pooling.column}: runs and fitted curves", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    ax.tick_params(labelsize=9)
    return fig, ax
