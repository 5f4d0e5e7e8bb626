"""Simulated runs and pinned posteriors for tests, examples and docstrings.

:func:`simulate` draws runs from a law with known parameters; :func:`pinned_fit` builds a
:class:`~bayescale.Fit` whose posterior is a cloud of draws pinned near known parameter values,
with no MCMC, so that analysis and plotting code can be exercised in milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import deprecated_args, make_rng
from .data import prepare_data
from .law import ScalingLaw, get_law
from .likelihoods import get_likelihood
from .xp import numpy_ns

__all__ = [
    "BESIROGLU_TRUTH",
    "chinchilla_design",
    "chinchilla_sampled",
    "fit_from_draws",
    "pinned_fit",
    "pinned_isoflops",
    "pinned_law_fit",
    "pinned_pooled_fit",
    "simulate",
    "simulate_chinchilla",
]

#: Besiroglu et al. (2024) point estimate (a, b, e, alpha, beta) expressed as A, B, E, alpha, beta.
BESIROGLU_TRUTH = {"A": 482.01, "B": 2085.43, "E": 1.817, "alpha": 0.3478, "beta": 0.3659}


@deprecated_args(renamed={"seed": "random_seed"}, positional=("random_seed",))
def chinchilla_design(n: int = 240, *, random_seed: int = 0) -> pd.DataFrame:
    """An isoFLOP-style design like Hoffmann et al.'s: budgets 6e18–3e21 FLOPs, N 44M–16B.

    Examples
    --------
    >>> d = chinchilla_design(30, random_seed=0)
    >>> bool(((d.C - 6 * d.N * d.D).abs() / d.C < 1e-12).all())
    True
    """
    rng = make_rng(random_seed)
    budgets = np.array([6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21])
    C = rng.choice(budgets, size=n)
    n_opt = 0.1 * np.sqrt(C)  # roughly Chinchilla-optimal sizes
    logN = np.log(n_opt) + rng.uniform(-1.6, 1.6, size=n)
    N = np.clip(np.round(np.exp(logN)), 4.4e7, 1.6e10)
    D = C / (6 * N)
    return pd.DataFrame({"N": N, "D": D, "C": C})


@deprecated_args(renamed={"seed": "random_seed"})
def simulate(
    law: str | ScalingLaw,
    params: Mapping[str, Any],
    design: pd.DataFrame,
    *,
    noise: Mapping[str, float] | None = None,
    likelihood: str = "studentt",
    random_seed: int = 0,
) -> pd.DataFrame:
    """Runs drawn from ``law`` with natural parameters ``params`` at ``design``'s inputs.

    The output is drawn from the likelihood around the law's expectation (for the default
    likelihoods ``exp(log L(inputs) + noise)``, noise on the log scale). Columns the likelihood
    needs (e.g. ``n_items``) must be in ``design``.

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = simulate("chinchilla", BESIROGLU_TRUTH, chinchilla_design(10), random_seed=1)
    >>> list(runs.columns)
    ['N', 'D', 'C', 'loss']
    """
    law = get_law(law)
    lik = get_likelihood(likelihood)
    if noise is None:
        noise = {"sigma": 0.01, "nu": 5.0} if lik.name in ("studentt", "normal") else {}
    missing = sorted(set(lik.noise_priors) - set(noise))
    if missing:
        raise ValueError(
            f"simulate: the {lik.name!r} likelihood needs noise values for {missing}; "
            f"pass noise={{...}} with {sorted(lik.noise_priors)}"
        )
    noise = {k: v for k, v in noise.items() if k in lik.noise_priors}
    rng = make_rng(random_seed)
    inputs = {k: design[k].to_numpy(dtype=float) for k in law.inputs}
    extra = {k: design[k].to_numpy(dtype=float) for k in lik.extra_columns}
    mu = law.log_mean(params, **inputs)
    y = lik.inverse(lik.sample(rng, mu, **noise, **extra), **extra)
    out = design.copy()
    out[law.output] = y
    return out


@deprecated_args(renamed={"seed": "random_seed"}, positional=("random_seed",))
def simulate_chinchilla(n: int = 240, *, random_seed: int = 0, **kwargs: Any) -> pd.DataFrame:
    """Chinchilla-law runs at Besiroglu's estimate on a :func:`chinchilla_design` of ``n`` runs.

    Examples
    --------
    >>> len(simulate_chinchilla(n=12, random_seed=0))
    12
    """
    design = chinchilla_design(n, random_seed=random_seed)
    return simulate("chinchilla", BESIROGLU_TRUTH, design, random_seed=random_seed, **kwargs)


@deprecated_args(renamed={"seed": "random_seed"})
def pinned_fit(
    random_seed: int = 0,
    *,
    chains: int = 4,
    draws: int = 250,
    truth: Mapping[str, float] | None = None,
    rel_sd: float = 0.02,
    noise: Mapping[str, float] | None = None,
    data: pd.DataFrame | None = None,
):
    """A Chinchilla :class:`~bayescale.Fit` whose posterior is pinned near ``truth`` (no MCMC).

    Draws of the sampled parameters are independent normals around the values implied by
    ``truth`` (default: Besiroglu et al.'s estimate) with relative spread ``rel_sd``.

    Examples
    --------
    >>> f = pinned_fit(random_seed=0)
    >>> abs(float(f.posterior["alpha"].median()) - 0.3478) < 0.01
    True
    """
    truth = dict(truth or BESIROGLU_TRUTH)
    noise = dict(noise or {"sigma": 0.01, "nu": 5.0})
    runs = data if data is not None else simulate_chinchilla(60, random_seed=random_seed)
    rng = make_rng(random_seed)

    def jittered(ref: Mapping[str, float]) -> dict[str, np.ndarray]:
        centre = {**chinchilla_sampled(truth, ref), **noise}
        return {
            k: v * (1 + rel_sd * rng.standard_normal((chains, draws)))
            if k not in ("log_A_ref", "log_B_ref", "log_E")
            else v + rel_sd * rng.standard_normal((chains, draws))
            for k, v in centre.items()
        }

    return fit_from_draws("chinchilla", runs, jittered, random_seed=random_seed)


def chinchilla_sampled(natural: Mapping[str, float], ref: Mapping[str, float]) -> dict[str, Any]:
    """Sampled (reference-scale) parameters of the Chinchilla family for natural ones.

    ``log_A_ref = log A − α·logN_ref``, ``log_B_ref = log B − β·logD_ref``, ``log_E = log E``;
    without ``beta`` (the shared-exponent law) α serves both. Any further natural parameter
    ``p`` (e.g. ``R_D_star`` of the data-constrained law) is sampled as ``log_p``.

    Examples
    --------
    >>> s = chinchilla_sampled(BESIROGLU_TRUTH, {"logN_ref": 20.0, "logD_ref": 23.0})
    >>> round(float(s["log_A_ref"]), 4), sorted(s)
    (-0.778, ['alpha', 'beta', 'log_A_ref', 'log_B_ref', 'log_E'])
    """
    alpha = natural["alpha"]
    beta = natural.get("beta", alpha)
    out = {
        "alpha": alpha,
        "beta": beta,
        "log_E": np.log(natural["E"]),
        "log_A_ref": np.log(natural["A"]) - alpha * ref["logN_ref"],
        "log_B_ref": np.log(natural["B"]) - beta * ref["logD_ref"],
    }
    if "beta" not in natural:
        del out["beta"]
    for k, v in natural.items():
        if k not in ("A", "B", "E", "alpha", "beta"):
            out[f"log_{k}"] = np.log(v)
    return out


@deprecated_args(renamed={"seed": "random_seed"})
def fit_from_draws(
    law: str | ScalingLaw,
    runs: pd.DataFrame,
    draws: Mapping[str, Any] | Any,
    *,
    likelihood: str = "studentt",
    random_seed: int | None = None,
):
    """A :class:`~bayescale.Fit` whose posterior is the given draws (no MCMC).

    ``draws`` maps each sampled parameter (and noise parameter) to an array shaped
    ``(chain, draw, ...)``, or is a function of the reference scales returning that mapping
    (reference scales are computed from ``runs``, so centres can be written in sampled form).
    Sample statistics record no divergences.

    Examples
    --------
    >>> import numpy as np
    >>> runs = simulate_chinchilla(20, random_seed=0)
    >>> def draws(ref):
    ...     return {k: np.full((1, 5), v) for k, v in
    ...             {**chinchilla_sampled(BESIROGLU_TRUTH, ref), "sigma": 0.01, "nu": 5.0}.items()}
    >>> fit = fit_from_draws("chinchilla", runs, draws)
    >>> round(float(fit.posterior["A"].mean()), 2)
    482.01
    """
    import json

    from .fit import Fit
    from .posterior import assemble_datatree
    from .priors import merge_priors

    law = get_law(law)
    lik = get_likelihood(likelihood)
    prepared = prepare_data(law, runs, likelihood=lik)
    ref = law.compute_reference(prepared.inputs)
    values = {
        k: np.asarray(v, dtype=float) for k, v in (draws(ref) if callable(draws) else draws).items()
    }
    chains, n_draws = next(iter(values.values())).shape[:2]
    coords = {"chain": np.arange(chains), "draw": np.arange(n_draws)}
    post = xr.Dataset(
        {
            k: (("chain", "draw", *(f"{k}_dim_{i}" for i in range(v.ndim - 2))), v)
            for k, v in values.items()
        },
        coords=coords,
    )
    stats = xr.Dataset(
        {"diverging": (("chain", "draw"), np.zeros((chains, n_draws), dtype=bool))},
        coords=coords,
    )
    priors = merge_priors({**law.default_priors, **lik.noise_priors}, None)
    attrs = {
        "bayescale_law": law.name,
        "bayescale_law_version": law.version,
        "bayescale_law_options": json.dumps(law.options, sort_keys=True),
        "bayescale_likelihood": lik.name,
        "bayescale_sampler": "pinned",
    }
    tree = assemble_datatree(law, lik, priors, prepared, ref, post, stats, attrs)
    return Fit(
        law, lik, priors, prepared.frame, ref, tree, sampler="pinned", random_seed=random_seed
    )


def pinned_law_fit(
    law: str | ScalingLaw,
    *,
    natural: Mapping[str, Any] | None = None,
    runs: pd.DataFrame | None = None,
    chains: int = 2,
    draws: int = 100,
    rel_sd: float = 0.01,
    random_seed: int = 0,
):
    """A :class:`~bayescale.Fit` of any law whose posterior is pinned near ``natural`` (no MCMC).

    Defaults: the law's ``example_truth`` and ``example_runs()``. The centre is mapped to the
    sampled parameters with the law's inverse map (:meth:`ScalingLaw.sampled_params`); each
    sampled value gets Gaussian jitter of relative size ``rel_sd`` (at least ``rel_sd × 0.1``)
    and the noise parameters the law's ``example_noise``.

    Examples
    --------
    >>> import bayescale as bs
    >>> f = pinned_law_fit("kaplan", random_seed=0)
    >>> round(float(f.posterior["alpha_N"].median()), 3)
    0.076
    """
    law = get_law(law)
    lik = get_likelihood(law.default_likelihood)
    natural = dict(law.example_truth if natural is None else natural)
    runs = law.example_runs(random_seed=random_seed) if runs is None else runs
    noise = law.example_noise or {"sigma": 0.01, "nu": 10.0}
    rng = make_rng(random_seed)

    def jittered(ref: Mapping[str, float]) -> dict[str, np.ndarray]:
        centre = {**law.sampled_params(natural, ref), **{k: noise[k] for k in lik.noise_priors}}
        out = {}
        for k, v in centre.items():
            v = np.asarray(v, dtype=float)
            scale = rel_sd * np.maximum(np.abs(v), 0.1)
            out[k] = v + scale * rng.standard_normal((chains, draws, *v.shape))
        if "ceiling_frac" in out:
            out["ceiling_frac"] = out["ceiling_frac"].clip(1e-6, 1.0 - 1e-9)
        return out

    return fit_from_draws(law, runs, jittered, likelihood=lik.name, random_seed=random_seed)


def pinned_pooled_fit(
    law: str | ScalingLaw = "chinchilla",
    *,
    groups: Any = ("a", "b", "c"),
    runs_per_group: int = 20,
    tau: float | Mapping[str, float] = 0.1,
    chains: int = 2,
    draws: int = 100,
    rel_sd: float = 0.01,
    noise: Mapping[str, float] | None = None,
    column: str = "corpus",
    random_seed: int = 0,
):
    """A pooled :class:`~bayescale.Fit` (``group=column``, every scalar parameter partial)
    whose posterior is pinned near a known population (no MCMC).

    The population centre is the law's ``example_truth``; each group's sampled parameter is
    ``h⁻¹(h(θ_mu) + tau·z[g])`` (``h`` the pooling map of :mod:`bayescale.pooling`) with ``z[g]``
    a seeded standard normal; the runs of each group are simulated from its own values at the
    law's example design. Draws: ``h(θ_mu)`` and ``z`` jittered by ``rel_sd``, ``tau`` by a
    relative ``rel_sd``, the noise parameters at ``noise`` (default the law's
    ``example_noise``) with relative jitter ``rel_sd``. The truth is kept on ``fit.truth``:
    ``{"mu", "tau", "z", "natural"}`` (sampled centre, spreads, z per parameter, natural
    values per group label).

    Examples
    --------
    >>> f = pinned_pooled_fit(random_seed=0)
    >>> f.pooling.labels, f.posterior["alpha"].dims
    (('a', 'b', 'c'), ('chain', 'draw', 'group'))
    >>> sorted(f.truth["natural"]) == ["a", "b", "c"]
    True
    """
    from .fit import Fit
    from .pooling import _maps, resolve_pooling
    from .posterior import assemble_datatree
    from .priors import merge_priors

    law = get_law(law)
    lik = get_likelihood(law.default_likelihood)
    labels = [str(g) for g in groups]
    rng = make_rng(random_seed)
    # offsets wrap below 2**64, so every valid seed is accepted
    designs = [
        law.example_design(runs_per_group, (random_seed + 10 + i) % 2**64)
        for i in range(len(labels))
    ]
    inputs = {k: np.concatenate([d[k].to_numpy(dtype=float) for d in designs]) for k in law.inputs}
    ref = law.compute_reference(inputs)
    centre = law.sampled_params(dict(law.example_truth), ref)
    names = [p.name for p in law.parameters if not p.shape]
    taus = {n: float(tau[n] if isinstance(tau, Mapping) else tau) for n in names}
    z = {n: rng.standard_normal(len(labels)) for n in names}
    priors = law.default_priors
    maps = {n: _maps(priors[n], np.exp, np.log) for n in names}
    per_group = {n: maps[n][1](maps[n][0](float(centre[n])) + taus[n] * z[n]) for n in names}
    noise = dict(noise or law.example_noise or {"sigma": 0.01, "nu": 10.0})
    natural, frames = {}, []
    for i, (label, design) in enumerate(zip(labels, designs, strict=True)):
        p = {**{k: v for k, v in centre.items()}, **{n: per_group[n][i] for n in names}}
        q = law.natural(numpy_ns, p, ref)
        natural[label] = {k: float(np.asarray(v)) for k, v in q.items() if np.ndim(v) == 0}
        runs = simulate(
            law,
            q,
            design,
            noise=noise,
            likelihood=lik.name,
            random_seed=(random_seed + 20 + i) % 2**64,
        )
        runs[column] = label
        frames.append(runs)
    runs = pd.concat(frames, ignore_index=True)
    prepared = prepare_data(law, runs, likelihood=lik, warn=False)
    frame = prepared.frame.assign(**{column: runs.loc[prepared.frame.index, column].to_numpy()})
    pooling, codes = resolve_pooling(law, column, "partial", frame, priors)
    all_priors = merge_priors(
        {**priors, **lik.noise_priors, **pooling.default_priors(priors)}, None
    )
    shape = (chains, draws)
    g = len(labels)
    values: dict[str, Any] = {}
    for n in names:
        to_real, from_real = maps[n]
        u = to_real(float(centre[n]))
        values[f"{n}_mu"] = from_real(u + rel_sd * max(abs(u), 0.1) * rng.standard_normal(shape))
        values[f"{n}_tau"] = taus[n] * (1 + rel_sd * rng.standard_normal(shape))
        values[f"{n}_z"] = z[n] + rel_sd * rng.standard_normal((*shape, g))
    for k in lik.noise_priors:
        values[k] = noise[k] * (1 + rel_sd * rng.standard_normal(shape))
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    post = xr.Dataset(
        {
            k: (("chain", "draw", *(["zdim"] if np.ndim(v) == 3 else [])), np.asarray(v, float))
            for k, v in values.items()
        },
        coords=coords,
    )
    stats = xr.Dataset(
        {"diverging": (("chain", "draw"), np.zeros(shape, dtype=bool))}, coords=coords
    )
    import json

    attrs = {
        "bayescale_law": law.name,
        "bayescale_law_version": law.version,
        "bayescale_law_options": json.dumps(law.options, sort_keys=True),
        "bayescale_likelihood": lik.name,
        "bayescale_sampler": "pinned",
        "bayescale_pooling": json.dumps(pooling.to_dict()),
    }
    tree = assemble_datatree(
        law, lik, all_priors, prepared, ref, post, stats, attrs, codes=codes, pooling=pooling
    )
    fit = Fit(
        law, lik, all_priors, frame, ref, tree, sampler="pinned", random_seed=random_seed,
        pooling=pooling,
    )  # fmt: skip
    fit.truth = {"mu": dict(centre), "tau": taus, "z": z, "natural": natural}
    return fit


# Simulation-based calibration lives in its own module; exposed here as bayescale.testing.sbc.
from .sbc import SBCResult, sbc  # noqa: E402

__all__ += ["SBCResult", "sbc"]

# A pinned Approach 2 result (no MCMC) lives with its model in isoflops.py.
from .approach1 import simulate_training_curves  # noqa: E402
from .isoflops import pinned_isoflops  # noqa: E402

__all__ += ["simulate_training_curves"]
