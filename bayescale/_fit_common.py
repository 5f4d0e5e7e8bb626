"""What :mod:`bayescale.fit` and the :class:`~bayescale.fit_result.Fit` object share: diagnostic
thresholds and warnings, a fit's grouping columns (``_group_frame``) and seed resolution
(``_resolve_seed``). Everything here is re-exported by :mod:`bayescale.fit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import resolve_seed

RHAT_MAX = 1.01


ESS_MIN = 400


SUMMARY_COLUMNS = ["mean", "sd", "median", "ci95_lo", "ci95_hi", "ess_bulk", "ess_tail", "r_hat"]


class DiagnosticWarning(UserWarning):
    """Raised (as a warning) when a fit shows divergences, high R-hat or low ESS."""


#: Distributions whose density does not integrate to one (a fit with fewer runs than
#: parameters is refused when any prior is one of these).
IMPROPER = frozenset({"Flat", "HalfFlat"})


class SmallDataWarning(UserWarning):
    """A fit has fewer runs than free parameters: the priors carry the rest."""


def _group_frame(
    frame: pd.DataFrame, data: Any, columns: Mapping[str, str] | None, groups: Any
) -> pd.DataFrame:
    """The canonical runs plus the grouping columns named in ``groups`` that are not canonical
    (``C`` from the data when it has one: isoFLOP budgets are often snapped, not exactly 6ND;
    otherwise 6ND)."""
    if groups is None or groups is False or (isinstance(groups, str) and groups == "auto"):
        return frame
    source = data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
    rename = {v: k for k, v in (columns or {}).items()}
    out = frame.copy()
    names = [groups] if isinstance(groups, str) else list(groups)
    for name in names:
        if name in out.columns:
            continue
        original = next((c for c in source.columns if rename.get(c, c) == name), None)
        if original is None and name == "C" and {"N", "D"} <= set(out.columns):
            continue  # computed as 6ND
        if original is None:
            raise ValueError(
                f"groups: column {name!r} is not in the data (columns: {list(source.columns)})"
            )
        out[name] = source.loc[frame.index, original].to_numpy()
    return out


def _labels(da: xr.DataArray, idx: tuple[int, ...]) -> list[str]:
    """Index ``idx`` of ``da``'s extra dimensions as text: the group's label on a ``group``
    dimension (pooled fits), the position otherwise."""
    out = []
    for dim, i in zip(da.dims[2:], idx, strict=True):
        out.append(str(da[dim].to_numpy()[i]) if dim == "group" and dim in da.coords else str(i))
    return out


def _flat(values: np.ndarray) -> np.ndarray:
    return np.asarray(values).reshape(-1, *np.shape(values)[2:])


def _resolve_seed(random_seed: int | None) -> int:
    """:func:`bayescale._api.resolve_seed` (kept under this name for the modules using it)."""
    return resolve_seed(random_seed)
