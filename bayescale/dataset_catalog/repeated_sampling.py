"""Registry entries of repeated sampling (coverage against the number of attempts): the Pythia MATH
counts of Large Language Monkeys (Brown et al. 2024) and the digitised curves (Ellis-Mohr et al.
2025), with their canonical-column functions and the rebuild of the derived counts file.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._common import DataFile, DatasetInfo, TableInfo, _as_float, _assemble

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


REPEATED_SAMPLING: tuple[DatasetInfo, ...] = (
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
