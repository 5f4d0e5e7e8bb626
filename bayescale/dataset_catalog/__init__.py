"""The registry of datasets: provenance, files with checksums, tables and canonical columns.

Each entry is a :class:`DatasetInfo`: the public repository and commit a dataset comes from, its
files with SHA-256 sums, the tables a user can ask for and a small function per table that adds
the canonical columns (``N``, ``D``, ``C``, ``loss``, ...). :mod:`bayescale.datasets` finds,
verifies and reads the files.

The entry types live in ``_common``; the entries, by family, in ``loss_curves``, ``benchmarks``
and ``repeated_sampling``. Adding a dataset means adding one entry to its family's tuple (or a
family module, added to ``_REGISTRY`` below). Every name is importable from here.
"""

from __future__ import annotations

from ._common import (  # noqa: F401 (_ReadOnlyDict, _suggest re-exported)
    DataFile,
    DatasetError,
    DatasetInfo,
    TableInfo,
    _ReadOnlyDict,
    _suggest,
)
from .benchmarks import BENCHMARKS
from .loss_curves import LOSS_CURVES
from .repeated_sampling import _PYTHIA_FINAL, REPEATED_SAMPLING  # noqa: F401 (_PYTHIA_FINAL)

__all__ = ["DataFile", "DatasetError", "DatasetInfo", "TableInfo"]

_REGISTRY: tuple[DatasetInfo, ...] = (*LOSS_CURVES, *BENCHMARKS, *REPEATED_SAMPLING)

_BY_NAME: dict[str, DatasetInfo] = {info.name: info for info in _REGISTRY}
if len(_BY_NAME) != len(_REGISTRY):  # pragma: no cover - registry sanity check
    raise RuntimeError("duplicate dataset names in the registry")
