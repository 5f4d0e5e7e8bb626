"""The store of rewritten model graphs kept across processes, private to the user."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _internals
from .fingerprint import _GRAPH_FORMAT

__all__ = ["GRAPH_CACHE_ENV", "graph_store_on", "private_dir_ok", "secure_caches"]

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

# numba's own cache files (index and data pickles of our C callbacks, in numba's cache folder or
# the ``__pycache__`` beside this package) and PyTensor's numba cache (``<base_compiledir>/numba``)
# are loaded by numba without an ownership check, so before either is used (``secure_caches``)
# its folder must be private (``private_dir_ok``); otherwise this process warns once and keeps
# numba's cache in a private folder of its own, and PyTensor's numba cache off. Machine code is
# the same bits either way (no fast-math), so the draws do not change.

GRAPH_CACHE_ENV = "BAYESCALE_GRAPH_CACHE"
_GRAPH_STORE_KEEP = 200  # entries of ≈ 1 MB; the least recently used beyond this are deleted


def graph_store_on() -> bool:
    return os.environ.get(GRAPH_CACHE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def _graph_cache_file(key: str) -> Any:
    """Where the rewritten graph with fingerprint ``key`` is stored, or None if the store is off."""
    from pathlib import Path

    secure_caches()
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

    secure_caches()
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


def _private_group(gid: int, uid: int) -> bool:
    """Whether group ``gid`` is user ``uid``'s own: named as the user, the user's primary group
    and with no other listed member (Debian and Ubuntu give each user such a group, and their
    umask 002 makes every folder the user creates writable by it)."""
    try:
        import grp
        import pwd

        group, user = grp.getgrgid(gid), pwd.getpwuid(uid)
    except (ImportError, KeyError):  # pragma: no cover - no such records
        return False
    return (
        group.gr_name == user.pw_name and user.pw_gid == gid and set(group.gr_mem) <= {user.pw_name}
    )


def _shared_write(info: os.stat_result) -> bool:
    """Whether someone besides the owner of a file or folder may write in it: others, or its
    group unless that group is the owner's own (:func:`_private_group`)."""
    if info.st_mode & stat.S_IWOTH:
        return True
    return bool(info.st_mode & stat.S_IWGRP) and not _private_group(info.st_gid, info.st_uid)


def private_dir_ok(path: Any) -> bool:
    """Whether only this user can change what is in folder ``path``: the folder (or, while it
    does not exist, the nearest existing folder above it, where it will be created) is owned by
    this user (or root) and writable by no one else (its group may write if the group is the
    owner's own, as umask 002 leaves folders on Debian and Ubuntu), and every folder above it is
    owned by this user or root and writable by no one else unless it is sticky (as ``/tmp`` is:
    others cannot replace what is ours there). Always True where the platform has no user ids
    (Windows).

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> private_dir_ok(folder)
    True
    >>> os.chmod(folder, 0o777)
    >>> private_dir_ok(folder)
    False
    >>> os.rmdir(folder)
    """
    from pathlib import Path

    uid = _current_uid()
    if uid is None:  # pragma: no cover - no owners to check
        return True
    try:
        target = Path(os.path.abspath(os.fspath(path)))
        exists = os.path.lexists(target)
        while not os.path.lexists(target):
            target = target.parent
        real = Path(os.path.realpath(target))
        info = os.stat(real)
        if not stat.S_ISDIR(info.st_mode):
            return False
        if exists and (info.st_uid not in (uid, 0) or _shared_write(info)):
            return False
        for folder in (real, *real.parents) if not exists else real.parents:
            info = os.stat(folder)
            if info.st_uid not in (uid, 0):
                return False
            if _shared_write(info) and not info.st_mode & stat.S_ISVTX:
                return False
        return True
    except OSError:
        return False


_SECURED: list[Any] = []  # the folders checked by secure_caches, once per process


def secure_caches() -> None:
    """Use numba's and PyTensor's on-disk numba caches only from private folders
    (:func:`private_dir_ok`), checked once per process before they are first used.

    numba's cache folder (``NUMBA_CACHE_DIR``, else the ``__pycache__`` beside this package,
    where our callbacks' cache files go) that is not private is replaced, for this process and
    the processes it starts, by a private folder of ours (mode 0o700); PyTensor's numba cache
    (``<base_compiledir>/numba``) that is not private is turned off. Each refusal is one
    ``UserWarning`` naming the folder and the way out.
    """
    if _SECURED:
        return
    import warnings
    from pathlib import Path

    numba = sys.modules.get("numba")
    configured = numba.config.CACHE_DIR if numba is not None else os.environ.get(_NUMBA_ENV)
    folder = Path(configured) if configured else Path(__file__).parent / "__pycache__"
    if not configured and not _writable(folder):  # numba then caches in its user-wide folder
        cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        folder = Path(cache_home) / "numba"
    _SECURED.append(folder)
    if not private_dir_ok(folder):
        private = _private_numba_folder()
        os.environ[_NUMBA_ENV] = str(private)  # numba, when imported later, and child processes
        if numba is not None:
            numba.config.CACHE_DIR = str(private)
        warnings.warn(
            f"numba's cache folder {folder} is not private (owned by another user, or writable "
            f"by others, or below such a folder), so its files, which numba loads as pickles, "
            f"are not used: bayescale keeps numba's cache in {private} instead. Make the folder "
            f"yours and writable only by you (chmod go-w), or set {_NUMBA_ENV} to such a folder.",
            UserWarning,
            stacklevel=2,
        )
    try:
        import pytensor
    except ImportError:  # pragma: no cover - no PyTensor, no cache of it
        return
    folder = Path(pytensor.config.base_compiledir) / "numba"
    _SECURED.append(folder)
    if pytensor.config.numba__cache and not private_dir_ok(folder):
        pytensor.config.numba__cache = False
        warnings.warn(
            f"PyTensor's numba cache folder {folder} is not private (owned by another user, or "
            "writable by others, or below such a folder), so PyTensor's numba cache is off in "
            "this process: models compile without it. Make the folder yours and writable only by "
            "you (chmod go-w), or set PYTENSOR_FLAGS=base_compiledir=<a private folder>.",
            UserWarning,
            stacklevel=2,
        )


_NUMBA_ENV = "NUMBA_CACHE_DIR"


def _writable(folder: Any) -> bool:
    """Whether this process can write in ``folder`` (or create it in the nearest existing
    folder above it), as numba checks for a ``__pycache__`` beside the source."""
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK)


def _private_numba_folder() -> Any:
    """A numba cache folder private to this user: ``bayescale-numba-<uid>`` in the temporary
    folder if it is ours and private, else a fresh one from ``mkdtemp`` (mode 0o700)."""
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.gettempdir()) / f"bayescale-numba-{_current_uid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        if private_dir_ok(folder):
            return folder
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="bayescale-numba-"))
