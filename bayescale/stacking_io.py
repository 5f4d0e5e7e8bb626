"""Saving and reading a :class:`~bayescale.StackedFit`: a folder of member NetCDF files
(:meth:`Fit.save <bayescale.Fit.save>`) and a ``stack.json`` with the names, files and their
SHA-256, weights, method and bayescale version. Every file is written atomically
(:func:`bayescale.io.atomic_write_text`), ``stack.json`` last; reading checks every member
file's checksum before loading it."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from ._api import check_path
from ._stacking_common import _FORMAT, STACK_FILE

__all__ = ["read_stack", "save_stack"]


def save_stack(stack: Any, path: str | os.PathLike) -> str:
    """:meth:`StackedFit.save <bayescale.StackedFit.save>`: write ``stack`` to the folder
    ``path`` and return it."""
    from . import __version__
    from .io import atomic_write_text
    from .io_atomic import check_folder, check_target

    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"cannot save a stack to {folder}: it is not a folder")
    check_folder(folder, "the stack folder")  # read-only: refused before any member is written
    if (folder / STACK_FILE).exists():
        check_target(folder / STACK_FILE)
    folder.mkdir(parents=True, exist_ok=True)
    # Each member goes to a new file named by its content (member_<i>_<sha256[:16]>.nc), so the
    # files of a stack saved here before are not touched until stack.json names the new ones:
    # an error or an interrupt anywhere before that leaves the old stack whole.
    members, written = [], []
    try:
        for i, (name, member) in enumerate(stack.fits.items()):
            partial = folder / f"member_{i}.partial.nc"
            member.save(str(partial))
            written.append(partial)
            digest = _sha256(partial)
            file = f"member_{i}_{digest[:16]}.nc"
            os.replace(partial, folder / file)
            written[-1] = folder / file
            members.append(
                {
                    "name": name,
                    "file": file,
                    "sha256": digest,
                    "weight": float(stack.weights[name]),
                    "law": member.law.key,
                    "likelihood": member.likelihood.name,
                }
            )
        meta = {
            "format": _FORMAT,
            "bayescale_version": __version__,
            "method": stack.method,
            "members": members,
        }
        before = _listed(folder)
        atomic_write_text(folder / STACK_FILE, json.dumps(meta, indent=2) + "\n")
    except BaseException:
        for new in written:  # the old stack.json does not name them
            if new.name not in _listed(folder):
                new.unlink(missing_ok=True)
        raise
    listed = {m["file"] for m in members}
    for stale in folder.glob("member_*.nc"):  # the members of the stack saved here before
        if stale.name not in listed and (stale.name in before or _member_name(stale.name)):
            stale.unlink(missing_ok=True)
    return str(folder)


def _member_name(name: str) -> bool:
    """A file name this module writes for a member (old form member_<i>.nc included)."""
    return re.fullmatch(r"member_\d+(_[0-9a-f]{16}|\.partial)?\.nc", name) is not None


def _listed(folder: Path) -> set[str]:
    """The member files the folder's stack.json names (none when it is missing or bad)."""
    try:
        meta = json.loads((folder / STACK_FILE).read_text(encoding="utf-8"))
        return {str(m["file"]) for m in meta["members"]}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def read_stack(cls: Any, path: str | os.PathLike) -> Any:
    """:meth:`StackedFit.load <bayescale.StackedFit.load>`: read the folder ``path`` as a
    ``cls`` (a :class:`~bayescale.StackedFit`)."""
    from .io import load_fit

    folder = check_path(path)
    meta_path = folder / STACK_FILE
    if not meta_path.is_file():
        raise ValueError(f"{folder} is not a saved stack: {STACK_FILE} is missing")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        members = meta["members"]
        method = str(meta["method"])
        if meta.get("format") != _FORMAT:
            raise ValueError(f"unknown stack format {meta.get('format')!r}")
        entries = [(str(m["name"]), str(m["file"]), m["sha256"], m["weight"]) for m in members]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{meta_path}: not a valid stack description ({err})") from err
    fits, weights = {}, {}
    for name, file, digest, weight in entries:
        member_path = folder / file
        if Path(file).name != file or not re.fullmatch(r"[\w.-]+\.nc", file):
            raise ValueError(f"{meta_path}: member {name!r} has a bad file name {file!r}")
        if not member_path.is_file():
            raise ValueError(f"{folder}: the file {file} of member {name!r} is missing")
        if _sha256(member_path) != digest:
            raise ValueError(
                f"{folder}: the file {file} of member {name!r} does not match the SHA-256 "
                f"recorded in {STACK_FILE} (replaced or edited since the stack was saved)"
            )
        try:
            fits[name] = load_fit(member_path)
        except ValueError as err:
            raise ValueError(f"{folder}: member {name!r} cannot be loaded: {err}") from err
        weights[name] = weight
    try:
        return cls(fits, weights, method=method)
    except (ValueError, TypeError) as err:  # e.g. a weight edited to NaN or text
        raise type(err)(f"{meta_path}: not a valid stack description ({err})") from err


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
