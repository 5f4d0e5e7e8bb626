"""The report bundle and table exports: full precision in CSV/JSON, rounding only for display."""

from __future__ import annotations

import json
import os
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.display import human
from bayescale.export import export_summary, read_summary, summary_table, to_latex
from bayescale.report import BUNDLE_FILES


def _assert_same(back: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(back.columns) == list(ref.columns)
    assert back.index.name == ref.index.name
    assert list(back.index) == list(ref.index)
    for col in ref.columns:
        if pd.api.types.is_numeric_dtype(ref[col]):
            a, b = back[col].to_numpy(dtype=float), ref[col].to_numpy(dtype=float)
            assert np.array_equal(a, b, equal_nan=True), col  # bit for bit
        else:
            assert ["" if pd.isna(v) else v for v in back[col]] == list(ref[col]), col


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_fit_summary_round_trips_at_full_precision(pinned, tmp_path, suffix):
    ref = pinned.summary()
    path = export_summary(pinned, tmp_path / f"summary{suffix}")
    if suffix == ".csv":
        plain = pd.read_csv(path, index_col=0)
    else:
        plain = pd.read_json(path, orient="table", precise_float=True)
    _assert_same(plain, ref)
    again = read_summary(path)
    _assert_same(again, ref)
    assert again["flag"].tolist() == ref["flag"].tolist()  # "" stays "", not NaN


def test_missing_numbers_and_empty_text_survive_csv(tmp_path):
    ref = pd.DataFrame(
        {"x": [1.0, np.nan, np.inf], "flag": ["", "r_hat>1.01", ""]},
        index=pd.Index(["a", "b", "c"], name="parameter"),
    )
    back = read_summary(export_summary(ref, tmp_path / "t.csv"))
    _assert_same(back, ref)
    assert back["flag"].tolist() == ["", "r_hat>1.01", ""]
    plain = pd.read_csv(tmp_path / "t.csv", index_col=0)
    assert np.array_equal(plain["x"].to_numpy(), ref["x"].to_numpy(), equal_nan=True)


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_optimal_table_round_trips(pinned, tmp_path, suffix):
    opt = bs.compute_optimal(pinned, compute=[1e21, 5.88e23, 1e25])
    ref = summary_table(opt, ci_prob=0.9)
    assert ref.index.name == "compute"
    assert list(ref.index) == [1e21, 5.88e23, 1e25]
    med = np.median(opt["N_opt"].sel(compute=5.88e23).to_numpy().ravel())
    assert ref.loc[5.88e23, "N_opt_median"] == med
    q = np.quantile(opt["D_opt"].sel(compute=1e21).to_numpy().ravel(), [0.05, 0.95])
    assert ref.loc[1e21, ["D_opt_lo90", "D_opt_hi90"]].tolist() == q.tolist()
    path = export_summary(opt, tmp_path / f"optimal{suffix}", ci_prob=0.9)
    _assert_same(read_summary(path), ref)


def test_dataframe_export_and_display_formats(pinned, tmp_path):
    frame = pinned.summary()
    md = (tmp_path / "s.md").read_text() if export_summary(frame, tmp_path / "s.md") else ""
    assert md.startswith("| parameter | mean | sd |")
    assert "| alpha | 0.347 |" in md  # 3 significant digits for display
    tex = open(export_summary(frame, tmp_path / "s.tex")).read()
    assert tex.startswith("\\begin{tabular}{lrrrrrrrrr}")
    assert "ci95\\_lo" in tex and "log\\_A\\_ref" not in tex  # published parameters only
    assert tex.rstrip().endswith("\\end{tabular}")
    tex_all = to_latex(pinned.summary(kind="all"))
    assert "log\\_A\\_ref" in tex_all
    opt_tex = to_latex(summary_table(bs.compute_optimal(pinned, compute=[1e24])))
    assert re.search(r"\$1\\times 10\^\{24\}\$", opt_tex)
    with pytest.raises(ValueError, match="extension"):
        export_summary(frame, tmp_path / "s.xlsx")
    with pytest.raises(TypeError, match="Fit, a result object, a DataFrame or an xarray Dataset"):
        export_summary([1, 2], tmp_path / "s.csv")


def test_json_is_plain_json(pinned, tmp_path):
    data = json.loads(open(export_summary(pinned, tmp_path / "s.json")).read())
    assert data["schema"]["primaryKey"] == ["parameter"]
    assert data["data"][0]["parameter"] == "A"
    assert data["data"][0]["median"] == pinned.summary().loc["A", "median"]


def test_report_bundle(pinned, tmp_path):
    path = bs.report(
        pinned, tmp_path / "rep", compute=[1e22, 1e24], cards=["hoffmann2022"], title="Pinned"
    )
    out = tmp_path / "rep"
    assert path == str(out / "report.md")
    names = {p.name for p in out.iterdir()}
    stems = ("isoflops", "fit", "residuals", "params", "frontier", "tokens_per_param")
    assert {"report.md", "report.html", "summary.csv", "optimal.csv"} <= names
    assert {f"{s}.{e}" for s in stems for e in ("png", "svg")} <= names
    assert names <= set(BUNDLE_FILES)
    md = (out / "report.md").read_text()
    assert md.startswith("# Pinned\n\n## Answer")
    headings = re.findall(r"^## (.+)$", md, re.M)
    assert headings[:2] == ["Answer", "Diagnostics"]
    for heading in ("Parameters", "Published fits", "Compute-optimal allocation", "Priors"):
        assert heading in headings
    assert "| 1e22 |" in md and "hoffmann2022" in md
    for png in re.findall(r"!\[[^]]*\]\(([^)]+)\)", md):
        assert (out / png).stat().st_size > 5000
    _assert_same(pd.read_csv(out / "summary.csv", index_col=0), pinned.summary())
    opt = summary_table(bs.compute_optimal(pinned, compute=[1e22, 1e24]))
    _assert_same(pd.read_csv(out / "optimal.csv", index_col=0), opt)


def test_report_html_is_one_self_contained_file(pinned, tmp_path):
    bs.report(pinned, tmp_path, compute=[1e23], cards=["hoffmann2022"])
    html = (tmp_path / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<table>" in html
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html) + re.findall(r"url\(([^)]*)\)", html)
    assert refs and all(r.startswith("data:image/png;base64,") for r in refs), refs[:3]
    assert "<link" not in html and "<script" not in html
    # an image decodes to the PNG written beside the page
    import base64

    first = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(first)[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_gives_the_answer_first_in_human_numbers(pinned, tmp_path):
    md = open(bs.report(pinned, tmp_path, cards=["hoffmann2022", "besiroglu2024"])).read()
    answer = md.split("## Diagnostics")[0]
    assert "5.88e23 FLOPs" in answer  # the budget the figures mark is a default budget
    opt = bs.compute_optimal(pinned, compute=[5.88e23])
    n_med = float(opt["N_opt"].median())
    assert human(n_med, "N", unit=False) + " [" in answer
    assert "tokens per parameter" in answer and "predictive" in answer
    assert re.search(r"\| \d\.\d+ \[\d\.\d+, \d\.\d+\] nats/token \|", answer)
    assert "Where the published fits sit" in answer and "hoffmann2022 at" in answer
    priors = md.split("## Priors")[1].split("##")[0]
    assert "α ~ LogNormal(μ=log 0.3, σ=0.7)" in priors and "Prior(" not in priors
    tail = md.split("## Data and provenance")[1]
    assert "fitted runs**: 60 rows, SHA-256 " in tail
    assert "bayescale " in tail and "pymc " in tail and "date**: 20" in tail


def test_report_backtest_calibration_warns_below_nominal(pinned, tmp_path):
    table = pd.DataFrame(
        {
            "C": [1e21, 2e21, 4e21, 8e21],
            "observed": [2.0, 2.1, 2.5, 2.6],
            "median": [2.0, 2.1, 2.2, 2.3],
            "lo95": [1.9, 2.0, 2.1, 2.2],
            "hi95": [2.1, 2.2, 2.3, 2.4],
            "inside95": [True, True, False, False],
        }
    )
    md = open(bs.report(pinned, tmp_path, compute=[1e22], backtest=table)).read()
    answer = md.split("## Diagnostics")[0]
    assert "of 4 held-out runs, 95% intervals hold 50%" in answer
    assert "> **Warning**: Coverage is below nominal" in answer
    assert (tmp_path / "backtest.png").is_file()
    table["inside95"] = True
    md = open(bs.report(pinned, tmp_path / "ok", compute=[1e22], backtest=table)).read()
    assert "hold 100%" in md and "below nominal" not in md


def test_report_provenance_of_a_loaded_dataset(pinned, tmp_path, chinchilla_runs):
    md = open(bs.report(pinned, tmp_path, compute=[1e22], dataset=chinchilla_runs)).read()
    tail = md.split("## Data and provenance")[1]
    assert "chinchilla_besiroglu2024" in tail
    assert chinchilla_runs.attrs["source"]["sha256"] in tail


def test_fit_html_repr(pinned):
    html = pinned._repr_html_()
    assert "chinchilla@1" in html and "60 runs" in html and "converged" in html
    assert "alpha" in html


def _pinned_data_constrained_fit():
    """A data_constrained fit pinned near Chinchilla's values with U = D (no MCMC)."""
    truth = {**bs.testing.BESIROGLU_TRUTH, "R_D_star": 15.0, "R_N_star": 5.0}
    design = bs.testing.chinchilla_design(30, random_seed=0)
    rng = np.random.default_rng(0)

    def jittered(ref):
        centre = {**bs.testing.chinchilla_sampled(truth, ref), "sigma": 0.01, "nu": 5.0}
        return {k: v + 0.01 * abs(v) * rng.standard_normal((2, 100)) for k, v in centre.items()}

    return bs.testing.fit_from_draws(
        "data_constrained", design.assign(U=design["D"], loss=2.5), jittered
    )


def test_report_on_a_law_with_more_inputs_than_n_and_d(tmp_path):
    fit = _pinned_data_constrained_fit()
    md = open(bs.report(fit, tmp_path / "a", compute=[1e22])).read()
    files = set(os.listdir(tmp_path / "a"))
    assert {"fit.png", "residuals.png", "params.png", "report.html"} <= files
    assert "optimal.csv" not in files and "frontier.png" not in files
    assert "fixed={'U': ...}" in md
    assert "fixed=" in (tmp_path / "a" / "report.html").read_text()
    md = open(bs.report(fit, tmp_path / "b", compute=[1e22], fixed={"U": 1e12})).read()
    assert {"optimal.csv", "frontier.png"} <= set(os.listdir(tmp_path / "b"))
    # no closed-form optimum: the tokens-per-parameter figure is drawn with U held fixed
    assert "tokens_per_param.png" in os.listdir(tmp_path / "b")
    assert "(tokens_per_param.png)" in md
    assert "U = 1T tokens" in md and "Note" not in md
    table = pd.read_csv(tmp_path / "b" / "optimal.csv", index_col=0)
    ref = summary_table(bs.compute_optimal(fit, [1e22], fixed={"U": 1e12}))
    assert table.loc[1e22, "N_opt_median"] == ref.loc[1e22, "N_opt_median"]
    with pytest.raises(ValueError, match="fixed= names"):
        bs.report(fit, tmp_path / "c", fixed={"Q": 1.0})


def test_report_on_an_accuracy_fit(tmp_path):
    fit = bs.emergence.pinned_emergence_fit(random_seed=0)
    assert fit.likelihood.name == "binomial" and not fit.likelihood.noise_priors
    md = open(bs.report(fit, tmp_path, compute=[1e22])).read()
    assert {"fit.png", "residuals.png", "params.png"} <= set(os.listdir(tmp_path))
    assert "Residuals of accuracy" in md
    assert "Compute-optimal" not in md and "Note" not in md


def test_frontier_and_tokens_per_param_with_fixed_inputs_draw_the_law_s_card():
    fit = _pinned_data_constrained_fit()
    C = np.array([1e21, 1e22, 1e23])
    fig, _axes = bs.plots.plot_frontier(fit, compute=C, fixed={"U": 1e12})
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "muennighoff2023 (point estimate)" in labels  # no closed form: solved numerically
    _fig, ax = bs.plots.plot_tokens_per_param(
        fit, compute=C, cards=["muennighoff2023"], fixed={"U": 1e12}
    )
    ratio = bs.compute_optimal(fit, C, fixed={"U": 1e12})["tokens_per_param"].median(
        ("chain", "draw")
    )
    np.testing.assert_allclose(ax.lines[0].get_ydata(), ratio, rtol=1e-12)
    (card,) = [ln for ln in ax.lines if ln.get_label() == "muennighoff2023 point estimate"]
    assert np.all(np.isfinite(card.get_ydata())) and np.all(card.get_ydata() > 0)


def test_report_computes_the_summary_once(pinned, tmp_path, monkeypatch):
    calls = []
    original = bs.Fit.summary

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(bs.Fit, "summary", counting)
    bs.report(pinned, tmp_path, compute=[1e22], cards=["hoffmann2022"])
    assert len(calls) == 1
    _assert_same(pd.read_csv(tmp_path / "summary.csv", index_col=0), original(pinned))
