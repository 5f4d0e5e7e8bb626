"""Registry entry of benchmark scores of public models: observational scaling (Ruan et al. 2024),
with its canonical-column functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._common import DataFile, DatasetError, DatasetInfo, TableInfo, _as_float, _assemble

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


BENCHMARKS: tuple[DatasetInfo, ...] = (
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
)
