"""Observational scaling, Bayesian: a low-rank latent-capability model over models × benchmarks.

Ruan, Maddison & Hashimoto (2024, arXiv:2405.10938) summarise public models' benchmark scores by
a point PCA ("capabilities") and fit each target metric as a sigmoid of them. Here the same idea
is one Bayesian model, fitted to every observed score at once:

* each model ``i`` of family ``f`` has ``K`` latent capabilities
  ``S_ik = a_fk + b_fk · x_i + e_ik``, with ``x_i`` the standardised log10 training compute;
  family intercepts and slopes are partially pooled (non-centred):
  ``a_fk = τ_a,k · z``, ``b_fk = μ_b,k + τ_b,k · z``; the first capability follows compute
  (``μ_b,0 = 1`` sets its scale: one unit per standard deviation of log compute), the others are
  what families and models have beyond it (``μ_b,k = 0``, unit residual ``e_ik`` for k ≥ 1 sets
  their scale; ``e_i0 ~ Normal(0, σ_0)``);
* benchmark ``j`` scores ``chance_j + (1 − chance_j) · σ(c_j + w_j · S_i)`` plus Normal noise
  ``σ_j``; the loadings ``w`` are lower-triangular with a positive diagonal, and loadings on the
  first capability are positive (every benchmark improves with general capability), which fixes
  the rotation and the signs;
* a missing score is simply absent from the likelihood (no imputation beforehand), so a model
  with no observed score at all (a held-out model) is predicted from its family and compute,
  and a model of a family with no fitted member from the population of families.

Sampled with bayescale's nutpie path (:func:`bayescale.sampling.sample_model`), so the draws
depend on ``random_seed`` only.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape as _html_escape
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from ._api import CI_PROB, check_ci_prob
from .display import flops

__all__ = ["CapabilityFit", "fit_capabilities"]


def _check_frame(
    scores: pd.DataFrame, benchmarks: Sequence[str], compute: str, family: str
) -> pd.DataFrame:
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"scores must be a pandas DataFrame, got {type(scores).__name__}")
    missing = [c for c in (compute, family, *benchmarks) if c not in scores.columns]
    if missing:
        raise ValueError(
            f"scores has no column(s) {missing}; available: {[str(c) for c in scores.columns]}"
        )
    if len(benchmarks) < 2 or len(set(benchmarks)) != len(benchmarks):
        raise ValueError(f"benchmarks must name at least two distinct columns, got {benchmarks}")
    frame = scores.copy()
    c = pd.to_numeric(frame[compute], errors="coerce")
    bad = frame.index[~(np.isfinite(c) & (c > 0))]
    if len(bad):
        raise ValueError(
            f"column {compute!r} must be positive and finite for every model; rows {list(bad)[:8]} "
            "are not (drop the models whose compute is unknown first)"
        )
    for b in benchmarks:
        v = pd.to_numeric(frame[b], errors="coerce")
        if frame[b].notna().sum() != v.notna().sum():
            raise ValueError(f"column {b!r} has non-numeric values")
        if v.notna().sum() == 0:
            raise ValueError(f"column {b!r} has no score at all; drop it from benchmarks")
        out = frame.index[v.notna() & ~((v >= 0) & (v <= 1))]
        if len(out):
            raise ValueError(
                f"column {b!r}: scores must lie in [0, 1] (a proportion); rows {list(out)[:8]}"
                " do not (divide percentages by 100)"
            )
        frame[b] = v
    if frame[family].isna().any():
        raise ValueError(
            f"column {family!r} has missing families: rows "
            f"{list(frame.index[frame[family].isna()])[:8]}"
        )
    return frame


@dataclass
class CapabilityFit:
    """A fitted latent-capability model (result of :func:`fit_capabilities`).

    Attributes
    ----------
    benchmarks : list of str
    chance : numpy.ndarray
        Chance level per benchmark.
    data : pandas.DataFrame
        The models (rows as given) with their compute, family and scores (NaN: not observed).
    posterior : xarray.Dataset
        Draws over ``(chain, draw)`` of ``mean`` (model × benchmark expected score),
        ``loadings`` (benchmark × capability), ``intercept``, ``sigma`` (per benchmark),
        ``capabilities`` (model × capability) and the population trend ``slope_mean``.
    diagnostics : dict
        Divergences, max R-hat, min bulk ESS.
    """

    benchmarks: list[str]
    chance: np.ndarray
    data: pd.DataFrame
    compute: str
    family: str
    posterior: xr.Dataset
    diagnostics: dict[str, float]
    x_mean: float
    x_sd: float
    random_seed: int

    @property
    def n_capabilities(self) -> int:
        return int(self.posterior.sizes["capability"])

    def predict(
        self, *, ci_prob: float = CI_PROB, held_out: bool = True, random_seed: int | None = None
    ) -> pd.DataFrame:
        """Posterior predictive of every score (or of the scores not observed in the fit).

        One row per (model, benchmark): median and central ``ci_prob`` interval of a new score
        (expected score plus the benchmark's noise), the expected score's median, and the
        score in ``data`` when there is one.

        Examples
        --------
        >>> import bayescale as bs
        >>> f = bs.capabilities.pinned_capability_fit()
        >>> p = f.predict(held_out=False)
        >>> sorted(p.columns)[:3], len(p) == len(f.data) * len(f.benchmarks)
        (['benchmark', 'expected', 'hi'], True)
        """
        _check_prob(ci_prob)
        mean = self.posterior["mean"].transpose("chain", "draw", "model", "benchmark").to_numpy()
        mean = mean.reshape(-1, *mean.shape[2:])
        sigma = self.posterior["sigma"].to_numpy().reshape(-1)
        seed = self.random_seed + 1 if random_seed is None else random_seed
        sd = sigma.reshape(-1, len(self.benchmarks))
        rng = np.random.default_rng(seed)
        draws = np.clip(mean + sd[:, None, :] * rng.standard_normal(mean.shape), 0.0, 1.0)
        lo, med, hi = np.quantile(draws, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2], axis=0)
        rows = []
        fitted = self.posterior.attrs.get("observed_mask")
        observed = np.asarray(fitted, dtype=bool).reshape(mean.shape[1:])
        for i, label in enumerate(self.data.index):
            for j, b in enumerate(self.benchmarks):
                if held_out and observed[i, j]:
                    continue
                rows.append(
                    {
                        "model": label,
                        "benchmark": b,
                        "median": med[i, j],
                        "lo": lo[i, j],
                        "hi": hi[i, j],
                        "expected": float(np.median(mean[:, i, j])),
                        "observed": self.data[b].iloc[i],
                        "in_fit": bool(observed[i, j]),
                    }
                )
        out = pd.DataFrame(rows)
        out.attrs["ci_prob"] = ci_prob
        return out

    def loadings(self) -> pd.DataFrame:
        """Posterior median loading of each benchmark on each capability (what loads on them).

        Examples
        --------
        >>> import bayescale as bs
        >>> f = bs.capabilities.pinned_capability_fit()
        >>> f.loadings().shape == (len(f.benchmarks), f.n_capabilities)
        True
        """
        w = self.posterior["loadings"].median(("chain", "draw")).to_numpy()
        cols = [f"capability {k + 1}" for k in range(w.shape[1])]
        return pd.DataFrame(w, index=pd.Index(self.benchmarks, name="benchmark"), columns=cols)

    def thresholds(self, *, level: float = 0.5, ci_prob: float = CI_PROB) -> pd.DataFrame:
        """Compute at which a model of a new family is expected to reach ``level`` on each
        benchmark (along the population trend; per draw in closed form).

        ``level`` is an absolute score; benchmarks whose chance level is at or above it get
        NaN. Draws whose trend never reaches the level (a non-positive slope) are counted in
        ``never``.

        Examples
        --------
        >>> import bayescale as bs
        >>> f = bs.capabilities.pinned_capability_fit()
        >>> t = f.thresholds(level=0.6)
        >>> list(t.columns)
        ['median', 'lo', 'hi', 'never', 'text']
        """
        _check_prob(ci_prob)
        if not 0 < level < 1:
            raise ValueError(f"level must lie in (0, 1), got {level!r}")
        w = self.posterior["loadings"].transpose("chain", "draw", "benchmark", "capability")
        w = w.to_numpy().reshape(-1, len(self.benchmarks), self.n_capabilities)
        c = self.posterior["intercept"].to_numpy().reshape(-1, len(self.benchmarks))
        slope = self.posterior["slope_mean"].to_numpy().reshape(-1, self.n_capabilities)
        rows = {}
        for j, b in enumerate(self.benchmarks):
            ch = self.chance[j]
            if level <= ch:
                rows[b] = {"median": np.nan, "lo": np.nan, "hi": np.nan, "never": np.nan}
                continue
            target = np.log((level - ch) / (1 - level))  # logit of (level − ch)/(1 − ch)
            rate = (w[:, j, :] * slope).sum(axis=1)  # logit change per sd of log compute
            with np.errstate(divide="ignore", invalid="ignore"):
                x = np.where(rate > 0, (target - c[:, j]) / rate, np.inf)
            logc = self.x_mean + self.x_sd * x
            q = np.quantile(logc, [0.5, (1 - ci_prob) / 2, (1 + ci_prob) / 2])
            with np.errstate(over="ignore"):  # beyond 1e308 FLOPs: inf
                q = np.power(10.0, q)
            rows[b] = {
                "median": q[0],
                "lo": q[1],
                "hi": q[2],
                "never": float(np.mean(~np.isfinite(x))),
            }
        out = pd.DataFrame.from_dict(rows, orient="index")
        out.index.name = "benchmark"
        out["text"] = [_threshold_text(r.median, r.lo, r.hi) for r in out.itertuples()]
        out.attrs.update(level=level, ci_prob=ci_prob)
        return out

    def summary(self) -> pd.DataFrame:
        """Per benchmark: chance level, noise sd, loadings (medians) and the share of observed
        scores.

        Examples
        --------
        >>> import bayescale as bs
        >>> bs.capabilities.pinned_capability_fit().summary().index.name
        'benchmark'
        """
        out = self.loadings()
        out.insert(0, "chance", self.chance)
        out.insert(1, "sigma", self.posterior["sigma"].median(("chain", "draw")).to_numpy())
        out["observed"] = [int(self.data[b].notna().sum()) for b in self.benchmarks]
        return out

    def _repr_html_(self) -> str:
        table = self.summary().to_html(float_format="{:.3g}".format)
        return f"<p>{_html_escape(repr(self))}</p>" + table

    def __repr__(self) -> str:
        return (
            f"<bayescale.CapabilityFit: {len(self.data)} models, {len(self.benchmarks)} "
            f"benchmarks, {self.n_capabilities} capabilities, "
            f"{self.diagnostics.get('divergences', 0):.0f} divergences>"
        )


def _diagnostics(post: xr.Dataset, stats: xr.Dataset) -> dict[str, float]:
    """Divergences, max R-hat and min bulk ESS over every scalar of the sampled variables."""
    from .convergence import ess, rhat

    rhats, esses = [], []
    for name in post.data_vars:
        v = post[name].transpose("chain", "draw", ...).to_numpy()
        flat = v.reshape(v.shape[0], v.shape[1], -1)
        for i in range(flat.shape[-1]):
            rhats.append(rhat(flat[..., i]))
            esses.append(ess(flat[..., i]))
    div = float(stats["diverging"].sum()) if "diverging" in stats else 0.0
    return {
        "divergences": div,
        "max_rhat": float(np.nanmax(rhats)),
        "min_ess_bulk": float(np.nanmin(esses)),
    }


def _warn_diagnostics(diag: Mapping[str, float]) -> None:
    import warnings

    from .fit import DiagnosticWarning

    problems = []
    if diag["divergences"]:
        problems.append(f"{diag['divergences']:.0f} divergences")
    if diag["max_rhat"] > 1.01:
        problems.append(f"max R-hat {diag['max_rhat']:.3f} > 1.01")
    if diag["min_ess_bulk"] < 400:
        problems.append(f"min bulk ESS {diag['min_ess_bulk']:.0f} < 400")
    if problems:
        warnings.warn(
            "latent-capability fit: " + ", ".join(problems) + "; do not trust its intervals "
            "(more draws, fewer capabilities)",
            DiagnosticWarning,
            stacklevel=3,
        )


#: Thresholds beyond this many FLOPs are reported as not reached on the trend.
FAR_FLOPS = 1e35


def _threshold_text(median: float, lo: float, hi: float) -> str:
    if not np.isfinite(median) and np.isnan(median):
        return "— (chance level at or above the level)"
    if median > FAR_FLOPS:
        return f"beyond {flops(FAR_FLOPS)} (not on the trend)"
    top = flops(hi, unit=False) if hi <= FAR_FLOPS else f"> {flops(FAR_FLOPS, unit=False)}"
    return f"{flops(median)} [{flops(lo, unit=False)}, {top}]"


def _check_prob(ci_prob: float) -> None:
    check_ci_prob(ci_prob)


def _ops(library: str) -> dict[str, Any]:
    """The few array functions :func:`_expected_scores` needs, from numpy or PyTensor."""
    if library == "numpy":
        return {"cat": np.concatenate, "take": np.take, "sigmoid": special.expit,
                "zeros_like": np.zeros_like}  # fmt: skip
    import pytensor.tensor as pt

    return {"cat": pt.concatenate, "take": pt.take, "sigmoid": pt.sigmoid,
            "zeros_like": pt.zeros_like}  # fmt: skip


def _slope_mean(k: int) -> np.ndarray:
    """Population slope of each capability on standardised log compute: 1, then 0s."""
    out = np.zeros(k)
    out[0] = 1.0
    return out


def _expected_scores(
    ops: Mapping[str, Any],
    p: Mapping[str, Any],
    x: np.ndarray,
    fam: np.ndarray,
    chance: np.ndarray,
    k: int,
) -> tuple[Any, Any, Any]:
    """The model's one expression: capabilities ``S`` (… × model × K), loadings ``W``
    (… × benchmark × K) and expected scores (… × model × benchmark) from the sampled variables
    ``p``, for PyTensor (the model; no leading axes) and numpy (draws; leading chain, draw)."""
    cat, take = ops["cat"], ops["take"]
    mu_b = _slope_mean(k)
    a = p["z_a"] * p["tau_a"][..., None, :]
    b = mu_b + p["z_b"] * p["tau_b"][..., None, :]
    ze = p["z_e"]
    resid = cat([ze[..., :1] * p["sigma_model"][..., None, None], ze[..., 1:]], axis=-1)
    s = take(a, fam, axis=-2) + take(b, fam, axis=-2) * x[:, None] + resid
    # loadings: positive on capability 1; lower-triangular with a positive diagonal beyond
    first = p["w_first"]
    columns = [first[..., None]]
    for q in range(1, k):
        column = [ops["zeros_like"](first[..., :q]), p[f"w_diag_{q}"][..., None],
                  p[f"w_below_{q}"]]  # fmt: skip
        columns.append(cat(column, axis=-1)[..., None])
    w = cat(columns, axis=-1)
    logit = p["intercept"][..., None, :] + (s[..., :, None, :] * w[..., None, :, :]).sum(axis=-1)
    return s, w, chance + (1 - chance) * ops["sigmoid"](logit)


def _build(
    y: np.ndarray,
    mask: np.ndarray,
    x: np.ndarray,
    fam: np.ndarray,
    n_fam: int,
    chance: np.ndarray,
    k: int,
) -> Any:
    import pymc as pm

    n, j = y.shape
    rows, cols = np.nonzero(mask)
    with pm.Model() as model:
        p = {
            "tau_a": pm.HalfNormal("tau_a", 1.0, shape=k),
            "tau_b": pm.HalfNormal("tau_b", 0.5, shape=k),
            "sigma_model": pm.HalfNormal("sigma_model", 1.0),
            "z_a": pm.Normal("z_a", 0.0, 1.0, shape=(n_fam, k)),
            "z_b": pm.Normal("z_b", 0.0, 1.0, shape=(n_fam, k)),
            "z_e": pm.Normal("z_e", 0.0, 1.0, shape=(n, k)),
            "w_first": pm.HalfNormal("w_first", 2.0, shape=j),
        }
        for q in range(1, k):
            p[f"w_diag_{q}"] = pm.HalfNormal(f"w_diag_{q}", 2.0)
            p[f"w_below_{q}"] = pm.Normal(f"w_below_{q}", 0.0, 2.0, shape=j - q - 1)
        p["intercept"] = pm.Normal("intercept", 0.0, 3.0, shape=j)
        sigma = pm.HalfNormal("sigma", 0.1, shape=j)
        _, _, mean = _expected_scores(_ops("pytensor"), p, x, fam, chance, k)
        pm.Normal("score", mu=mean[rows, cols], sigma=sigma[cols], observed=y[rows, cols])
    return model


def fit_capabilities(
    scores: pd.DataFrame,
    benchmarks: Sequence[str],
    *,
    chance: Mapping[str, float] | None = None,
    compute: str = "C",
    family: str = "family",
    n_capabilities: int = 1,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    random_seed: int | None = None,
    progressbar: bool = False,
    sampler: str = "pymc",
    target_accept: float = 0.95,
) -> CapabilityFit:
    """Fit the latent-capability model (module docstring) to a models × benchmarks table.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per model: training compute, family and one column per benchmark with scores in
        [0, 1]; NaN where a score is not observed (or held out: such cells are predicted).
    benchmarks : sequence of str
        The benchmark columns (at least ``n_capabilities + 1``).
    chance : mapping, optional
        Chance level per benchmark (e.g. 0.25 for four-choice questions); 0 when not given.
    compute, family : str
        Column names of the training compute (FLOPs) and of the model family.
    n_capabilities : int
        Number of latent capabilities K (default 1). On Ruan et al.'s table (fit the 77 models
        with C ≤ 8.4e22, predict the 46 above; ``examples/observational_scaling.py``) K = 1
        converged (R-hat 1.009) and K = 2, 3 did not (R-hat 1.55, 1.83, hundreds of
        divergences: the extra axes are weakly identified by 8 benchmarks), nor did they
        predict better (median abs. error 0.058, 0.060 against 0.057 over benchmarks). A fit
        that did not converge gives a ``bs.DiagnosticWarning``.
    draws, tune, chains, random_seed, progressbar
        Sampler settings; the draws depend on ``random_seed`` only.
    sampler : {"pymc", "nutpie"}
        ``"pymc"`` (default): PyMC's NUTS from its usual jittered start. bayescale's nutpie
        path starts every chain at the posterior mode with a Laplace metric, which suits a
        scaling law but not this hierarchical model, whose mode sits at the neck of its
        funnels (R-hat 2.3 on the Ruan et al. table).
    target_accept : float
        NUTS's target acceptance (PyMC sampler; default 0.95 for the pooled families' funnels).

    Examples
    --------
    >>> import numpy as np, pandas as pd, bayescale as bs
    >>> rng = np.random.default_rng(0)
    >>> C = 10 ** rng.uniform(20, 23, 24)
    >>> fam = np.repeat(["a", "b", "c"], 8)
    >>> x = (np.log10(C) - 21.5) / 0.9
    >>> t = pd.DataFrame({"C": C, "family": fam})
    >>> for j, (c, w) in enumerate([(0.0, 1.5), (-1.0, 2.0), (1.0, 1.0)]):
    ...     t[f"b{j}"] = 1 / (1 + np.exp(-(c + w * x))) + rng.normal(0, 0.02, 24)
    >>> t.loc[20:, "b1"] = np.nan  # held out
    >>> t[["b0", "b1", "b2"]] = t[["b0", "b1", "b2"]].clip(0, 1)
    >>> f = bs.fit_capabilities(t, ["b0", "b1", "b2"], draws=200, tune=300, chains=2,
    ...     random_seed=0)  # doctest: +SKIP
    >>> p = f.predict()  # doctest: +SKIP
    >>> len(p), bool(p["hi"].ge(p["lo"]).all())  # doctest: +SKIP
    (4, True)
    """
    from .fit import _resolve_seed
    from .sampling import sample_model

    if isinstance(benchmarks, str) or not isinstance(benchmarks, Sequence | pd.Index):
        raise TypeError(f"benchmarks must be a list of column names, got {benchmarks!r}")
    benchmarks = [str(b) for b in benchmarks]
    if isinstance(n_capabilities, bool) or not isinstance(n_capabilities, int | np.integer):
        raise TypeError(f"n_capabilities must be an int, got {n_capabilities!r}")
    if not 1 <= n_capabilities < len(benchmarks):
        raise ValueError(
            f"n_capabilities must lie in [1, {len(benchmarks) - 1}] for {len(benchmarks)} "
            f"benchmarks, got {n_capabilities}"
        )
    frame = _check_frame(scores, benchmarks, compute, family)
    chance = dict(chance or {})
    unknown = sorted(set(chance) - set(benchmarks))
    if unknown:
        raise ValueError(f"chance names benchmarks not in benchmarks: {unknown}")
    ch = np.array([float(chance.get(b, 0.0)) for b in benchmarks])
    if not np.all((ch >= 0) & (ch < 1)):
        raise ValueError(
            f"chance levels must lie in [0, 1), got {dict(zip(benchmarks, ch, strict=True))}"
        )
    seed = _resolve_seed(random_seed)
    y = frame[benchmarks].to_numpy(dtype=float)
    mask = np.isfinite(y)
    if mask.sum() == 0:
        raise ValueError("no observed score to fit")
    logc = np.log10(frame[compute].to_numpy(dtype=float))
    x_mean, x_sd = float(logc.mean()), float(logc.std() or 1.0)
    x = (logc - x_mean) / x_sd
    codes, labels = pd.factorize(frame[family].astype(str), sort=True)
    model = _build(y, mask, x, codes, len(labels), ch, n_capabilities)
    trace = sample_model(
        model,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        progressbar=progressbar,
        sampler=sampler,
        **({"target_accept": target_accept} if sampler == "pymc" else {}),
    )
    post = trace["posterior"].to_dataset()
    posterior = _derived(post, x, codes, ch, n_capabilities, benchmarks, frame.index)
    posterior.attrs["observed_mask"] = mask.astype(np.int8).ravel().tolist()
    stats = trace["sample_stats"].to_dataset()
    diagnostics = _diagnostics(post, stats)
    _warn_diagnostics(diagnostics)
    return CapabilityFit(
        benchmarks, ch, frame, compute, family, posterior, diagnostics, x_mean, x_sd, seed
    )


def _derived(
    post: xr.Dataset,
    x: np.ndarray,
    fam: np.ndarray,
    chance: np.ndarray,
    k: int,
    benchmarks: list[str],
    index: pd.Index,
) -> xr.Dataset:
    """Loadings, capabilities and expected scores per draw, in numpy."""
    g = lambda n: post[n].transpose("chain", "draw", ...).to_numpy()  # noqa: E731
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    p = {n: g(n) for n in post.data_vars}
    s, w, mean = _expected_scores(_ops("numpy"), p, x, fam, chance, k)
    mu_b = _slope_mean(k)
    dims = ("chain", "draw")
    labels = [str(v) for v in index]
    return xr.Dataset(
        {
            "mean": ((*dims, "model", "benchmark"), mean),
            "capabilities": ((*dims, "model", "capability"), s),
            "loadings": ((*dims, "benchmark", "capability"), w),
            "intercept": ((*dims, "benchmark"), g("intercept")),
            "sigma": ((*dims, "benchmark"), g("sigma")),
            "slope_mean": ((*dims, "capability"), np.broadcast_to(mu_b, (chains, draws, k))),
        },
        coords={"model": labels, "benchmark": benchmarks, "capability": np.arange(1, k + 1)},
    )


@functools.lru_cache(maxsize=4)
def pinned_capability_fit(random_seed: int = 0) -> CapabilityFit:
    """A small :class:`CapabilityFit` from simulated scores with few draws (docs and tests;
    cached per seed: do not modify it)."""
    rng = np.random.default_rng(random_seed)
    n = 18
    c = 10 ** rng.uniform(20, 23, n)
    fam = np.repeat(["a", "b", "c"], n // 3)
    x = (np.log10(c) - 21.5) / 0.9
    t = pd.DataFrame({"C": c, "family": fam})
    for j, (c0, w) in enumerate([(0.0, 1.5), (-1.0, 2.0), (1.0, 1.0)]):
        t[f"b{j}"] = np.clip(1 / (1 + np.exp(-(c0 + w * x))) + rng.normal(0, 0.02, n), 0, 1)
    t.loc[15:, "b1"] = np.nan
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 2 x 100 draws: the diagnostics are not the point
        return fit_capabilities(
            t, ["b0", "b1", "b2"], draws=100, tune=200, chains=2, random_seed=random_seed
        )
