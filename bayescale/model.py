"""Build the PyMC model of a law: priors, derived parameters, likelihood on the log output.

The model is only a specification: nothing is sampled here. Inputs, reference scales and the
observed log output are ``pm.Data`` containers, so the compiled log density takes them as
arguments and can be reused for new data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .data import PreparedData
from .law import ScalingLaw
from .likelihoods import Likelihood
from .pooling import Pooling
from .priors import Prior
from .structure import Structure
from .xp import pytensor_ns

__all__ = ["build_model", "data_values", "observed_name", "reference_name"]


def observed_name(law: ScalingLaw, likelihood: Likelihood | None = None) -> str:
    """Name of the observed variable (``log_loss`` for the default likelihoods)."""
    if likelihood is None:
        return f"log_{law.output}"
    return likelihood.observed_name(law.output)


def reference_name(key: str) -> str:
    """Name of the data container holding a reference scale."""
    return f"ref_{key}"


def data_values(
    law: ScalingLaw,
    prepared: PreparedData,
    reference: Mapping[str, float],
    likelihood: Likelihood | None = None,
    codes: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """The values of every data container of the model, by name (``codes``: group codes per
    run of the fit's :class:`~bayescale.structure.Structure`)."""
    positive = set(law.required_positive)
    values = {
        (f"log_{k}" if k in positive else k): (np.log(v) if k in positive else np.asarray(v, float))
        for k, v in prepared.inputs.items()
    }
    values.update({reference_name(k): np.asarray(v, dtype=float) for k, v in reference.items()})
    obs = observed_name(law, likelihood)
    transform = likelihood.transform if likelihood is not None else np.log
    values[f"{obs}_data"] = np.asarray(transform(prepared.y, **prepared.extra), dtype=float)
    for k, v in prepared.extra.items():
        values[f"extra_{k}"] = np.asarray(v, dtype=float)
    values["run"] = np.asarray(prepared.n, dtype=np.int64)  # length of the "run" dimension
    for k, v in (codes or {}).items():
        values[k] = np.asarray(v, dtype=np.int64)
    return values


def build_model(
    law: ScalingLaw,
    prepared: PreparedData,
    priors: Mapping[str, Prior],
    likelihood: Likelihood,
    reference: Mapping[str, float],
    values: Mapping[str, np.ndarray] | None = None,
    structure: Structure | None = None,
    codes: Mapping[str, np.ndarray] | None = None,
    pooling: Pooling | None = None,
) -> Any:
    """The PyMC model of ``law`` on ``prepared`` runs.

    Sampled parameters get ``priors``; natural and derived parameters are ``pm.Deterministic``;
    the observation is ``likelihood`` on ``log(output)``. ``values`` are the data containers'
    values if already computed by :func:`data_values` (computed here otherwise).
    ``structure`` adds group offsets to the log output (and the drift parameter); ``codes``
    are the runs' group codes when ``values`` is not given. ``pooling`` gives the law's
    parameters per-group values (:mod:`bayescale.pooling`); natural parameters are then not
    recorded as deterministics (the posterior recomputes them per group).

    Examples
    --------
    >>> import bayescale as bs
    >>> from bayescale.data import prepare_data
    >>> law = bs.get_law("chinchilla")
    >>> runs = bs.testing.simulate_chinchilla(n=20, random_seed=0)
    >>> prep = prepare_data(law, runs)
    >>> m = build_model(law, prep, {**law.default_priors,
    ...     **bs.get_likelihood("studentt").noise_priors}, bs.get_likelihood("studentt"),
    ...     law.compute_reference(prep.inputs))
    >>> sorted(v.name for v in m.free_RVs)
    ['alpha', 'beta', 'log_A_ref', 'log_B_ref', 'log_E', 'nu', 'sigma']
    """
    import pymc as pm
    import pytensor.tensor as pt

    sampled_names = set(law.parameter_names) | set(likelihood.noise_priors)
    if structure is not None:
        sampled_names |= set(structure.parameter_names())
    if pooling is not None:
        sampled_names |= set(pooling.sampled_names(law.parameter_names))
    obs = observed_name(law, likelihood)
    clash = sampled_names & (set(law.inputs) | {obs})
    if clash:
        raise ValueError(f"law {law.name!r}: parameter names {sorted(clash)} clash with data names")
    if values is None:
        values = data_values(law, prepared, reference, likelihood, codes)
    coords = {"run": np.asarray(prepared.frame.index)}
    # check_bounds=False: no parameter checks in the compiled log density (PyMC's advice for
    # sampling). Every free variable is transformed to its prior's support and every
    # distribution parameter is built from them within its domain, so the checks always hold
    # where the sampler goes; dropping them removes 15 of the ≈ 170 functions numba compiles
    # for the Chinchilla model and leaves its log density and gradient bit for bit the same
    # (tests/test_compile_cold.py).
    with pm.Model(coords=coords, check_bounds=False) as model:
        # Positive inputs are held as logarithms: the law's log(N) then simplifies to the data
        # itself, which saves a logarithm per run and gradient evaluation.
        inputs = {
            k: pt.exp(pm.Data(f"log_{k}", values[f"log_{k}"], dims="run"))
            if f"log_{k}" in values
            else pm.Data(k, values[k], dims="run")
            for k in law.inputs
        }
        ref = {k: pm.Data(reference_name(k), values[reference_name(k)]) for k in reference}
        if pooling is not None:
            p = pooling.build(law, priors, values)
        else:
            p = {
                par.name: priors[par.name].create(
                    par.name, **({"shape": par.shape} if par.shape else {})
                )
                for par in law.parameters
            }
        q = law.natural(pytensor_ns, p, ref)
        if pooling is None:
            for name, value in q.items():
                if name not in p:
                    pm.Deterministic(name, value)
            for name, value in law.derived(pytensor_ns, q).items():
                pm.Deterministic(name, value)
        noise = {name: priors[name].create(name) for name in likelihood.noise_priors}
        mu = law.expression(pytensor_ns, inputs, q)
        if structure is not None and not structure.empty:
            mu = mu + structure.build(priors, values)
        observed = pm.Data(f"{obs}_data", values[f"{obs}_data"], dims="run")
        extra = {k: pm.Data(f"extra_{k}", values[f"extra_{k}"], dims="run") for k in prepared.extra}
        likelihood.build(obs, mu, noise, observed, extra, dims="run")
    return model
