"""Hoffmann et al.'s Approach 2 (isoFLOP profiles) as one Bayesian model.

Approach 2 fits a parabola to the loss along each isoFLOP curve, reads off the minimising
model size N*_j of every budget C_j and then fits the power law N* ∝ C^a through those minima.
Done in two stages the second stage treats the minima as exact. Here both stages are one PyMC
model, so the uncertainty of every curve's minimum is carried into a and b:

.. math::

    \\log L_{ij} = m_j + k_j (\\log N_{ij} - \\log N^*_j)^2 + \\varepsilon_{ij},\\quad k_j > 0

    \\log N^*_j = \\mu + a (\\log C_j - \\overline{\\log C}) + \\sigma_* z_j

with Student-t noise ε (ν = 4, robust to the odd digitised point) and per-budget scatter σ_*
about the power law. With C = 6ND, D* = C / (6 N*) so D* ∝ C^b with b = 1 − a.

Why a self-contained model and not a :class:`~bayescale.ScalingLaw`: the per-budget
parameters (m_j, k_j, N*_j) are vectors indexed by a budget code, which the law machinery
(scalar parameters, inputs held as logs) does not express, and the model is small; it is
built in PyMC and sampled with nutpie through bayescale's own path (``sampling.sample_model``, which
compiles once and seeds each chain as ``bs.fit`` does), because ``pm.sample(nuts_sampler="nutpie")``
gave draws that changed from one Python process to the next for the same ``random_seed``.

Quality flags (:class:`IsoflopQualityWarning`, one warning per flagged curve, and
``IsoflopResult.flags``): ``too_few_points`` (fewer than 5 runs), ``off_center`` (the lowest
loss is at the smallest or largest N of the curve), ``exact_duplicate`` (two runs of a curve
with the same N, to 6 significant digits, and the same loss to every digit) and
``weak_curvature`` (posterior of k_j not clearly away from 0: median/sd < 3, which is where a
curve whose data bend the wrong way ends up under the constraint k_j > 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import (
    CI_PROB,
    check_ax,
    check_ci_prob,
    check_count,
    check_frame,
    check_seed,
    check_values,
    make_rng,
    result_html,
)

__all__ = [
    "IsoflopQualityWarning",
    "IsoflopResult",
    "compare_approaches",
    "fit_isoflops",
    "pinned_isoflops",
]

#: Noise degrees of freedom of the Student-t likelihood on log L.
NU = 4.0
#: Minimum number of points of a well-measured isoFLOP curve.
MIN_POINTS = 5
#: A curve's curvature is weak when posterior median(k_j) / sd(k_j) is below this.
CURVATURE_Z = 3.0
FLAGS = ("too_few_points", "off_center", "exact_duplicate", "weak_curvature")


class IsoflopQualityWarning(UserWarning):
    """An isoFLOP curve that does not pin down its minimum well (see ``IsoflopResult.flags``)."""


def _prepare(runs: pd.DataFrame, compute_column: str) -> pd.DataFrame:
    missing = [c for c in ("N", "loss") if c not in runs.columns]
    if compute_column not in runs.columns and "D" not in runs.columns:
        missing.append(f"{compute_column} (or D, to compute C = 6ND)")
    if missing:
        raise ValueError(f"fit_isoflops: runs lack column(s) {', '.join(missing)}")
    df = runs.copy()
    if compute_column not in df.columns:
        df[compute_column] = 6.0 * df["N"] * df["D"]
    cols = ["N", "loss", compute_column]
    values = df[cols].to_numpy(dtype=float)
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"fit_isoflops: columns {cols} must be finite and positive")
    df = df.rename(columns={compute_column: "C"})
    if "D" not in df.columns:
        df["D"] = df["C"] / (6.0 * df["N"])
    return df


def _data_flags(df: pd.DataFrame, budgets: np.ndarray) -> pd.DataFrame:
    rows = []
    for c in budgets:
        d = df[df["C"] == c]
        n = len(d)
        i = int(np.argmin(d["loss"].to_numpy()))
        order = np.argsort(d["N"].to_numpy())
        off = n >= 2 and i in (order[0], order[-1])
        # the same model size (to 6 significant digits) with the same loss to every digit: a
        # copied or twice-extracted point (tokens may differ where budgets were snapped)
        n_key = np.array([float(f"{v:.6g}") for v in d["N"]])
        dup = bool(pd.DataFrame({"n": n_key, "loss": d["loss"].to_numpy()}).duplicated().any())
        rows.append(
            {
                "compute": c,
                "n_points": n,
                "too_few_points": n < MIN_POINTS,
                "off_center": off,
                "exact_duplicate": dup,
            }
        )
    return pd.DataFrame(rows)


def fit_isoflops(
    runs: pd.DataFrame,
    *,
    compute_column: str = "C",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    random_seed: int | None = None,
    sampler: str = "nutpie",
    progressbar: bool = False,
) -> IsoflopResult:
    """Approach 2 with posteriors: parabolas per isoFLOP budget and N* ∝ C^a, fitted jointly.

    Parameters
    ----------
    runs : DataFrame
        One isoFLOP family: columns ``N`` (parameters), ``loss`` and the budget column
        (``compute_column``; if absent, C = 6ND from a ``D`` column). Runs with equal budget
        values form one curve.
    compute_column : str
        Column holding each run's isoFLOP budget in FLOPs.
    draws, tune, chains : int
        NUTS settings.
    random_seed : int, optional
    sampler : {"nutpie", "pymc"}
        ``"nutpie"``: bayescale's nutpie path (draws fixed by ``random_seed``, in any process);
        ``"pymc"``: ``pm.sample`` with PyMC's NUTS.
    progressbar : bool

    Returns
    -------
    IsoflopResult

    Warns
    -----
    IsoflopQualityWarning
        Once per flagged curve, naming its budget and flags.

    Examples
    --------
    Fitting runs MCMC; a pinned result (no MCMC) shows what comes back:

    >>> import bayescale as bs
    >>> res = bs.testing.pinned_isoflops(random_seed=0)
    >>> round(float(res.posterior["a"].median()), 2)
    0.49
    >>> list(res.summary().columns)
    ['mean', 'median', 'lower', 'upper']
    """
    import pymc as pm

    if sampler not in ("nutpie", "pymc"):
        raise ValueError(f"sampler must be 'nutpie' or 'pymc', not {sampler!r}")
    check_frame(runs, "runs")
    draws, tune, chains = (
        check_count(v, k) for k, v in (("draws", draws), ("tune", tune), ("chains", chains))
    )
    df = _prepare(runs, compute_column)
    budgets = np.sort(df["C"].unique())
    if len(budgets) < 2:
        raise ValueError("fit_isoflops needs at least two isoFLOP budgets to fit N* ∝ C^a")
    code = np.searchsorted(budgets, df["C"].to_numpy())
    log_n = np.log(df["N"].to_numpy())
    log_l = np.log(df["loss"].to_numpy())
    log_c = np.log(budgets)
    c_bar = float(log_c.mean())
    # a starting guess of each curve's minimum: the N of its lowest loss
    argmin = np.array([log_n[code == j][np.argmin(log_l[code == j])] for j in range(len(budgets))])
    m0 = np.array([log_l[code == j].min() for j in range(len(budgets))])

    coords = {"compute": budgets}
    with pm.Model(coords=coords) as model:
        a = pm.Normal("a", 0.5, 0.25)
        mu = pm.Normal("mu", float(argmin.mean()), 2.0)
        sigma_star = pm.HalfNormal("sigma_star", 0.3)
        z = pm.Normal("z", 0.0, 1.0, dims="compute")
        log_n_opt = mu + a * (log_c - c_bar) + sigma_star * z
        m = pm.Normal("m", m0, 0.5, dims="compute")
        k = pm.HalfNormal("k", 0.5, dims="compute")
        sigma = pm.HalfNormal("sigma", 0.05)
        pred = m[code] + k[code] * (log_n - log_n_opt[code]) ** 2
        pm.StudentT("log_loss", nu=NU, mu=pred, sigma=sigma, observed=log_l)
    from .fit import _resolve_seed
    from .sampling import sample_model

    trace = sample_model(
        model,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=_resolve_seed(random_seed),
        progressbar=progressbar,
        sampler=sampler,
    )
    post = trace["posterior"]
    post = post.to_dataset() if hasattr(post, "to_dataset") else post

    def var(name: str) -> xr.DataArray:  # (chain, draw[, compute]) whatever the trace named it
        v = post[name].to_numpy()
        dims = ("chain", "draw", "compute")[: v.ndim]
        return xr.DataArray(v, dims=dims)

    posterior = xr.Dataset({n: var(n) for n in ("a", "mu", "sigma_star", "z", "m", "k", "sigma")})
    posterior["log_n_opt"] = (
        posterior["mu"]
        + posterior["a"] * xr.DataArray(log_c - c_bar, dims="compute")
        + posterior["sigma_star"] * posterior["z"]
    )
    posterior = posterior.drop_vars("z").assign_coords(
        chain=np.arange(posterior.sizes["chain"]),
        draw=np.arange(posterior.sizes["draw"]),
        compute=budgets,
    )
    return IsoflopResult(posterior, df, c_bar=c_bar)


def trend_n_opt(posterior: Any, c_bar: float, compute: Any) -> xr.DataArray:
    """N*(C) = exp(mu + a·(log C − c_bar)) per draw, dims (chain, draw, compute): the power-law
    trend of Approaches 1 and 2 (``posterior`` holds ``mu`` and ``a``)."""
    c = check_values("compute", compute)
    cc = xr.DataArray(c, dims="compute", coords={"compute": c})
    out = np.exp(posterior["mu"] + posterior["a"] * (np.log(cc) - c_bar))
    return out.transpose("chain", "draw", "compute").rename("n_opt")


class IsoflopResult:
    """Posterior of Approach 2: exponents a, b = 1 − a and N*, D* per isoFLOP budget.

    Attributes
    ----------
    posterior : xarray.Dataset
        Draws over (chain, draw) of ``a``, ``b``, ``mu``, ``sigma_star``, ``sigma`` and, per
        budget (dimension ``compute``), ``log_n_opt``, ``n_opt``, ``d_opt``, ``m``, ``k``.
    runs : DataFrame
        The runs, with the budget column named ``C``.
    flags : DataFrame
        One row per budget: ``n_points`` and a boolean column per quality flag.
    """

    def __init__(self, posterior: xr.Dataset, runs: pd.DataFrame, *, c_bar: float) -> None:
        import warnings

        budgets = posterior["compute"].to_numpy()
        post = posterior.copy()
        post["b"] = 1.0 - post["a"]
        post["n_opt"] = np.exp(post["log_n_opt"])
        post["d_opt"] = post["compute"] / (6.0 * post["n_opt"])
        self.posterior = post
        self.runs = runs
        self.c_bar = float(c_bar)
        flags = _data_flags(runs, budgets)
        k = post["k"]
        z = k.median(("chain", "draw")) / k.std(("chain", "draw"))
        flags["weak_curvature"] = (z.to_numpy() < CURVATURE_Z) | (flags["n_points"] < 3)
        flags["flagged"] = flags[list(FLAGS)].any(axis=1)
        self.flags = flags
        for row in flags.itertuples():
            names = [f for f in FLAGS if getattr(row, f)]
            if names:
                warnings.warn(
                    f"isoFLOP curve at C = {row.compute:.3g} FLOPs ({row.n_points} points): "
                    + ", ".join(names),
                    IsoflopQualityWarning,
                    stacklevel=3,
                )

    def __str__(self) -> str:
        s = self.summary()
        lines = [
            f"Approach 2 (isoFLOP parabolas + N* ∝ C^a), {len(self.flags)} budgets, "
            f"{len(self.runs)} runs",
            *(
                f"  {k} = {s.loc[k, 'median']:.3f} "
                f"[{s.loc[k, 'lower']:.3f}, {s.loc[k, 'upper']:.3f}] (95%)"
                for k in ("a", "b")
            ),
        ]
        flagged = self.flags[self.flags["flagged"]]
        lines.append(f"  flagged curves: {len(flagged)} of {len(self.flags)}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return result_html(str(self), self.summary())

    def n_opt(self, compute: float | Sequence[float]) -> xr.DataArray:
        """N*(C) on the fitted power law (the trend, without a new budget's scatter).

        Examples
        --------
        >>> import bayescale as bs
        >>> res = bs.testing.pinned_isoflops(random_seed=0)
        >>> n = res.n_opt([1e21, 1e23])
        >>> n.dims
        ('chain', 'draw', 'compute')
        >>> ratio = float((n.sel(compute=1e23) / n.sel(compute=1e21)).median())
        >>> bool(abs(ratio - 100 ** float(res.posterior["a"].median())) < 0.05 * ratio)
        True
        """
        return trend_n_opt(self.posterior, self.c_bar, compute)

    def d_opt(self, compute: float | Sequence[float]) -> xr.DataArray:
        """D*(C) = C / (6 N*(C)) on the fitted power law."""
        n = self.n_opt(compute)
        return (n["compute"] / (6.0 * n)).rename("d_opt")

    def summary(self, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
        """a, b and N*, D* per budget: mean, median and central ``ci_prob`` interval.

        Examples
        --------
        >>> import bayescale as bs
        >>> s = bs.testing.pinned_isoflops(random_seed=0).summary()
        >>> s.index[:2].tolist()
        ['a', 'b']
        """
        check_ci_prob(ci_prob)
        lo, hi = (1 - ci_prob) / 2, (1 + ci_prob) / 2
        rows: dict[str, np.ndarray] = {}
        p = self.posterior
        for name in ("a", "b"):
            rows[name] = p[name].to_numpy().ravel()
        for name in ("n_opt", "d_opt"):
            label = "N*" if name == "n_opt" else "D*"
            for c in p["compute"].to_numpy():
                rows[f"{label}[C={c:.3g}]"] = p[name].sel(compute=c).to_numpy().ravel()
        return pd.DataFrame(
            {
                k: {
                    "mean": v.mean(),
                    "median": np.median(v),
                    "lower": np.quantile(v, lo),
                    "upper": np.quantile(v, hi),
                }
                for k, v in rows.items()
            }
        ).T

    def plot(self, *, ax: Any = None, cmap: str = "viridis") -> tuple[Any, Any]:
        """Loss against N per budget, the posterior-median parabolas and N* with its interval."""
        import matplotlib.pyplot as plt
        from matplotlib.colors import LogNorm

        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 4.5))
        else:
            fig = check_ax(ax).figure
        p = self.posterior
        budgets = p["compute"].to_numpy()
        norm = LogNorm(budgets.min(), budgets.max() if budgets.max() > budgets.min() else None)
        cm = plt.get_cmap(cmap)
        for c in budgets:
            d = self.runs[self.runs["C"] == c]
            colour = cm(norm(c))
            ax.scatter(d["N"], d["loss"], color=colour, s=14)
            grid = np.linspace(np.log(d["N"].min()), np.log(d["N"].max()), 60)
            sel = p.sel(compute=c)
            curve = np.exp(
                sel["m"].to_numpy().ravel()[:, None]
                + sel["k"].to_numpy().ravel()[:, None]
                * (grid[None, :] - sel["log_n_opt"].to_numpy().ravel()[:, None]) ** 2
            )
            ax.plot(np.exp(grid), np.median(curve, axis=0), color=colour, lw=1.2)
            n_star = sel["n_opt"].to_numpy().ravel()
            ax.axvline(np.median(n_star), color=colour, lw=0.6, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("parameters N")
        ax.set_ylabel("loss")
        fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cm), ax=ax, label="compute C (FLOPs)")
        return fig, ax


def pinned_isoflops(
    random_seed: int = 0,
    *,
    a: float = 0.49,
    chains: int = 2,
    draws: int = 200,
    rel_sd: float = 0.02,
) -> IsoflopResult:
    """An :class:`IsoflopResult` with a posterior pinned near N* = 1e9·(C/1e20)^a (no MCMC).

    The runs are 9 points per budget at 1e19–1e21 FLOPs on exact parabolas in log N.

    Examples
    --------
    >>> res = pinned_isoflops(random_seed=0)
    >>> res.posterior["n_opt"].dims
    ('chain', 'draw', 'compute')
    """
    rng = make_rng(random_seed)
    budgets = np.array([1e19, 1e20, 1e21])
    c_bar = float(np.log(budgets).mean())
    mu = np.log(1e9) + a * (c_bar - np.log(1e20))
    log_n_opt = mu + a * (np.log(budgets) - c_bar)
    rows = []
    for j, c in enumerate(budgets):
        for x in np.linspace(-1.5, 1.5, 9):
            n = float(np.exp(log_n_opt[j] + x))
            rows.append(
                {"N": n, "D": c / (6 * n), "C": c, "loss": 3.0 * c**-0.02 * np.exp(0.1 * x**2)}
            )
    runs = pd.DataFrame(rows)
    shape = (chains, draws)
    nb = len(budgets)

    def jitter(v: float | np.ndarray, sd: float, extra: tuple = ()) -> np.ndarray:
        return np.asarray(v) + sd * rng.standard_normal(shape + extra)

    a_d = jitter(a, rel_sd * a)
    mu_d = jitter(mu, rel_sd)
    posterior = xr.Dataset(
        {
            "a": (("chain", "draw"), a_d),
            "mu": (("chain", "draw"), mu_d),
            "sigma_star": (("chain", "draw"), np.abs(jitter(0.0, 0.02))),
            "log_n_opt": (
                ("chain", "draw", "compute"),
                mu_d[..., None] + a_d[..., None] * (np.log(budgets) - c_bar),
            ),
            "m": (
                ("chain", "draw", "compute"),
                jitter(np.log(3.0 * budgets**-0.02), 0.002, (nb,)),
            ),
            "k": (("chain", "draw", "compute"), jitter(0.1, 0.1 * rel_sd, (nb,))),
            "sigma": (("chain", "draw"), np.abs(jitter(0.005, 0.0005))),
        },
        coords={"chain": np.arange(chains), "draw": np.arange(draws), "compute": budgets},
    )
    return IsoflopResult(posterior, runs, c_bar=c_bar)


def _p_greater(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) for independent X, Y given by their draws (all pairs, ties count half)."""
    ys = np.sort(np.ravel(y))
    x = np.ravel(x)
    below = np.searchsorted(ys, x, side="left")
    at_or_below = np.searchsorted(ys, x, side="right")
    return float(np.mean((below + at_or_below) / 2.0) / len(ys))


def compare_approaches(
    runs: pd.DataFrame | None,
    *,
    compute: float | Sequence[float],
    random_seed: int | None = None,
    ci_prob: float = CI_PROB,
    approach2: IsoflopResult | None = None,
    approach3: Any = None,
    approach1: Any = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
) -> pd.DataFrame:
    """Approaches 2 (isoFLOP parabolas) and 3 (the Chinchilla law), and 1 where data allow.

    Approach 2 is :func:`fit_isoflops`; Approach 3 is ``bs.fit("chinchilla", runs)`` and
    :func:`~bayescale.compute_optimal`; Approach 1 (the envelope of training curves,
    :func:`~bayescale.fit_approach1`) needs runs with intermediate checkpoints, so it enters
    only when given as ``approach1=``. For each quantity — the exponents a (N* ∝ C^a) and
    b (D* ∝ C^b), and N*, D* at every budget in ``compute`` — the table gives each approach's
    posterior median and central ``ci_prob`` interval and, for every pair, ``P(i > j)``, the
    probability that approach i's value exceeds approach j's when the posteriors are taken as
    independent (every pair of draws compared). Values near 0 or 1 mean the approaches disagree.

    Parameters
    ----------
    runs : DataFrame or None
        One isoFLOP family with columns ``N``, ``D``, ``loss`` and, optionally, ``C`` (the
        budget; else 6ND). With None, only the given approaches are compared (at least two).
    compute : float or sequence of float
        Budgets (FLOPs) at which N* and D* are compared.
    random_seed : int, optional
        Seed of both fits.
    ci_prob : float
        Probability mass of the intervals.
    approach2 : IsoflopResult, optional
        An Approach 2 result to use instead of fitting one.
    approach3 : Fit, optional
        A Chinchilla-law fit to use instead of fitting one.
    approach1 : Approach1Result, optional
        Approach 1 on training curves with checkpoints (:func:`~bayescale.fit_approach1`).
    draws, tune, chains : int
        NUTS settings of the fits made here.

    Returns
    -------
    DataFrame
        Index: ``a``, ``b``, ``N*[C=...]``, ``D*[C=...]``; columns ``approach<i>_median``,
        ``approach<i>_lower``, ``approach<i>_upper`` for each approach compared, then
        ``P(1 > 2)``, ``P(1 > 3)``, ``P(2 > 3)`` for the pairs present.

    Examples
    --------
    >>> import bayescale as bs
    >>> t = bs.compare_approaches(
    ...     None, compute=1e21,
    ...     approach2=bs.testing.pinned_isoflops(random_seed=0),
    ...     approach3=bs.testing.pinned_fit(random_seed=0),
    ... )
    >>> t.index.tolist()
    ['a', 'b', 'N*[C=1e+21]', 'D*[C=1e+21]']
    >>> bool(t.loc["a", "P(2 > 3)"] < 0.05)  # pinned: a2 = 0.49 < a3 ≈ 0.51
    True
    """
    from .analysis import compute_optimal

    check_ci_prob(ci_prob)
    check_seed(random_seed)
    if approach3 is not None and not hasattr(approach3, "posterior"):
        raise TypeError(f"approach3 must be a fit (bs.fit) of a law of N and D, got {approach3!r}")
    if approach2 is not None and not isinstance(approach2, IsoflopResult):
        raise TypeError(f"approach2 must be an IsoflopResult (bs.fit_isoflops), got {approach2!r}")
    c = check_values("compute", compute)
    given = [x for x in (approach1, approach2, approach3) if x is not None]
    if runs is None and len(given) < 2:
        raise ValueError(
            "compare_approaches needs runs, or at least two of approach1, approach2, approach3"
        )
    if runs is not None and approach2 is None:
        approach2 = fit_isoflops(
            runs, random_seed=random_seed, draws=draws, tune=tune, chains=chains
        )
    if runs is not None and approach3 is None:
        from .fit import fit

        approach3 = fit(
            "chinchilla",
            runs[["N", "D", "loss"]],
            random_seed=random_seed,
            draws=draws,
            tune=tune,
            chains=chains,
            progressbar=False,
        )
    draws_of: dict[str, dict[str, Any]] = {}
    for label, res in (("1", approach1), ("2", approach2)):
        if res is not None:
            draws_of[label] = {"a": res.posterior["a"], "b": res.posterior["b"],
                               "N": res.n_opt(c), "D": res.d_opt(c)}  # fmt: skip
    if approach3 is not None:
        opt = compute_optimal(approach3, compute=c)
        draws_of["3"] = {"a": approach3.posterior["a"], "b": approach3.posterior["b"],
                         "N": opt["N_opt"], "D": opt["D_opt"]}  # fmt: skip
    quantities = [("a", "a", None), ("b", "b", None)]
    quantities += [(f"{k}*[C={cc:.3g}]", k, cc) for k in ("N", "D") for cc in c]

    def values(label: str, key: str, cc: float | None) -> np.ndarray:
        x = draws_of[label][key]
        return np.ravel((x if cc is None else x.sel(compute=cc)).to_numpy())

    lo, hi = (1 - ci_prob) / 2, (1 + ci_prob) / 2
    labels = sorted(draws_of)
    rows = {}
    for name, key, cc in quantities:
        v = {label: values(label, key, cc) for label in labels}
        row = {}
        for label in labels:
            row[f"approach{label}_median"] = float(np.median(v[label]))
            row[f"approach{label}_lower"] = float(np.quantile(v[label], lo))
            row[f"approach{label}_upper"] = float(np.quantile(v[label], hi))
        for i, li in enumerate(labels):
            for lj in labels[i + 1 :]:
                row[f"P({li} > {lj})"] = _p_greater(v[li], v[lj])
        rows[name] = row
    return pd.DataFrame(rows).T
