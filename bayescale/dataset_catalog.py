"""The registry of datasets: provenance, files with checksums, tables and canonical columns.

Each entry is a :class:`DatasetInfo`: the public repository and commit a dataset comes from, its
files with SHA-256 sums, the tables a user can ask for and a small function per table that adds
the canonical columns (``N``, ``D``, ``C``, ``loss``, ...). :mod:`bayescale.datasets` finds,
verifies and reads the files. Adding a dataset means adding one entry to ``_REGISTRY``.
"""

from __future__ import annotations

import ast
import csv
import difflib
import hashlib
import io
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
        from .datasets import _file_url

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


def _canon_chinchilla(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    raw = frames["svg_extracted_data.csv"]
    n = np.rint(_as_float(raw["Model Size"]))
    c = _as_float(raw["Training FLOP"])
    return _assemble(raw, {"N": n, "C": c, "D": c / (6.0 * n), "loss": _as_float(raw["loss"])})


def _canon_bnsl(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    raw = frames["bnsl_4_digit_addition.csv"]
    x = _as_float(raw["dataset_size"])
    return _assemble(
        raw, {"x": x, "D": x, "loss": _as_float(raw["test_loss"]), "split": raw["split"]}
    )


def _canon_datablations(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    raw = frames["datablations_runs.csv"]
    return _assemble(
        raw,
        {
            "N": _as_float(raw["N"]),
            "D": _as_float(raw["D"]),
            "U": _as_float(raw["U"]),
            "epochs": _as_float(raw["epochs"]),
            "C": _as_float(raw["C_6ND"]),
            "loss": _as_float(raw["val_loss"]),
        },
    )


def _canon_isoflops(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    raw = frames["isoflops.csv"]
    return _assemble(
        raw,
        {
            "N": _as_float(raw["params"]),
            "D": _as_float(raw["tokens"]),
            "C": _as_float(raw["budget"]),
            "loss": _as_float(raw["loss"]),
            "group": raw["experiment"],
        },
    )


_MISFITTING_BIG_INT_COLUMNS = ("C", "C_no_emb", "C_6ND", "C_6ND_no_emb")


def _misfitting(raw: pd.DataFrame) -> pd.DataFrame:
    raw = raw.copy()
    # FLOP counts above 2**63 make pandas read these columns as Python ints (object dtype).
    for col in _MISFITTING_BIG_INT_COLUMNS:
        raw[col] = _as_float(raw[col])
    return _assemble(
        raw,
        {
            "N": _as_float(raw["N"]),
            "D": _as_float(raw["D"]),
            "C": raw["C"],
            "loss": _as_float(raw["loss"]),
            "group": raw["model"],
        },
    )


def _canon_misfitting_last(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    return _misfitting(frames["scaling_results_last_ckpt_only.csv"])


def _canon_misfitting_all(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    return _misfitting(frames["scaling_results.csv"])


_OBS_BENCH = "base_llm_benchmark_eval.csv"
_OBS_SUB10B = "base_llm_benchmark_eval_sub_10b.csv"
_OBS_EMERGENT = "base_llm_emergent_capability_eval.csv"


def _obs_canonical(raw: pd.DataFrame) -> dict[str, Any]:
    return {
        # Sizes are given to at most 3 decimals, so whole numbers are exact; rounding removes
        # floating-point noise from the unit conversion (e.g. 0.07 * 1e9).
        "N": np.round(_as_float(raw["Model Size (B)"]) * 1e9),
        "D": np.round(_as_float(raw["Pretraining Data Size (T)"]) * 1e12),
        "C": _as_float(raw["FLOPs (1E21)"]) * 1e21,
        "family": raw["Model Family"],
    }


def _canon_obs_bench(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    raw = frames[_OBS_BENCH]
    return _assemble(raw, _obs_canonical(raw))


def _canon_obs_sub10b(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    raw = frames[_OBS_SUB10B]
    return _assemble(raw, _obs_canonical(raw))


def _canon_obs_emergent(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    bench = frames[_OBS_BENCH]
    if bench["Model"].duplicated().any():
        raise DatasetError(f"{_OBS_BENCH}: duplicate 'Model' keys, cannot join")
    keys = pd.DataFrame({"Model": bench["Model"], **_obs_canonical(bench)})
    emergent = frames[_OBS_EMERGENT]
    joined = emergent.merge(keys, on="Model", how="left", validate="many_to_one")
    canonical = {c: joined[c] for c in ("N", "D", "C", "family")}
    return _assemble(joined[list(emergent.columns)], canonical)


_MONKEYS_COUNTS = "monkeys_pythia_math_counts.csv"
_MONKEYS_PARQUET = "large_language_monkeys_original_pass_at_k.parquet"
_MONKEYS_PARQUET_SHA256 = "2ca92cfcb9b074981b39ae3b6448bd7ae6b24e9db695e448b16eb7398dd41d15"
_MONKEYS_MODELS = "models_pythia.csv"
#: The ``Pythia_*_300B`` rows (final checkpoint, step143000) of ``models_pythia.csv`` for the 7
#: models in the parquet: (model, HuggingFace Path, Parameters, Parameters Excluding Embeddings,
#: Tokens). A test checks them against the file.
_PYTHIA_FINAL: tuple[tuple[str, str, int, int, int], ...] = (
    ("Pythia 70M", "EleutherAI/pythia-70m", 70_000_000, 18_915_328, 300_000_000_000),
    ("Pythia 160M", "EleutherAI/pythia-160m", 160_000_000, 85_056_000, 300_000_000_000),
    ("Pythia 410M", "EleutherAI/pythia-410m", 410_000_000, 302_311_424, 300_000_000_000),
    ("Pythia 1B", "EleutherAI/pythia-1b", 1_000_000_000, 805_736_448, 300_000_000_000),
    ("Pythia 2.8B", "EleutherAI/pythia-2.8b", 2_800_000_000, 2_517_652_480, 300_000_000_000),
    ("Pythia 6.9B", "EleutherAI/pythia-6.9b", 6_900_000_000, 6_444_163_072, 300_000_000_000),
    ("Pythia 12B", "EleutherAI/pythia-12b", 12_000_000_000, 11_327_027_200, 300_000_000_000),
)


def _canon_monkeys_counts(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    raw = frames[_MONKEYS_COUNTS]
    n = _as_float(raw["n_samples"])
    c = _as_float(raw["n_correct"])
    return _assemble(
        raw,
        {
            "N": _as_float(raw["params_non_embedding"]),
            "D": _as_float(raw["train_tokens"]),
            "model": raw["model"],
            "problem": raw["problem_idx"],
            "n_samples": n,
            "n_correct": c,
            "pass_at_1": c / n,
        },
    )


def _canon_monkeys_models(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    raw = frames[_MONKEYS_MODELS]
    return _assemble(
        raw,
        {
            "N": _as_float(raw["Parameters Excluding Embeddings"]),
            "D": _as_float(raw["Tokens"]),
            "group": raw["HuggingFace Path"],
        },
    )


#: Digitised curve file -> model label (Brown et al.'s spelling).
_DIGITISED_COVERAGE = {
    "pythia28B.csv": "Pythia-2.8B",
    "gemma2B.csv": "Gemma-2B",
    "llama8BpassN.csv": "Llama-3-8B",
    "llama38Binstruct_oracle.csv": "Llama-3-8B-Instruct",
    "llama370Binstruct_oracle.csv": "Llama-3-70B-Instruct",
}
_DIGITISED_MAJORITY = {
    "llama38Binstruct_maj.csv": "Llama-3-8B-Instruct",
    "llama370Binstruct_maj.csv": "Llama-3-70B-Instruct",
}


def _digitised(
    frames: Mapping[str, pd.DataFrame], labels: Mapping[str, str], value: str
) -> pd.DataFrame:
    """Stack digitised ``x, y`` curves, each sorted by x (files are in digitising order)."""
    parts = []
    for filename, model in labels.items():
        # The header is "x, y": strip the space so the second column is "y", not " y".
        raw = frames[filename].rename(columns=lambda c: str(c).strip())
        raw = raw.sort_values("x", kind="mergesort")
        parts.append(
            _assemble(
                raw,
                {
                    "k": _as_float(raw["x"]),
                    value: _as_float(raw["y"]),
                    "model": model,
                    "curve": filename.removesuffix(".csv"),
                },
            )
        )
    return pd.concat(parts, ignore_index=True)


def _canon_digitised_coverage(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    return _digitised(frames, _DIGITISED_COVERAGE, "coverage")


def _canon_digitised_majority(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    return _digitised(frames, _DIGITISED_MAJORITY, "accuracy")


def _rebuild_bnsl(script: bytes) -> bytes:
    """Rebuild ``bnsl_4_digit_addition.csv`` from the upstream fitting script.

    Reads the module-level ``x = np.array([...])`` and ``y = np.array([...])`` literals with
    :func:`ast.literal_eval` (nothing is executed) and writes them as CSV the way the derived file
    was written (``csv`` module defaults, CRLF line ends); the first 14 points are the fit split.
    """
    tree = ast.parse(script.decode("utf-8"))
    arrays: dict[str, list[Any]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target = node.targets[0]
        if not isinstance(target, ast.Name) or target.id not in ("x", "y") or target.id in arrays:
            continue
        value = node.value
        if isinstance(value, ast.Call):
            func = value.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name != "array" or len(value.args) != 1:
                raise ValueError(f"unexpected expression for {target.id!r}")
            value = value.args[0]
        literal = ast.literal_eval(value)
        if not isinstance(literal, (list, tuple)) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in literal
        ):
            raise ValueError(f"{target.id!r} is not a flat list of numbers")
        arrays[target.id] = list(literal)
    if set(arrays) != {"x", "y"}:
        raise ValueError("module-level arrays 'x' and 'y' not found")
    xs, ys = arrays["x"], arrays["y"]
    if len(xs) != len(ys):
        raise ValueError(f"'x' has {len(xs)} values but 'y' has {len(ys)}")
    split_point = 14
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["dataset_size", "test_loss", "split"])
    for i, (xv, yv) in enumerate(zip(xs, ys, strict=True)):
        writer.writerow([xv, yv, "fit" if i < split_point else "extrapolate"])
    return buffer.getvalue().encode("utf-8")


def _rebuild_monkeys_counts(parquet: bytes) -> bytes:
    """Rebuild ``monkeys_pythia_math_counts.csv`` from the upstream pass@k parquet.

    Does what ``derive_counts.py`` (stored next to the data) does: keeps the k = 1 rows (the
    counts n and c are the same for every k), takes c as an integer, joins the final-checkpoint
    rows of ``models_pythia.csv`` (held in ``_PYTHIA_FINAL``; the rebuild gets only the parquet's
    bytes), sorts by non-embedding parameters then problem and writes CSV with ``\\n`` line ends.
    The parquet is parsed only if its SHA-256 sum is the pinned one.
    """
    actual = hashlib.sha256(parquet).hexdigest()
    if actual != _MONKEYS_PARQUET_SHA256:
        raise ValueError(
            f"{_MONKEYS_PARQUET} has SHA-256 {actual}, not the pinned "
            f"{_MONKEYS_PARQUET_SHA256}; it was not parsed"
        )
    keys = ["Model", "Benchmark", "Problem Idx", "Num. Samples Total", "Num. Samples Correct"]
    pq = pd.read_parquet(io.BytesIO(parquet), columns=[*keys, "Scaling Parameter"])
    if pq.groupby(["Model", "Problem Idx"])["Num. Samples Correct"].nunique().max() != 1:
        raise ValueError("the correct counts differ between k values of one (model, problem)")
    cnt = pq.loc[pq["Scaling Parameter"] == 1, keys].copy()
    correct = cnt["Num. Samples Correct"].to_numpy(dtype=float)
    if not np.array_equal(correct, np.round(correct)):
        raise ValueError("Num. Samples Correct holds non-integer values")
    cnt["Num. Samples Correct"] = cnt["Num. Samples Correct"].astype(int)
    models = pd.DataFrame(
        list(_PYTHIA_FINAL),
        columns=[
            "Model",
            "HuggingFace Path",
            "Parameters",
            "Parameters Excluding Embeddings",
            "Tokens",
        ],
    )
    out = cnt.merge(models, on="Model", how="left", validate="many_to_one")
    if out["Parameters"].isna().any():
        raise ValueError(
            f"models without parameter counts: {sorted(set(out['Model']) - set(models['Model']))}"
        )
    out.columns = [
        "model",
        "benchmark",
        "problem_idx",
        "n_samples",
        "n_correct",
        "hf_path",
        "params_nominal",
        "params_non_embedding",
        "train_tokens",
    ]
    out = out.sort_values(["params_non_embedding", "problem_idx"], kind="mergesort")
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

_OBS_BENCH_COLUMNS = {
    "Model": "Hugging Face model id (join key)",
    "Model Family": "family label (Llama-2, Qwen1.5, Pythia, OPT, ...)",
    "Model Size (B)": "N in billions of parameters",
    "Pretraining Data Size (T)": "D in trillions of tokens (blank for 25 models)",
    "FLOPs (1E21)": "training compute ~6ND in units of 1e21 FLOPs (blank for 25 models)",
    "MMLU": "accuracy in [0, 1] (Open LLM Leaderboard v1 protocol)",
    "ARC-C": "accuracy in [0, 1] (Open LLM Leaderboard v1 protocol)",
    "HellaSwag": "accuracy in [0, 1] (Open LLM Leaderboard v1 protocol)",
    "Winograd": "accuracy in [0, 1] (Open LLM Leaderboard v1 protocol)",
    "TruthfulQA": "accuracy in [0, 1] (Open LLM Leaderboard v1 protocol)",
    "GSM8K": "accuracy in [0, 1] (Open LLM Leaderboard v1 protocol)",
    "XWinograd": "accuracy in [0, 1] (Open LLM Leaderboard v1 protocol)",
    "HumanEval": "pass@1 in [0, 1] via EvalPlus",
}
_OBS_CANONICAL = {
    "N": "parameters = Model Size (B) * 1e9 (rounded to a whole number)",
    "D": "pretraining tokens = Pretraining Data Size (T) * 1e12, rounded (NaN where blank)",
    "C": "training FLOPs = FLOPs (1E21) * 1e21 (NaN where blank)",
    "family": "Model Family",
}
_EMERGENT_TASKS = {
    "parsinlu_qa_2_acc": "2-shot accuracy in [0, 1]",
    "word_unscrambling_2_exact_match": "2-shot exact match in [0, 1]",
    "ipa_transliterate_2_exact_match": "2-shot exact match in [0, 1]",
    "ipa_transliterate_2_bleu": "2-shot BLEU, 0-100 (not a fraction)",
    "arithmetic_3ds_2_acc": "2-shot accuracy in [0, 1] (3-digit subtraction)",
    "arithmetic_3da_2_acc": "2-shot accuracy in [0, 1] (3-digit addition)",
    "arithmetic_2dm_2_acc": "2-shot accuracy in [0, 1] (2-digit multiplication)",
    "arithmetic_2da_2_acc": "2-shot accuracy in [0, 1] (2-digit addition)",
}
_MISFITTING_CANONICAL = {
    "N": "parameters including embeddings (source N)",
    "D": "tokens seen at this checkpoint",
    "C": "training FLOPs at this checkpoint (repo's count, with embeddings)",
    "loss": "C4 validation loss (nats/token)",
    "group": "model configuration (source model)",
}

_REGISTRY: tuple[DatasetInfo, ...] = (
    DatasetInfo(
        name="chinchilla_besiroglu2024",
        title="Chinchilla Figure-4 points (Epoch AI replication)",
        citation=(
            "Besiroglu, Erdil, Barnett, You (2024). Chinchilla Scaling: A replication attempt."
        ),
        paper="arXiv:2404.10102",
        repo="epoch-research/analyzing-chinchilla",
        commit="92258837425e1b5f2851d624287f0120583a3d0e",
        license="none stated",
        description=(
            "245 (N, C, loss) points extracted from the SVG of Hoffmann et al. (2022) Fig. 4; "
            "the standard testbed for the Chinchilla parametric law L = E + A/N^a + B/D^b."
        ),
        files=(
            DataFile(
                filename="svg_extracted_data.csv",
                sha256="193478df4e90f040016431996c45682659306840ecdadf83cfb9cd5ca0aa1b30",
                n_rows=245,
                size=23224,
                path="data/svg_extracted_data.csv",
            ),
        ),
        tables=(
            TableInfo(
                name="points",
                files=("svg_extracted_data.csv",),
                n_rows=245,
                canonical={
                    "N": "parameters = round(Model Size), as float",
                    "C": "training FLOPs = Training FLOP",
                    "D": "training tokens = C / (6 N) (derived, not stored)",
                    "loss": "final training loss (nats/token, MassiveText)",
                },
                description="All extracted points.",
                canonicalise=_canon_chinchilla,
            ),
        ),
        columns={
            "x": "SVG x pixel coordinate of the marker (extraction artefact)",
            "y": "SVG y pixel coordinate of the marker (extraction artefact)",
            "color": "marker colour; encodes loss via the figure's colour bar",
            "hex_color": "marker colour (same as color)",
            "Model Size": "N, parameters (non-integer from extraction; round it)",
            "Training FLOP": "C, training compute in FLOPs",
            "loss": "final training loss (nats/token), decoded from colour",
        },
        notes=(
            "Reference protocol drops the 5 highest-loss points (n = 240); they are small-compute "
            "points (~1e19 FLOPs) with decoded losses 3.4-5.0.",
            "loss is decoded from marker colour, so it is quantised (99 distinct values).",
            "Epoch AI fit (Huber 1e-3 on log loss, with scale): A=482.01, B=2085.43, E=1.817, "
            "alpha=0.3478, beta=0.3659; Hoffmann et al.: A=406.4, B=410.7, E=1.69, alpha=0.34, "
            "beta=0.28.",
        ),
    ),
    DatasetInfo(
        name="bnsl_4digit_addition",
        title="4-digit addition learning curve (Broken Neural Scaling Laws, Fig. 4 left)",
        citation="Caballero, Gupta, Rish, Krueger (2023). Broken Neural Scaling Laws. ICLR.",
        paper="arXiv:2210.14891",
        repo="ethancaballero/broken_neural_scaling_laws",
        commit="ffa608f7ca7910b6f6bcbd39915491353ad5d600",
        license="none stated",
        description=(
            "Test loss vs training-set size (17 points) with a sharp drop; for broken power laws "
            "and 'emergence' in loss. First 14 points are for fitting, last 3 for extrapolation."
        ),
        files=(
            DataFile(
                filename="bnsl_4_digit_addition.csv",
                sha256="2c9468db19b94a5b280ee2fd99c76e0398d61517634b6199cbd2e6ea3e3a1d96",
                n_rows=17,
                size=394,
                path="fit_bnsl_and_extrapolate__4_digit_addition__dataset_size_x-axis.py",
                derived=True,
                derivation=(
                    "The arrays x and y of the upstream fitting script, read with "
                    "ast.literal_eval and written unchanged as CSV with a fit/extrapolate split "
                    "at point 14."
                ),
                rebuild=_rebuild_bnsl,
            ),
        ),
        tables=(
            TableInfo(
                name="learning_curve",
                files=("bnsl_4_digit_addition.csv",),
                n_rows=17,
                canonical={
                    "x": "training set size (examples) = dataset_size, as float",
                    "D": "training set size (examples) = dataset_size, as float",
                    "loss": "test cross-entropy = test_loss",
                    "split": "'fit' (first 14 points) or 'extrapolate' (last 3)",
                },
                description="The 17-point learning curve.",
                canonicalise=_canon_bnsl,
            ),
        ),
        columns={
            "dataset_size": "training set size (examples)",
            "test_loss": "test cross-entropy",
            "split": "'fit' for the first 14 points (script's split_point), 'extrapolate' after",
        },
        notes=(
            "BNSL with one break: y = a + b x^-c0 (1 + (x/d1)^(1/f1))^(-c1 f1), fitted on "
            "log(y + 1). A reimplementation of the script's grid + curve_fit procedure gives "
            "a=0.4139, b=2.277, c0=0.0551, c1=5.663, d1=612.6, f1=0.0592; predictions "
            "0.760/0.637/0.563 vs observed 0.759/0.648/0.557 (not a published number).",
            "No replicate points: the noise level is not identified from the data alone.",
        ),
    ),
    DatasetInfo(
        name="datablations_muennighoff2023",
        title="Data-constrained (repeated-epoch) runs",
        citation="Muennighoff et al. (2023). Scaling Data-Constrained Language Models. NeurIPS.",
        paper="arXiv:2305.16264",
        repo="huggingface/datablations",
        commit="13701315b163f1c54642b94ad237b2699187c3ee",
        license="Apache-2.0",
        description=(
            "296 final validation losses over parameters N, tokens D and unique tokens U "
            "(1 to >1000 epochs); for laws with diminishing returns from repeated data."
        ),
        files=(
            DataFile(
                filename="datablations_runs.csv",
                sha256="64b24899401e18d9018045c8d65c2f931e856b10c7ade8086e1efaabda10a28d",
                n_rows=296,
                size=28067,
                path="utils/parametric_fit.ipynb",
                derived=True,
                derivation=(
                    "A join of the notebook's NAMES_TO_VAL_LOSSES dict with its own parsed "
                    "(name, N, D, U, loss) table, dropping unfinished (loss 0) and *dedup runs."
                ),
            ),
        ),
        tables=(
            TableInfo(
                name="runs",
                files=("datablations_runs.csv",),
                n_rows=296,
                canonical={
                    "N": "parameters (includes embeddings)",
                    "D": "total training tokens",
                    "U": "unique tokens",
                    "epochs": "D / U",
                    "C": "6 N D FLOPs = C_6ND",
                    "loss": "final validation loss (nats/token) = val_loss",
                },
                description="All finished runs.",
                canonicalise=_canon_datablations,
            ),
        ),
        columns={
            "run_name": "original run key (e.g. 2b855b11bc4seed1 = 2.8B params, 55B tokens, "
            "11B unique, C4 tag, seed 1)",
            "parsed_name": "key after stripping seed/opt/c4/v2 tags",
            "N": "parameters (notebook's PARAMS_MAP, includes embeddings)",
            "D": "total training tokens",
            "U": "unique tokens",
            "epochs": "D / U",
            "C_6ND": "6 N D FLOPs",
            "val_loss": "final validation loss (nats/token)",
            "seed": "1-4 for seed-replicate runs, else blank",
            "c4_tag": "1 if the run key contains 'c4'",
        },
        notes=(
            "Published law: E=1.8691, A=520.82, B=1487.72, alpha=beta=0.3526596, "
            "R_D*=15.387756, R_N*=5.309743; check value "
            "L(6.34e9, 242e9, 25e9) = 2.2256440889984477.",
            "E, A, B, alpha, beta were fitted on 54 Chinchilla C4 isoFLOP points that are not in "
            "this file; the published law gives RMSE(log L) = 0.19 here, so do not expect a refit "
            "on this file to reproduce the published numbers.",
            "Seed replicates share (N, D, U) (65 duplicated settings): useful for the noise scale.",
        ),
    ),
    DatasetInfo(
        name="isoflops_openathena",
        title="Compiled isoFLOP points from five sources",
        citation="Open-Athena scaling-law-analysis (compilation of Chinchilla, Llama 3, Marin, "
        "(Mis)Fitting isoFLOP data).",
        paper="",
        repo="Open-Athena/scaling-law-analysis",
        commit="3e0656ee3dce1a2c89aa67691920f5eb9d30f0fc",
        license="none stated",
        description=(
            "947 isoFLOP points in 8 groups (Chinchilla x2 extractions, Llama 3 raw/exp, Marin "
            "x3, (Mis)Fitting) with QC outlier flags; for Approach 2 vs 3 and hierarchical fits."
        ),
        files=(
            DataFile(
                filename="isoflops.csv",
                sha256="b04d611253611490c5cc339fb95cb28d4f38f279a97438cb804a80f03171caa0",
                n_rows=947,
                size=127708,
                path="data/isoflops/transform/isoflops.csv",
            ),
        ),
        tables=(
            TableInfo(
                name="isoflops",
                files=("isoflops.csv",),
                n_rows=947,
                canonical={
                    "N": "parameters = params",
                    "D": "training tokens = tokens",
                    "C": "isoFLOP budget in FLOPs = budget (snapped; not always 6ND)",
                    "loss": "final eval loss (nats)",
                    "group": "isoFLOP family = experiment (8 groups)",
                },
                description="All points, including those flagged as outliers.",
                canonicalise=_canon_isoflops,
            ),
        ),
        columns={
            "source": "epochai_chinchilla, ml_scalefit, llama_3, marin_202603, misfitting",
            "dataset": "pretraining corpus label",
            "model": "architecture label",
            "condition": "llama_3 only: raw_loss (digitised) or exp_loss (= exp(raw))",
            "experiment": "group key: one isoFLOP family (8 groups)",
            "tokens": "D, training tokens",
            "params": "N, parameters",
            "budget": "C, FLOPs of the isoFLOP curve (snapped; Marin budgets x3 to total FLOPs)",
            "loss": "final eval loss (nats; Llama 3 raw values are the plotted validation loss)",
            "outlier": "repo's QC flag",
            "reason": "QC reason: none, exact_duplicate, near_duplicate_params, too_few_points, "
            "too_few_post_qc, weak_curvature, spline_outlier, off_center",
        },
        notes=(
            "197 rows are flagged outlier=True; filter on it to reproduce the repo's fits.",
            "llama_3__raw_loss and llama_3__exp_loss are the same 133 points (loss vs exp(loss)): "
            "never fit both together. Raw Llama 3 losses are ~0.69-0.93.",
            "budget equals 6ND exactly for the epochai, llama_3 and misfitting groups; for Marin "
            "budget/(6ND) is 0.74-1.07 and for ml_scalefit 0.91-1.11.",
            "Llama 3 Approach 3 (Huber/L-BFGS): E=0.6021, A=56.2, B=147.3, alpha=0.3068, "
            "beta=0.3110 -> N*=628.3B, D*=10.1T at 3.8e25 FLOPs; Approach 2: N* ~ C^0.4632.",
        ),
    ),
    DatasetInfo(
        name="misfitting_li2025",
        title="(Mis)Fitting Scaling Laws runs with intermediate checkpoints",
        citation=(
            "Li, Kudugunta, Zettlemoyer (2025). (Mis)Fitting: A Survey of Scaling Laws. ICLR."
        ),
        paper="arXiv:2502.18969",
        repo="hadasah/scaling_laws",
        commit="1f3708c0a12df0effb0ee906b1da5f9f0ff4f4f1",
        license="none stated",
        description=(
            "Runs of 11 model sizes (12M-1B non-embedding params) with a learning-rate sweep; "
            "final checkpoints (261) or every logged checkpoint (4852)."
        ),
        files=(
            DataFile(
                filename="scaling_results_last_ckpt_only.csv",
                sha256="cd96b9eb8e5b2adc80e6739a642dd8554590edc96234d36859ab6ed0f5c30562",
                n_rows=261,
                size=58697,
                path="data/scaling_results_last_ckpt_only.csv",
            ),
            DataFile(
                filename="scaling_results.csv",
                sha256="193b4b7665365112605417e2ef06d55efe599cfa08412354e3ae42c3af7a9f58",
                n_rows=4852,
                size=1133268,
                path="data/scaling_results.csv",
            ),
        ),
        tables=(
            TableInfo(
                name="last_checkpoint",
                files=("scaling_results_last_ckpt_only.csv",),
                n_rows=261,
                canonical=_MISFITTING_CANONICAL,
                description="Final checkpoint of each run.",
                canonicalise=_canon_misfitting_last,
            ),
            TableInfo(
                name="all_checkpoints",
                files=("scaling_results.csv",),
                n_rows=4852,
                canonical=_MISFITTING_CANONICAL,
                description="Every logged checkpoint of every run.",
                canonicalise=_canon_misfitting_all,
            ),
        ),
        columns={
            "loss": "C4 validation loss (nats/token)",
            "C4 Eval Loss": "identical to loss",
            "N": "parameters with embeddings",
            "N_no_emb": "parameters without embeddings",
            "D": "tokens seen at this checkpoint",
            "C": "training FLOPs at this checkpoint (repo's count, with embeddings)",
            "C_no_emb": "training FLOPs without embedding parameters",
            "C_6ND": "6 N D",
            "C_6ND_no_emb": "6 N_no_emb D",
            "portion_steps_elapsed": "current_steps / total_steps",
            "model": "misfitting_{12m..1b} configuration (11 sizes)",
            "train_tokens": "planned run length in tokens",
            "total_steps": "planned run length in steps",
            "current_steps": "step of this checkpoint",
            "total_epochs": "open_lm checkpoint-interval counter (not data epochs)",
            "current_epoch": "open_lm checkpoint-interval counter (not data epochs)",
            "peak_lr": "peak learning rate (sweep 4e-4 ... 8e-3)",
            "sweep": "sweep/run-group id",
        },
        notes=(
            "Canonical loading converts C, C_no_emb, C_6ND, C_6ND_no_emb to float64: some values "
            "exceed 2**63, so raw=True returns them as Python ints (object dtype).",
            "Several runs per (model, train_tokens) differ only in peak_lr: select the best LR or "
            "model LR explicitly before fitting a scaling law.",
            "Intermediate checkpoints of one run share its LR schedule and are strongly "
            "correlated; they are not independent observations.",
            "Sweep 2024_11_10-23_08_29 (misfitting_17m) repeats identical losses under different "
            "peak_lr values; the last-checkpoint file has 1 exact duplicate row, the full file 2.",
        ),
    ),
    DatasetInfo(
        name="obsscaling_ruan2024",
        title="Observational scaling laws: public base-LLM benchmark scores",
        citation=(
            "Ruan, Maddison, Hashimoto (2024). Observational Scaling Laws and the Predictability "
            "of Language Model Performance. NeurIPS."
        ),
        paper="arXiv:2405.10938",
        repo="ryoungj/ObsScaling",
        commit="4d6e1e43fd2635d04654aa77d1df9d5266ea0382",
        license="Apache-2.0",
        description=(
            "Benchmark accuracies of 148 public base LLMs (47 families) with N, D and FLOPs, plus "
            "2-shot 'emergent' task scores for 84 models; for sigmoid/emergence models."
        ),
        files=(
            DataFile(
                filename=_OBS_BENCH,
                sha256="511996815735a4c46251dc585dcc525e370d148201f86561e6f927f9df2d0db8",
                n_rows=148,
                size=28155,
                path="eval_results/base_llm_benchmark_eval.csv",
            ),
            DataFile(
                filename=_OBS_SUB10B,
                sha256="6a5fe6143b1fd86c2c10368de05e204c89ab6652b0f7e97c4965c37bff360d1d",
                n_rows=92,
                size=17838,
                path="eval_results/base_llm_benchmark_eval_sub_10b.csv",
            ),
            DataFile(
                filename=_OBS_EMERGENT,
                sha256="a156beee73c39b7833c3c53535c473939105512d85e90b0143be7325e516ef7c",
                n_rows=84,
                size=7984,
                path="eval_results/base_llm_emergent_capability_eval.csv",
            ),
        ),
        tables=(
            TableInfo(
                name="benchmarks",
                files=(_OBS_BENCH,),
                n_rows=148,
                canonical=_OBS_CANONICAL,
                description="8 standard benchmarks for 148 base models.",
                canonicalise=_canon_obs_bench,
            ),
            TableInfo(
                name="benchmarks_sub_10b",
                files=(_OBS_SUB10B,),
                n_rows=92,
                canonical=_OBS_CANONICAL,
                description="The subset of 92 models below 10B parameters.",
                canonicalise=_canon_obs_sub10b,
            ),
            TableInfo(
                name="emergent",
                files=(_OBS_EMERGENT, _OBS_BENCH),
                n_rows=84,
                canonical=_OBS_CANONICAL,
                description=(
                    "2-shot emergent-capability tasks for 84 models, left-joined on Model with "
                    "N, D, C, family from the benchmark table."
                ),
                canonicalise=_canon_obs_emergent,
            ),
        ),
        columns={**_OBS_BENCH_COLUMNS, **_EMERGENT_TASKS},
        notes=(
            "D and C are blank (NaN) for 25 of 148 models (Qwen2, Mistral/Mixtral, GPT-2, RWKV, "
            "InternLM2, ...); where present, FLOPs (1E21) equals 6 * size(B) * data(T) exactly.",
            "Model Size (B) is not consistent for mixture-of-experts models (Mixtral-8x7B 45 = "
            "total, Mixtral-8x22B 39 = active, Qwen2-57B-A14B 24, Jamba 12).",
            "Paper protocol: PCA on the 8 benchmarks (3 PCs) and sigmoid(w . PC + b) per task; "
            "hold-out 'cutoff_by_FLOPs' at 84e21 FLOPs (Llama-2-7B): fit at or below, predict "
            "above.",
            "ipa_transliterate_2_bleu is on a 0-100 scale, unlike the other scores.",
        ),
    ),
    DatasetInfo(
        name="monkeys_pythia_math_brown2024",
        title="Repeated sampling on MATH: per-problem counts, Pythia 70M-12B (Large Language "
        "Monkeys)",
        citation=(
            "Brown, Juravsky, Ehrlich, Clark, Le, Re, Mirhoseini (2024). Large Language Monkeys: "
            "Scaling Inference Compute with Repeated Sampling; tabulated by Schaeffer et al. "
            "(2025). How Do Large Language Monkeys Get Their Power (Laws)? ICML "
            "(arXiv:2502.17578)."
        ),
        paper="arXiv:2407.21787",
        repo="RylanSchaeffer/KoyejoLab-Large-How-Do-Language-Monkey-Power-Get-Their-Power",
        commit="cd078aef2a13e4310fab204860b99c4c39c25d40",
        license="none stated",
        description=(
            "Correct samples out of 10,000 for each of 128 MATH problems and 7 Pythia models "
            "(70M-12B, final checkpoints): 896 per-problem counts, from which pass@k for any k "
            "follows; for joint (N, k) laws of coverage and per-problem (beta-binomial) models."
        ),
        files=(
            DataFile(
                filename=_MONKEYS_COUNTS,
                sha256="29e72f042ad96b3cf26a7da4884c0c31aeaf61a500bb3ff523fc0755a4912dc4",
                n_rows=896,
                size=77357,
                path="data/processed_data/large_language_monkeys_original_pass_at_k.parquet",
                derived=True,
                derivation=(
                    "The k = 1 rows of the pass@k parquet (counts n, c are the same for every k) "
                    "joined to the final-checkpoint (_300B) rows of models_pythia.csv, sorted by "
                    "non-embedding parameters and problem (derive_counts.py in the data folder)."
                ),
                rebuild=_rebuild_monkeys_counts,
            ),
            DataFile(
                filename=_MONKEYS_PARQUET,
                sha256=_MONKEYS_PARQUET_SHA256,
                n_rows=90496,
                size=901757,
                path="data/processed_data/large_language_monkeys_original_pass_at_k.parquet",
            ),
            DataFile(
                filename=_MONKEYS_MODELS,
                sha256="99605284fdbe0ba3787a1b4e7bda6d36e10409dc7eb2f6d47c2f6c79987b1f11",
                n_rows=81,
                size=8909,
                path="data/raw_data/gpt4_gsm8k/models_pythia.csv",
            ),
        ),
        tables=(
            TableInfo(
                name="counts",
                files=(_MONKEYS_COUNTS,),
                n_rows=896,
                canonical={
                    "N": "non-embedding parameters = params_non_embedding (not the nominal "
                    "size params_nominal, e.g. 18,915,328 for Pythia 70M)",
                    "D": "training tokens = train_tokens (3e11 for every model)",
                    "model": "Pythia 70M ... Pythia 12B (7 sizes; no 1.4B)",
                    "problem": "problem index in the MATH test split = problem_idx",
                    "n_samples": "samples drawn per problem (10,000), as float",
                    "n_correct": "samples judged correct, as float",
                    "pass_at_1": "n_correct / n_samples (per-problem pass@1)",
                },
                description="One row per (model, problem): 7 models x 128 problems.",
                canonicalise=_canon_monkeys_counts,
            ),
            TableInfo(
                name="models",
                files=(_MONKEYS_MODELS,),
                n_rows=81,
                canonical={
                    "N": "non-embedding parameters = Parameters Excluding Embeddings",
                    "D": "tokens seen at the checkpoint = Tokens",
                    "group": "model = HuggingFace Path",
                },
                description=(
                    "Schaeffer et al.'s Pythia table: 9 sizes (14M-12B) x 9 checkpoints; the "
                    "_300B rows are the final checkpoints used in the counts."
                ),
                canonicalise=_canon_monkeys_models,
            ),
        ),
        columns={
            "model": "Pythia 70M ... Pythia 12B (parquet Model)",
            "benchmark": "MATH (only)",
            "problem_idx": "index of the problem in the MATH test split (orig_dset_idx)",
            "n_samples": "samples per problem (10,000)",
            "n_correct": "samples judged correct (0-10,000)",
            "hf_path": "EleutherAI/pythia-* Hugging Face id",
            "params_nominal": "nominal size (70M ... 12B), from models_pythia.csv Parameters",
            "params_non_embedding": "non-embedding parameters (Parameters Excluding Embeddings)",
            "train_tokens": "pretraining tokens of the final checkpoint (300B)",
            "Model": "parquet: Pythia 70M ... Pythia 12B",
            "Benchmark": "parquet: MATH",
            "Problem Idx": "parquet: problem index in the MATH test split",
            "Num. Samples Total": "parquet: n = 10,000",
            "Num. Samples Correct": "parquet: c (float32 holding integers)",
            "Scaling Parameter": "parquet: k, number of attempts (101 values, 1 ... 10,000)",
            "Score": "parquet: per-problem pass_i@k = 1 - C(n-c, k) / C(n, k)",
            "Log Score": "parquet: ln(Score) (-inf where c = 0)",
            "Neg Log Score": "parquet: -ln(Score) (inf where c = 0)",
            "Model Nickname": "models_pythia.csv: Pythia_<size>_<tokens>; _300B = final "
            "checkpoint (step143000)",
            "HuggingFace Path": "models_pythia.csv: EleutherAI/pythia-*",
            "HuggingFace Revision": "models_pythia.csv: checkpoint step",
            "Tokens": "models_pythia.csv: tokens seen at the checkpoint",
            "Parameters": "models_pythia.csv: nominal size",
            "Parameters Excluding Embeddings": "models_pythia.csv: non-embedding parameters",
        },
        notes=(
            "Dataset-level coverage pass@k = mean over the 128 problems of pass_i@k = "
            "1 - C(n-c, k)/C(n, k); at k = 1 (mean n_correct/n_samples), 70M ... 12B: 0.0006, "
            "0.0027, 0.0062, 0.0083, 0.0203, 0.0186, 0.0232; at k = 100: 0.0361, 0.1619, "
            "0.2272, 0.2745, 0.4220, 0.4316, 0.4834; at k = 10,000: 0.2656, 0.5703, 0.6562, "
            "0.7422, 0.8125, 0.8359, 0.8750.",
            "Problems never solved in 10,000 samples: 94, 55, 44, 33, 24, 21, 16 (70M -> 12B); "
            "coverage moves in steps of 1/128.",
            "Published form: coverage c(k) ~ exp(a k^b) (Brown et al.), -log pass@k ~ a k^-b "
            "(Schaeffer et al.); no fitted numbers for these curves are published.",
            "Pass@1 is not monotone in size (2.8B > 6.9B at small k); Pythia 1.4B is absent.",
            "The parquet (every k, 90,496 rows) is registered for provenance and to rebuild the "
            "counts; load_dataset reads CSV tables only, so read it with pandas.read_parquet.",
        ),
    ),
    DatasetInfo(
        name="monkeys_digitized_ellismohr2025",
        title="Repeated-sampling curves digitised from Large Language Monkeys figures",
        citation=(
            "Brown et al. (2024). Large Language Monkeys (arXiv:2407.21787), figures digitised "
            "in Ellis-Mohr, Nayak, Varshney (2025). A Theory of Inference Compute Scaling: "
            "Reasoning through Directed Stochastic Skill Search."
        ),
        paper="arXiv:2407.21787",
        repo="austine4/Inference-Compute-Scaling-Laws",
        commit="7b7fb7310dcf62fd70f724d5fbdf8843e28ba9dd",
        license="none stated",
        description=(
            "Coverage vs number of samples k (1-10,000) for Pythia-2.8B, Gemma-2B and three "
            "Llama-3 curves, plus majority-vote accuracy for Llama-3-8B/70B-Instruct, read off "
            "the paper's figures; for oracle vs majority-vote plateaus and as a cross-check."
        ),
        files=(
            DataFile(
                filename="pythia28B.csv",
                sha256="bb246be5d16276145d113ddde50cb830d3327325e564c693781da127e3033d1f",
                n_rows=31,
                size=1175,
                path="pythia28B.csv",
            ),
            DataFile(
                filename="gemma2B.csv",
                sha256="22835de174784def159b966800e72c999bc66140bee72747f2ed086cbedb9fa8",
                n_rows=25,
                size=952,
                path="gemma2B.csv",
            ),
            DataFile(
                filename="llama8BpassN.csv",
                sha256="ea084bf293dfe471ffdc05f4532109f9b1539114eb6c3e8d921f051c99574091",
                n_rows=112,
                size=4288,
                path="llama8BpassN.csv",
            ),
            DataFile(
                filename="llama38Binstruct_oracle.csv",
                sha256="ce9ae4170575f147e60c006b0eefa5c9c2acedd5a2b0fd04e4df4e87cd23bab3",
                n_rows=23,
                size=855,
                path="llama38Binstruct_oracle.csv",
            ),
            DataFile(
                filename="llama370Binstruct_oracle.csv",
                sha256="82082e324fbf9854f38b576a6b7d84b77568f491141208f600601eba7894735a",
                n_rows=22,
                size=835,
                path="llama370Binstruct_oracle.csv",
            ),
            DataFile(
                filename="llama38Binstruct_maj.csv",
                sha256="29f997edc875734f240951c5afd554c09adf6725352dac4c0a74801f41bc8d9c",
                n_rows=17,
                size=652,
                path="llama38Binstruct_maj.csv",
            ),
            DataFile(
                filename="llama370Binstruct_maj.csv",
                sha256="7149476d13e9c06779cbb2e17efe6e86e3f297411dc29ac6cd9d33a076b9d4c4",
                n_rows=16,
                size=615,
                path="llama370Binstruct_maj.csv",
            ),
        ),
        tables=(
            TableInfo(
                name="coverage",
                files=tuple(_DIGITISED_COVERAGE),
                n_rows=213,
                canonical={
                    "k": "number of samples = x (digitised: not whole, 0.99 ... 10,000)",
                    "coverage": "fraction of problems solved by any of k samples = y",
                    "model": "Pythia-2.8B, Gemma-2B, Llama-3-8B, Llama-3-8B-Instruct, "
                    "Llama-3-70B-Instruct",
                    "curve": "source file name without .csv",
                },
                description=("The 5 coverage (oracle-verifier) curves stacked, each sorted by k."),
                canonicalise=_canon_digitised_coverage,
            ),
            TableInfo(
                name="majority_vote",
                files=tuple(_DIGITISED_MAJORITY),
                n_rows=33,
                canonical={
                    "k": "number of samples = x (digitised: not whole)",
                    "accuracy": "majority-vote accuracy = y (not coverage)",
                    "model": "Llama-3-8B-Instruct, Llama-3-70B-Instruct",
                    "curve": "source file name without .csv",
                },
                description="The 2 majority-vote curves stacked, each sorted by k.",
                canonicalise=_canon_digitised_majority,
            ),
        ),
        columns={
            "x": "number of samples k, read off a log axis (header 'x, y': loaded as 'y' after "
            "stripping the space; raw=True keeps ' y')",
            "y": "fraction of problems solved in [0, 1]: coverage for pythia28B, gemma2B, "
            "llama8BpassN and *_oracle; majority-vote accuracy for *_maj",
        },
        notes=(
            "Read off figures, not computed from samples: y is pixel-quantised (about +-0.003 "
            "plus reading error), x errors are a few % in k; llama8BpassN has one exact "
            "duplicate point (k ~ 2337).",
            "Rows are in digitising order upstream; the tables sort each curve by k (stable).",
            "pythia28B is the MATH coverage of Pythia-2.8B: within 0.0038 (max abs) of the exact "
            "curve from monkeys_pythia_math_brown2024 (0.8128 vs 0.8125 near k = 10^4, 0.0183 vs "
            "0.0203 at k = 1). Which figure panel the others come from is not stated upstream; "
            "llama8BpassN is probably Llama-3-8B base.",
            "Oracle coverage of the Llama-3 Instruct models reaches about 0.985 at k = 10^4, "
            "while majority vote levels off near 0.415 (8B) and 0.57 (70B) from k ~ 100.",
        ),
    ),
)

_BY_NAME: dict[str, DatasetInfo] = {info.name: info for info in _REGISTRY}
if len(_BY_NAME) != len(_REGISTRY):  # pragma: no cover - registry sanity check
    raise RuntimeError("duplicate dataset names in the registry")
