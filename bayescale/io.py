"""Files you can trust: atomic writes, and fits saved as NetCDF with checksums.

Every file bayescale writes (a saved fit, an exported table, the command line's ``--out``, a
report bundle) goes through :func:`atomic_write`: the content is written to a temporary file in
the target's folder and moved over the target with ``os.replace`` only once it is complete, so
a failure leaves the old file as it was and no temporary behind.

A fit is an ArviZ DataTree written with h5netcdf. The root attributes record the law's name,
version and options, the likelihood, every prior (JSON), the reference scales and the sampler
settings; the runs sit in ``constant_data`` and ``observed_data``. Saving also records a SHA-256
checksum of every group's values (posterior, sample stats, data) and of the fit's definition,
and a fingerprint of the law (:func:`law_fingerprint`). Loading looks the law up in the
registry, refuses a law or version that is not registered, and refuses a file that is
corrupt, truncated or edited, or whose law's code has changed since, with one error naming the
path and the problem. Nothing is pickled.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import os
import textwrap
import types
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .fit import Fit
from .io_atomic import (  # noqa: F401  (re-exported: the one way bayescale writes a file)
    _DISK_ERRORS,
    _no_size_signal,
    _stage,
    _umask,
    atomic_write,
    atomic_write_all,
    atomic_write_text,
    check_folder,
    check_target,
)
from .law import ScalingLaw, get_law
from .likelihoods import get_likelihood
from .pooling import Pooling
from .priors import Prior
from .structure import Structure

__all__ = [
    "atomic_write",
    "atomic_write_all",
    "atomic_write_text",
    "law_fingerprint",
    "load_fit",
    "save_fit",
]

FORMAT = "bayescale-fit/2"
#: written before checksums were recorded: loaded, with a warning that they cannot be verified
LEGACY_FORMATS = ("bayescale-fit/1",)
#: root attributes that define the fit (covered by the definition checksum)
DEFINITION_ATTRS = (
    "bayescale_law",
    "bayescale_law_version",
    "bayescale_law_options",
    "bayescale_law_fingerprint",
    "bayescale_likelihood",
    "bayescale_priors",
    "bayescale_reference",
    "bayescale_sampler",
    "bayescale_random_seed",
    "bayescale_structure",
    "bayescale_pooling",
)
_REQUIRED_ATTRS = ("bayescale_law", "bayescale_law_version", "bayescale_likelihood")
_REQUIRED_ATTRS += ("bayescale_priors", "bayescale_reference")


# ---------------------------------------------------------------------------------- checksums
def _canonical_bytes(values: Any) -> bytes:
    """Bytes of an array that survive a NetCDF round trip unchanged (dtype widths normalised,
    text as JSON, every NaN the same NaN)."""
    arr = np.asarray(values)
    kind = arr.dtype.kind
    if kind in "OUS":
        items = [v.decode() if isinstance(v, bytes) else str(v) for v in arr.ravel().tolist()]
        return json.dumps(items).encode()
    if kind == "b":
        arr = arr.astype(np.uint8)
    elif kind in "iu":
        arr = arr.astype(np.int64)
    elif kind == "f":
        arr = arr.astype(np.float64)
        arr = np.where(np.isnan(arr), np.nan, arr)
    elif kind == "c":
        arr = arr.astype(np.complex128)
    elif kind in "mM":
        arr = arr.view(np.int64)
    return np.ascontiguousarray(arr).tobytes()


def data_checksums(tree: xr.DataTree) -> dict[str, str]:
    """SHA-256 of the values of each group of ``tree`` (data variables and coordinates).

    Examples
    --------
    >>> import bayescale as bs
    >>> sums = data_checksums(bs.testing.pinned_fit(random_seed=0).idata)
    >>> sorted(sums)[:2], len(sums["/posterior"])
    (['/constant_data', '/log_likelihood'], 64)
    """
    sums = {}
    for node in tree.subtree:
        ds = node.to_dataset(inherit=False)
        if not ds.variables:
            continue
        digest = hashlib.sha256()
        for name in sorted(ds.variables, key=str):
            var = ds.variables[name]
            digest.update(json.dumps([str(name), list(var.dims), list(var.shape)]).encode())
            digest.update(_canonical_bytes(var.values))
        sums[node.path] = digest.hexdigest()
    return sums


def _definition_checksum(attrs: Any) -> str:
    fields = {k: str(attrs[k]) for k in DEFINITION_ATTRS if k in attrs}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _code_text(obj: Any) -> str:
    """Source of a function (dedented), or a stable description of its code when the source
    cannot be read (a function typed at an interactive prompt)."""
    if obj is None:
        return "None"
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        pass
    code = getattr(obj, "__code__", None)
    if code is None:
        return f"{type(obj).__module__}.{type(obj).__qualname__}"

    def describe(c: types.CodeType) -> list:
        consts = [describe(k) if isinstance(k, types.CodeType) else repr(k) for k in c.co_consts]
        return [c.co_code.hex(), consts, list(c.co_names), list(c.co_varnames)]

    return json.dumps(describe(code))


def law_fingerprint(law: ScalingLaw) -> str:
    """SHA-256 of a law's identity: name, version, options and the source of its ``expression``
    and ``natural`` functions. Saved with a fit; loading refuses a law whose fingerprint differs.

    Examples
    --------
    >>> import bayescale as bs
    >>> len(law_fingerprint(bs.get_law("chinchilla")))
    64
    >>> law_fingerprint(bs.get_law("power_law", x="N")) != law_fingerprint(
    ...     bs.get_law("power_law", x="C"))
    True
    """
    identity = {
        "name": law.name,
        "version": str(law.version),
        "options": json.dumps(law.options, sort_keys=True, default=str),
        "expression": _code_text(law.expression),
        "natural": _code_text(law.natural),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------------------------- fits
#: Extensions of other formats, refused by :func:`save_fit` (a fit is NetCDF).
_NOT_NETCDF = frozenset({".csv", ".json", ".md", ".tex", ".txt", ".png", ".svg", ".pdf", ".html"})


def check_fit_path(path: Any) -> None:
    """A name a fit can be saved under: a str or path-like without another format's extension
    (checked by :func:`save_fit`, and by ``bayescale fit --out`` before it samples)."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"Fit.save: path must be a str or path-like, got {path!r}")
    if Path(path).suffix.lower() in _NOT_NETCDF:
        raise ValueError(
            f"{path}: Fit.save writes NetCDF, not {Path(path).suffix}: name the file "
            f"{Path(path).stem}.nc "
            "(bs.export_summary writes tables)"
        )


def save_fit(fit: Fit, path: str | os.PathLike) -> str:
    """Write ``fit`` to ``path`` (NetCDF4/HDF5) atomically. Returns the path as a string.

    The fit is checked first (a :class:`Fit` with a posterior and its data; ``path`` not a
    folder); the file is written beside ``path``, read back and compared with the checksums
    before it replaces ``path``, so an existing file is replaced only by a complete, verified
    one.
    """
    check_fit_path(path)
    if not isinstance(fit, Fit):
        raise TypeError(f"save_fit takes a bayescale.Fit, got {type(fit).__name__}")
    path = check_target(path)
    missing = [g for g in ("posterior", "constant_data") if g not in fit.idata.children]
    if missing:
        raise ValueError(f"cannot save the fit to {path}: its DataTree has no {missing} group")
    tree = fit.idata.copy()
    tree.attrs.update(
        {
            "bayescale_format": FORMAT,
            "bayescale_version": _package_version(),
            "bayescale_law": fit.law.name,
            "bayescale_law_version": fit.law.version,
            "bayescale_law_options": json.dumps(fit.law.options, sort_keys=True),
            "bayescale_law_fingerprint": law_fingerprint(fit.law),
            "bayescale_likelihood": fit.likelihood.name,
            "bayescale_priors": json.dumps({k: v.to_dict() for k, v in fit.priors.items()}),
            "bayescale_reference": json.dumps(fit.reference),
            "bayescale_sampler": fit.sampler,
            "bayescale_timings": json.dumps(fit.timings),
            "bayescale_structure": json.dumps(fit.structure.to_dict()),
        }
    )
    if fit.pooling is not None:
        tree.attrs["bayescale_pooling"] = json.dumps(fit.pooling.to_dict())
    else:
        tree.attrs.pop("bayescale_pooling", None)
    if fit.random_seed is not None:
        tree.attrs["bayescale_random_seed"] = int(fit.random_seed)
    else:
        tree.attrs.pop("bayescale_random_seed", None)
    checksums = {"data": data_checksums(tree), "definition": _definition_checksum(tree.attrs)}
    tree.attrs["bayescale_checksums"] = json.dumps(checksums, sort_keys=True)

    # The NetCDF image is made and verified in memory; only plain bytes go to disk. HDF5
    # writing straight to a file cannot fail cleanly: when the disk is full or the file-size
    # limit (RLIMIT_FSIZE) is reached, h5py raises and then crashes the process while closing
    # the half-written file. A plain write raises OSError (ENOSPC, EFBIG) and atomic_write
    # removes the temporary, so the old file stays as it was.
    buffer = io.BytesIO()
    tree.to_netcdf(buffer, engine="h5netcdf")
    image = buffer.getvalue()
    with xr.open_datatree(io.BytesIO(image), engine="h5netcdf") as handle:
        back = handle.load()
    problem = _checksum_problem(back, checksums)
    if problem:  # a value NetCDF cannot hold as it is: refuse rather than save it changed
        raise ValueError(f"cannot save the fit to {path}: written and read back, {problem}")

    return atomic_write(path, lambda tmp: _write_bytes(tmp, image))


def _write_bytes(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


def _checksum_problem(tree: xr.DataTree, expected: dict[str, Any]) -> str:
    """What differs between ``tree`` and the recorded checksums ("" when nothing does)."""
    found = data_checksums(tree)
    recorded = expected.get("data", {})
    changed = sorted(g for g in set(found) | set(recorded) if found.get(g) != recorded.get(g))
    if changed:
        names = ", ".join(g.strip("/") or "root" for g in changed)
        return f"the values in {names} do not match the checksum recorded when it was saved"
    if _definition_checksum(tree.attrs) != expected.get("definition"):
        return (
            "the fit's definition (law, priors, likelihood, reference scales, structure) does "
            "not match the checksum recorded when it was saved"
        )
    return ""


def _walk_hdf5(path: Path) -> None:
    """Read every object's metadata with h5py, so that a damaged file fails here, cleanly,
    rather than half-way through h5netcdf opening it."""
    import h5py

    def visit(name: str, obj: Any) -> None:
        dict(obj.attrs)

    with h5py.File(path, "r") as handle:
        dict(handle.attrs)
        handle.visititems(visit)


def _reason(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def load_fit(path: str | os.PathLike, *, verify_law: bool = True) -> Fit:
    """Read a fit written by :func:`save_fit`.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        One message naming ``path`` and the problem: not a readable NetCDF file (corrupt or
        truncated), not a bayescale fit, a law or version that is not registered, values or
        definition that do not match the checksums recorded at saving (an edited or damaged
        file), or a registered law whose code differs from the one the fit was made with
        (``verify_law=False`` loads it anyway, with a warning).
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"load_fit: path must be a str or path-like, got {path!r}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no fit file at {path}")
    if path.is_dir():
        raise IsADirectoryError(f"cannot load {path}: it is a directory, not a fit file")
    try:
        _walk_hdf5(path)
        with xr.open_datatree(path, engine="h5netcdf") as handle:
            tree = handle.load()
    except Exception as err:  # h5py/h5netcdf/xarray raise OSError, ValueError, KeyError, ...
        raise ValueError(
            f"cannot load {path}: not a readable NetCDF fit file (corrupt or truncated?): "
            f"{_reason(err)}"
        ) from None
    try:
        return _fit_from_tree(tree, path, verify_law)
    except (KeyError, TypeError, json.JSONDecodeError) as err:
        raise ValueError(
            f"cannot load {path}: the file is damaged or was edited: {_reason(err)}"
        ) from None


def _fit_from_tree(tree: xr.DataTree, path: Path, verify_law: bool) -> Fit:
    attrs = tree.attrs
    fmt = attrs.get("bayescale_format")
    if fmt != FORMAT and fmt not in LEGACY_FORMATS:
        raise ValueError(
            f"{path} was not written by bayescale's Fit.save (format {fmt!r}, expected {FORMAT!r})"
        )
    missing = [k for k in _REQUIRED_ATTRS if k not in attrs]
    missing_groups = [g for g in ("posterior", "constant_data") if g not in tree.children]
    if missing or missing_groups:
        raise ValueError(
            f"cannot load {path}: the file is damaged or was edited: it lacks "
            + ", ".join(
                [*(f"attribute {k}" for k in missing), *(f"group {g}" for g in missing_groups)]
            )
        )
    name, version = str(attrs["bayescale_law"]), str(attrs["bayescale_law_version"])
    options = json.loads(attrs.get("bayescale_law_options", "{}"))
    try:
        law = get_law(name, version=version, **options)
    except ValueError as err:
        raise ValueError(
            f"cannot load {path}: it was fitted with law {name!r} version {version!r}, "
            f"which is not registered here ({err}). Register the same law definition with "
            "bayescale.register_law before loading."
        ) from None
    if fmt == FORMAT:
        if "bayescale_checksums" not in attrs:
            raise ValueError(
                f"cannot load {path}: it has no checksum (attribute bayescale_checksums); the "
                "file was edited or not written by Fit.save"
            )
        problem = _checksum_problem(tree, json.loads(attrs["bayescale_checksums"]))
        if problem:
            raise ValueError(
                f"cannot load {path}: {problem}: the file is corrupt or was edited; restore "
                "it from a copy or fit again"
            )
        if attrs.get("bayescale_law_fingerprint") != law_fingerprint(law):
            message = (
                f"cannot load {path}: law {law.key} registered here differs from the one the "
                "fit was made with (the code of its expression or natural function, or its "
                "options, changed); register the original definition, or give the changed law "
                "a new version"
            )
            if verify_law:
                raise ValueError(message + " (load_fit(path, verify_law=False) skips this check)")
            warnings.warn(message.replace("cannot load", "loading"), UserWarning, stacklevel=3)
    else:
        warnings.warn(
            f"{path} was written by an older bayescale ({fmt}) without checksums: its contents "
            "cannot be verified; save it again to add them",
            UserWarning,
            stacklevel=3,
        )
    try:
        likelihood = get_likelihood(str(attrs["bayescale_likelihood"]))
    except ValueError as err:
        raise ValueError(f"cannot load {path}: {err}") from None
    try:
        priors = {  # a shape saved by an older version: the law gives it now
            k: Prior.from_dict({a: b for a, b in v.items() if a not in ("shape", "size")})
            for k, v in json.loads(attrs["bayescale_priors"]).items()
        }
    except ValueError as err:
        raise ValueError(f"cannot load {path}: its priors are not valid: {err}") from None
    try:
        structure = Structure.from_dict(json.loads(attrs.get("bayescale_structure", "{}")))
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"cannot load {path}: its structure is not valid: {err}") from None
    try:
        raw = attrs.get("bayescale_pooling")
        pooling = Pooling.from_dict(json.loads(raw)) if raw else None
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"cannot load {path}: its pooling is not valid: {err}") from None
    expected = (
        set(law.parameter_names) | set(likelihood.noise_priors) | set(structure.default_priors())
    )
    if pooling is not None:
        expected |= {f"{n}_tau" for n in pooling.names("partial")}
    if set(priors) != expected:
        raise ValueError(
            f"cannot load {path}: its priors name {sorted(priors)}, but {law.key} with the "
            f"{likelihood.name} likelihood has parameters {sorted(expected)}"
        )
    reference = json.loads(attrs["bayescale_reference"])
    const = tree["constant_data"].to_dataset()
    index = pd.Index(const["run"].to_numpy(), name=None)
    columns = [*law.inputs, law.output, *likelihood.extra_columns]
    data = pd.DataFrame(
        {k: np.asarray(const[k].to_numpy(), dtype=float) for k in dict.fromkeys(columns)},
        index=index,
    )
    for g in structure.groupings:
        if g.column not in data.columns and not (g.column == "C" and {"N", "D"} <= set(data)):
            codes = np.asarray(const[g.index_name].to_numpy(), dtype=np.int64)
            data[g.column] = np.asarray(g.labels, dtype=object)[codes]
    if pooling is not None and pooling.column not in data.columns:
        codes = np.asarray(const[pooling.index_name].to_numpy(), dtype=np.int64)
        data[pooling.column] = np.asarray(pooling.labels, dtype=object)[codes]
    seed = attrs.get("bayescale_random_seed")
    timings = json.loads(attrs.get("bayescale_timings", "{}"))
    sampler = str(attrs.get("bayescale_sampler", "nutpie"))
    for key in list(tree.attrs):
        if key.startswith("bayescale_") and key not in (
            "bayescale_law",
            "bayescale_law_version",
            "bayescale_law_options",
            "bayescale_likelihood",
            "bayescale_sampler",
            "bayescale_random_seed",
            "bayescale_tune_steps",
            "bayescale_sampler_options",
            "bayescale_structure",
            "bayescale_pooling",
        ):
            del tree.attrs[key]
    return Fit(
        law,
        likelihood,
        priors,
        data,
        reference,
        tree,
        timings=timings,
        sampler=sampler,
        random_seed=None if seed is None else int(seed),
        structure=structure,
        pooling=pooling,
    )


def _package_version() -> str:
    """bayescale's version (read when a fit is saved, not when this module is imported)."""
    from . import __version__

    return __version__
