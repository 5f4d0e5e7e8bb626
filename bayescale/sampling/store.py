"""The store of rewritten model graphs kept across processes, private to the user."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _internals
from .fingerprint import _GRAPH_FORMAT

__all__ = ["GRAPH_CACHE_ENV", "graph_store_on"]

# PyTensor rewrites the log-density graph anew in every process (≈ 1 s here, longer than the
# numba step, whose machine code numba already caches on disk). The rewritten graph is stored in
# PyTensor's compile directory, next to numba's cache, under a fingerprint of the graph it is
# rewritten from: the model's log density and constrained values (every operation with its
# parameters, the inner graphs of composite operations, the code of any Python function an
# operation holds, every constant and type; the law's expression, the priors, the likelihood and
# the observations are all in it), the free variables' graphs and initial values, the sources of
# the sampling package's compile, store, fingerprint and internals modules and the versions of
# Python, numpy, PyTensor, PyMC, numba and bayescale. The entry repeats its fingerprint, which is
# checked on reading; a graph that cannot be read or run is compiled afresh. Data values are not
# stored; the 200 most recently used entries are kept.
# ``BAYESCALE_GRAPH_CACHE=0`` turns the store off. Entries are pickles: the folder is created
# private to the user (mode 0o700), and an entry is unpickled only if it is a regular file (not a
# link) owned by the user and writable by no one else; any other entry is ignored, compiled afresh
# and replaced.

GRAPH_CACHE_ENV = "BAYESCALE_GRAPH_CACHE"
_GRAPH_STORE_KEEP = 200  # entries of ≈ 1 MB; the least recently used beyond this are deleted


def graph_store_on() -> bool:
    return os.environ.get(GRAPH_CACHE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def _graph_cache_file(key: str) -> Any:
    """Where the rewritten graph with fingerprint ``key`` is stored, or None if the store is off."""
    from pathlib import Path

    if not graph_store_on():
        return None
    try:
        import pytensor

        return Path(pytensor.config.compiledir) / "bayescale-graphs" / f"{key}.pkl"
    except Exception:  # pragma: no cover - no compile directory: compile without the store
        return None


def _current_uid() -> int | None:
    """This process's user id (None where the platform has none, e.g. Windows)."""
    return os.getuid() if hasattr(os, "getuid") else None


def _read_private(path: Any) -> bytes | None:
    """The bytes of ``path`` if it is a regular file, not a symbolic link, owned by this user and
    writable by no one else; None otherwise (or if it cannot be read).

    The checks are made on the open file, so the file checked is the file read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        uid = _current_uid()
        if not stat.S_ISREG(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return None
        if uid is not None and info.st_uid != uid:
            return None
        return handle.read()


def _unpickle(data: bytes) -> Any:
    import pickle

    return pickle.loads(data)


def _private_folder(folder: Any) -> bool:
    """Create ``folder`` with mode 0o700 (or make an existing one of ours 0o700); False if it is
    not ours, so nothing is written into it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    uid = _current_uid()
    if uid is not None and info.st_uid != uid:
        return False
    if stat.S_IMODE(info.st_mode) & 0o077:
        folder.chmod(0o700)
    return True


def _load_compiled_graph(path: Any) -> tuple[Any, dict[str, np.ndarray]] | None:
    """Compile a stored, already rewritten graph (no rewriting) and return it with the model's
    initial point; None if there is no entry or it cannot be used (see :func:`_read_private`)."""
    import warnings

    data = _read_private(path)
    if data is None:
        return None
    try:
        entry = _unpickle(data)
        if entry.get("format") != _GRAPH_FORMAT or entry.get("key") != path.stem:
            return None
        os.utime(path)  # marks the entry as recently used (pruning keeps the newest)
        fgraph, point = entry["fgraph"], entry["point"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            function = _internals.compile_rewritten(fgraph)
        return function, {k: np.asarray(v) for k, v in point.items()}
    except Exception:  # a stale or damaged entry: compile afresh (and overwrite it)
        return None


def _save_compiled_graph(path: Any, joint_f: Any, point: Mapping[str, Any]) -> bool:
    """Store the rewritten graph of ``joint_f`` and the initial point atomically, without the
    data values, in a folder private to the user; False (and nothing stored) on error."""
    import tempfile

    tmp = None
    shared = [v for v in _internals.data_inputs(joint_f) if hasattr(v, "get_value")]
    saved = [v.get_value(borrow=True) for v in shared]
    try:
        import cloudpickle

        # the data containers travel as empty placeholders of their type
        for var in shared:
            var.set_value(np.zeros([n or 0 for n in var.type.shape], dtype=var.dtype))
        entry = {
            "format": _GRAPH_FORMAT,
            "key": path.stem,
            "fgraph": _internals.function_graph(joint_f),
            "point": {k: np.asarray(v) for k, v in point.items()},
        }
        payload = cloudpickle.dumps(entry, protocol=5)
        if not _private_folder(path.parent):
            return False
        # mkstemp creates the file with mode 0o600; os.replace keeps it
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
        _prune_graph_store(path.parent)
        return True
    except Exception:  # read-only or full disk, an op that cannot be pickled
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        return False
    finally:
        for var, value in zip(shared, saved, strict=True):
            var.set_value(value, borrow=True)


def _native_folder() -> Any:
    """The private folder of the generated native callbacks (:mod:`.native`), next to the
    stored graphs; None if the store is off or the folder is not ours."""
    from pathlib import Path

    if not graph_store_on():
        return None
    try:
        import pytensor

        folder = Path(pytensor.config.compiledir) / "bayescale-native"
        return folder if _private_folder(folder) else None
    except Exception:  # pragma: no cover - no compile directory
        return None


def _write_private(path: Any, payload: bytes) -> bool:
    """Write ``payload`` to ``path`` atomically (mode 0o600); False on error."""
    import tempfile

    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        return False


def _prune_graph_store(folder: Any, keep: int | None = None, pattern: str = "*.pkl") -> None:
    """Keep the ``keep`` most recently used entries (default ``_GRAPH_STORE_KEEP``)."""
    keep = _GRAPH_STORE_KEEP if keep is None else keep
    try:
        entries = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[keep:]:
            old.unlink(missing_ok=True)
    except OSError:  # pragma: no cover - another process pruned at the same time
        pass
