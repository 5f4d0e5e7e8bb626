"""Hoffmann et al.'s Approach 1 (2022, Sec. 3.1): the envelope of training curves, with a posterior.

Every checkpoint of every training run is a point (compute C = 6·N·D_seen, loss). For each
compute C the *envelope* is the lowest loss any run reaches at C (each run's curve interpolated,
log loss linear in log C, between its own checkpoints, never beyond them); the run holding it
gives N_opt(C) and D_opt(C) = C / (6 N_opt). Approach 1 fits N*(C) = k·C^a through these.

Why not regress on the envelope grid directly: with a handful of model sizes the envelope's
N_opt is a step function, and neighbouring C share the same run, so hundreds of grid points
carry the information of a few crossings; treated as independent they give intervals far too
narrow. Here the data of the regression are the *crossings*: where the envelope passes from a
run of size N_i to one of size N_j, the two curves have equal loss; on an isoFLOP profile that
is a parabola in log N this happens exactly where log N*(C) is midway between log N_i and
log N_j, so each crossing is a point (C_s, √(N_i N_j)) on the N*(C) curve, free of the sizes'
discreteness. Crossings of the same pair of sizes (an envelope flickering between two runs near
their crossing) are merged into one point (geometric mean C). Consecutive points share one size;
with an independent level offset per run their errors are negatively correlated (ρ = −½), which
makes independent errors the conservative choice for the slope, so the points are taken as
independent with an unknown noise σ learned from their scatter.

The posterior is the exact one of that regression, log N_s = log k + a·log C_s + ε, ε ~ N(0, σ²),
under the reference prior p(log k, a, σ) ∝ 1/σ: a and log k are jointly Student-t with n − 2
degrees of freedom, drawn in numpy (no MCMC) from ``random_seed``. b = 1 − a (C = 6ND), and
D*(C) = C / (6 N*(C)).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import CI_PROB, check_ci_prob, check_values, make_rng, result_html

__all__ = [
    "Approach1Result",
    "fit_approach1",
    "isoflop_slices",
    "simulate_training_curves",
    "training_envelope",
]

#: Fewest crossings the regression accepts (n − 2 ≥ 1 degrees of freedom).
MIN_POINTS = 3


def _curves(runs: pd.DataFrame, curve: str | Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    if not isinstance(runs, pd.DataFrame):
        raise TypeError(f"runs must be a DataFrame, got {type(runs).__name__}")
    keys = [curve] if isinstance(curve, str) else list(curve)
    if not keys:
        raise ValueError("curve: name at least one column identifying a training run")
    missing = [c for c in ("N", "D", "loss", *keys) if c not in runs.columns]
    if missing:
        raise ValueError(f"approach 1: runs lack column(s) {', '.join(missing)}")
    values = runs[["N", "D", "loss"]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    bad = ~np.all(np.isfinite(values) & (values > 0), axis=1)
    if bad.any():
        raise ValueError(
            f"approach 1: columns N, D, loss must be finite and positive; rows "
            f"{runs.index[bad][:5].tolist()} are not"
        )
    df = pd.DataFrame({"N": values[:, 0], "D": values[:, 1], "loss": values[:, 2]})
    df["compute"] = 6.0 * df["N"] * df["D"]
    df["curve"] = pd.factorize(pd.MultiIndex.from_frame(runs[keys].astype(str)))[0]
    sizes = df.groupby("curve")["N"].nunique()
    if (sizes > 1).any():
        raise ValueError(
            f"curve: a run must have one model size; {int((sizes > 1).sum())} run(s) given by "
            f"{keys} have several (add columns to curve=)"
        )
    dup = df.duplicated(["curve", "D"])
    if dup.any():
        raise ValueError(
            f"curve: {int(dup.sum())} checkpoint(s) repeat a run's tokens seen (rows "
            f"{runs.index[dup.to_numpy()][:5].tolist()}); add columns to curve= "
            f"(e.g. the sweep or schedule length) so each run is one curve"
        )
    return df.sort_values(["curve", "D"]).reset_index(drop=True), keys


def _on_grid(df: pd.DataFrame, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each curve's log loss at every grid point (NaN outside its checkpoints): (curves, grid),
    and each curve's N."""
    log_g = np.log(grid)
    curves = df.groupby("curve", sort=True)
    out = np.full((curves.ngroups, grid.size), np.nan)
    sizes = np.empty(curves.ngroups)
    for i, (_, c) in enumerate(curves):
        x, y = np.log(c["compute"].to_numpy()), np.log(c["loss"].to_numpy())
        sizes[i] = c["N"].iloc[0]
        inside = (log_g >= x[0]) & (log_g <= x[-1])
        if len(x) >= 2:
            out[i, inside] = np.interp(log_g[inside], x, y)
    return out, sizes


def training_envelope(
    runs: pd.DataFrame,
    *,
    curve: str | Sequence[str] = "group",
    compute: Sequence[float] | None = None,
    n_grid: int = 400,
) -> pd.DataFrame:
    """The lowest loss of any training run at each compute C, and the run holding it.

    Each run's checkpoints (compute 6·N·D) are joined by straight lines in (log C, log loss); a
    run counts only between its first and last checkpoint, so runs with one checkpoint are not
    used. The grid is ``compute`` or ``n_grid`` log-spaced points over the checkpoints' range.

    Parameters
    ----------
    runs : DataFrame
        One row per checkpoint: ``N``, ``D`` (tokens seen), ``loss`` and the ``curve`` columns.
    curve : str or sequence of str
        Column(s) whose values identify one training run (e.g. model, learning rate, length).
    compute : sequence of float, optional
        FLOPs at which to take the envelope.
    n_grid : int

    Returns
    -------
    DataFrame
        One row per grid point covered by some run: ``compute``, ``loss``, ``N``, ``D``
        (= C / 6N) and ``curve`` (the run's code, in order of first appearance).

    Examples
    --------
    >>> import pandas as pd
    >>> runs = pd.DataFrame({"N": [1e8, 1e8, 2e8, 2e8], "D": [1e9, 4e9, 5e8, 2e9],
    ...                      "loss": [4.0, 3.0, 4.2, 2.9], "run": ["s", "s", "m", "m"]})
    >>> env = training_envelope(runs, curve="run", compute=[6e17, 2.4e18])
    >>> env["N"].tolist()
    [100000000.0, 200000000.0]
    """
    df, _ = _curves(runs, curve)
    if compute is None:
        if isinstance(n_grid, bool) or not isinstance(n_grid, int) or n_grid < 2:
            raise ValueError(f"n_grid must be a whole number >= 2, got {n_grid!r}")
        lo, hi = df["compute"].min(), df["compute"].max()
        grid = np.geomspace(lo, hi, n_grid)
    else:
        grid = np.sort(check_values("compute", compute))
    log_l, sizes = _on_grid(df, grid)
    covered = np.isfinite(log_l).any(axis=0)
    filled = np.where(np.isfinite(log_l), log_l, np.inf)
    best = np.argmin(filled, axis=0)
    c = grid[covered]
    n = sizes[best[covered]]
    return pd.DataFrame(
        {
            "compute": c,
            "loss": np.exp(filled[best[covered], np.flatnonzero(covered)]),
            "N": n,
            "D": c / (6.0 * n),
            "curve": best[covered],
        }
    )


def isoflop_slices(
    runs: pd.DataFrame,
    *,
    compute: Sequence[float],
    curve: str | Sequence[str] = "group",
) -> pd.DataFrame:
    """IsoFLOP profiles cut from training curves: at each budget, every model size's lowest loss.

    Each run's curve is interpolated (as in :func:`training_envelope`) at every budget it spans;
    per model size the lowest of its runs (best learning rate or length) is kept. The result is
    the input of :func:`~bayescale.fit_isoflops` (Approach 2 on runs with checkpoints).

    Returns
    -------
    DataFrame
        ``N``, ``D`` (= C / 6N), ``C`` (the budget) and ``loss``, one row per size and budget.

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_training_curves(random_seed=0)
    >>> cut = isoflop_slices(runs, compute=[1e18, 1e19], curve="run")
    >>> sorted(cut["C"].unique().tolist()), int(cut.groupby("C").size().min()) >= 5
    ([1e+18, 1e+19], True)
    """
    df, _ = _curves(runs, curve)
    grid = np.sort(check_values("compute", compute))
    log_l, sizes = _on_grid(df, grid)
    rows = []
    for g, c in enumerate(grid):
        ok = np.isfinite(log_l[:, g])
        per = pd.DataFrame({"N": sizes[ok], "log_l": log_l[ok, g]}).groupby("N")["log_l"].min()
        for n, v in per.items():
            rows.append({"N": n, "D": c / (6.0 * n), "C": c, "loss": float(np.exp(v))})
    return pd.DataFrame(rows, columns=["N", "D", "C", "loss"])


def _crossings(df: pd.DataFrame, n_grid: int) -> pd.DataFrame:
    """Where the envelope passes between runs of different sizes: one point per pair of sizes."""
    grid = np.geomspace(df["compute"].min(), df["compute"].max(), n_grid)
    log_l, sizes = _on_grid(df, grid)
    filled = np.where(np.isfinite(log_l), log_l, np.inf)
    best = np.argmin(filled, axis=0)
    covered = np.isfinite(filled[best, np.arange(grid.size)])
    rows = []
    for g in range(grid.size - 1):
        i, j = best[g], best[g + 1]
        if not (covered[g] and covered[g + 1]) or sizes[i] == sizes[j]:
            continue
        di, dj = log_l[i, g : g + 2], log_l[j, g : g + 2]
        if not (np.isfinite(di).all() and np.isfinite(dj).all()):
            continue  # a run starting or ending here: the crossing is not observed
        diff = di - dj  # ≤ 0 at g, ≥ 0 at g + 1
        t = diff[0] / (diff[0] - diff[1]) if diff[0] != diff[1] else 0.5
        log_c = np.log(grid[g]) + t * (np.log(grid[g + 1]) - np.log(grid[g]))
        pair = tuple(sorted((sizes[i], sizes[j])))
        rows.append({"N_a": pair[0], "N_b": pair[1], "log_c": log_c})
    if not rows:
        return pd.DataFrame(columns=["compute", "N", "N_a", "N_b", "n_crossings"])
    raw = pd.DataFrame(rows)
    pts = raw.groupby(["N_a", "N_b"], as_index=False).agg(
        log_c=("log_c", "mean"), n_crossings=("log_c", "size")
    )
    pts["compute"] = np.exp(pts["log_c"])
    pts["N"] = np.sqrt(pts["N_a"] * pts["N_b"])
    return (
        pts[["compute", "N", "N_a", "N_b", "n_crossings"]]
        .sort_values("compute")
        .reset_index(drop=True)
    )


def fit_approach1(
    runs: pd.DataFrame,
    *,
    curve: str | Sequence[str] = "group",
    n_grid: int = 2000,
    draws: int = 4000,
    random_seed: int | None = None,
) -> Approach1Result:
    """Approach 1 with a posterior: N*(C) = k·C^a through the crossings of the training-curve
    envelope (see the module's notes for why crossings, and how their correlation is handled).

    Parameters
    ----------
    runs : DataFrame
        One row per checkpoint: ``N`` (parameters), ``D`` (tokens seen so far), ``loss`` and the
        ``curve`` column(s). Compute is 6·N·D.
    curve : str or sequence of str
        Column(s) identifying one training run (a model size, learning rate and schedule).
    n_grid : int
        Log-spaced compute points at which the envelope is searched for crossings.
    draws : int
        Posterior draws (exact, no MCMC).
    random_seed : int, optional

    Returns
    -------
    Approach1Result

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_training_curves(random_seed=0)
    >>> res = bs.fit_approach1(runs, curve="run", random_seed=0)
    >>> lo, hi = res.summary().loc["a", ["lower", "upper"]]
    >>> bool(lo < 0.28 / (0.34 + 0.28) < hi)  # the law's β/(α+β)
    True
    """
    if isinstance(n_grid, bool) or not isinstance(n_grid, int) or n_grid < 10:
        raise ValueError(f"n_grid must be a whole number >= 10, got {n_grid!r}")
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise ValueError(f"draws must be a whole number >= 1, got {draws!r}")
    df, keys = _curves(runs, curve)
    pts = _crossings(df, n_grid)
    if len(pts) < MIN_POINTS:
        raise ValueError(
            f"approach 1 found {len(pts)} crossing(s) between runs of different sizes on the "
            f"envelope; the power law needs at least {MIN_POINTS} (more model sizes, or runs "
            "that overlap in compute)"
        )
    x = np.log(pts["compute"].to_numpy())
    y = np.log(pts["N"].to_numpy())
    c_bar = float(x.mean())
    design = np.column_stack([np.ones_like(x), x - c_bar])
    xtx_inv = np.linalg.inv(design.T @ design)
    beta = xtx_inv @ design.T @ y
    resid = y - design @ beta
    dof = len(y) - 2
    rss = float(resid @ resid)
    if rss <= 1e-24 * len(y):  # points exactly on a line: keep a tiny positive scale
        rss = 1e-24 * len(y)
    rng = make_rng(random_seed)
    sigma2 = rss / rng.chisquare(dof, size=draws)
    z = rng.standard_normal((draws, 2)) @ np.linalg.cholesky(xtx_inv).T
    coef = beta + z * np.sqrt(sigma2)[:, None]
    if len(y) < 5:
        warnings.warn(
            f"approach 1: only {len(y)} crossings; the interval of a rests on "
            f"{dof} degree(s) of freedom",
            UserWarning,
            stacklevel=2,
        )

    def da(v: np.ndarray) -> xr.DataArray:
        return xr.DataArray(v[None, :], dims=("chain", "draw"))

    posterior = xr.Dataset(
        {"mu": da(coef[:, 0]), "a": da(coef[:, 1]), "sigma": da(np.sqrt(sigma2))},
        coords={"chain": [0], "draw": np.arange(draws)},
    )
    env = training_envelope(runs, curve=keys, n_grid=min(n_grid, 400))
    return Approach1Result(posterior, pts, env, c_bar=c_bar, n_runs=int(df["curve"].nunique()))


class Approach1Result:
    """Posterior of Approach 1: exponents a, b = 1 − a, N*(C) and D*(C).

    Attributes
    ----------
    posterior : xarray.Dataset
        Draws over (chain, draw) of ``a``, ``b``, ``mu`` (log N* at the points' mean log C),
        ``log_k`` (N* = k·C^a) and ``sigma`` (scatter of the points about the line, in log N).
    points : DataFrame
        The crossings: ``compute``, ``N`` (√(N_a·N_b)), the two sizes and how many crossings of
        that pair were merged.
    envelope : DataFrame
        The envelope on a 400-point grid (see :func:`training_envelope`).
    """

    def __init__(
        self,
        posterior: xr.Dataset,
        points: pd.DataFrame,
        env: pd.DataFrame,
        *,
        c_bar: float,
        n_runs: int,
    ) -> None:
        post = posterior.copy()
        post["b"] = 1.0 - post["a"]
        post["log_k"] = post["mu"] - post["a"] * c_bar
        self.posterior = post
        self.points = points
        self.envelope = env
        self.c_bar = float(c_bar)
        self.n_runs = n_runs

    def __str__(self) -> str:
        s = self.summary()
        lines = [
            f"Approach 1 (training-curve envelope, N* = k·C^a), {self.n_runs} runs, "
            f"{len(self.points)} crossings",
            *(
                f"  {k} = {s.loc[k, 'median']:.3f} "
                f"[{s.loc[k, 'lower']:.3f}, {s.loc[k, 'upper']:.3f}] (95%)"
                for k in ("a", "b")
            ),
        ]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return result_html(str(self), self.summary())

    def n_opt(self, compute: float | Sequence[float]) -> xr.DataArray:
        """N*(C) = k·C^a per draw, dims (chain, draw, compute).

        Examples
        --------
        >>> import bayescale as bs
        >>> res = fit_approach1(bs.testing.simulate_training_curves(random_seed=0),
        ...                     curve="run", random_seed=0)
        >>> res.n_opt([1e20, 1e21]).dims
        ('chain', 'draw', 'compute')
        """
        from .isoflops import trend_n_opt

        return trend_n_opt(self.posterior, self.c_bar, compute)

    def d_opt(self, compute: float | Sequence[float]) -> xr.DataArray:
        """D*(C) = C / (6 N*(C)) per draw."""
        n = self.n_opt(compute)
        return (n["compute"] / (6.0 * n)).rename("d_opt")

    def summary(
        self, *, compute: float | Sequence[float] | None = None, ci_prob: float = CI_PROB
    ) -> pd.DataFrame:
        """a, b and (at ``compute``) N*, D*: mean, median and central ``ci_prob`` interval.

        Examples
        --------
        >>> import bayescale as bs
        >>> res = fit_approach1(bs.testing.simulate_training_curves(random_seed=0),
        ...                     curve="run", random_seed=0)
        >>> res.summary(compute=1e21).index.tolist()
        ['a', 'b', 'N*[C=1e+21]', 'D*[C=1e+21]']
        """
        check_ci_prob(ci_prob)
        lo, hi = (1 - ci_prob) / 2, (1 + ci_prob) / 2
        rows = {k: self.posterior[k].to_numpy().ravel() for k in ("a", "b")}
        if compute is not None:
            n, d = self.n_opt(compute), self.d_opt(compute)
            for label, v in (("N*", n), ("D*", d)):
                for c in v["compute"].to_numpy():
                    rows[f"{label}[C={c:.3g}]"] = v.sel(compute=c).to_numpy().ravel()
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

    def plot(self, *, ax: Any = None, ci_prob: float = CI_PROB) -> tuple[Any, Any]:
        """N_opt(C) of the envelope (steps), the crossings and N*(C) = k·C^a with its band.

        Examples
        --------
        >>> import bayescale as bs
        >>> res = bs.fit_approach1(bs.testing.simulate_training_curves(random_seed=0),
        ...                        curve="run", random_seed=0)
        >>> fig, ax = res.plot()
        """
        import matplotlib.pyplot as plt

        check_ci_prob(ci_prob)
        if ax is None:
            fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
        else:
            fig = ax.figure
        env = self.envelope
        ax.step(env["compute"], env["N"], where="mid", color="0.6", lw=1.0,
                label="envelope: size of the best run")  # fmt: skip
        grid = np.geomspace(env["compute"].min(), env["compute"].max(), 100)
        n = self.n_opt(grid).to_numpy().reshape(-1, grid.size)
        lo, hi = np.quantile(n, [(1 - ci_prob) / 2, (1 + ci_prob) / 2], axis=0)
        ax.fill_between(grid, lo, hi, color="C0", alpha=0.25, lw=0,
                        label=f"N* = k·C^a, {ci_prob:.0%} interval")  # fmt: skip
        ax.plot(grid, np.median(n, axis=0), color="C0", lw=1.5)
        ax.scatter(self.points["compute"], self.points["N"], color="C3", s=22, zorder=3,
                   label="crossings between sizes")  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("compute C = 6·N·D (FLOPs)", fontsize=10)
        ax.set_ylabel("parameters N", fontsize=10)
        ax.tick_params(labelsize=9)
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, frameon=False)
        return fig, ax


#: Hoffmann et al. (2022) Approach 3 fit (Sec. 3.3, Eq. 10): the law of the simulated curves.
HOFFMANN_LAW = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def simulate_training_curves(
    *,
    sizes: Sequence[float] | None = None,
    tokens_per_param: tuple[float, float] = (1.0, 100.0),
    checkpoints: int = 30,
    run_sd: float = 0.003,
    checkpoint_sd: float = 0.001,
    law: dict[str, float] | None = None,
    random_seed: int | None = 0,
) -> pd.DataFrame:
    """Training curves from a known Chinchilla law L = E + A/N^α + B/D^β (default: Hoffmann et
    al.'s fit), one run per size, checkpoints log-spaced in tokens seen.

    Each run's log loss carries an offset ~ N(0, ``run_sd``) (seed, learning rate) and each
    checkpoint its own ~ N(0, ``checkpoint_sd``). The law's compute-optimal size is
    N_opt(C) = G·(C/6)^(β/(α+β)), G = (αA/(βB))^(1/(α+β)).

    Returns
    -------
    DataFrame
        ``N``, ``D``, ``loss``, ``run`` (one label per size).

    Examples
    --------
    >>> runs = simulate_training_curves(random_seed=0)
    >>> len(runs), runs["run"].nunique()
    (360, 12)
    """
    q = dict(HOFFMANN_LAW if law is None else law)
    n_sizes = np.geomspace(2e7, 2e9, 12) if sizes is None else np.asarray(sizes, dtype=float)
    rng = make_rng(random_seed)
    frames = []
    for i, n in enumerate(n_sizes):
        d = n * np.geomspace(tokens_per_param[0], tokens_per_param[1], checkpoints)
        mean = q["E"] + q["A"] / n ** q["alpha"] + q["B"] / d ** q["beta"]
        log_l = (
            np.log(mean)
            + run_sd * rng.standard_normal()
            + checkpoint_sd * rng.standard_normal(checkpoints)
        )
        frames.append(pd.DataFrame({"N": n, "D": d, "loss": np.exp(log_l), "run": f"r{i}"}))
    return pd.concat(frames, ignore_index=True)
