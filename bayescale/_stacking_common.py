"""What :mod:`bayescale.stacking` and :class:`~bayescale.stacked_fit.StackedFit` share (both
re-exported by :mod:`bayescale.stacking`): the stack file's name and format, the weighting
methods, the draw counts of the mixing rule (``draw_counts``, ``draw_indices``,
``member_seed``) and the helpers that take and compare members' draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from .fit import Fit

STACK_FILE = "stack.json"


_FORMAT = 1


_METHODS = ("stacking", "BB-pseudo-BMA", "pseudo-BMA")


_SUMMARY_COLUMNS = [
    "law",
    "likelihood",
    "weight",
    "mixture_draws",
    "elpd",
    "se",
    "elpd_diff",
    "dse",
    "p",
    "n_high_k",
    "max_k",
]


# ---------------------------------------------------------------------- draw counts
def draw_counts(weights: Sequence[float], total: int) -> np.ndarray:
    """Largest-remainder rounding of ``weights · total`` to integers adding up to ``total``.

    Ties in the remainders go to the earlier member.

    Examples
    --------
    >>> draw_counts([0.5, 0.25, 0.25], 10).tolist()
    [5, 3, 2]
    >>> draw_counts([1.0, 0.0], 7).tolist()
    [7, 0]
    """
    w = np.asarray(weights, dtype=float)
    raw = w * total
    base = np.floor(raw + 1e-9).astype(int)
    base = np.minimum(base, total)
    rest = int(total - base.sum())
    if rest > 0:
        order = np.argsort(-(raw - base), kind="stable")
        base[order[:rest]] += 1
    elif rest < 0:  # only through rounding of weights summing to slightly above 1
        order = np.argsort(raw - base, kind="stable")
        for i in order:
            if rest == 0:
                break
            if base[i] > 0:
                base[i] -= 1
                rest += 1
    return base


def draw_indices(n_available: int, n_wanted: int) -> np.ndarray:
    """``n_wanted`` flat chain × draw indices evenly spaced over ``n_available`` draws.

    Examples
    --------
    >>> draw_indices(10, 4).tolist()
    [0, 2, 5, 7]
    """
    return (np.arange(n_wanted, dtype=np.int64) * n_available) // max(n_wanted, 1)


def member_seed(random_seed: int | None, k: int) -> int | None:
    """The seed member ``k`` of a stack gets for ``random_seed`` (None stays None)."""
    if random_seed is None:
        return None
    if isinstance(random_seed, bool) or not isinstance(random_seed, int | np.integer):
        raise TypeError(f"random_seed must be an int or None, got {random_seed!r}")
    if random_seed < 0:
        raise ValueError(f"random_seed must be non-negative, got {random_seed}")
    seq = np.random.SeedSequence(int(random_seed), spawn_key=(k,))
    return int(seq.generate_state(1, np.uint64)[0])


def _params_dataset(fit: Fit, kind: str) -> xr.Dataset:
    return xr.Dataset(fit.params(kind))


def _posterior_of(fit: Fit, names: list[str]) -> xr.Dataset:
    return fit.posterior[names]


def _take(result: Any, n: int) -> Any:
    """``n`` draws of ``result`` evenly spaced over its flattened (chain, draw), along
    ``__sample``; variables without (chain, draw) are left as they are."""
    chains, draws = result.sizes["chain"], result.sizes["draw"]
    idx = draw_indices(chains * draws, n)
    out = result.isel(
        chain=xr.DataArray(idx // draws, dims="__sample"),
        draw=xr.DataArray(idx % draws, dims="__sample"),
    )
    return out.drop_vars(["chain", "draw"], errors="ignore")


def _check_alike(parts: list[Any], names: list[str]) -> None:
    def shape(obj: Any) -> Any:
        if isinstance(obj, xr.Dataset):
            return {
                k: tuple(d for d in v.dims if d != "__sample") for k, v in obj.data_vars.items()
            }
        return tuple(d for d in obj.dims if d != "__sample")

    ref = shape(parts[0])
    for name, part in zip(names[1:], parts[1:], strict=True):
        if shape(part) != ref:
            raise ValueError(
                f"stack members {names[0]!r} and {name!r} give results of different shapes "
                f"({ref} vs {shape(part)}): they cannot be mixed"
            )
