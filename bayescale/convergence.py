"""Convergence diagnostics for MCMC draws: rank-normalised split R-hat, bulk and tail ESS.

The estimators are those of Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021),
"Rank-normalization, folding, and localization: An improved R-hat for assessing convergence of
MCMC", Bayesian Analysis 16(2), with Geyer's initial monotone sequence truncating the
autocorrelations. They follow the conventions of ``arviz_stats`` (``relative=False``, Blom's
offset 3/8 in the rank back-transform, NumPy's default "linear" quantile for the tail indicators,
NaN for any NaN in the input or fewer than 4 draws) and agree with it to rounding error, without
importing it: ``arviz_stats`` pulls in ``scipy.stats`` and costs most of a second per process.

Only NumPy and :func:`scipy.special.ndtri` are used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import ndtri

__all__ = ["diagnose", "ess", "rhat"]

_MIN_DRAWS = 4
_BLOM_OFFSET = 3 / 8


def rhat(x: np.ndarray) -> float:
    """Rank-normalised split R-hat (the larger of bulk and folded R-hat).

    Each chain is split in half; the draws of all half-chains are pooled, replaced by their
    normal scores (average ranks for ties) and the classical R-hat is computed on them (bulk)
    and on the normal scores of ``|x - median|`` (folded, sensitive to differences in scale).

    Parameters
    ----------
    x : array_like, shape (chain, draw)
        Draws of one scalar quantity.

    Returns
    -------
    float
        R-hat; NaN with fewer than 2 chains or 4 draws, any NaN in ``x``, or constant draws.

    Examples
    --------
    >>> import numpy as np
    >>> from bayescale.convergence import rhat
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(4, 1000))
    >>> bool(abs(rhat(x) - 1) < 0.01)
    True
    >>> bool(rhat(x + np.arange(4)[:, None]) > 1.1)  # chains disagree on the mean
    True
    """
    x = _as_chain_draw(x)
    if x.shape[0] < 2 or _invalid(x):
        return np.nan
    halves = _split_chains(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        bulk = _classical_rhat(_normal_scores(halves))
        folded = _classical_rhat(_normal_scores(np.abs(halves - np.median(halves))))
    # arviz_stats takes Python's max(bulk, folded): NaN in the bulk wins, NaN in the fold loses.
    return float(folded if folded > bulk else bulk)


def ess(
    x: np.ndarray,
    method: str = "bulk",
    prob: float | Sequence[float] = (0.05, 0.95),
) -> float:
    """Effective sample size of the bulk or of the tails.

    ``method="bulk"`` is the ESS of the rank-normalised split chains. ``method="tail"`` is the
    smaller of the ESS of the indicators ``x <= q(prob[0])`` and ``x <= q(prob[1])``, where ``q``
    is the pooled sample quantile. Autocorrelations are estimated through the FFT and summed up
    to Geyer's initial monotone sequence cut-off.

    Parameters
    ----------
    x : array_like, shape (chain, draw)
        Draws of one scalar quantity; a 1-d array is read as a single chain.
    method : {"bulk", "tail"}
    prob : float or (float, float), default (0.05, 0.95)
        Tail probabilities for ``method="tail"``; a single ``p`` means ``(p, 1 - p)``.

    Returns
    -------
    float
        The (absolute, not relative) effective sample size; NaN with fewer than 4 draws or any
        NaN in ``x``. Constant draws give the number of draws kept after splitting.

    Examples
    --------
    >>> import numpy as np
    >>> from bayescale.convergence import ess
    >>> rng = np.random.default_rng(0)
    >>> iid = rng.normal(size=(4, 1000))
    >>> bool(3000 < ess(iid) < 5000)
    True
    >>> ar = np.zeros((4, 1000))  # AR(1) chains with coefficient 0.9
    >>> for t in range(1, 1000):
    ...     ar[:, t] = 0.9 * ar[:, t - 1] + rng.normal(size=4)
    >>> bool(ess(ar) < 600), bool(ess(ar, method="tail") < 1000)
    (True, True)
    """
    x = _as_chain_draw(x)
    if method == "bulk":
        if _invalid(x):
            return np.nan
        return _ess_split(_normal_scores(_split_chains(x)))
    if method == "tail":
        if not isinstance(prob, Sequence):
            prob = sorted((prob, 1 - prob))
        lo, hi = prob
        if _invalid(x):
            return np.nan
        ess_lo = _ess_split(_split_chains(x <= np.quantile(x, lo)))
        ess_hi = _ess_split(_split_chains(x <= np.quantile(x, hi)))
        # Python's min(ess_lo, ess_hi), as in arviz_stats.
        return float(ess_hi if ess_hi < ess_lo else ess_lo)
    raise ValueError(f"method must be 'bulk' or 'tail', got {method!r}")


def diagnose(
    x: np.ndarray, prob: Sequence[float] = (0.05, 0.95)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bulk ESS, tail ESS and R-hat of many scalar quantities at once.

    The same estimators as :func:`ess` (``method="bulk"`` and ``"tail"`` with ``prob``) and
    :func:`rhat`, computed for every row of ``x`` in one pass: the split chains' normal scores
    are computed once and shared by bulk ESS and bulk R-hat, and the ranks, FFTs and moments of
    all rows are single NumPy calls. Agrees with the one-row functions (and ``arviz_stats``)
    to rounding error. Measured in stop 21 on a Chinchilla fit's 13 summary rows of
    4 × 1000 draws: 0.42 ms per row against 1.9 ms per row for the three one-row calls.

    Parameters
    ----------
    x : array_like, shape (quantity, chain, draw)
    prob : (float, float)
        Tail probabilities of the tail ESS.

    Returns
    -------
    (ess_bulk, ess_tail, r_hat) : three float arrays of shape (quantity,)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2, 4, 500))
    >>> bulk, tail, r_hat = diagnose(x)
    >>> bool(np.isclose(bulk[1], ess(x[1]), rtol=1e-12, atol=0))
    True
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 3:
        raise ValueError(f"expected an array shaped (quantity, chain, draw), got shape {x.shape}")
    n_q, n_chain, n_draw = x.shape
    ess_bulk = np.full(n_q, np.nan)
    ess_tail = np.full(n_q, np.nan)
    r_hat = np.full(n_q, np.nan)
    if n_q == 0 or n_chain < 1 or n_draw < _MIN_DRAWS:
        return ess_bulk, ess_tail, r_hat
    ok = ~np.isnan(x).any(axis=(1, 2))
    if not ok.any():
        return ess_bulk, ess_tail, r_hat
    y = x[ok]
    lo, hi = prob
    with np.errstate(invalid="ignore", divide="ignore"):
        halves = _split_rows(y)
        z = _normal_scores_rows(halves)
        ess_bulk[ok] = _ess_split_rows(z)
        flat = y.reshape(len(y), -1)
        ess_lo = _ess_split_rows(_split_rows(y <= np.quantile(flat, lo, axis=1)[:, None, None]))
        ess_hi = _ess_split_rows(_split_rows(y <= np.quantile(flat, hi, axis=1)[:, None, None]))
        # Python's min(ess_lo, ess_hi), as in arviz_stats
        ess_tail[ok] = np.where(ess_hi < ess_lo, ess_hi, ess_lo)
        if n_chain >= 2:
            bulk = _classical_rhat_rows(z)
            med = np.median(halves.reshape(len(y), -1), axis=1)
            folded = _classical_rhat_rows(_normal_scores_rows(np.abs(halves - med[:, None, None])))
            # Python's max(bulk, folded): NaN in the bulk wins, NaN in the fold loses
            r_hat[ok] = np.where(folded > bulk, folded, bulk)
    return ess_bulk, ess_tail, r_hat


def _split_rows(x: np.ndarray) -> np.ndarray:
    """:func:`_split_chains` of every row of ``(quantity, chain, draw)``."""
    half = x.shape[2] // 2
    return np.concatenate((x[:, :, :half], x[:, :, x.shape[2] - half :]), axis=1)


def _normal_scores_rows(x: np.ndarray) -> np.ndarray:
    """:func:`_normal_scores` of every row of ``(quantity, chain, draw)`` (ranks pooled within
    a row; ties share the mean of their 1-based positions)."""
    n_q = x.shape[0]
    flat = x.reshape(n_q, -1)
    size = flat.shape[1]
    order = np.argsort(flat, axis=1)
    ordered = np.take_along_axis(flat, order, axis=1)
    new_value = np.ones(flat.shape, dtype=bool)
    new_value[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    scores = np.empty(flat.shape)
    if new_value.all():  # no ties (continuous draws): the scores of positions 1..size, placed
        by_position = ndtri((np.arange(1, size + 1) - _BLOM_OFFSET) / (size - 2 * _BLOM_OFFSET + 1))
        np.put_along_axis(scores, order, np.broadcast_to(by_position, flat.shape), axis=1)
        return scores.reshape(x.shape)
    position = np.broadcast_to(np.arange(size), flat.shape)
    start = np.maximum.accumulate(np.where(new_value, position, 0), axis=1)
    last = np.ones(flat.shape, dtype=bool)  # the last position of each run of equal values
    last[:, :-1] = new_value[:, 1:]
    end = np.minimum.accumulate(np.where(last, position + 1, size)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty(flat.shape)
    np.put_along_axis(ranks, order, (start + end + 1) / 2, axis=1)
    return ndtri((ranks - _BLOM_OFFSET) / (size - 2 * _BLOM_OFFSET + 1)).reshape(x.shape)


def _classical_rhat_rows(z: np.ndarray) -> np.ndarray:
    n_draw = z.shape[2]
    between = n_draw * np.var(z.mean(axis=2), axis=1, ddof=1)
    within = np.mean(np.var(z, axis=2, ddof=1), axis=1)
    return np.sqrt((between / within + n_draw - 1) / n_draw)


def _ess_split_rows(x: np.ndarray) -> np.ndarray:
    """:func:`_ess_split` of every row of ``(quantity, split chain, draw)``: the
    autocovariances by one FFT call, Geyer's truncation row by row."""
    x = np.asarray(x, dtype=float)
    n_q, n_chain, n_draw = x.shape
    total = n_chain * n_draw
    acov = _autocov(x.reshape(n_q * n_chain, n_draw)).reshape(x.shape).mean(axis=1)
    w = acov[:, 0] * n_draw / (n_draw - 1.0)
    between = np.var(x.mean(axis=2), axis=1, ddof=1) if n_chain > 1 else 0.0
    var_plus = acov[:, 0] + between
    rho = 1.0 - (w[:, None] - acov) / var_plus[:, None]
    rho[:, 0] = 1.0
    constant = np.max(x, axis=(1, 2)) - np.min(x, axis=(1, 2)) < np.finfo(float).resolution
    return np.array(
        [float(total) if constant[i] else _geyer(rho[i], n_draw, total) for i in range(n_q)]
    )


def _geyer(rho: np.ndarray, n_draw: int, total: int) -> float:
    """ESS from the chain-averaged autocorrelations ``rho`` (Geyer's initial monotone
    sequence; :func:`_ess_split` and the one-pass diagnostics share it)."""
    # Pair sums Γ_k = ρ_2k + ρ_2k+1. Pairs are accumulated while they stay positive, looking at
    # no pair that starts beyond lag n_draw - 3.
    n_pairs = max((n_draw - 3) // 2, 0)
    gamma = rho[0 : 2 * n_pairs + 2 : 2] + rho[1 : 2 * n_pairs + 2 : 2]
    positive = gamma[:n_pairs] > 0
    k_stop = int(np.argmin(positive)) if not positive.all() else n_pairs
    if np.isnan(rho[1]):  # only when var_plus is not a usable number
        return np.nan
    # initial monotone sequence: running minimum of the accepted pair sums
    kept = np.minimum.accumulate(gamma[:k_stop])
    # the next even lag counts once if it is positive or its pair was non-negative
    last = rho[2 * k_stop]
    if not (last > 0 or (k_stop > 0 and gamma[k_stop] >= 0)):
        last = 0.0
    tau = -1.0 + 2.0 * kept.sum() + last
    tau = max(tau, 1.0 / np.log10(total))
    return float(total / tau)


# ---------------------------------------------------------------------------- helpers


def _as_chain_draw(x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"expected an array shaped (chain, draw), got shape {x.shape}")
    return x


def _invalid(x: np.ndarray) -> bool:
    """NaN anywhere, no chain, or fewer than 4 draws per chain."""
    return x.shape[0] < 1 or x.shape[1] < _MIN_DRAWS or bool(np.isnan(x).any())


def _split_chains(x: np.ndarray) -> np.ndarray:
    """First and last halves of every chain as separate chains (the middle draw of an odd
    number of draws is dropped)."""
    half = x.shape[1] // 2
    return np.concatenate((x[:, :half], x[:, x.shape[1] - half :]), axis=0)


def _normal_scores(x: np.ndarray) -> np.ndarray:
    """Pooled average ranks mapped to standard-normal quantiles, ``Φ⁻¹((r - 3/8) / (S + 1/4))``."""
    flat = x.ravel()
    order = np.argsort(flat)
    ordered = flat[order]
    # ties share the mean of the 1-based positions they occupy in the sorted draws
    new_value = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    group = np.cumsum(new_value) - 1
    edges = np.append(np.flatnonzero(new_value), flat.size)
    ranks = np.empty(flat.size)
    ranks[order] = (edges[group] + edges[group + 1] + 1) / 2
    size = flat.size
    return ndtri((ranks - _BLOM_OFFSET) / (size - 2 * _BLOM_OFFSET + 1)).reshape(x.shape)


def _classical_rhat(z: np.ndarray) -> float:
    n_draw = z.shape[1]
    between = n_draw * np.var(z.mean(axis=1), ddof=1)
    within = np.mean(np.var(z, axis=1, ddof=1))
    return float(np.sqrt((between / within + n_draw - 1) / n_draw))


def _fast_length(target: int) -> int:
    """Smallest 2·3·5-smooth integer ≥ ``target`` (the FFT length ``arviz_stats`` pads to)."""
    best = 1 << max(target - 1, 0).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            # smallest power of two taking p35 to at least target
            need = -(-target // p35)
            cand = p35 * (1 << (need - 1).bit_length())
            best = min(best, cand)
            p35 *= 3
        p5 *= 5
    return best


def _autocov(x: np.ndarray) -> np.ndarray:
    """Biased autocovariance of every row at every lag, by zero-padded FFT."""
    n = x.shape[1]
    m = _fast_length(2 * n)
    centred = x - x.mean(axis=1, keepdims=True)
    spec = np.fft.rfft(centred, n=m, axis=1)
    spec *= np.conjugate(spec)
    return np.fft.irfft(spec, n=m, axis=1)[:, :n] / n


def _ess_split(x: np.ndarray) -> float:
    """ESS of already split chains (rows), with Geyer's initial monotone sequence."""
    x = np.asarray(x, dtype=float)
    n_chain, n_draw = x.shape
    total = n_chain * n_draw
    if np.max(x) - np.min(x) < np.finfo(float).resolution:
        return float(total)
    acov = _autocov(x).mean(axis=0)  # averaged over chains, lag 0 .. n_draw - 1
    w = acov[0] * n_draw / (n_draw - 1.0)  # mean within-chain variance
    var_plus = acov[0] + (np.var(x.mean(axis=1), ddof=1) if n_chain > 1 else 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = 1.0 - (w - acov) / var_plus
    rho[0] = 1.0
    return _geyer(rho, n_draw, total)
