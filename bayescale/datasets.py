"""Real scaling-law datasets with pinned provenance and checksum verification.

Every dataset is described by a :class:`DatasetInfo` entry in a small registry: the public
repository and commit it comes from, the file(s) with their SHA-256 sums, what the columns mean
and a few reference notes. :func:`load_dataset` finds each file locally, in a user cache, or by
downloading it from the pinned commit, verifies its checksum, and returns a
:class:`pandas.DataFrame` whose first columns follow a common naming scheme:

``N``
    model parameters
``D``
    training tokens (or training examples)
``C``
    training compute in FLOPs
``loss``
    the loss being modelled (nats/token unless stated otherwise)

followed by the columns of the source file, unchanged.

File search order (per file)
----------------------------
1. ``data_dir`` argument, else the ``BAYESCALE_DATA_DIR`` environment variable (several folders
   may be given, separated by :data:`os.pathsep`): ``<dir>/<dataset>/<file>``.
2. The user cache: ``cache_dir`` argument, else ``BAYESCALE_CACHE_DIR``, else
   ``$XDG_CACHE_HOME/bayescale/data``, else ``~/.cache/bayescale/data``:
   ``<cache>/<dataset>/<file>``.
3. A download from ``https://raw.githubusercontent.com/{repo}/{commit}/{path}`` (the base URL can
   be replaced with ``BAYESCALE_DATA_URL``). The file is written to the cache only after its
   SHA-256 sum has been checked.

Adding a dataset means adding one :class:`DatasetInfo` entry to ``_REGISTRY`` (plus, usually, a
short function that adds the canonical columns).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "DataFile",
    "DatasetError",
    "DatasetInfo",
    "TableInfo",
    "data_dir_search_path",
    "dataset_info",
    "list_datasets",
    "load_dataset",
]

#: Environment variable naming local data folder(s) laid out as ``<dir>/<dataset>/<file>``.
DATA_DIR_ENV = "BAYESCALE_DATA_DIR"
#: Environment variable overriding the cache folder.
CACHE_DIR_ENV = "BAYESCALE_CACHE_DIR"
#: Environment variable overriding the download base URL.
DATA_URL_ENV = "BAYESCALE_DATA_URL"
#: Default download base URL; files are fetched from ``{base}/{repo}/{commit}/{path}``.
DEFAULT_DATA_URL = "https://raw.githubusercontent.com"
#: Network timeout in seconds for a single download.
DOWNLOAD_TIMEOUT = 30.0
#: Refuse downloads larger than this many bytes (all registered files are far smaller).
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024


from .dataset_catalog import (  # noqa: E402
    _BY_NAME,
    _REGISTRY,
    DataFile,
    DatasetError,
    DatasetInfo,
    TableInfo,
    _suggest,
)

# --------------------------------------------------------------------------------------------
# Locating, downloading and verifying files
# --------------------------------------------------------------------------------------------


def _lookup(name: str) -> DatasetInfo:
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        choices = list(_BY_NAME)
        raise ValueError(
            f"unknown dataset {name!r}{_suggest(str(name), choices)}; "
            f"available datasets: {', '.join(choices)}"
        ) from None


def _local_dirs(data_dir: str | os.PathLike[str] | None) -> list[tuple[Path, str]]:
    if data_dir is not None:
        return [(Path(data_dir).expanduser(), "data_dir argument")]
    env = os.environ.get(DATA_DIR_ENV, "")
    return [
        (Path(part).expanduser(), DATA_DIR_ENV) for part in env.split(os.pathsep) if part.strip()
    ]


def _cache_root(cache_dir: str | os.PathLike[str] | None) -> tuple[Path, str]:
    if cache_dir is not None:
        return Path(cache_dir).expanduser(), "cache_dir argument"
    env = os.environ.get(CACHE_DIR_ENV, "")
    if env.strip():
        return Path(env).expanduser(), CACHE_DIR_ENV
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg.strip():
        return Path(xdg).expanduser() / "bayescale" / "data", "XDG_CACHE_HOME"
    return Path.home() / ".cache" / "bayescale" / "data", "default cache"


def _base_url() -> str:
    return (os.environ.get(DATA_URL_ENV, "").strip() or DEFAULT_DATA_URL).rstrip("/")


def _file_url(info: DatasetInfo, dfile: DataFile) -> str | None:
    """URL of the upstream file (the derivation source for derived files), or None."""
    if dfile.derived and dfile.rebuild is None:
        return None
    return f"{_base_url()}/{info.repo}/{info.commit}/{urllib.parse.quote(dfile.path)}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check(info: DatasetInfo, dfile: DataFile, data: bytes, origin: str, hint: str = "") -> None:
    actual = _sha256(data)
    if actual != dfile.sha256:
        raise DatasetError(
            f"SHA-256 mismatch for {info.name}/{dfile.filename} ({origin}):\n"
            f"  expected {dfile.sha256}\n  actual   {actual}\n"
            f"The file is corrupted or not the pinned version "
            f"({info.repo}@{info.commit[:12]}).{hint}"
        )


def _fetch(url: str, timeout: float) -> bytes:
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {scheme!r} (set {DATA_URL_ENV} to http(s)://)")
    request = urllib.request.Request(url, headers={"User-Agent": "bayescale-datasets"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data = response.read(MAX_DOWNLOAD_BYTES + 1)
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise ValueError(f"response larger than {MAX_DOWNLOAD_BYTES} bytes")
    return data


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read_file(
    info: DatasetInfo,
    dfile: DataFile,
    *,
    data_dir: str | os.PathLike[str] | None,
    cache_dir: str | os.PathLike[str] | None,
    download: bool,
) -> tuple[bytes, str]:
    """Return the verified bytes of one file and a description of where they came from."""
    searched: list[str] = []
    local_dirs = _local_dirs(data_dir)
    if not local_dirs:
        searched.append(f"local data folder: none ({DATA_DIR_ENV} is not set)")
    for folder, label in local_dirs:
        candidate = folder / info.name / dfile.filename
        if candidate.is_file():
            data = candidate.read_bytes()
            _check(info, dfile, data, f"read from {candidate}, via {label}")
            return data, str(candidate)
        searched.append(f"{candidate} ({label}): not found")

    cache, cache_label = _cache_root(cache_dir)
    cached = cache / info.name / dfile.filename
    if cached.is_file():
        data = cached.read_bytes()
        _check(info, dfile, data, f"read from cache {cached}", hint=" Delete it to fetch it again.")
        return data, str(cached)
    searched.append(f"{cached} (cache, {cache_label}): not found")

    fix = (
        f"To fix: set {DATA_DIR_ENV} (or pass data_dir=...) to a folder containing "
        f"{info.name}/{dfile.filename}"
    )
    where = "Searched:\n" + "\n".join(f"  - {s}" for s in searched)
    need = (
        f"Dataset {info.name!r} needs a local copy of {dfile.filename!r}: this file is derived, "
        f"not stored upstream ({info.repo}@{info.commit[:12]}:{dfile.path}). {dfile.derivation}"
    )
    url = _file_url(info, dfile)
    if url is None:
        raise DatasetError(f"{need} It cannot be downloaded.\n{where}\n{fix}.")
    if not download:
        if dfile.derived:
            raise DatasetError(
                f"{need} Rebuilding it from {url} needs download=True.\n{where}\n{fix}."
            )
        raise DatasetError(
            f"Dataset file {info.name}/{dfile.filename} not found locally and download=False.\n"
            f"{where}\n{fix}, or call load_dataset(..., download=True) to fetch {url}."
        )
    try:
        payload = _fetch(url, DOWNLOAD_TIMEOUT)
    except Exception as exc:  # any failure becomes a DatasetError with context
        network = (
            f"check your network connection ({DATA_URL_ENV} overrides the base URL "
            f"{DEFAULT_DATA_URL})"
        )
        if dfile.derived:
            raise DatasetError(
                f"{need} Rebuilding it from {url} failed: {exc}\n{where}\n{fix}, or {network}."
            ) from exc
        raise DatasetError(
            f"Dataset file {info.name}/{dfile.filename} not found locally and the download from "
            f"{url} failed: {exc}\n{where}\n{fix}, or {network}."
        ) from exc

    data = payload
    if dfile.derived and dfile.rebuild is not None:
        try:
            data = dfile.rebuild(payload)
        except Exception as exc:
            raise DatasetError(f"{need} Rebuilding it from {url} failed: {exc}\n{fix}.") from exc
        origin = f"rebuilt from {url}"
    else:
        origin = f"downloaded from {url}"
    _check(info, dfile, data, origin, hint=" Nothing was written to the cache.")
    try:
        _write_atomic(cached, data)
    except OSError as exc:
        warnings.warn(
            f"could not write {cached} to the cache ({exc}); the data is used without caching",
            RuntimeWarning,
            stacklevel=3,
        )
        return data, origin
    return data, str(cached)


def _parse_csv(data: bytes, where: str) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(data))
    except Exception as exc:  # checksum passed: a reader problem
        raise DatasetError(f"could not parse {where} as CSV: {exc}") from exc


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def data_dir_search_path(
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Return the folders searched for dataset files, in order.

    Each folder is expected to hold ``<dataset>/<file>``. The list is the local data folder(s)
    (``data_dir`` or ``BAYESCALE_DATA_DIR``) followed by the cache folder (``cache_dir``,
    ``BAYESCALE_CACHE_DIR``, ``$XDG_CACHE_HOME/bayescale/data`` or ``~/.cache/bayescale/data``).
    Files missing from all of them are downloaded into the cache folder.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Local data folder; overrides ``BAYESCALE_DATA_DIR``.
    cache_dir : str or path-like, optional
        Cache folder; overrides ``BAYESCALE_CACHE_DIR`` and the defaults.

    Returns
    -------
    list of pathlib.Path
        Folders in search order (they need not exist).

    Examples
    --------
    >>> from bayescale.datasets import data_dir_search_path
    >>> data_dir_search_path(data_dir="/data", cache_dir="/tmp/cache")
    [PosixPath('/data'), PosixPath('/tmp/cache')]
    """
    return [folder for folder, _ in _local_dirs(data_dir)] + [_cache_root(cache_dir)[0]]


def dataset_info(name: str) -> DatasetInfo:
    """Return the provenance record of a registered dataset.

    Parameters
    ----------
    name : str
        Dataset name, as listed by :func:`list_datasets`.

    Returns
    -------
    DatasetInfo
        Frozen record: upstream repo, commit, file paths and SHA-256 sums, column meanings,
        tables, reference notes and whether the data is derived.

    Raises
    ------
    ValueError
        If ``name`` is not registered (the message lists the available names).

    Examples
    --------
    >>> from bayescale.datasets import dataset_info
    >>> info = dataset_info("chinchilla_besiroglu2024")
    >>> info.repo, info.files[0].path
    ('epoch-research/analyzing-chinchilla', 'data/svg_extracted_data.csv')
    >>> info.canonical_columns
    ('N', 'C', 'D', 'loss')
    """
    return _lookup(name)


def list_datasets() -> pd.DataFrame:
    """Describe every registered dataset, one row each (no files are read).

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``title``, ``citation``, ``paper``, ``repo``, ``commit``,
        ``license``, ``files``, ``tables``, ``default_table``, ``n_rows`` (of the default
        table), ``canonical_columns``, ``derived`` and ``description``. ``files``, ``tables``
        and ``canonical_columns`` are comma-separated strings.

    Examples
    --------
    >>> from bayescale.datasets import list_datasets
    >>> table = list_datasets()
    >>> int(table.set_index("name").loc["chinchilla_besiroglu2024", "n_rows"])
    245
    """
    rows = [
        {
            "name": info.name,
            "title": info.title,
            "citation": info.citation,
            "paper": info.paper,
            "repo": info.repo,
            "commit": info.commit,
            "license": info.license,
            "files": ", ".join(f.filename for f in info.files),
            "tables": ", ".join(t.name for t in info.tables),
            "default_table": info.default_table,
            "n_rows": info.n_rows,
            "canonical_columns": ", ".join(info.canonical_columns),
            "derived": info.derived,
            "description": info.description,
        }
        for info in _REGISTRY
    ]
    return pd.DataFrame(rows)


_OPTIONS = ("table",)


def load_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    raw: bool = False,
    **options: Any,
) -> pd.DataFrame:
    """Load a registered dataset as a DataFrame, verifying every file's SHA-256 sum.

    Each file is looked for in ``data_dir`` (or ``BAYESCALE_DATA_DIR``) as
    ``<dir>/<name>/<file>``, then in the cache folder, and finally downloaded from the upstream
    repository at the pinned commit (base URL overridable with ``BAYESCALE_DATA_URL``) and
    stored in the cache after verification. See :func:`data_dir_search_path`.

    Parameters
    ----------
    name : str
        Dataset name, see :func:`list_datasets`.
    data_dir : str or path-like, optional
        Local data folder; overrides ``BAYESCALE_DATA_DIR``.
    cache_dir : str or path-like, optional
        Cache folder; overrides ``BAYESCALE_CACHE_DIR``, ``$XDG_CACHE_HOME/bayescale/data`` and
        ``~/.cache/bayescale/data``.
    download : bool, default True
        Allow the network step. With False, a file missing locally raises :class:`DatasetError`.
    raw : bool, default False
        Return the table's (first) source file exactly as read, without canonical columns.
    **options
        Dataset-specific options. Currently ``table=``: which table to load when a dataset has
        several (default: the first of ``dataset_info(name).tables``):

        - ``misfitting_li2025``: ``"last_checkpoint"`` (default), ``"all_checkpoints"``.
        - ``obsscaling_ruan2024``: ``"benchmarks"`` (default), ``"benchmarks_sub_10b"``,
          ``"emergent"`` (task scores joined with N, D, C, family).
        - ``monkeys_pythia_math_brown2024``: ``"counts"`` (default; per-problem correct
          counts), ``"models"`` (Pythia checkpoints).
        - ``monkeys_digitized_ellismohr2025``: ``"coverage"`` (default), ``"majority_vote"``.

    Returns
    -------
    pandas.DataFrame
        Canonical columns first (e.g. ``N``, ``D``, ``C``, ``loss``; see
        ``dataset_info(name).table(table).canonical``), then the source columns. ``df.attrs``
        holds ``"dataset"``, ``"table"``, ``"source"`` (``repo``, ``commit``, ``path``,
        ``sha256``, ``filename``, ``derived`` and ``location`` of the primary file) and
        ``"sources"`` (the same for all files used).

    Raises
    ------
    ValueError
        Unknown dataset name or table.
    TypeError
        Unknown option keyword.
    DatasetError
        A file is missing everywhere and cannot be fetched, is derived and has no local copy,
        or fails its SHA-256 check.

    Examples
    --------
    >>> from bayescale.datasets import load_dataset
    >>> df = load_dataset("chinchilla_besiroglu2024")
    >>> df.shape[0], list(df.columns[:4])
    (245, ['N', 'C', 'D', 'loss'])
    >>> last = load_dataset("misfitting_li2025", table="last_checkpoint")
    >>> emergent = load_dataset("obsscaling_ruan2024", table="emergent")
    """
    if not isinstance(name, str):
        raise TypeError(
            f"load_dataset: name must be a dataset's name (see bs.list_datasets()), got {name!r}"
        )
    info = _lookup(name)
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise TypeError(
            f"load_dataset() got unexpected option(s) {', '.join(map(repr, unknown))} for "
            f"{name!r}; accepted options: {', '.join(_OPTIONS)} "
            f"(tables: {', '.join(t.name for t in info.tables)})"
        )
    table_name = options.get("table")
    if table_name is not None and not isinstance(table_name, str):
        raise TypeError(f"table must be a string, not {type(table_name).__name__}")
    table = info.table(table_name)

    frames: dict[str, pd.DataFrame] = {}
    sources: list[dict[str, Any]] = []
    for filename in table.files:
        dfile = info.file(filename)
        data, where = _read_file(
            info, dfile, data_dir=data_dir, cache_dir=cache_dir, download=download
        )
        frames[filename] = _parse_csv(data, where)
        sources.append(
            {
                "repo": info.repo,
                "commit": info.commit,
                "path": dfile.path,
                "sha256": dfile.sha256,
                "filename": dfile.filename,
                "derived": dfile.derived,
                "location": where,
            }
        )

    if raw:
        df = frames[table.files[0]]
    else:
        df = table.canonicalise(frames)
        if len(df) != table.n_rows:  # pragma: no cover - guarded by the checksums
            raise DatasetError(f"{name}/{table.name}: expected {table.n_rows} rows, got {len(df)}")
    df.attrs["dataset"] = info.name
    df.attrs["table"] = table.name
    df.attrs["source"] = dict(sources[0])
    df.attrs["sources"] = [dict(s) for s in sources]
    return df
