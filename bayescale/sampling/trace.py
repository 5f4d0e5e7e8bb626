"""nutpie's chains as an ArviZ-style ``DataTree``, built without ArviZ."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _internals

__all__ = ["trace_to_datatree"]


def trace_to_datatree(raw: Any, names: list[str], shapes: list[tuple[int, ...]]) -> Any:
    """Turn nutpie's raw trace (Arrow record batches, one per chain) into a ``DataTree``.

    Groups ``posterior`` and ``sample_stats`` hold the draws after warm-up, ``warmup_posterior``
    and ``warmup_sample_stats`` those during warm-up, each over ``(chain, draw, ...)``; a vector
    variable ``v`` gets dimensions ``v_dim_0, v_dim_1, ...`` (ArviZ's default names). Sample
    statistics keep nutpie's per-draw scalars (step size, tree depth, leapfrog steps,
    divergences, ...) and drop the per-draw vectors (gradients, mass matrices) and messages.
    Chains of unequal length are padded with NaN (zeros for integer and boolean statistics).
    """
    draw_batches, stat_batches = _internals.raw_trace_batches(raw)
    return _datatree_from_chains(
        [
            _internals.chain_arrays(d, s, names, shapes)
            for d, s in zip(draw_batches, stat_batches, strict=True)
        ]
    )


_GROUPS = ("posterior", "sample_stats", "warmup_posterior", "warmup_sample_stats")


def _datatree_from_chains(chains: list[dict[str, dict[str, np.ndarray]]]) -> Any:
    """Stack chains given by :func:`_internals.chain_arrays`, in chain order, into a
    ``DataTree``."""
    import xarray as xr

    _internals.lazy_dask_in_xarray()

    n_chains = len(chains)

    def group(parts: list[dict[str, np.ndarray]]) -> xr.Dataset:
        n_draws = max((len(next(iter(p.values()))) for p in parts if p), default=0)
        data_vars = {}
        for name in parts[0] if parts else []:
            first = parts[0][name]
            fill = np.nan if first.dtype.kind == "f" else 0
            arr = np.full((n_chains, n_draws, *first.shape[1:]), fill, dtype=first.dtype)
            for c, chain in enumerate(parts):
                arr[c, : len(chain[name])] = chain[name]
            dims = ("chain", "draw", *(f"{name}_dim_{i}" for i in range(arr.ndim - 2)))
            data_vars[name] = (dims, arr)
        coords = {"chain": np.arange(n_chains), "draw": np.arange(n_draws)}
        return xr.Dataset(data_vars, coords=coords)

    return xr.DataTree.from_dict({g: group([c[g] for c in chains]) for g in _GROUPS})
