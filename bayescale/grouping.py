"""Groupings of runs: a column's distinct values (the groups) and each run's group code.

Split from :mod:`bayescale.structure` (which re-exports every name here): :class:`Grouping` (equal
labels, or positive numbers clustered in log10 by :func:`cluster_log_values`), :func:`warn_groups`
(a single group, or one run in every group), and C = 6ND (``FLOPS_PER_PARAM_TOKEN``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FLOPS_PER_PARAM_TOKEN",
    "TOLERANCE_DECADES",
    "Grouping",
    "cluster_log_values",
    "warn_groups",
]

#: FLOPs per parameter and token (C = 6ND); defined here (re-exported by ``structure``), imported
#: by ``analysis`` (which imports ``fit``, which imports this module) so the project has one value.
FLOPS_PER_PARAM_TOKEN = 6.0
#: Values of a numeric grouping column closer than this in log10 are one group.
TOLERANCE_DECADES = 0.002


def cluster_log_values(
    values: Any, tol: float = TOLERANCE_DECADES
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster positive ``values`` whose log10 lie within ``tol`` of their neighbour.

    Returns ``(codes, centres)``: the cluster of each value (clusters numbered in increasing
    order of value) and each cluster's geometric-mean value.

    Examples
    --------
    >>> codes, centres = cluster_log_values([1e9, 1.001e9, 2e9, 4e9, 2.0001e9])
    >>> codes.tolist()
    [0, 0, 1, 2, 1]
    >>> [f"{c:.3g}" for c in centres]
    ['1e+09', '2e+09', '4e+09']
    """
    logs = np.log10(np.asarray(values, dtype=float))
    order = np.argsort(logs, kind="stable")
    sorted_logs = logs[order]
    new = np.concatenate([[True], np.diff(sorted_logs) > tol]) if len(logs) else np.array([], bool)
    sorted_codes = np.cumsum(new) - 1
    codes = np.empty(len(logs), dtype=np.int64)
    codes[order] = sorted_codes
    n = int(sorted_codes[-1]) + 1 if len(logs) else 0
    centres = np.array([10 ** sorted_logs[sorted_codes == k].mean() for k in range(n)])
    return codes, centres


#: what a group label may be (text, numbers, booleans, dates)
_LABEL_TYPES = (str, bytes, int, float, bool, np.generic, pd.Timestamp, pd.Timedelta,
                pd.Period, __import__("datetime").date)  # fmt: skip


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array: not one missing value
        return False


def _infinite(value: Any) -> bool:
    return isinstance(value, float | np.floating) and bool(np.isinf(value))


def _six_nd(n: Any, d: Any) -> Any:
    """Training compute C = 6ND, the one place this module computes it."""
    return FLOPS_PER_PARAM_TOKEN * n * d


def _column_values(frame: pd.DataFrame, column: str) -> pd.Series:
    if column in frame.columns:
        return frame[column]
    if column == "C" and {"N", "D"} <= set(frame.columns):
        return _six_nd(frame["N"], frame["D"])
    raise ValueError(
        f"grouping column {column!r} is not in the data (columns: {list(frame.columns)})"
    )


@dataclass(frozen=True)
class Grouping:
    """One grouping of the runs: a column and its distinct values (the groups).

    ``numeric`` groupings cluster positive values in log10 (:func:`cluster_log_values`);
    other columns group equal labels.
    """

    column: str
    labels: tuple[Any, ...]
    numeric: bool

    @property
    def sd_name(self) -> str:
        return f"group_sd_{self.column}"

    @property
    def z_name(self) -> str:
        return f"group_z_{self.column}"

    @property
    def index_name(self) -> str:
        return f"group_{self.column}"

    @property
    def size(self) -> int:
        return len(self.labels)

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, column: str, *, categorical: bool = False
    ) -> tuple[Grouping, np.ndarray]:
        """The grouping of ``frame`` by ``column`` and each run's group code.

        ``categorical`` groups equal values even in a numeric column (a pooled fit's families:
        years, seeds, ids), labelled by their text and ordered by value; otherwise a numeric
        column is clustered in log10."""
        raw = _column_values(frame, column)
        numeric = pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
        if numeric and not categorical:
            values = raw.to_numpy(dtype=float)
            bad = ~np.isfinite(values) | (values <= 0)
            if bad.any():
                rows = list(frame.index[bad][:5])
                raise ValueError(
                    f"grouping column {column!r} must be finite and > 0 (numeric groups are "
                    f"clustered in log10); bad values in rows {rows}"
                )
            codes, centres = cluster_log_values(values)
            return cls(column, tuple(float(c) for c in centres), True), codes
        missing = raw.map(_missing).to_numpy(dtype=bool)
        if missing.any():
            rows = list(frame.index[missing][:5])
            raise ValueError(f"grouping column {column!r} has missing values in rows {rows}")
        infinite = raw.map(_infinite).to_numpy(dtype=bool)
        if infinite.any():
            rows = list(frame.index[infinite][:5])
            raise ValueError(
                f"grouping column {column!r} has infinite values in rows {rows}: a group label "
                "is a name or a finite number; give those runs their group"
            )
        odd = raw.map(lambda v: not isinstance(v, _LABEL_TYPES)).to_numpy(dtype=bool)
        if odd.any():
            i = int(np.flatnonzero(odd)[0])
            raise TypeError(
                f"grouping column {column!r} holds {type(raw.iloc[i]).__name__} values "
                f"(row {frame.index[i]!r}: {raw.iloc[i]!r}); a group label is text, a number, "
                "a boolean or a date"
            )
        labels = raw.astype(str)
        kinds = pd.DataFrame({"label": labels, "value": raw.map(repr)}).drop_duplicates()
        clash = kinds[kinds["label"].duplicated(keep=False)]
        if len(clash):
            shown = ", ".join(clash["value"].head(4))
            raise ValueError(
                f"grouping column {column!r} mixes labels that read the same ({shown}): they "
                "would be one group; give the column one type (e.g. all text)"
            )
        if categorical and numeric:  # labelled by their text, ordered by value
            first = raw.groupby(labels, sort=False).first()
            uniq = tuple(str(v) for v in first.sort_values(kind="stable").index)
        else:
            uniq = tuple(sorted(labels.unique()))
        lookup = {v: i for i, v in enumerate(uniq)}
        return cls(column, uniq, False), labels.map(lookup).to_numpy(dtype=np.int64)

    def assign(self, values: Any) -> np.ndarray:
        """Group code of each value, -1 for a value that matches no group of the fit."""
        if self.numeric:
            logs = np.log10(np.asarray(values, dtype=float))
            centres = np.log10(np.asarray(self.labels, dtype=float))
            dist = np.abs(logs[:, None] - centres[None, :])
            best = np.argmin(dist, axis=1)
            return np.where(dist[np.arange(len(logs)), best] <= self.tol_match, best, -1)
        lookup = {v: i for i, v in enumerate(self.labels)}
        return np.array([lookup.get(str(v), -1) for v in values], dtype=np.int64)

    #: A new value within this many decades of a group's centre belongs to that group.
    tol_match: float = field(default=2 * TOLERANCE_DECADES, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "labels": list(self.labels), "numeric": self.numeric}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Grouping:
        return cls(str(data["column"]), tuple(data["labels"]), bool(data["numeric"]))


def warn_groups(grouping: Grouping, codes: np.ndarray, how: str) -> None:
    """A :class:`~bayescale.data.DataWarning` when the groups cannot be told apart from the
    rest of the model: a single group (its offset is the law's own level) or one run in every
    group (each group's part is that run's noise)."""
    import os
    import warnings

    from .data import DataWarning

    n_runs = len(codes)
    if grouping.size == 1 and n_runs > 1:
        message = (
            f"{how}: column {grouping.column!r} has a single group ({grouping.labels[0]!r}) "
            "in all runs, so its group offset cannot be told from the law's own level; "
            "drop the grouping or add runs of other groups"
        )
    elif grouping.size == n_runs and n_runs > 1:
        message = (
            f"{how}: every one of the {n_runs} groups of column {grouping.column!r} has a "
            "single run, so what a group shares cannot be told from the run's noise; group "
            "by a coarser label (experiment, corpus) or drop the grouping"
        )
    else:
        return
    here = os.path.dirname(os.path.abspath(__file__))
    warnings.warn(message, DataWarning, skip_file_prefixes=(here,))
