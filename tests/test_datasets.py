"""Tests for bayescale.datasets: registry, canonical columns, checksums, cache and download."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayescale import datasets
from bayescale.datasets import (
    DatasetError,
    DatasetInfo,
    data_dir_search_path,
    dataset_info,
    list_datasets,
    load_dataset,
)

# ../shared/data relative to the repository root.
REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

EXPECTED_ROWS = {
    ("chinchilla_besiroglu2024", "points"): 245,
    ("bnsl_4digit_addition", "learning_curve"): 17,
    ("datablations_muennighoff2023", "runs"): 296,
    ("isoflops_openathena", "isoflops"): 947,
    ("misfitting_li2025", "last_checkpoint"): 261,
    ("misfitting_li2025", "all_checkpoints"): 4852,
    ("obsscaling_ruan2024", "benchmarks"): 148,
    ("obsscaling_ruan2024", "benchmarks_sub_10b"): 92,
    ("obsscaling_ruan2024", "emergent"): 84,
    ("monkeys_pythia_math_brown2024", "counts"): 896,
    ("monkeys_pythia_math_brown2024", "models"): 81,
    ("monkeys_digitized_ellismohr2025", "coverage"): 213,
    ("monkeys_digitized_ellismohr2025", "majority_vote"): 33,
}
EXPECTED_CANONICAL = {
    "chinchilla_besiroglu2024": ["N", "C", "D", "loss"],
    "bnsl_4digit_addition": ["x", "D", "loss", "split"],
    "datablations_muennighoff2023": ["N", "D", "U", "epochs", "C", "loss"],
    "isoflops_openathena": ["N", "D", "C", "loss", "group"],
    "misfitting_li2025": ["N", "D", "C", "loss", "group"],
    "obsscaling_ruan2024": ["N", "D", "C", "family"],
    "monkeys_pythia_math_brown2024": [
        "N",
        "D",
        "model",
        "problem",
        "n_samples",
        "n_correct",
        "pass_at_1",
    ],
    "monkeys_digitized_ellismohr2025": ["k", "coverage", "model", "curve"],
}
# Tables whose canonical columns differ from their dataset's default table.
EXPECTED_TABLE_CANONICAL = {
    ("monkeys_pythia_math_brown2024", "models"): ["N", "D", "group"],
    ("monkeys_digitized_ellismohr2025", "majority_vote"): ["k", "accuracy", "model", "curve"],
}
# Canonical columns that are labels or identifiers, not float64 measurements.
NON_FLOAT_CANONICAL = ("split", "group", "family", "model", "curve", "problem")
MONKEYS = "monkeys_pythia_math_brown2024"
MONKEYS_COUNTS = "monkeys_pythia_math_counts.csv"
MONKEYS_PARQUET = "large_language_monkeys_original_pass_at_k.parquet"
DIGITISED = "monkeys_digitized_ellismohr2025"
PYTHIA_ORDER = [
    "Pythia 70M",
    "Pythia 160M",
    "Pythia 410M",
    "Pythia 1B",
    "Pythia 2.8B",
    "Pythia 6.9B",
    "Pythia 12B",
]
CHINCHILLA = "chinchilla_besiroglu2024"
CHINCHILLA_FILE = "svg_extracted_data.csv"


def _closed_port_url() -> str:
    """An http URL on 127.0.0.1 whose port has nothing listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never touch the real home cache or the internet."""
    monkeypatch.delenv("BAYESCALE_DATA_DIR", raising=False)
    monkeypatch.setenv("BAYESCALE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BAYESCALE_DATA_URL", _closed_port_url())


@pytest.fixture
def real_data(monkeypatch: pytest.MonkeyPatch) -> Path:
    if not REAL_DATA.is_dir():
        pytest.skip(f"shared data folder {REAL_DATA} is not present")
    monkeypatch.setenv("BAYESCALE_DATA_DIR", str(REAL_DATA))
    return REAL_DATA


def _real_file(name: str, filename: str) -> Path:
    path = REAL_DATA / name / filename
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


@contextlib.contextmanager
def _serve(root: Path) -> Iterator[str]:
    """Serve ``root`` over http on a free 127.0.0.1 port; yields the base URL."""

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _upstream_location(root: Path, name: str, filename: str) -> Path:
    info = dataset_info(name)
    target = root / info.repo / info.commit / info.file(filename).path
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


def test_list_datasets_covers_every_shared_data_folder() -> None:
    if not REAL_DATA.is_dir():
        pytest.skip(f"shared data folder {REAL_DATA} is not present")
    registered = set(list_datasets()["name"])
    folders = sorted(p.name for p in REAL_DATA.iterdir() if p.is_dir())
    assert folders, "no dataset folders found"
    for folder in folders:
        assert folder in registered, f"data folder {folder!r} has no registry entry"


def test_registered_checksums_and_sizes_match_shared_files() -> None:
    if not REAL_DATA.is_dir():
        pytest.skip(f"shared data folder {REAL_DATA} is not present")
    for name in list_datasets()["name"]:
        for dfile in dataset_info(name).files:
            path = REAL_DATA / name / dfile.filename
            data = path.read_bytes()
            assert hashlib.sha256(data).hexdigest() == dfile.sha256, path
            assert len(data) == dfile.size, path


def test_list_datasets_columns_and_values() -> None:
    table = list_datasets()
    for col in (
        "name",
        "title",
        "citation",
        "paper",
        "repo",
        "commit",
        "files",
        "license",
        "n_rows",
        "canonical_columns",
        "description",
        "tables",
        "derived",
    ):
        assert col in table.columns
    assert list(table["name"]) == list(EXPECTED_CANONICAL)
    by_name = table.set_index("name")
    assert by_name.loc[CHINCHILLA, "n_rows"] == 245
    assert by_name.loc["misfitting_li2025", "tables"] == "last_checkpoint, all_checkpoints"
    assert by_name.loc["obsscaling_ruan2024", "canonical_columns"] == "N, D, C, family"
    assert set(by_name.index[by_name["derived"]]) == {
        "bnsl_4digit_addition",
        "datablations_muennighoff2023",
        MONKEYS,
    }
    assert by_name.loc[MONKEYS, "tables"] == "counts, models"
    assert by_name.loc[DIGITISED, "tables"] == "coverage, majority_vote"
    assert by_name.loc[DIGITISED, "n_rows"] == 213
    assert all(len(c) == 40 for c in table["commit"])


def test_dataset_info_is_frozen_and_complete() -> None:
    info = dataset_info(CHINCHILLA)
    assert isinstance(info, DatasetInfo)
    assert info.repo == "epoch-research/analyzing-chinchilla"
    assert info.commit == "92258837425e1b5f2851d624287f0120583a3d0e"
    assert info.files[0].path == "data/svg_extracted_data.csv"
    assert info.files[0].sha256 == (
        "193478df4e90f040016431996c45682659306840ecdadf83cfb9cd5ca0aa1b30"
    )
    assert info.derived is False
    assert info.canonical_columns == ("N", "C", "D", "loss")
    assert "Training FLOP" in info.columns
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.repo = "someone/else"  # type: ignore[misc]
    with pytest.raises(TypeError):
        info.columns["new"] = "x"  # type: ignore[index]
    assert dataclasses.asdict(info)["name"] == CHINCHILLA
    assert hash(info) == hash(dataset_info(CHINCHILLA))
    assert dataset_info("datablations_muennighoff2023").derived is True
    assert dataset_info("datablations_muennighoff2023").url("datablations_runs.csv") is None


def test_unknown_dataset_lists_names_and_suggests() -> None:
    with pytest.raises(ValueError, match="did you mean 'chinchilla_besiroglu2024'") as err:
        load_dataset("chinchilla_besiroglu")
    assert "obsscaling_ruan2024" in str(err.value)
    with pytest.raises(ValueError, match="available datasets"):
        dataset_info("no_such_thing")


def test_unknown_option_and_table_are_rejected(real_data: Path) -> None:
    with pytest.raises(TypeError, match="tabel"):
        load_dataset("misfitting_li2025", tabel="all_checkpoints")
    with pytest.raises(ValueError, match="did you mean 'all_checkpoints'"):
        load_dataset("misfitting_li2025", table="all_checkpoint")
    with pytest.raises(ValueError, match="emergent"):
        load_dataset("obsscaling_ruan2024", table="nope")


# --------------------------------------------------------------------------------------------
# Loading the real data
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "table"), list(EXPECTED_ROWS))
def test_every_table_loads_with_expected_rows(real_data: Path, name: str, table: str) -> None:
    df = load_dataset(name, table=table)
    assert len(df) == EXPECTED_ROWS[(name, table)]
    canonical = EXPECTED_TABLE_CANONICAL.get((name, table), EXPECTED_CANONICAL[name])
    assert list(df.columns[: len(canonical)]) == canonical
    assert list(dataset_info(name).table(table).canonical) == canonical
    for col in canonical:
        if col not in NON_FLOAT_CANONICAL:
            assert df[col].dtype == np.float64, col
    assert df.attrs["dataset"] == name
    assert df.attrs["table"] == table
    info = dataset_info(name)
    source = df.attrs["source"]
    assert source["repo"] == info.repo and source["commit"] == info.commit
    assert source["sha256"] == info.file(source["filename"]).sha256
    assert source["path"] == info.file(source["filename"]).path


def test_chinchilla_numbers(real_data: Path) -> None:
    df = load_dataset(CHINCHILLA)
    assert len(df) == 245
    assert list(df.columns) == [
        "N",
        "C",
        "D",
        "loss",
        "x",
        "y",
        "color",
        "Model Size",
        "Training FLOP",
        "hex_color",
    ]
    assert (df["N"] == np.round(df["N"])).all()
    assert (df["N"] - df["Model Size"]).abs().max() <= 0.5
    assert (df["D"] == df["C"] / (6 * df["N"])).all()
    assert (df["C"] == df["Training FLOP"]).all()
    assert df["loss"].max() == pytest.approx(5.005581996196243)
    # The reference protocol drops the 5 highest-loss points: the first 5 rows of the file.
    assert sorted(df["loss"].nlargest(5).index) == [0, 1, 2, 3, 4]
    assert df["loss"].nlargest(6).iloc[-1] == pytest.approx(3.405928, abs=1e-6)
    assert df["C"].min() == pytest.approx(1.397e18, rel=1e-3)
    assert df["C"].max() == pytest.approx(1.296e22, rel=1e-3)


def test_raw_returns_source_file_unchanged(real_data: Path) -> None:
    raw = load_dataset(CHINCHILLA, raw=True)
    direct = pd.read_csv(REAL_DATA / CHINCHILLA / CHINCHILLA_FILE)
    pd.testing.assert_frame_equal(raw, direct)
    assert raw.attrs["dataset"] == CHINCHILLA


def test_bnsl_columns(real_data: Path) -> None:
    df = load_dataset("bnsl_4digit_addition")
    assert (df["x"] == df["dataset_size"]).all() and (df["D"] == df["x"]).all()
    assert list(df["split"]) == ["fit"] * 14 + ["extrapolate"] * 3
    assert df["x"].iloc[0] == 160 and df["x"].iloc[-1] == 928
    assert df["loss"].iloc[-1] == pytest.approx(0.55695445)


def test_datablations_columns(real_data: Path) -> None:
    df = load_dataset("datablations_muennighoff2023")
    assert (df["C"] == df["C_6ND"]).all() and (df["loss"] == df["val_loss"]).all()
    np.testing.assert_allclose(df["epochs"], df["D"] / df["U"])
    assert (df["epochs"] > 1).sum() == 255
    assert df["N"].min() == pytest.approx(7.1e6, rel=0.02)
    assert df["N"].max() == pytest.approx(8.67e9)


def test_isoflops_columns(real_data: Path) -> None:
    df = load_dataset("isoflops_openathena")
    assert df["group"].nunique() == 8
    assert (df["group"] == df["experiment"]).all()
    for col in ("source", "dataset", "model", "condition", "outlier", "reason"):
        assert col in df.columns
    assert int(df["outlier"].sum()) == 197
    sizes = df.groupby("group").size()
    assert sizes["llama_3__raw_loss"] == 133 and sizes["misfitting__fineweb_c4__transformer"] == 176


def test_misfitting_tables(real_data: Path) -> None:
    last = load_dataset("misfitting_li2025")
    assert len(last) == 261 and last.attrs["table"] == "last_checkpoint"
    assert (last["portion_steps_elapsed"] == 1.0).all()
    assert last["group"].nunique() == 11
    assert last["C_6ND"].dtype == np.float64
    full = load_dataset("misfitting_li2025", table="all_checkpoints")
    assert len(full) == 4852
    np.testing.assert_allclose(full["C"], full["C_6ND"], rtol=1e-9)
    assert (full["loss"] == full["C4 Eval Loss"]).all()
    raw = load_dataset("misfitting_li2025", raw=True)
    assert raw["C"].dtype == object  # values beyond int64


def test_obsscaling_tables(real_data: Path) -> None:
    bench = load_dataset("obsscaling_ruan2024")
    assert len(bench) == 148
    llama7 = bench.set_index("Model").loc["meta-llama/Llama-2-7b-hf"]
    assert llama7["N"] == 7e9 and llama7["D"] == 2e12 and llama7["C"] == pytest.approx(8.4e22)
    assert llama7["family"] == "Llama-2"
    assert bench["C"].isna().sum() == 25 and bench["D"].isna().sum() == 25
    assert bench["family"].nunique() == 47
    assert (bench["N"] == np.round(bench["N"])).all()
    np.testing.assert_allclose(bench["N"], bench["Model Size (B)"] * 1e9, rtol=1e-12)
    for col in (
        "MMLU",
        "ARC-C",
        "HellaSwag",
        "Winograd",
        "TruthfulQA",
        "GSM8K",
        "XWinograd",
        "HumanEval",
    ):
        assert col in bench.columns

    sub = load_dataset("obsscaling_ruan2024", table="benchmarks_sub_10b")
    assert len(sub) == 92 and sub["N"].max() < 10e9

    emergent = load_dataset("obsscaling_ruan2024", table="emergent")
    assert len(emergent) == 84
    assert list(emergent.columns[:5]) == ["N", "D", "C", "family", "Model"]
    assert "arithmetic_3ds_2_acc" in emergent.columns
    assert emergent["N"].notna().all()
    merged = emergent.merge(bench[["Model", "N"]], on="Model", suffixes=("", "_bench"))
    assert (merged["N"] == merged["N_bench"]).all()
    assert len(emergent.attrs["sources"]) == 2


def _pass_at_k(n: np.ndarray, c: np.ndarray, k: int) -> np.ndarray:
    """Unbiased per-problem pass@k = 1 - C(n-c, k) / C(n, k) (Chen et al. 2021)."""
    out = np.ones(len(n))
    for i, (ni, ci) in enumerate(zip(n.astype(int), c.astype(int), strict=True)):
        if ni - ci >= k:
            out[i] = 1.0 - np.prod(1.0 - k / np.arange(ni - ci + 1, ni + 1))
    return out


def test_monkeys_counts_reference_numbers(real_data: Path) -> None:
    df = load_dataset(MONKEYS)
    assert df.attrs["table"] == "counts" and len(df) == 896
    assert list(df.columns[:7]) == EXPECTED_CANONICAL[MONKEYS]
    assert list(df["model"].unique()) == PYTHIA_ORDER
    assert (df.groupby("model").size() == 128).all()
    assert df.groupby("model")["problem"].apply(frozenset).nunique() == 1  # same 128 problems
    assert (df["problem"] == df["problem_idx"]).all() and df["problem"].dtype == np.int64
    assert (df["n_samples"] == 10_000).all()
    assert (df["n_correct"] == np.round(df["n_correct"])).all()
    assert (df["pass_at_1"] == df["n_correct"] / df["n_samples"]).all()
    # N is the non-embedding count, not the nominal size.
    assert (df["N"] == df["params_non_embedding"]).all()
    sizes = df.groupby("model", sort=False)["N"].first()
    assert sizes["Pythia 70M"] == 18_915_328 and sizes["Pythia 12B"] == 11_327_027_200
    assert (df.groupby("model", sort=False)["params_nominal"].first() == 70e6).iloc[0]
    assert (df["D"] == 3e11).all()

    by_model = df.groupby("model", sort=False)
    # SOURCE.md reference table: coverage = mean over problems of pass_i@k.
    pass1 = by_model["pass_at_1"].mean().round(4)
    assert pass1.tolist() == [0.0006, 0.0027, 0.0062, 0.0083, 0.0203, 0.0186, 0.0232]
    never = by_model["n_correct"].apply(lambda c: int((c == 0).sum()))
    assert never.tolist() == [94, 55, 44, 33, 24, 21, 16]
    at_10000 = (1 - never / 128).round(4)
    assert at_10000.tolist() == [0.2656, 0.5703, 0.6562, 0.7422, 0.8125, 0.8359, 0.875]
    at_100 = (
        df.assign(p=_pass_at_k(df["n_samples"].to_numpy(), df["n_correct"].to_numpy(), 100))
        .groupby("model", sort=False)["p"]
        .mean()
        .round(4)
    )
    assert at_100.tolist() == [0.0361, 0.1619, 0.2272, 0.2745, 0.4220, 0.4316, 0.4834]


def test_monkeys_counts_agree_with_upstream_parquet(real_data: Path) -> None:
    parquet = pd.read_parquet(_real_file(MONKEYS, MONKEYS_PARQUET))
    info = dataset_info(MONKEYS)
    assert len(parquet) == info.file(MONKEYS_PARQUET).n_rows == 7 * 128 * 101
    counts = load_dataset(MONKEYS)
    k1 = parquet[parquet["Scaling Parameter"] == 1].merge(
        counts, left_on=["Model", "Problem Idx"], right_on=["model", "problem"], validate="1:1"
    )
    assert len(k1) == 896
    assert (k1["Num. Samples Correct"] == k1["n_correct"]).all()
    assert (k1["Num. Samples Total"] == k1["n_samples"]).all()
    # The stored per-problem Score at k = 100 is the estimator applied to the counts.
    k100 = parquet[parquet["Scaling Parameter"] == 100].merge(
        counts, left_on=["Model", "Problem Idx"], right_on=["model", "problem"], validate="1:1"
    )
    expected = _pass_at_k(k100["n_samples"].to_numpy(), k100["n_correct"].to_numpy(), 100)
    np.testing.assert_allclose(k100["Score"], expected, rtol=1e-9, atol=1e-12)


def test_monkeys_models_table_matches_rebuild_constants(real_data: Path) -> None:
    from bayescale.dataset_catalog import _PYTHIA_FINAL

    models = load_dataset(MONKEYS, table="models")
    assert len(models) == 81 and models["group"].nunique() == 9
    assert (models["N"] == models["Parameters Excluding Embeddings"]).all()
    assert (models["D"] == models["Tokens"]).all()
    final = models[models["Model Nickname"].str.endswith("_300B")].copy()
    final["model"] = final["Model Nickname"].str.removesuffix("_300B").str.replace("_", " ")
    final = final.set_index("model")
    assert set(final["HuggingFace Revision"]) == {"step143000"}
    for model, hf_path, nominal, non_embedding, tokens in _PYTHIA_FINAL:
        row = final.loc[model]
        assert (row["HuggingFace Path"], row["Parameters"]) == (hf_path, nominal)
        assert (row["Parameters Excluding Embeddings"], row["Tokens"]) == (non_embedding, tokens)
    assert [m[0] for m in _PYTHIA_FINAL] == PYTHIA_ORDER


def test_monkeys_counts_rebuilt_from_upstream_parquet(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    parquet = _real_file(MONKEYS, MONKEYS_PARQUET)
    derived = _real_file(MONKEYS, MONKEYS_COUNTS)
    info = dataset_info(MONKEYS)
    assert info.file(MONKEYS_COUNTS).path == info.file(MONKEYS_PARQUET).path
    served = tmp_path / "server"
    shutil.copy(parquet, _upstream_location(served, MONKEYS, MONKEYS_COUNTS))
    with _serve(served) as url:
        monkeypatch.setenv("BAYESCALE_DATA_URL", url)
        df = load_dataset(MONKEYS)
    assert len(df) == 896
    cached = tmp_path / "cache" / MONKEYS / MONKEYS_COUNTS
    assert cached.read_bytes() == derived.read_bytes()
    assert df.attrs["source"]["location"] == str(cached)


def test_monkeys_rebuild_refuses_unpinned_parquet(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rebuild = dataset_info(MONKEYS).file(MONKEYS_COUNTS).rebuild
    assert rebuild is not None
    with pytest.raises(ValueError, match="not the pinned"):
        rebuild(b"PAR1 not a parquet file PAR1")
    served = tmp_path / "server"
    _upstream_location(served, MONKEYS, MONKEYS_COUNTS).write_bytes(b"PAR1 corrupted PAR1")
    with _serve(served) as url:
        monkeypatch.setenv("BAYESCALE_DATA_URL", url)
        with pytest.raises(DatasetError, match="Rebuilding it from"):
            load_dataset(MONKEYS)
    assert not (tmp_path / "cache" / MONKEYS / MONKEYS_COUNTS).exists()


def test_digitised_curves(real_data: Path) -> None:
    cov = load_dataset(DIGITISED)
    assert cov.attrs["table"] == "coverage" and len(cov) == 213
    assert list(cov.columns) == ["k", "coverage", "model", "curve", "x", "y"]
    assert (cov["k"] == cov["x"]).all() and (cov["coverage"] == cov["y"]).all()
    assert cov["coverage"].between(0, 1).all()
    curves = cov.groupby("curve", sort=False)
    assert curves.size().to_dict() == {
        "pythia28B": 31,
        "gemma2B": 25,
        "llama8BpassN": 112,
        "llama38Binstruct_oracle": 23,
        "llama370Binstruct_oracle": 22,
    }
    assert curves["k"].apply(lambda k: k.is_monotonic_increasing).all()
    assert curves["model"].first()["llama38Binstruct_oracle"] == "Llama-3-8B-Instruct"
    # SOURCE.md: y at smallest x -> largest x.
    ends = curves["coverage"].agg(["first", "last"]).round(3)
    assert ends.loc["pythia28B"].tolist() == [0.018, 0.813]
    assert ends.loc["gemma2B"].tolist() == [0.096, 0.955]
    assert ends.loc["llama8BpassN"].tolist() == [0.147, 0.962]
    assert ends.loc["llama38Binstruct_oracle"].tolist() == [0.266, 0.985]
    assert ends.loc["llama370Binstruct_oracle"].tolist() == [0.477, 0.984]
    assert int(cov.duplicated(["curve", "k"]).sum()) == 1  # the repeated llama8BpassN point

    maj = load_dataset(DIGITISED, table="majority_vote")
    assert len(maj) == 33
    assert list(maj.columns[:4]) == ["k", "accuracy", "model", "curve"]
    ends = maj.groupby("curve", sort=False)["accuracy"].agg(["first", "last"]).round(3)
    assert ends.loc["llama38Binstruct_maj"].tolist() == [0.267, 0.415]
    assert ends.loc["llama370Binstruct_maj"].tolist() == [0.475, 0.570]
    # Majority vote levels off well below oracle coverage at k = 10^4.
    assert maj.loc[maj["k"] >= 100, "accuracy"].max() < 0.6

    raw = load_dataset(DIGITISED, raw=True)
    assert list(raw.columns) == ["x", " y"] and len(raw) == 31
    assert raw["x"].iloc[0] == pytest.approx(9913.32356818683)  # digitising order, unsorted


def test_digitised_pythia_matches_exact_curve(real_data: Path) -> None:
    parquet = pd.read_parquet(_real_file(MONKEYS, MONKEYS_PARQUET))
    exact = parquet[parquet["Model"] == "Pythia 2.8B"].groupby("Scaling Parameter")["Score"].mean()
    cov = load_dataset(DIGITISED)
    digitised = cov[cov["curve"] == "pythia28B"]
    interpolated = np.interp(
        np.log(digitised["k"]), np.log(exact.index.to_numpy(float)), exact.to_numpy()
    )
    diff = digitised["coverage"].to_numpy() - interpolated
    assert np.abs(diff).max() == pytest.approx(0.0038, abs=5e-5)
    assert diff.mean() == pytest.approx(0.0008, abs=5e-5)


# --------------------------------------------------------------------------------------------
# Search path, checksum and failure modes
# --------------------------------------------------------------------------------------------


def test_search_path_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert data_dir_search_path() == [tmp_path / "cache"]
    monkeypatch.setenv("BAYESCALE_DATA_DIR", str(tmp_path / "a"))
    assert data_dir_search_path() == [tmp_path / "a", tmp_path / "cache"]
    assert data_dir_search_path(data_dir=tmp_path / "b", cache_dir=tmp_path / "c") == [
        tmp_path / "b",
        tmp_path / "c",
    ]
    monkeypatch.delenv("BAYESCALE_CACHE_DIR")
    assert data_dir_search_path()[-1] == tmp_path / "xdg" / "bayescale" / "data"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data_dir_search_path()[-1] == tmp_path / "home" / ".cache" / "bayescale" / "data"


def test_data_dir_argument_overrides_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = _real_file(CHINCHILLA, CHINCHILLA_FILE)
    local = tmp_path / "local" / CHINCHILLA
    local.mkdir(parents=True)
    shutil.copy(source, local / CHINCHILLA_FILE)
    monkeypatch.setenv("BAYESCALE_DATA_DIR", str(tmp_path / "empty"))
    df = load_dataset(CHINCHILLA, data_dir=tmp_path / "local", download=False)
    assert len(df) == 245
    assert df.attrs["source"]["location"] == str(local / CHINCHILLA_FILE)


def test_checksum_mismatch_in_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    source = _real_file(CHINCHILLA, CHINCHILLA_FILE)
    folder = tmp_path / "data" / CHINCHILLA
    folder.mkdir(parents=True)
    data = bytearray(source.read_bytes())
    data[100] = ord("7") if data[100] != ord("7") else ord("8")
    (folder / CHINCHILLA_FILE).write_bytes(bytes(data))
    monkeypatch.setenv("BAYESCALE_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(DatasetError) as err:
        load_dataset(CHINCHILLA)
    message = str(err.value)
    assert CHINCHILLA_FILE in message
    assert dataset_info(CHINCHILLA).files[0].sha256 in message
    assert hashlib.sha256(bytes(data)).hexdigest() in message
    assert str(folder / CHINCHILLA_FILE) in message
    assert isinstance(err.value, OSError)


def test_checksum_mismatch_in_cache(tmp_path: Path) -> None:
    cached = tmp_path / "cache" / CHINCHILLA / CHINCHILLA_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not the file\n")
    with pytest.raises(DatasetError, match="Delete it"):
        load_dataset(CHINCHILLA)


def test_offline_miss_explains_search_and_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "empty_data").mkdir()
    monkeypatch.setenv("BAYESCALE_DATA_DIR", str(tmp_path / "empty_data"))
    with pytest.raises(DatasetError) as err:
        load_dataset(CHINCHILLA, cache_dir=tmp_path / "empty_cache")
    message = str(err.value)
    assert "BAYESCALE_DATA_DIR" in message
    assert str(tmp_path / "empty_data" / CHINCHILLA / CHINCHILLA_FILE) in message
    assert str(tmp_path / "empty_cache" / CHINCHILLA / CHINCHILLA_FILE) in message
    info = dataset_info(CHINCHILLA)
    assert f"/{info.repo}/{info.commit}/data/svg_extracted_data.csv" in message
    assert not (tmp_path / "empty_cache" / CHINCHILLA).exists()


def test_download_false_never_fetches(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="download=False") as err:
        load_dataset(CHINCHILLA, download=False)
    assert "BAYESCALE_DATA_DIR" in str(err.value)


@pytest.mark.parametrize("name", ["datablations_muennighoff2023", "bnsl_4digit_addition", MONKEYS])
def test_derived_dataset_without_local_copy(name: str, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="needs a local copy") as err:
        load_dataset(name)
    message = str(err.value)
    assert dataset_info(name).files[0].filename in message
    assert "derived" in message and "BAYESCALE_DATA_DIR" in message


def test_download_writes_verified_file_to_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = _real_file(CHINCHILLA, CHINCHILLA_FILE)
    served = tmp_path / "server"
    shutil.copy(source, _upstream_location(served, CHINCHILLA, CHINCHILLA_FILE))
    cached = tmp_path / "cache" / CHINCHILLA / CHINCHILLA_FILE
    with _serve(served) as url:
        monkeypatch.setenv("BAYESCALE_DATA_URL", url)
        df = load_dataset(CHINCHILLA)
    assert len(df) == 245
    assert cached.read_bytes() == source.read_bytes()
    assert [p.name for p in cached.parent.iterdir()] == [CHINCHILLA_FILE]  # no temp files left
    # Second load: the server is gone, the cache is used.
    monkeypatch.setenv("BAYESCALE_DATA_URL", _closed_port_url())
    again = load_dataset(CHINCHILLA, download=False)
    assert again.attrs["source"]["location"] == str(cached)
    pd.testing.assert_frame_equal(df, again)


def test_corrupted_download_is_not_cached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    served = tmp_path / "server"
    _upstream_location(served, CHINCHILLA, CHINCHILLA_FILE).write_bytes(b"x,y\n1,2\n")
    with _serve(served) as url:
        monkeypatch.setenv("BAYESCALE_DATA_URL", url)
        with pytest.raises(DatasetError, match="SHA-256 mismatch") as err:
            load_dataset(CHINCHILLA)
        assert url in str(err.value)
    cache_folder = tmp_path / "cache" / CHINCHILLA
    assert not cache_folder.exists() or not any(cache_folder.iterdir())


def test_missing_upstream_file_reports_http_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "server").mkdir()
    with _serve(tmp_path / "server") as url:
        monkeypatch.setenv("BAYESCALE_DATA_URL", url)
        with pytest.raises(DatasetError, match="404"):
            load_dataset(CHINCHILLA)


def test_bnsl_rebuilt_from_upstream_script(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    csv_path = _real_file("bnsl_4digit_addition", "bnsl_4_digit_addition.csv")
    table = pd.read_csv(csv_path)
    script = (
        "import numpy as np\n\n"
        "def f(x):\n    return x\n\n"
        f"x = np.array({table['dataset_size'].tolist()})\n\n"
        f"y = np.array({table['test_loss'].tolist()})\n\n"
        "if __name__ == '__main__':\n    x = None\n"
    )
    info = dataset_info("bnsl_4digit_addition")
    served = tmp_path / "server"
    _upstream_location(served, info.name, info.files[0].filename).write_text(script)
    with _serve(served) as url:
        monkeypatch.setenv("BAYESCALE_DATA_URL", url)
        df = load_dataset("bnsl_4digit_addition")
    assert len(df) == 17
    cached = tmp_path / "cache" / info.name / info.files[0].filename
    assert cached.read_bytes() == csv_path.read_bytes()


def test_bnsl_rebuild_with_wrong_values_is_rejected(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    info = dataset_info("bnsl_4digit_addition")
    served = tmp_path / "server"
    script = "import numpy as np\nx = np.array([1, 2, 3])\ny = np.array([0.5, 0.4, 0.3])\n"
    _upstream_location(served, info.name, info.files[0].filename).write_text(script)
    with _serve(served) as url:
        monkeypatch.setenv("BAYESCALE_DATA_URL", url)
        with pytest.raises(DatasetError, match="SHA-256 mismatch"):
            load_dataset(info.name)
    assert not (tmp_path / "cache" / info.name / info.files[0].filename).exists()


def test_rebuild_parser_rejects_code() -> None:
    rebuild = dataset_info("bnsl_4digit_addition").files[0].rebuild
    assert rebuild is not None
    with pytest.raises(ValueError):
        rebuild(b"x = np.array(list(range(3)))\ny = np.array([1.0])\n")
    with pytest.raises(ValueError):
        rebuild(b"z = 1\n")
    out = rebuild(b"import numpy as np\nx = np.array([1, 2])\ny = np.array([0.5, 0.25])\n")
    assert out == b"dataset_size,test_loss,split\r\n1,0.5,fit\r\n2,0.25,fit\r\n"


def test_module_exports() -> None:
    for name in (
        "load_dataset",
        "list_datasets",
        "dataset_info",
        "data_dir_search_path",
        "DatasetError",
        "DatasetInfo",
    ):
        assert name in datasets.__all__
    assert issubclass(DatasetError, OSError)
