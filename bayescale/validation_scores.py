"""Scoring predictive draws against observed outputs (re-exported by :mod:`bayescale.validation`):
the default interval probabilities, CRPS and PIT of draws, the per-run score table behind
backtests and predictive checks (``_score``, ``_metrics``) and the stackable step that draws
the posterior predictive at runs (``_predictive_draws``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import CI_PROB
from .analysis import predict_loss
from .fit import Fit
from .stacking import stackable

DEFAULT_CI_PROBS = (0.5, 0.8, CI_PROB)


DEFAULT_PROBS = DEFAULT_CI_PROBS  # old name


def _rel_error(predicted: Any, observed: Any) -> np.ndarray:
    """(predicted − observed)/observed, NaN where the observation is 0 (e.g. zero accuracy)."""
    observed = np.asarray(observed, dtype=float)
    safe = np.where(observed != 0, observed, np.nan)
    return (np.asarray(predicted, dtype=float) - observed) / safe


def _scipy_stats():
    """scipy.stats, imported on first use (it is slow to import)."""
    from scipy import stats

    return stats


def _pct(prob: float) -> str:
    return f"{100 * prob:g}"


def crps_from_draws(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Continuous ranked probability score of each column of ``draws`` (shape ``(S, M)``).

    Energy form, CRPS = E|X − y| − ½·E|X − X'|, with E|X − X'| from the sorted draws in
    O(S log S): E|X − X'| = 2/S² · Σ_i (2i − S − 1)·x_(i).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((20000, 1))
    >>> exact = (np.sqrt(2) - 1) / np.sqrt(np.pi)  # CRPS of N(0, 1) at 0
    >>> bool(abs(crps_from_draws(x, np.array([0.0]))[0] - exact) < 0.01)
    True
    """
    draws = np.asarray(draws, dtype=float)
    observed = np.asarray(observed, dtype=float)
    s = draws.shape[0]
    first = np.mean(np.abs(draws - observed[None, :]), axis=0)
    ordered = np.sort(draws, axis=0)
    weights = (2 * np.arange(1, s + 1) - s - 1)[:, None]
    spread = 2.0 * np.sum(weights * ordered, axis=0) / s**2
    return first - 0.5 * spread


def _pit(draws: np.ndarray, obs: np.ndarray, axis: int = 0) -> np.ndarray:
    """Probability integral transform of ``obs`` under ``draws``, ties split in half (mid-rank).

    PIT = P(X < y) + ½·P(X = y), so a discrete predictive (binomial counts, where many draws
    equal the observation) still gives PIT values centred on ½ rather than biased low.

    Examples
    --------
    >>> import numpy as np
    >>> float(_pit(np.array([[1.0], [2.0], [2.0], [3.0]]), np.array([2.0]))[0])
    0.5
    """
    draws = np.asarray(draws, dtype=float)
    obs = np.expand_dims(np.asarray(obs, dtype=float), axis)
    return np.mean(draws < obs, axis=axis) + 0.5 * np.mean(draws == obs, axis=axis)


def _score(draws: np.ndarray, observed: np.ndarray, probs: Sequence[float]) -> dict[str, Any]:
    """Median, central intervals, inside flags, relative error, PIT and CRPS per column.

    Non-finite draws (overflowed prior draws, say) are left out of the median and the intervals
    (NaN where a column has no finite draw); the PIT counts every draw, +inf above any
    observation. A NaN observation is inside no interval.
    """
    draws = np.asarray(draws, dtype=float)
    observed = np.asarray(observed, dtype=float)
    qs = [0.5, *(q for p in probs for q in ((1 - p) / 2, (1 + p) / 2))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        masked = np.where(np.isfinite(draws), draws, np.nan)
        quantiles = np.nanquantile(masked, qs, axis=0)
    out: dict[str, Any] = {"observed": observed, "median": quantiles[0]}
    for i, p in enumerate(probs):
        lo, hi = quantiles[1 + 2 * i], quantiles[2 + 2 * i]
        out[f"lo{_pct(p)}"] = lo
        out[f"hi{_pct(p)}"] = hi
        out[f"inside{_pct(p)}"] = (observed >= lo) & (observed <= hi)
    out["rel_error"] = _rel_error(out["median"], observed)
    out["pit"] = _pit(draws, observed, axis=0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # inf draws give NaN
        out["crps"] = crps_from_draws(draws, observed)
        if np.all(observed > 0):
            # on log(output): scale-free (comparable across datasets) and finite for the
            # heavy-tailed Student-t predictive, whose exp() has no mean
            out["crps_log"] = crps_from_draws(np.log(draws), np.log(observed))
    return out


def _ks_uniform(pit: Any) -> float:
    """Kolmogorov–Smirnov p-value of PIT values against the uniform distribution (NaN below 2)."""
    pit = np.asarray(pit, dtype=float)
    return float(_scipy_stats().kstest(pit, "uniform").pvalue) if pit.size > 1 else np.nan


def _metrics(table: pd.DataFrame, probs: Sequence[float]) -> dict[str, float]:
    m: dict[str, float] = {"n_test": len(table)}
    for p in probs:
        m[f"coverage_{_pct(p)}"] = float(table[f"inside{_pct(p)}"].mean())
    for p in probs:
        m[f"width_{_pct(p)}"] = float((table[f"hi{_pct(p)}"] - table[f"lo{_pct(p)}"]).mean())
    m["median_abs_rel_error"] = float(table["rel_error"].abs().median())
    m["mean_rel_error"] = float(table["rel_error"].mean())
    m["mean_crps"] = float(table["crps"].mean())
    if "crps_log" in table:
        m["mean_crps_log"] = float(table["crps_log"].mean())
    m["pit_ks_pvalue"] = _ks_uniform(table["pit"])
    return m


def _run_inputs(fit: Fit) -> dict[str, np.ndarray]:
    const = fit.idata["constant_data"].to_dataset()
    names = [*fit.law.inputs, *fit.likelihood.extra_columns]
    return {k: const[k].to_numpy() for k in names}


@stackable
def _predictive_draws(
    fit: Fit,
    inputs: Mapping[str, np.ndarray],
    *,
    random_seed: int | None,
    frame: pd.DataFrame | None = None,
) -> xr.DataArray:
    """Predictive draws at ``inputs``; ``frame`` holds the runs' other grouping columns (a
    stack: each member with its own groups and seed). A pooled fit predicts each run in its own
    group (``frame``'s group column): a fitted group with its values, an unseen one as a new
    group (:func:`bayescale.holdout.grouped_predictive_draws`)."""
    seed = random_seed
    if getattr(fit, "pooling", None) is not None:
        from .holdout import grouped_predictive_draws

        if frame is None:
            raise ValueError("a pooled fit's predictive draws need the runs' group column")
        return grouped_predictive_draws(fit, frame, dict(inputs), random_seed=int(seed or 0))
    groups = {}
    if frame is not None:
        for g in fit.structure.groupings:
            if g.column in frame.columns and g.column not in inputs:
                groups[g.column] = frame[g.column].to_numpy()
    out = predict_loss(fit, kind="predictive", random_seed=seed, groups=groups, **dict(inputs))
    if "point" not in out.dims:
        out = out.expand_dims(point=1, axis=-1)
    return out
