"""The tables of a pooled fit's report (:func:`bayescale.report` on ``bs.fit(..., group=...)``):
the population (each partial parameter's typical value ``θ_mu`` and the law's natural
parameters of a typical group, ``z = 0``), the between-group spread ``θ_tau`` on the scale the
groups vary on, and the compute-optimal N*(C) per group and for a new group of the population.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .display import human, interval
from .pooling import NEW_GROUP
from .xp import numpy_ns

__all__ = ["group_optimal", "population_table", "spread_table"]


def _quantiles(x: np.ndarray, ci_prob: float) -> tuple[float, float, float]:
    x = np.asarray(x, dtype=float).ravel()
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (np.nan, np.nan, np.nan)
    lo, mid, hi = np.quantile(x, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2])
    return float(mid), float(lo), float(hi)


def _scale(fit: Any, name: str) -> str:
    """The scale a partial parameter's groups vary on (its prior's support → ℝ map)."""
    low, high = fit.priors[name].support
    if np.isinf(low) and np.isinf(high):
        return "identity"
    if np.isinf(low) or np.isinf(high):
        return "log"
    return "logit"


def population_table(fit: Any, ci_prob: float) -> pd.DataFrame:
    """Population parameters: ``θ_mu`` of each partial parameter, and the law's natural
    parameters of a typical group (every partial parameter at ``θ_mu``, i.e. ``z = 0``;
    shared ones as fitted; independent ones have no population and are left out).

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_pooled_fit(random_seed=0)
    >>> t = population_table(fit, 0.95)
    >>> round(float(t.loc["alpha", "median"]), 3)  # the population centre, 0.3478
    0.348
    """
    pooling, post = fit.pooling, fit.posterior
    pct = f"{100 * ci_prob:g}"
    rows = {}
    for n in pooling.names("partial"):
        mid, lo, hi = _quantiles(post[f"{n}_mu"].to_numpy(), ci_prob)
        rows[f"{n}_mu"] = (mid, lo, hi, f"population centre of {n} (sampled scale)")
    if not pooling.names("independent"):
        p = {}
        for n in fit.law.parameter_names:
            key = f"{n}_mu" if pooling.modes.get(n) == "partial" else n
            if key in post:
                p[n] = post[key].transpose("chain", "draw").to_numpy()
            else:
                p[n] = np.asarray(float(fit.priors[n].params["value"]))
        q = fit.law.natural(numpy_ns, p, fit.reference)
        q = {**q, **fit.law.derived(numpy_ns, q)}
        for name, value in q.items():
            if np.ndim(value) and np.size(value) > 1:
                mid, lo, hi = _quantiles(value, ci_prob)
                rows[name] = (mid, lo, hi, "a typical group (z = 0)")
    table = pd.DataFrame.from_dict(
        rows, orient="index", columns=["median", f"ci{pct}_lo", f"ci{pct}_hi", "meaning"]
    )
    table.index.name = "parameter"
    return table


def spread_table(fit: Any, ci_prob: float) -> pd.DataFrame:
    """Between-group spread: ``θ_tau`` of each partial parameter, the scale it acts on and
    what one tau means (a factor ``exp(tau)`` on the log scale; ± tau otherwise).

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_pooled_fit(random_seed=0, tau=0.2)
    >>> t = spread_table(fit, 0.95)
    >>> t.loc["alpha", "scale"], round(float(t.loc["alpha", "median"]), 2)
    ('log', 0.2)
    """
    post = fit.posterior
    pct = f"{100 * ci_prob:g}"
    rows = {}
    for n in fit.pooling.names("partial"):
        mid, lo, hi = _quantiles(post[f"{n}_tau"].to_numpy(), ci_prob)
        scale = _scale(fit, n)
        if scale == "log":
            means = f"groups differ by a factor ≈ {np.exp(mid):.3g} per sd"
        elif scale == "logit":
            means = f"groups differ by ± {mid:.3g} per sd in log-odds"
        else:
            means = f"groups differ by ± {mid:.3g} per sd"
        rows[n] = (scale, mid, lo, hi, means)
    table = pd.DataFrame.from_dict(
        rows, orient="index", columns=["scale", "median", f"ci{pct}_lo", f"ci{pct}_hi", "meaning"]
    )
    table.index.name = "parameter"
    return table


def group_optimal(
    fit: Any, budgets: np.ndarray, ci_prob: float, fixed: dict, *, random_seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """N*(C), D*(C), D*/N* per group and for a new group at every budget: the display table
    (rows budget × group) and the full-precision one.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_pooled_fit(random_seed=0)
    >>> shown, full = group_optimal(fit, np.array([1e22]), 0.95, {})
    >>> list(full.index.get_level_values("group"))
    ['a', 'b', 'c', '<new group>']
    """
    from .analysis import compute_optimal

    pct = f"{100 * ci_prob:g}"
    seen = compute_optimal(fit, budgets.tolist(), fixed=fixed)
    new = compute_optimal(
        fit, budgets.tolist(), fixed=fixed, group=NEW_GROUP, random_seed=random_seed
    )
    labels = [*fit.pooling.labels, NEW_GROUP]
    full_rows: dict = {}
    shown_rows: list = []
    for i, c in enumerate(budgets):
        for label in labels:
            ds = new if label == NEW_GROUP else seen.sel(group=label)
            ds = ds.isel(compute=i)
            row, text = {}, {}
            for var, head in (("N_opt", "N*"), ("D_opt", "D*"), ("tokens_per_param", "D*/N*")):
                mid, lo, hi = _quantiles(ds[var].to_numpy(), ci_prob)
                row.update({f"{var}_median": mid, f"{var}_lo{pct}": lo, f"{var}_hi{pct}": hi})
                unit = var if var != "tokens_per_param" else None
                text[f"{head} [{pct}%]"] = interval(mid, lo, hi, unit)
            full_rows[(float(c), str(label))] = row
            shown_rows.append((human(float(c), "C"), {"group": str(label), **text}))
    full = pd.DataFrame.from_dict(full_rows, orient="index")
    full.index = pd.MultiIndex.from_tuples(full.index, names=["compute", "group"])
    shown = pd.DataFrame([r for _, r in shown_rows], index=[c for c, _ in shown_rows])
    shown.index.name = "compute budget"
    return shown, full
