"""The posterior as an ArviZ DataTree: sampled, natural and derived parameters, stats, data.

Natural parameters (A, B, E, α, β for Chinchilla) and derived quantities are recomputed from the
sampled draws with numpy using the law's own ``natural`` and ``derived`` functions; the pointwise
log-likelihood uses the likelihood's numpy log-density, so LOO and model comparison work on the
tree directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from .data import PreparedData
from .law import ScalingLaw
from .likelihoods import Likelihood
from .model import observed_name
from .pooling import Pooling, pooled_posterior
from .priors import Prior
from .structure import Structure
from .xp import numpy_ns

__all__ = [
    "assemble_datatree",
    "clean_sample_stats",
    "log_likelihood_group",
    "pointwise_loglik",
]

_STAT_NAMES = {
    "depth": "tree_depth",
    "maxdepth_reached": "reached_max_treedepth",
    "mean_tree_accept": "acceptance_rate",
    "logp": "lp",
}


def _posterior_with_derived(
    law: ScalingLaw, priors: Mapping[str, Prior], reference: Mapping[str, float], post: xr.Dataset
) -> xr.Dataset:
    """Add natural and derived parameters (computed with numpy) to the sampled posterior."""
    dims = ("chain", "draw")
    template = post[next(iter(post.data_vars))]
    p: dict[str, Any] = {}
    for name in law.parameter_names:
        if name in post:
            p[name] = post[name].to_numpy()
        else:
            p[name] = np.full(template.shape[:2], float(priors[name].params["value"]))
    q = law.natural(numpy_ns, p, reference)
    extra = law.derived(numpy_ns, q)
    out = post.copy()
    for name, value in {**q, **extra}.items():
        if name in out:
            continue
        value = np.asarray(value, dtype=float)
        if value.shape[:2] != template.shape[:2]:
            value = np.broadcast_to(value, template.shape[:2] + value.shape[2:])
        out[name] = (dims + tuple(f"{name}_dim_{i}" for i in range(value.ndim - 2)), value)
    # a fixed noise or structure parameter (``Prior.fixed``: nu, sigma, drift) is a constant
    # draw, so the log-likelihood and the predictive read it like a sampled one
    for name, prior in priors.items():
        if prior.is_fixed and name not in out and name not in law.parameter_names:
            out[name] = (dims, np.full(template.shape[:2], float(prior.params["value"])))
    return out


def pointwise_loglik(
    law: ScalingLaw,
    likelihood: Likelihood,
    post: xr.Dataset,
    inputs: Mapping[str, np.ndarray],
    observed: np.ndarray,
    extra: Mapping[str, np.ndarray] | None = None,
    structure: Structure | None = None,
    codes: Mapping[str, np.ndarray] | None = None,
    pooling: Pooling | None = None,
) -> np.ndarray:
    """Log-likelihood of each run under each draw, shape ``(chain, draw, run)``.

    ``observed`` is on the likelihood's observed scale (log-loss for the default likelihoods);
    ``structure`` and ``codes`` add the runs' group offsets (conditional on them); with
    ``pooling`` each run takes its group's parameters (code ``codes[pooling.index_name]``).
    """
    if pooling is not None:
        q = {n: post[n].transpose("chain", "draw", ...).to_numpy() for n in law.natural_names}
        q = pooling.per_run(q, (codes or {})[pooling.index_name])
    else:
        q = {n: _expand_param(post[n].to_numpy()) for n in law.natural_names}
    mu = law.log_mean(q, numpy_ns, **{k: np.asarray(v)[None, None, :] for k, v in inputs.items()})
    if structure is not None and structure.groupings:
        draws = {n: post[n].to_numpy() for n in structure.parameter_names() if n in post}
        mu = mu + structure.offsets(draws, codes or {})
    noise = {n: post[n].to_numpy()[..., None] for n in likelihood.noise_priors}
    ext = {k: np.asarray(v)[None, None, :] for k, v in (extra or {}).items()}
    return likelihood.logpdf(observed[None, None, :], mu, **noise, **ext)


def log_likelihood_group(
    law: ScalingLaw,
    likelihood: Likelihood,
    post: xr.Dataset,
    inputs: Mapping[str, np.ndarray],
    observed: np.ndarray,
    extra: Mapping[str, np.ndarray] | None,
    structure: Structure | None,
    codes: Mapping[str, np.ndarray] | None,
    pooling: Pooling | None,
    run: np.ndarray,
) -> xr.Dataset:
    """The ``log_likelihood`` group: :func:`pointwise_loglik` over ``(chain, draw, run)``, named
    after the observed variable."""
    loglik = pointwise_loglik(
        law, likelihood, post, inputs, observed, extra, structure, codes, pooling
    )
    return xr.Dataset(
        {observed_name(law, likelihood): (("chain", "draw", "run"), loglik)},
        coords={"chain": post["chain"], "draw": post["draw"], "run": run},
    )


def _expand_param(values: np.ndarray) -> np.ndarray:
    """Insert a run axis after (chain, draw): scalars broadcast over runs, vectors keep their
    trailing dimensions (laws index them explicitly)."""
    return values[:, :, None, ...] if values.ndim > 2 else values[..., None]


def assemble_datatree(
    law: ScalingLaw,
    likelihood: Likelihood,
    priors: Mapping[str, Prior],
    prepared: PreparedData,
    reference: Mapping[str, float],
    posterior: xr.Dataset,
    sample_stats: xr.Dataset | None,
    attrs: Mapping[str, Any],
    observed: np.ndarray | None = None,
    structure: Structure | None = None,
    codes: Mapping[str, np.ndarray] | None = None,
    pooling: Pooling | None = None,
    log_likelihood: bool = True,
) -> xr.DataTree:
    """Put posterior, stats, log-likelihood and data into one ArviZ DataTree.

    ``observed`` is the output on the likelihood's observed scale if already computed
    (``likelihood.transform`` of ``prepared.y``; computed here otherwise). With
    ``log_likelihood=False`` the tree has no ``log_likelihood`` group (``bs.fit`` adds it on
    first access, :func:`log_likelihood_group`: the same numbers).
    """
    if pooling is not None:
        post = pooled_posterior(law, pooling, priors, reference, posterior)
    else:
        post = _posterior_with_derived(law, priors, reference, posterior)
    if structure is not None:
        post = _with_group_offsets(structure, post)
    run = np.asarray(prepared.frame.index)
    obs = observed_name(law, likelihood)
    if observed is None:
        observed = likelihood.transform(prepared.y, **prepared.extra)
    observed = np.asarray(observed, dtype=float)
    groups: dict[str, xr.Dataset] = {"posterior": post}
    if log_likelihood:
        groups["log_likelihood"] = log_likelihood_group(
            law, likelihood, post, prepared.inputs, observed, prepared.extra, structure, codes,
            pooling, run,
        )  # fmt: skip
    groups |= {
        "observed_data": xr.Dataset({obs: ("run", observed)}, coords={"run": run}),
        "constant_data": xr.Dataset(
            {k: ("run", np.asarray(v)) for k, v in prepared.inputs.items()}
            | {law.output: ("run", prepared.y)}
            | {k: ("run", np.asarray(v)) for k, v in prepared.extra.items()}
            | {k: ("run", np.asarray(v, dtype=np.int64)) for k, v in (codes or {}).items()},
            coords={"run": run},
        ),
    }
    if sample_stats is not None:
        groups["sample_stats"] = sample_stats
    tree = xr.DataTree.from_dict(groups)
    tree.attrs.update(attrs)
    return tree


def _with_group_offsets(structure: Structure, post: xr.Dataset) -> xr.Dataset:
    """Name each grouping's dimension after its column (labels as coordinates) and add the
    offsets ``group_offset_<column>`` = sd · z on the log output."""
    out = post
    for g in structure.groupings:
        if g.z_name not in out:
            continue
        old = out[g.z_name].dims[-1]
        dim = g.index_name
        out = out.rename({old: dim}) if old != dim else out
        out = out.assign_coords({dim: list(g.labels)})
        offset = out[g.sd_name] * out[g.z_name]
        offset.attrs = {"long_name": f"offset of each {g.column} group on the log output"}
        out[f"group_offset_{g.column}"] = offset
    return out


def clean_sample_stats(stats: xr.Dataset) -> xr.Dataset:
    keep = {k: v for k, v in stats.data_vars.items() if v.dtype != object}
    ds = xr.Dataset(keep, coords={c: stats.coords[c] for c in ("chain", "draw")})
    ds = ds.rename({k: v for k, v in _STAT_NAMES.items() if k in ds})
    if "diverging" in ds:
        ds["diverging"] = ds["diverging"].astype(bool)
    return ds
