"""Centred or non-centred, chosen before sampling: a Laplace pilot of the pooled model.

A partially pooled parameter (:mod:`bayescale.pooling`) can be sampled non-centred
(``u[g] = h(θ_mu) + θ_tau · z[g]``) or centred (``u[g] ~ Normal(h(θ_mu), θ_tau)``). Which one
NUTS handles well depends on one number per group: how tightly the group's own runs pin
``u[g]`` relative to the spread between groups, ``r[g] = sd(u[g] | data) / θ_tau`` — the
quantity :func:`bayescale.pooling.centring_ratio` reports after a fit. Small ``r`` (the data
dominate): non-centred, ``z[g]`` is a thin ridge of width ``r`` curved with ``θ_tau`` and NUTS
needs deep trees, while the centred ``u[g]`` is nearly independent of ``θ_tau``; centre it.
``r`` near or above 1 (the population dominates, or the true spread is small): the centred form
has the funnel; keep it non-centred. A count of runs cannot stand in for ``r``: how many runs
pin a group depends on the noise and on ``θ_tau``, which only the fit knows.

``pool="partial_auto"`` estimates ``r`` before sampling with a cheap pilot:

1. the model with the auto parameters *independent* per group (no hierarchy, so no funnel and
   a well-defined mode — the non-centred model's own mode search was tried first and stopped
   short on the isoFLOP experiments' curved ridges, gradient 27, Hessian indefinite): its mode
   by L-BFGS (:func:`bayescale.sampling.find_mode`) and the Laplace covariance there
   (:func:`bayescale.sampling.whitening`) give each group's estimate ``û[g]`` and its sd
   ``s[g]`` (delta method, gradient by central differences);
2. the spread between groups, ``tau``, by DerSimonian & Laird's moment estimate from ``û``,
   ``s`` (:func:`_between_spread`);
3. ``r[g] = (1 + tau²/s[g]²)^-½``, the posterior sd of ``u[g]`` given ``tau`` over ``tau``
   under the normal hierarchy. By default (:data:`AUTO_RULE` ``"parameter"``) a parameter is
   centred in every group when every ``r[g] <`` :data:`AUTO_RATIO` (0.5), else non-centred;
   ``"group"`` decides group by group (a mixed form), ``"model"`` centres all or nothing.

Measured with ``benchmarks/bench_centring.py`` (seed 0 unless said; load 8-14 on 2 cores, so
times are inflated and only comparable within a case). r per parameter (min-max over groups):

* the 7 isoFLOP experiments (4 × 1000 + 500): r 0.03-0.38, every group centred — the centred
  model itself, so the same draws: R-hat 1.004, 0 divergences, min bulk ESS 1654; non-centred
  (documented in :mod:`bayescale.pooling`, 4 × 500) R-hat 1.061, ESS 76, 28 times the steps;
* simulated small spreads (``tests/test_pooling.py``'s population, 2 × 500 + 500, seed 1):
  five groups of 60 — r of ``log_E`` 0.19-0.26 and ``log_A_ref`` 0.21-0.41 centred, the rest
  (0.64-0.96) not: R-hat 1.07, 1 divergence, min ESS 24 (``beta_tau``), 0.65 ESS/s against
  non-centred 1.01, 0, 116, 0.94 ESS/s and centred 1.02, 32 divergences; at seed 2 auto 1.04,
  0, 64, 1.16 ESS/s against non-centred 1.04, 0, 97, 0.84 ESS/s; four of 60 and one of 3, and
  four of 30 and one of 3: the 3-run group has r ≥ 0.8, nothing is centred — the non-centred
  model (R-hat 1.01 and 1.03, 0 divergences; centred 13 and 19);
* Ruan et al.'s 2-digit addition (13 families, ``T_offset`` and ``k`` partial, 4 × 500 + 500):
  r 0.17-0.96 and 0.37-0.92, nothing centred — the non-centred model (R-hat 1.017, 0
  divergences, ESS/s 9.3; centred R-hat 1.03, 2 divergences, 4.3 ESS/s). Deciding group by
  group (``"group"``, centring 8 of 26) gave 18 divergences.

So the rule picks the better pure form everywhere but on the five groups of 60, where its
mixed choice was worse at one seed and better at another; with the pilot's cost (a compile,
under a second warm) the default stays ``"partial"`` (non-centred) and ``"partial_auto"`` is an
option. If the Hessian is not negative definite the pilot cannot tell and every group stays
non-centred. The choice is saved with the fit (``Pooling.centred`` and ``Pooling.auto``); a
refit (a backtest's cutoff) makes its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .pooling import Pooling, _maps

__all__ = ["AUTO_RATIO", "choose_centring", "laplace_ratios"]

#: Centre a group when the Laplace pilot's sd(u[g]) / tau is below this.
AUTO_RATIO = 0.5
#: ``"parameter"`` (default): a parameter's groups all centred when every one's ratio is below
#: :data:`AUTO_RATIO`, else none; ``"group"``: each group on its own (a mixed form);
#: ``"model"``: every auto parameter centred when all their groups are below, else none.
AUTO_RULE = "parameter"
_RULES = ("parameter", "group", "model")


def _unpack(compiled: Any, flat: np.ndarray) -> dict[str, np.ndarray]:
    """The constrained values of the free variables from ``logp_fn``'s third output."""
    out, start = {}, 0
    for name, shape in zip(compiled.rv_names, compiled.rv_shapes, strict=True):
        size = int(np.prod(shape))
        out[name] = np.asarray(flat[start : start + size]).reshape(shape)
        start += size
    return out


def _between_spread(u: np.ndarray, sd: np.ndarray) -> float:
    """DerSimonian & Laird's (1986) moment estimate of the spread ``tau`` between groups whose
    estimates ``u`` have standard errors ``sd``: ``max(0, (Q − (G − 1)) / (Σw − Σw²/Σw))``
    with ``w = 1/sd²`` and ``Q = Σ w (u − ū_w)²``.

    Examples
    --------
    >>> round(_between_spread(np.array([0.0, 1.0, 2.0, 3.0]), np.full(4, 1e-3)), 3)
    1.291
    >>> _between_spread(np.array([0.0, 0.1, -0.1]), np.full(3, 1.0))  # noise explains it
    0.0
    """
    w = 1.0 / np.square(sd)
    mean = np.sum(w * u) / np.sum(w)
    q = float(np.sum(w * np.square(u - mean)))
    denom = float(np.sum(w) - np.sum(np.square(w)) / np.sum(w))
    return float(np.sqrt(max(0.0, (q - (u.size - 1)) / denom))) if denom > 0 else 0.0


def laplace_ratios(
    compiled: Any,
    values: Mapping[str, np.ndarray],
    pooling: Pooling,
    priors: Mapping[str, Any],
    names: list[str] | None = None,
) -> pd.DataFrame:
    """``r[g] = sd(u[g] | data, tau) / tau`` per parameter and group, from the pilot:
    ``compiled`` is the model of ``pooling`` with the parameters ``names`` (default: those
    pooled ``"independent"``) independent per group.

    The Laplace approximation at that model's mode gives each group's estimate ``û[g]`` of
    ``u[g] = h(θ[g])`` and its sd ``s[g]`` (delta method); :func:`_between_spread` gives the
    spread ``tau`` between groups; under the normal hierarchy the posterior sd of ``u[g]``
    given ``tau`` is ``(1/s[g]² + 1/tau²)^-½``, so ``r[g] = (1 + tau²/s[g]²)^-½`` — near 1
    when the groups' data cannot tell them apart (``tau`` ≈ 0), small when they pin each group
    far inside the spread.

    Returns a DataFrame (rows: parameters, columns: group labels) with ``attrs["tau"]`` (the
    spread per parameter), ``attrs["sd"]`` (``s[g]``) and ``attrs["laplace"]`` (False when the
    Hessian at the mode was not negative definite: the ratios are then NaN).

    Examples
    --------
    >>> import bayescale as bs
    >>> from dataclasses import replace
    >>> from bayescale.model import build_model, data_values
    >>> from bayescale.data import prepare_data
    >>> from bayescale.pooling import resolve_pooling
    >>> from bayescale.sampling import compile_model
    >>> law, lik = bs.get_law("chinchilla"), bs.get_likelihood("studentt")
    >>> runs = bs.testing.simulate_chinchilla(60, random_seed=0)
    >>> runs["corpus"] = ["a", "b", "c"] * 20
    >>> prep = prepare_data(law, runs)
    >>> pooling, codes = resolve_pooling(law, "corpus", "independent", runs, law.default_priors)
    >>> priors = {**law.default_priors, **lik.noise_priors}
    >>> ref = law.compute_reference(prep.inputs)
    >>> values = data_values(law, prep, ref, lik, codes)
    >>> model = build_model(law, prep, priors, lik, ref, values, pooling=pooling)
    >>> r = laplace_ratios(compile_model(model), values, pooling, priors)
    >>> list(r.columns), bool(((r > 0) & (r <= 1)).all().all())
    (['a', 'b', 'c'], True)
    """
    from .sampling import find_mode, whitening

    names = list(pooling.names("independent") if names is None else names)
    args = compiled.data_args(values, compiled.data_names)
    fn = compiled.logp_fn
    x_mode, scale = find_mode(compiled, values, compiled.x0)
    L = whitening(compiled, values, x_mode, scale)
    laplace = bool(np.any(L - np.diag(np.diag(L))))  # the diagonal fallback: no Laplace
    cov = L @ L.T
    maps = {n: _maps(priors[n], np.exp, np.log)[0] for n in names}

    def u_of(x: np.ndarray) -> np.ndarray:
        v = _unpack(compiled, fn(x, *args)[2])
        return np.concatenate([maps[n](v[n]) for n in names])

    G = pooling.grouping.size
    jac = np.empty((len(names) * G, x_mode.size))
    for i in range(x_mode.size):
        h = 1e-5 * max(float(np.sqrt(cov[i, i])), 1e-3)
        step = np.zeros(x_mode.size)
        step[i] = h
        jac[:, i] = (u_of(x_mode + step) - u_of(x_mode - step)) / (2 * h)
    sd = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, cov, jac), 1e-300, None)).reshape(-1, G)
    u = u_of(x_mode).reshape(-1, G)
    tau = np.array([_between_spread(u[k], sd[k]) for k in range(len(names))])
    ratio = 1.0 / np.sqrt(1.0 + np.square(tau[:, None] / sd))
    if not laplace:
        ratio = np.full_like(sd, np.nan)
    out = pd.DataFrame(ratio, index=names, columns=list(pooling.labels))
    out.attrs.update(
        tau=dict(zip(names, tau.tolist(), strict=True)),
        sd=pd.DataFrame(sd, index=names, columns=list(pooling.labels)),
        laplace=laplace,
    )
    return out


def choose_centring(
    law: Any,
    prepared: Any,
    priors: Mapping[str, Any],
    likelihood: Any,
    reference: Mapping[str, float],
    codes: Mapping[str, np.ndarray],
    structure: Any,
    pooling: Pooling,
    *,
    threshold: float | None = None,
    rule: str | None = None,
) -> tuple[Pooling, pd.DataFrame]:
    """The pooling with the groups of its ``auto`` parameters centred where the pilot's ratio
    is below ``threshold`` (see the module docstring), and the ratios (a DataFrame as
    :func:`laplace_ratios` returns; empty without ``auto`` parameters, when the pooling is
    returned as it is). The arguments are those :func:`bayescale.fit` builds its model from.
    If the pilot's mode search fails, every group stays non-centred.

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(60, random_seed=0)
    >>> runs["corpus"] = ["a", "b"] * 30
    >>> fit = bs.fit("chinchilla", runs, group="corpus", pool="partial_auto", draws=50,
    ...              tune=50, chains=1, random_seed=0, progressbar=False, warn=False)
    >>> fit.pooling.auto
    ('log_E', 'log_A_ref', 'log_B_ref', 'alpha', 'beta')
    """
    from .model import build_model, data_values
    from .sampling import compile_model

    auto = [n for n in pooling.auto if pooling.modes.get(n) == "partial"]
    if not auto:
        return pooling, pd.DataFrame()
    modes = {k: ("independent" if k in auto else m) for k, m in pooling.modes.items()}
    kept = {k: v for k, v in pooling.centred.items() if k not in auto}
    pilot = replace(pooling, modes=modes, centred=kept, auto=())
    values = data_values(law, prepared, reference, likelihood, codes)
    model = build_model(
        law, prepared, priors, likelihood, reference, values, structure, pooling=pilot
    )
    try:
        ratios = laplace_ratios(compile_model(model, cache=True), values, pilot, priors, auto)
    except (RuntimeError, np.linalg.LinAlgError, FloatingPointError):
        return replace(pooling, centred=kept), pd.DataFrame()
    threshold = AUTO_RATIO if threshold is None else float(threshold)
    rule = AUTO_RULE if rule is None else rule
    if rule not in _RULES:
        raise ValueError(f"rule must be one of {list(_RULES)}, got {rule!r}")
    centred = dict(kept)
    everywhere = bool(np.all(np.isfinite(ratios.to_numpy()) & (ratios.to_numpy() < threshold)))
    for n in auto:
        r = ratios.loc[n].to_numpy()
        below = np.isfinite(r) & (r < threshold)
        if (rule == "parameter" and not below.all()) or (rule == "model" and not everywhere):
            below[:] = False
        chosen = tuple(int(g) for g in np.flatnonzero(below))
        if chosen:
            centred[n] = chosen
    return replace(pooling, centred=centred), ratios
