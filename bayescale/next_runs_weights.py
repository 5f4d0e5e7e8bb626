"""The weights of :func:`~bayescale.next_runs`: Pareto-smoothed importance weights of a new
run's likelihood (the one reliance on ``arviz_stats``), weighted quantiles and the spread of a
target under them. Moved whole from ``next_runs.py`` (still importable from there).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["psis_log_weights", "weighted_quantiles"]


# ------------------------------------------------------------------ the one reliance on arviz_stats
def psis_log_weights(log_ratios: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pareto-smoothed, normalised log importance weights over the last axis, and Pareto k.

    ``log_ratios`` are log p_new(θ)/p_old(θ) per draw (here: the new run's log-likelihood).
    ``arviz_stats``' PSIS expects the negated ratios (its LOO convention, weights ∝ 1/p);
    this is the one place that knows it.

    Examples
    --------
    >>> ratios = np.random.default_rng(0).normal(size=(2, 1000))
    >>> lw, k = psis_log_weights(ratios)
    >>> bool(np.allclose(np.exp(lw).sum(axis=-1), 1.0)), k.shape
    (True, (2,))
    >>> psis_log_weights(np.zeros((1, 4)))[0].round(3).tolist()  # equal ratios: equal weights
    [[-1.386, -1.386, -1.386, -1.386]]
    """
    from arviz_stats.base import array_stats

    ratios = np.asarray(log_ratios, dtype=float)
    lead, n = ratios.shape[:-1], ratios.shape[-1]
    flat = ratios.reshape(-1, n)
    lw = np.full(flat.shape, -np.log(n))
    k = np.zeros(flat.shape[0])
    # equal ratios (a run that cannot tell the draws apart): equal weights, no tail to fit
    varies = np.ptp(flat, axis=1) > 1e-12 * np.maximum(1.0, np.abs(flat).max(axis=1))
    if varies.any():
        w, kk = array_stats.psislw(-flat[varies], r_eff=1.0, axis=-1)
        w = np.asarray(w, dtype=float)
        lw[varies] = w - np.logaddexp.reduce(w, axis=-1, keepdims=True)
        k[varies] = np.asarray(kk, dtype=float)
    return lw.reshape(*lead, n), k.reshape(lead)


# ------------------------------------------------------------------ weighted summaries
def weighted_quantiles(values: np.ndarray, weights: np.ndarray, probs: Any) -> np.ndarray:
    """Quantiles of ``values`` (1-D) under ``weights`` (``(..., S)``), one row per weight row.

    The CDF sits at the midpoints of the cumulative weights (Hazen's rule), interpolated
    linearly; with equal weights this is ``np.quantile(..., method="hazen")``.

    Examples
    --------
    >>> x = np.arange(10.0)
    >>> q = float(weighted_quantiles(x, np.ones(10), 0.5)[0])
    >>> q == float(np.quantile(x, 0.5, method="hazen"))
    True
    """
    v = np.asarray(values, dtype=float)
    order = np.argsort(v)
    vs = v[order]
    lead = np.shape(weights)[:-1]
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    w = w.reshape(-1, w.shape[-1])[:, order]
    w = w / w.sum(axis=1, keepdims=True)
    cdf = np.cumsum(w, axis=1) - 0.5 * w
    p = np.atleast_1d(np.asarray(probs, dtype=float))
    out = np.stack([np.interp(p, row, vs) for row in cdf])
    return out.reshape(*lead, len(p))


def _spread(values: np.ndarray, weights: np.ndarray, ci_prob: float) -> tuple[np.ndarray, ...]:
    """Width of the central ``ci_prob`` interval and sd of log(values), per weight row."""
    q = weighted_quantiles(values, weights, [(1 - ci_prob) / 2, (1 + ci_prob) / 2])
    w = np.asarray(weights, dtype=float)
    w = w / w.sum(axis=-1, keepdims=True)
    logv = np.log(values)
    mean = np.sum(w * logv, axis=-1)
    sd = np.sqrt(np.maximum(np.sum(w * logv**2, axis=-1) - mean**2, 0.0))
    return q[..., 1] - q[..., 0], sd
