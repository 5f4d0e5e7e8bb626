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

    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"cannot save a stack to {folder}: it is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    members = []
    for i, (name, member) in enumerate(stack.fits.items()):
        file = f"member_{i}.nc"
        member.save(str(folder / file))
        members.append(
            {
                "name": name,
                "file": file,
                "sha256": _sha256(folder / file),
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
    atomic_write_text(folder / STACK_FILE, json.dumps(meta, indent=2) + "\n")
    listed = {m["file"] for m in members}
    for stale in folder.glob("member_*.nc"):  # members of a larger stack saved here before
        if stale.name not in listed:
            stale.unlink()
    return str(folder)


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
    return cls(fits, weights, method=method)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
