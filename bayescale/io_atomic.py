"""Atomic writes: every file bayescale writes goes through :func:`atomic_write` (one file) or
:func:`atomic_write_all` (a bundle written as one), re-exported by :mod:`bayescale.io`.

The content is written to a temporary file in the target's folder and moved over the target
with ``os.replace`` only once it is complete, so a failure leaves the old file as it was and
no temporary behind.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._api import check_path

__all__ = [
    "atomic_write",
    "atomic_write_all",
    "atomic_write_text",
    "check_folder",
    "check_target",
]


@functools.cache
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_target(path: str | os.PathLike) -> Path:
    """The checks :func:`atomic_write` makes before writing, for callers that validate first:
    ``path`` is a str or path-like, not a folder, and its folder exists (bayescale does not
    create missing folders for a file: a typo in a folder name is an error, not a new tree).

    Examples
    --------
    >>> check_target("/no/such/folder/fit.nc")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: cannot write /no/such/folder/fit.nc: the folder /no/such/folder does ...
    """
    if not isinstance(path, str | os.PathLike) or (isinstance(path, str) and not path.strip()):
        raise TypeError(f"the output path must be a non-empty str or path-like, got {path!r}")
    target = check_path(path, "the output path")  # no NUL, no name beyond 255 bytes
    if target.is_dir():
        raise IsADirectoryError(f"cannot write {target}: it is a directory")
    parent = target.parent
    if parent.exists() and not parent.is_dir():
        raise NotADirectoryError(f"cannot write {target}: {parent} is not a directory")
    if not parent.exists():
        raise FileNotFoundError(
            f"cannot write {target}: the folder {parent} does not exist; create it first "
            f"(mkdir -p {parent})"
        )
    if not _writable(parent):
        raise PermissionError(
            f"cannot write {target}: the folder {parent} is read-only ({_mode(parent)}); "
            f"make it writable (chmod u+w {parent}) or choose another folder"
        )
    if target.exists() and not _writable(target):
        raise PermissionError(
            f"cannot write {target}: the file is read-only ({_mode(target)}), so it is left as "
            f"it is; make it writable (chmod u+w {target}) or choose another name"
        )
    return target


def check_folder(path: str | os.PathLike, what: str = "the output folder") -> Path:
    """A folder bayescale may write files into (a report bundle, a stack): ``path`` is not a
    file, and the folder — or, when it does not exist yet, the nearest folder above it that
    does, where it would be created — is writable. Read-only means the permission bits for
    root (who may write anywhere: the bits are what the owner asked for), access otherwise.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> os.chmod(folder, 0o555)
    >>> check_folder(os.path.join(folder, "report"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    PermissionError: cannot write the output folder .../report: the folder ... is read-only ...
    >>> os.chmod(folder, 0o755)
    """
    if not isinstance(path, str | os.PathLike) or not str(path).strip():
        raise TypeError(f"{what} must be a folder path, got {path!r}")
    folder = check_path(path, what)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"cannot write {what} {folder}: it is a file, not a folder")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"cannot write {what} {folder}: {existing} is not a folder")
    if not _writable(existing):
        raise PermissionError(
            f"cannot write {what} {folder}: the folder {existing} is read-only "
            f"({_mode(existing)}); make it writable (chmod u+w {existing}) or choose another "
            "folder"
        )
    return folder


def _writable(path: Path) -> bool:
    """Whether ``path`` (a file or a folder) may be written: for root, whom the system lets
    write anywhere, its permission bits (a file or folder made read-only is meant to stay as
    it is); for anyone else, :func:`os.access`."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return True  # gone or unreadable: the write itself reports it
    if getattr(os, "geteuid", lambda: -1)() == 0:
        return bool(mode & 0o222)
    return os.access(path, os.W_OK | (os.X_OK if path.is_dir() else 0))


def _mode(path: Path) -> str:
    try:
        return f"mode {path.stat().st_mode & 0o777:o}"
    except OSError:
        return "mode unknown"


def atomic_write(path: str | os.PathLike, writer: Callable[[str], Any]) -> str:
    """Write ``path`` all at once: ``writer(tmp)`` fills a temporary file, which then replaces it.

    The temporary file is made with :func:`tempfile.mkstemp` in the target's folder (which must
    exist: see :func:`check_target`) and keeps the target's extension, so writers that read the
    format from the name (matplotlib, xarray) work. Only when ``writer`` returns is the file
    flushed to disk and moved over ``path`` with :func:`os.replace`; if anything fails the
    temporary is removed, the error propagates and an existing ``path`` is left untouched (a
    full disk or the file-size limit gives one ``OSError`` naming the path, not a crash). The
    new file gets the old one's permissions (the usual ``0o666 & ~umask`` for a new file).

    A symlink at ``path`` stays a link: the file it points to is what gets replaced (in that
    file's folder).

    Returns the path as a string.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> path = atomic_write(os.path.join(folder, "a.txt"), lambda tmp: open(tmp, "w").write("hi"))
    >>> open(path).read(), os.listdir(folder)
    ('hi', ['a.txt'])
    >>> def broken(tmp):
    ...     open(tmp, "w").write("half")
    ...     raise RuntimeError("disk full")
    >>> atomic_write(path, broken)
    Traceback (most recent call last):
    ...
    RuntimeError: disk full
    >>> open(path).read(), os.listdir(folder)
    ('hi', ['a.txt'])
    """
    return atomic_write_all([(path, writer)])[0]


def atomic_write_all(files: Sequence[tuple[str | os.PathLike, Callable[[str], Any]]]) -> list[str]:
    """Write several files as one (a report bundle): each ``(path, writer)`` is written whole
    to a temporary beside its target first (as :func:`atomic_write`); only when every one is
    written are they moved into place, one ``os.replace`` after another. A failure or an
    interrupt while writing (a figure that cannot be drawn, a full disk) leaves every old file
    as it was and no temporary behind. Returns the paths.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> def text(s):
    ...     return lambda tmp: open(tmp, "w").write(s)
    >>> paths = atomic_write_all([(os.path.join(folder, n), text(n)) for n in ("a", "b")])
    >>> def broken(tmp):
    ...     raise RuntimeError("disk full")
    >>> atomic_write_all([(paths[0], text("new")), (paths[1], broken)])
    Traceback (most recent call last):
    ...
    RuntimeError: disk full
    >>> [open(p).read() for p in paths], sorted(os.listdir(folder))
    (['a', 'b'], ['a', 'b'])
    """
    staged: list[tuple[str, Path, str]] = []
    try:
        for path, writer in files:
            staged.append(_stage(path, writer))
        for tmp, target, _ in staged:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    return [given for _, _, given in staged]


def _stage(path: str | os.PathLike, writer: Callable[[str], Any]) -> tuple[str, Path, str]:
    """``writer``'s file written whole to a temporary beside the target, not yet in place:
    (temporary, target, the path as given)."""
    given = check_target(path)
    # a symlink keeps pointing where it did: the file it names is replaced, not the link
    target = check_target(os.path.realpath(given)) if given.is_symlink() else given
    parent = target.parent
    mode = (target.stat().st_mode & 0o7777) if target.exists() else (0o666 & ~_umask())
    try:
        fd, tmp = tempfile.mkstemp(
            dir=parent, prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}"
        )
    except OSError as err:
        raise type(err)(
            err.errno,
            f"cannot write {target}: the folder {parent} does not accept a new file "
            f"({err.strerror}); choose a folder you can write to",
        ) from None
    os.close(fd)
    try:
        with _no_size_signal():
            writer(tmp)
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError) and err.errno in _DISK_ERRORS:
            raise OSError(
                err.errno,
                f"cannot write {target}: {_DISK_ERRORS[err.errno]} ({os.strerror(err.errno)}); "
                f"nothing was changed{' (the old file is intact)' if target.exists() else ''}",
            ) from None
        raise
    return tmp, target, str(given)


#: errors of a full disk or a size limit, and what they mean for the user
_DISK_ERRORS = {
    errno.EFBIG: "the file would exceed the size limit for files (ulimit -f)",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exceeded",
}


@contextlib.contextmanager
def _no_size_signal() -> Any:
    """Ignore SIGXFSZ while writing, so a write past the file-size limit raises OSError (EFBIG)
    instead of killing the process (Python ignores it by default; an embedding program may not).
    Signal handlers can only be changed in the main thread; elsewhere nothing changes."""
    sig = getattr(signal, "SIGXFSZ", None)
    if sig is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(sig, previous)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> str:
    """:func:`atomic_write` of a text file.

    Examples
    --------
    >>> import tempfile, os
    >>> p = atomic_write_text(os.path.join(tempfile.mkdtemp(), "t.md"), "# title\\n")
    >>> open(p).read()
    '# title\\n'
    """

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding=encoding, newline="") as handle:
            handle.write(text)

    return atomic_write(path, write)
