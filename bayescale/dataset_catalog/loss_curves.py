"""Registry entries of loss curves: Chinchilla's points (Besiroglu et al. 2024), the BNSL 4-digit
addition curve, Datablations (Muennighoff et al. 2023), the Open-Athena isoFLOP sweeps and the
misfitting sweeps (Li et al. 2025), with their canonical-column functions.
"""

from __future__ import annotations

import ast
import csv
import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._common import DataFile, DatasetInfo, TableInfo, _as_float, _assemble


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


_MISFITTING_CANONICAL = {
    "N": "parameters including embeddings (source N)",
    "D": "tokens seen at this checkpoint",
    "C": "training FLOPs at this checkpoint (repo's count, with embeddings)",
    "loss": "C4 validation loss (nats/token)",
    "group": "model configuration (source model)",
}


LOSS_CURVES: tuple[DatasetInfo, ...] = (
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
)
