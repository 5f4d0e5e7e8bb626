"""What every family of the dataset registry shares: the entry types (:class:`DatasetInfo`,
:class:`DataFile`, :class:`TableInfo`, :class:`DatasetError`) and the helpers of the
canonical-column functions (``_as_float``, ``_assemble``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


def _suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


class DatasetError(OSError):
    """A dataset file could not be found, fetched, or failed its checksum."""


class _ReadOnlyDict(dict):
    """A ``dict`` that refuses modification (used for mapping fields of frozen dataclasses)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("this mapping is read-only")

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (_ReadOnlyDict, (dict(self),))

    def __copy__(self) -> _ReadOnlyDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _ReadOnlyDict:
        return self


# --------------------------------------------------------------------------------------------
# Registry types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset.

    Attributes
    ----------
    filename : str
        File name inside ``<dir>/<dataset>/``.
    sha256 : str
        Expected SHA-256 hex digest of the file's bytes.
    n_rows : int
        Number of data rows (header excluded).
    size : int
        Size in bytes.
    path : str
        Path inside the upstream repository at the pinned commit. For a derived file this is the
        upstream file it was derived from.
    derived : bool
        True if the file itself is not stored upstream.
    derivation : str
        One sentence on how a derived file was made (empty otherwise).
    rebuild : callable or None
        For derived files that can be rebuilt: a function mapping the bytes of the upstream file
        at ``path`` to the bytes of this file.
    """

    filename: str
    sha256: str
    n_rows: int
    size: int
    path: str
    derived: bool = False
    derivation: str = ""
    rebuild: Callable[[bytes], bytes] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class TableInfo:
    """One loadable table of a dataset (selected with ``load_dataset(..., table=...)``).

    Attributes
    ----------
    name : str
        Table name.
    files : tuple of str
        File names used; the first one is what ``raw=True`` returns.
    n_rows : int
        Number of rows of the returned DataFrame.
    canonical : Mapping[str, str]
        Canonical column name -> meaning, in output order.
    description : str
        One line about the table.
    canonicalise : callable
        Function taking ``{filename: raw DataFrame}`` and returning the canonical DataFrame.
    """

    name: str
    files: tuple[str, ...]
    n_rows: int
    canonical: Mapping[str, str] = field(hash=False)
    description: str
    canonicalise: Callable[[Mapping[str, pd.DataFrame]], pd.DataFrame] = field(
        repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "canonical", _ReadOnlyDict(self.canonical))


@dataclass(frozen=True)
class DatasetInfo:
    """Provenance and description of a registered dataset.

    Attributes
    ----------
    name : str
        Registry name (also the folder name ``<dir>/<name>/``).
    title : str
        Short human-readable title.
    citation : str
        Paper the data belongs to.
    paper : str
        arXiv identifier or URL of the paper (may be empty).
    repo : str
        Upstream GitHub repository, ``owner/name``.
    commit : str
        Pinned upstream commit (40 hex digits).
    license : str
        Licence as stated upstream.
    description : str
        What the data is and what it is good for.
    files : tuple of DataFile
        The files, with upstream path and SHA-256 sum each.
    tables : tuple of TableInfo
        Loadable tables; the first one is the default.
    columns : Mapping[str, str]
        Source column name -> meaning (all files).
    notes : tuple of str
        Reference numbers and caveats that matter for modelling.
    derived : bool
        True if any file is derived rather than stored upstream (computed).
    """

    name: str
    title: str
    citation: str
    paper: str
    repo: str
    commit: str
    license: str
    description: str
    files: tuple[DataFile, ...]
    tables: tuple[TableInfo, ...]
    columns: Mapping[str, str] = field(hash=False)
    notes: tuple[str, ...] = ()
    derived: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _ReadOnlyDict(self.columns))
        object.__setattr__(self, "derived", any(f.derived for f in self.files))
        names = {f.filename for f in self.files}
        if not self.tables:
            raise ValueError(f"dataset {self.name!r} has no tables")
        for table in self.tables:
            missing = set(table.files) - names
            if missing:
                raise ValueError(f"table {table.name!r} of {self.name!r} uses unknown {missing}")

    @property
    def default_table(self) -> str:
        """Name of the table returned when no ``table=`` option is given."""
        return self.tables[0].name

    @property
    def canonical_columns(self) -> tuple[str, ...]:
        """Canonical columns of the default table."""
        return tuple(self.tables[0].canonical)

    @property
    def n_rows(self) -> int:
        """Row count of the default table."""
        return self.tables[0].n_rows

    def file(self, filename: str) -> DataFile:
        """Return the :class:`DataFile` called ``filename``."""
        for f in self.files:
            if f.filename == filename:
                return f
        raise KeyError(filename)

    def table(self, name: str | None = None) -> TableInfo:
        """Return the :class:`TableInfo` called ``name`` (default table if None)."""
        if name is None:
            return self.tables[0]
        for t in self.tables:
            if t.name == name:
                return t
        choices = [t.name for t in self.tables]
        raise ValueError(
            f"dataset {self.name!r} has no table {name!r}{_suggest(name, choices)}; "
            f"available tables: {', '.join(choices)}"
        )

    def url(self, filename: str) -> str | None:
        """Download URL of a file (for derived files, of the upstream file it comes from)."""
        from ..datasets import _file_url

        return _file_url(self, self.file(filename))


# --------------------------------------------------------------------------------------------
# Canonicalisation helpers
# --------------------------------------------------------------------------------------------


def _as_float(values: Any) -> pd.Series:
    """Convert a column to float64 (handles object columns of Python ints beyond int64)."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if series.dtype == object:
        return series.map(lambda v: np.nan if v is None else float(v)).astype("float64")
    return pd.to_numeric(series).astype("float64")


def _assemble(raw: pd.DataFrame, canonical: Mapping[str, Any]) -> pd.DataFrame:
    """Canonical columns first, then every source column not already named canonically."""
    out = pd.DataFrame({name: values for name, values in canonical.items()}, index=raw.index)
    rest = [c for c in raw.columns if c not in out.columns]
    return pd.concat([out, raw[rest]], axis=1).reset_index(drop=True)
