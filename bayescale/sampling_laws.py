"""Repeated-sampling laws: coverage (pass@k) against the number of attempts k and model size N.

Brown et al. (2024) find that coverage — the share of problems solved by at least one of k
samples — follows an exponentiated power law, −log c(k) ≈ a·k^(−b). Schaeffer et al. (2025,
arXiv:2502.17578) show where it comes from: each problem i has its own single-sample success
probability p_i, pass_i@k = 1 − (1 − p_i)^k, and the left tail of the distribution of p_i sets
the aggregate exponent. With p_i ~ Beta(α, β) the dataset coverage is, in closed form,

    E[pass@k] = 1 − B(α, β + k) / B(α, β)  ~  1 − Γ(α+β)/Γ(β) · k^(−α)  for large k,

so the exponent of the power law in 1 − coverage is α.

* :func:`pass_at_k` — the unbiased estimator 1 − C(n−c, k)/C(n, k) of pass_i@k from c correct
  out of n samples (Chen et al. 2021), vectorised.
* :func:`beta_pass_at_k` — the closed form above.
* :func:`subsample_counts` — the honest "first k₀ samples" view of per-problem counts: the
  number correct among k₀ of the n samples, drawn without replacement (hypergeometric).
* :func:`fit_pass_at_k` — a PyMC model fitted with nutpie: per model size N,
  p_i ~ Beta(α(N), β(N)), log α and log β linear in log N plus a per-model offset
  (hierarchical), counts Beta-binomial. Returns a :class:`PassAtKResult`.
* :func:`samples_for_coverage` — posterior of the k at which the coverage reaches a target.
* :func:`point_fit_pass_at_k` — the plain baseline: OLS of ln(−ln c) on ln k per model.
* :func:`extrapolation_check` — fit on the first k₀ samples, predict the coverage at larger k,
  against the truth and the point fit.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln

from ._api import (
    CI_PROB,
    check_ci_prob,
    check_count,
    check_frame,
    check_number,
    check_seed,
    make_rng,
    resolve_seed,
)
from .data import DataWarning

__all__ = [
    "PassAtKResult",
    "beta_pass_at_k",
    "extrapolation_check",
    "fit_pass_at_k",
    "pass_at_k",
    "point_fit_pass_at_k",
    "samples_for_coverage",
    "subsample_counts",
]


def pass_at_k(n: Any, c: Any, k: Any) -> np.ndarray:
    """Unbiased estimator of pass@k from ``c`` correct out of ``n`` samples.

    ``1 − C(n−c, k)/C(n, k)``, and 1 where ``n − c < k``; arrays broadcast.

    Examples
    --------
    >>> from bayescale.sampling_laws import pass_at_k
    >>> round(float(pass_at_k(10, 1, 1)), 12)
    0.1
    >>> float(pass_at_k(10, 0, 5)), float(pass_at_k(10, 6, 5))
    (0.0, 1.0)
    """
    n, c, k = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (n, c, k)))
    if np.any(k > n) or np.any(k < 1):
        raise ValueError("k must lie between 1 and n")
    if np.any((c < 0) | (c > n)):
        raise ValueError("c must lie between 0 and n")
    short = n - c < k
    nc = np.where(short, n, n - c)
    log_ratio = gammaln(nc + 1) - gammaln(nc - k + 1) - gammaln(n + 1) + gammaln(n - k + 1)
    return np.where(short, 1.0, np.where(c == 0, 0.0, -np.expm1(log_ratio)))


def beta_pass_at_k(alpha: Any, beta: Any, k: Any) -> np.ndarray:
    """Expected pass@k of a problem whose success probability is Beta(α, β).

    ``E[1 − (1 − p)^k] = 1 − B(α, β + k)/B(α, β)``; arrays broadcast, k may be real.

    Examples
    --------
    >>> from bayescale.sampling_laws import beta_pass_at_k
    >>> round(float(beta_pass_at_k(1.0, 1.0, 1)), 6)  # uniform p: E[p]
    0.5
    >>> round(float(beta_pass_at_k(1.0, 1.0, 9)), 6)  # 1 − 1/(k + 1)
    0.9
    """
    a, b, k = (np.asarray(v, dtype=float) for v in (alpha, beta, k))
    return -np.expm1(betaln(a, b + k) - betaln(a, b))


def subsample_counts(
    data: pd.DataFrame,
    *,
    n_samples: int = 100,
    random_seed: int | None = None,
    total: str = "n_samples",
    correct: str = "n_correct",
) -> pd.DataFrame:
    """Per-problem counts as if only ``n_samples`` of the samples had been drawn.

    The number correct among ``n_samples`` samples taken without replacement from the
    ``total`` samples of each row, ``c_correct`` of them correct: a hypergeometric draw,
    reproducible with ``random_seed``. Returns a copy with ``total`` and ``correct`` replaced.

    Examples
    --------
    >>> import pandas as pd
    >>> from bayescale.sampling_laws import subsample_counts
    >>> rows = pd.DataFrame({"n_samples": [10000, 10000], "n_correct": [0, 10000]})
    >>> subsample_counts(rows, n_samples=100)["n_correct"].tolist()
    [0, 100]
    """
    n = data[total].to_numpy(dtype=float)
    c = data[correct].to_numpy(dtype=float)
    if np.any(n < n_samples):
        raise ValueError(f"every row needs at least n_samples={n_samples} samples in {total!r}")
    rng = make_rng(random_seed)
    good = c.astype(np.int64)
    sub = rng.hypergeometric(good, n.astype(np.int64) - good, n_samples)
    out = data.copy()
    out[total] = n_samples
    out[correct] = sub.astype(np.int64)
    return out


def _ci(draws: np.ndarray, ci_prob: float, axis: int = 0) -> tuple[np.ndarray, ...]:
    lo, hi = (1 - ci_prob) / 2, 1 - (1 - ci_prob) / 2
    med, lower, upper = np.quantile(draws, [0.5, lo, hi], axis=axis)
    return med, lower, upper


@dataclass
class PassAtKResult:
    """Posterior of the per-problem Beta(α(N), β(N)) model of repeated sampling.

    ``alpha`` and ``beta`` are draws (flattened chains × draws) × models, in the order of
    ``models``; ``counts`` are the per-problem counts the model was fitted to.
    """

    models: list[str]
    N: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    counts: pd.DataFrame
    diagnostics: dict[str, float] = field(default_factory=dict)
    group: str = "model"
    total: str = "n_samples"
    correct: str = "n_correct"

    def coverage(self, *, k: Any, ci_prob: float = CI_PROB) -> pd.DataFrame:
        """Expected coverage of a new problem set at ``k`` attempts (closed form), per model."""
        ks = np.atleast_1d(np.asarray(k, dtype=float))
        rows = []
        for j, name in enumerate(self.models):
            cov = beta_pass_at_k(self.alpha[:, j, None], self.beta[:, j, None], ks[None, :])
            med, lo, hi = _ci(cov, ci_prob)
            for i, kk in enumerate(ks):
                rows.append((name, self.N[j], kk, med[i], lo[i], hi[i]))
        return pd.DataFrame(rows, columns=["model", "N", "k", "median", "lower", "upper"])

    def predict_coverage(
        self, *, k: Any, n_total: int, random_seed: int | None = None, ci_prob: float = CI_PROB
    ) -> pd.DataFrame:
        """Posterior predictive of the observed coverage of the same problems at ``k`` attempts.

        What a full run of ``n_total`` samples per problem would report: each problem's p_i is
        drawn from its posterior Beta(α + c_i, β + n_i − c_i) given the counts already seen,
        the remaining ``n_total − n_i`` samples are drawn Binomial, and the coverage at each k
        is the unbiased estimator from (n_total, c_i) averaged over the problems.
        """
        ks = np.atleast_1d(np.asarray(k, dtype=float))
        rng = make_rng(random_seed)
        rows = []
        for j, name in enumerate(self.models):
            sub = self.counts[self.counts[self.group] == name]
            n_seen = sub[self.total].to_numpy(dtype=float)
            c_seen = sub[self.correct].to_numpy(dtype=float)
            if np.any(n_seen > n_total):
                raise ValueError("n_total must be at least the samples already seen")
            a = self.alpha[:, j, None] + c_seen[None, :]
            b = self.beta[:, j, None] + (n_seen - c_seen)[None, :]
            p = rng.beta(a, b)
            rest = (n_total - n_seen)[None, :].astype(np.int64)
            c_all = c_seen[None, :] + rng.binomial(np.broadcast_to(rest, p.shape), p)
            cov = np.stack([pass_at_k(n_total, c_all, kk).mean(axis=1) for kk in ks], axis=1)
            med, lo, hi = _ci(cov, ci_prob)
            for i, kk in enumerate(ks):
                rows.append((name, self.N[j], kk, med[i], lo[i], hi[i]))
        return pd.DataFrame(rows, columns=["model", "N", "k", "median", "lower", "upper"])

    def summary(self, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
        """Posterior median and central interval of α and β per model."""
        rows = []
        for j, name in enumerate(self.models):
            for pname, arr in (("alpha", self.alpha[:, j]), ("beta", self.beta[:, j])):
                med, lo, hi = _ci(arr, ci_prob)
                rows.append((name, self.N[j], pname, med, lo, hi))
        return pd.DataFrame(rows, columns=["model", "N", "parameter", "median", "lower", "upper"])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)

    def __str__(self) -> str:
        head = f"Per-problem Beta(α, β) repeated-sampling fit, {self.alpha.shape[0]} draws"
        return head + "\n" + self.summary().to_string(index=False)

    def __repr__(self) -> str:
        return (
            f"PassAtKResult({len(self.models)} models, {self.alpha.shape[0]} draws, "
            f"{0 if self.counts is None else len(self.counts)} problem rows)"
        )


def _beta_shapes(exp: Any, p: Mapping[str, Any], x: Any) -> tuple[Any, Any]:
    """Beta shapes (α, β) per model: log-linear in centred log N plus a per-model offset. The
    one expression, used by the PyMC model (``pm.math.exp``) and on the draws (``np.exp``)."""
    alpha = exp(p["a0"] + p["a1"] * x + p["sigma_a"] * p["z"])
    beta = exp(p["b0"] + p["b1"] * x + p["sigma_b"] * p["w"])
    return alpha, beta


def _rows(mask: pd.Series) -> list:
    """The first eight row labels where ``mask`` holds."""
    return list(mask.index[mask.to_numpy()])[:8]


def fit_pass_at_k(
    data: pd.DataFrame,
    *,
    random_seed: int | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    group: str = "model",
    size: str = "N",
    total: str = "n_samples",
    correct: str = "n_correct",
) -> PassAtKResult:
    """Fit per-problem Beta(α(N), β(N)) success probabilities to counts, with nutpie.

    For model m of size N_m, with x_m = ln N_m − mean ln N,
    ln α_m = a₀ + a₁·x_m + σ_a·z_m and ln β_m = b₀ + b₁·x_m + σ_b·w_m (z, w standard
    normal: the log-linear trend in N plus a per-model offset), and each problem's count
    c_i ~ BetaBinomial(n_i, α_m, β_m).

    Examples
    --------
    >>> import bayescale as bs
    >>> from bayescale.sampling_laws import fit_pass_at_k, subsample_counts
    >>> runs = bs.load_dataset("monkeys_pythia_math_brown2024")     # doctest: +SKIP
    >>> seen = subsample_counts(runs, n_samples=100, random_seed=0)  # doctest: +SKIP
    >>> result = fit_pass_at_k(seen, random_seed=0)                  # doctest: +SKIP
    >>> result.predict_coverage(k=[1000, 10000], n_total=10000)      # doctest: +SKIP
    """
    import pymc as pm

    check_frame(data, "data", (group, size, total, correct))
    draws, tune, chains = (
        check_count(v, k) for k, v in (("draws", draws), ("tune", tune), ("chains", chains))
    )
    check_seed(random_seed)
    if len(data) == 0:
        raise ValueError("data has no rows; give one row per (model, problem)")
    if data[group].isna().any():
        raise ValueError(
            f"column {group!r} has missing model names in rows {_rows(data[group].isna())}"
        )
    for col, rule in (
        (size, "> 0"),
        (total, "a whole number >= 1"),
        (correct, "a whole number >= 0"),
    ):
        v = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
        whole = col != size
        bad = ~np.isfinite(v) | ((v <= 0) if col != correct else (v < 0))
        bad |= whole & (np.round(v) != v)
        if bad.any():
            raise ValueError(
                f"column {col!r} must be {rule}; rows {_rows(pd.Series(bad, data.index))}"
            )
    over = pd.to_numeric(data[correct], errors="coerce") > pd.to_numeric(
        data[total], errors="coerce"
    )
    if correct != total and over.any():  # numbers given as text compared as numbers
        raise ValueError(f"column {correct!r} exceeds {total!r} in rows {_rows(over)}")
    varies = data.groupby(group, sort=False)[size].nunique()
    if (varies > 1).any():
        raise ValueError(
            f"column {size!r} must be one size per model; models "
            f"{list(varies.index[varies > 1])[:8]} have several"
        )
    sizes = data.groupby(group, sort=False)[size].first().sort_values()
    models = list(sizes.index)
    if len(models) < 2:
        warnings.warn(
            f"fit_pass_at_k: one model ({models[0]!r}) — the trend of the Beta shapes in model "
            f"size ({size!r}) is its prior alone; give models of several sizes to learn it",
            DataWarning,
            stacklevel=2,
        )
    N = sizes.to_numpy(dtype=float)
    x = np.log(N) - np.log(N).mean()
    idx = data[group].map({m: j for j, m in enumerate(models)}).to_numpy()
    n = data[total].to_numpy(dtype=np.int64)
    c = data[correct].to_numpy(dtype=np.int64)
    if np.any(c < 0) or np.any(c > n):
        raise ValueError(f"{correct!r} must lie between 0 and {total!r}")
    with pm.Model() as model:
        p = {
            "a0": pm.Normal("a0", np.log(0.3), 1.5),
            "a1": pm.Normal("a1", 0.0, 1.0),
            "b0": pm.Normal("b0", np.log(10.0), 2.0),
            "b1": pm.Normal("b1", 0.0, 1.0),
            "sigma_a": pm.HalfNormal("sigma_a", 0.5),
            "sigma_b": pm.HalfNormal("sigma_b", 0.5),
            "z": pm.Normal("z", 0.0, 1.0, shape=len(models)),
            "w": pm.Normal("w", 0.0, 1.0, shape=len(models)),
        }
        alpha, beta = _beta_shapes(pm.math.exp, p, x)
        pm.BetaBinomial("obs", n=n, alpha=alpha[idx], beta=beta[idx], observed=c)
    from .fit import _resolve_seed
    from .sampling import sample_model

    # bayescale's nutpie path: the draws depend on random_seed alone (pm.sample's do not)
    trace = sample_model(
        model, draws=draws, tune=tune, chains=chains, seed=_resolve_seed(random_seed)
    )
    post = trace["posterior"]
    # every draw as a row: scalars (S, 1) broadcast against the per-model vectors (S, models)
    flat = {k: np.asarray(post[k].to_numpy(), float).reshape(chains * draws, -1) for k in p}
    al, be = _beta_shapes(np.exp, flat, x)
    diagnostics = {"divergences": float(np.sum(trace["sample_stats"]["diverging"].to_numpy()))}
    return PassAtKResult(
        models=models,
        N=N,
        alpha=al,
        beta=be,
        counts=data.copy(),
        diagnostics=diagnostics,
        group=group,
        total=total,
        correct=correct,
    )


def samples_for_coverage(
    result: PassAtKResult, *, target: float = 0.5, ci_prob: float = CI_PROB, k_max: float = 1e12
) -> pd.DataFrame:
    """Posterior of the number of attempts k at which the expected coverage reaches ``target``.

    Solves 1 − B(α, β + k)/B(α, β) = target draw by draw (bisection in ln k); draws that do
    not reach it by ``k_max`` are +inf and counted in ``p_unreached``. One row per model.

    Examples
    --------
    >>> import numpy as np
    >>> from bayescale.sampling_laws import PassAtKResult, samples_for_coverage
    >>> res = PassAtKResult(models=["m"], N=np.array([1e9]), alpha=np.ones((4, 1)),
    ...                     beta=np.ones((4, 1)), counts=None)
    >>> round(float(samples_for_coverage(res, target=0.9)["median"].iloc[0]), 6)  # 1 − 1/(k+1)
    9.0
    """
    if not isinstance(result, PassAtKResult):
        raise TypeError(f"result must be a PassAtKResult (bs.fit_pass_at_k), got {result!r}")
    target = check_number(target, "target", high=1.0, example="0.5, a coverage")
    check_ci_prob(ci_prob)
    rows = []
    for j, name in enumerate(result.models):
        a, b = result.alpha[:, j], result.beta[:, j]
        lo = np.full_like(a, np.log(1e-6))
        hi = np.full_like(a, np.log(k_max))
        reached = beta_pass_at_k(a, b, k_max) >= target
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            up = beta_pass_at_k(a, b, np.exp(mid)) >= target
            hi = np.where(up, mid, hi)
            lo = np.where(up, lo, mid)
        k = np.where(reached, np.exp(hi), np.inf)
        med, lower, upper = _ci(k, ci_prob)
        rows.append((name, result.N[j], target, med, lower, upper, 1 - reached.mean()))
    return pd.DataFrame(
        rows, columns=["model", "N", "target", "median", "lower", "upper", "p_unreached"]
    )


def point_fit_pass_at_k(
    data: pd.DataFrame,
    *,
    k: Sequence[float] | None = None,
    group: str = "model",
    size: str = "N",
    total: str = "n_samples",
    correct: str = "n_correct",
) -> pd.DataFrame:
    """Plain per-model point fit of −ln c(k) = a·k^(−b) to a coverage curve (the baseline).

    The coverage at each ``k`` (default: 30 log-spaced integers up to n) is the mean over
    problems of :func:`pass_at_k`; ln(−ln c) is regressed on ln k by least squares over the
    k with 0 < c < 1. Returns one row per model with ``a`` and ``b``; predict with
    ``exp(−a·k^(−b))``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from bayescale.sampling_laws import point_fit_pass_at_k
    >>> rows = pd.DataFrame({"model": "m", "N": 1e9, "n_samples": 100,
    ...                      "n_correct": np.arange(0, 100, 5)})
    >>> list(point_fit_pass_at_k(rows).columns)
    ['model', 'N', 'a', 'b']
    """
    out = []
    for name, sub in data.groupby(group, sort=False):
        n = sub[total].to_numpy(dtype=float)
        c = sub[correct].to_numpy(dtype=float)
        ks = (
            np.unique(np.round(np.geomspace(1, n.min(), 30)))
            if k is None
            else np.asarray(k, dtype=float)
        )
        cov = np.array([pass_at_k(n, c, kk).mean() for kk in ks])
        ok = (cov > 0) & (cov < 1)
        slope, intercept = np.polyfit(np.log(ks[ok]), np.log(-np.log(cov[ok])), 1)
        out.append((name, float(sub[size].iloc[0]), float(np.exp(intercept)), float(-slope)))
    return pd.DataFrame(out, columns=["model", "N", "a", "b"]).sort_values("N", ignore_index=True)


def extrapolation_check(
    data: pd.DataFrame,
    *,
    n_seen: int = 100,
    k: Sequence[float] = (1000, 10000),
    random_seed: int | None = None,
    ci_prob: float = CI_PROB,
    result: PassAtKResult | None = None,
    group: str = "model",
    size: str = "N",
    total: str = "n_samples",
    correct: str = "n_correct",
    **fit_options: Any,
) -> pd.DataFrame:
    """Fit on the first ``n_seen`` samples per problem, predict the coverage at larger ``k``.

    The "first n_seen samples" are :func:`subsample_counts` with ``random_seed`` (a
    hypergeometric draw of n_seen of each problem's samples); :func:`fit_pass_at_k` is fitted
    to them (same ``random_seed``) and :meth:`PassAtKResult.predict_coverage` gives the
    predictive interval of the coverage the full data report at each k. The truth is the
    unbiased estimator on the full counts; ``point`` is :func:`point_fit_pass_at_k` on the
    same subsampled counts. One row per model and k, with ``covered`` and the absolute errors.
    Pass ``result`` (a fit to ``subsample_counts(data, n_samples=n_seen,
    random_seed=random_seed)``) to reuse it instead of fitting again.

    Examples
    --------
    >>> import bayescale as bs
    >>> from bayescale.sampling_laws import extrapolation_check
    >>> runs = bs.load_dataset("monkeys_pythia_math_brown2024")  # doctest: +SKIP
    >>> table = extrapolation_check(runs, n_seen=100, k=[1000, 10000])  # doctest: +SKIP
    >>> int(table["covered"].sum()), len(table)  # doctest: +SKIP
    (14, 14)
    """
    cols = {"group": group, "total": total, "correct": correct}
    random_seed = resolve_seed(random_seed)  # one number for the subsample, fit and prediction
    seen = subsample_counts(
        data, n_samples=n_seen, random_seed=random_seed, total=total, correct=correct
    )
    if result is None:
        result = fit_pass_at_k(seen, random_seed=random_seed, size=size, **cols, **fit_options)
    n_total = int(data[total].min())
    if int(data[total].max()) != n_total:
        raise ValueError(f"every row needs the same {total!r} for the held-out coverage")
    table = result.predict_coverage(
        k=list(k), n_total=n_total, random_seed=random_seed, ci_prob=ci_prob
    )
    truth = {
        (m, float(kk)): float(pass_at_k(g[total], g[correct], kk).mean())
        for m, g in data.groupby(group, sort=False)
        for kk in k
    }
    point = point_fit_pass_at_k(seen, size=size, **cols).set_index("model")
    table["truth"] = [truth[(m, kk)] for m, kk in zip(table["model"], table["k"], strict=True)]
    table["point"] = [
        float(np.exp(-point.loc[m, "a"] * kk ** (-point.loc[m, "b"])))
        for m, kk in zip(table["model"], table["k"], strict=True)
    ]
    table["covered"] = (table["lower"] <= table["truth"]) & (table["truth"] <= table["upper"])
    table["abs_error"] = (table["median"] - table["truth"]).abs()
    table["point_abs_error"] = (table["point"] - table["truth"]).abs()
    return table
