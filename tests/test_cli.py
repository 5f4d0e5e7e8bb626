"""The ``bayescale`` command: same numbers as the Python API, one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.cli import main
from bayescale.export import read_summary, summary_table

SETTINGS = ["--draws", "200", "--tune", "200", "--chains", "2", "--random-seed", "3"]


@pytest.fixture(scope="module")
def runs_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "runs.csv"
    bs.testing.simulate_chinchilla(n=60, random_seed=3).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def cli_fit(runs_csv):
    out = runs_csv.parent / "f.nc"
    assert main(["fit", "chinchilla", str(runs_csv), "--out", str(out), "--quiet", *SETTINGS]) == 0
    return out


def _error(capsys, argv) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("bayescale: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


def test_fit_then_summary_reproduces_the_api(cli_fit, runs_csv, tmp_path, capsys):
    capsys.readouterr()
    assert main(["summary", str(cli_fit), "--format", "csv"]) == 0
    stdout = capsys.readouterr().out
    (tmp_path / "stdout.csv").write_text(stdout)
    from_cli = read_summary(tmp_path / "stdout.csv")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DiagnosticWarning)
        api = bs.fit(
            "chinchilla", pd.read_csv(runs_csv), draws=200, tune=200, chains=2, random_seed=3,
            progressbar=False,
        ).summary()  # fmt: skip
    assert list(from_cli.index) == list(api.index)
    numeric = [c for c in api.columns if c != "flag"]
    np.testing.assert_array_equal(from_cli[numeric].to_numpy(), api[numeric].to_numpy())
    assert from_cli["flag"].tolist() == api["flag"].tolist()

    # --out writes the same table to a file
    assert main(["summary", str(cli_fit), "--format", "csv", "--out", str(tmp_path / "s.csv")]) == 0
    pd.testing.assert_frame_equal(read_summary(tmp_path / "s.csv"), from_cli)


def test_summary_formats(cli_fit, capsys):
    for fmt, start in (("md", "| parameter |"), ("tex", "\\begin{tabular}"), ("json", "{")):
        assert main(["summary", str(cli_fit), "--format", fmt]) == 0
        assert capsys.readouterr().out.startswith(start), fmt


def test_optimal_matches_the_api(cli_fit, tmp_path, capsys):
    out = tmp_path / "opt.json"
    argv = ["optimal", str(cli_fit), "--compute", "1e24", "1e25", "--format", "json"]
    assert main([*argv, "--out", str(out)]) == 0
    expected = summary_table(bs.compute_optimal(bs.Fit.load(cli_fit), [1e24, 1e25]))
    pd.testing.assert_frame_equal(read_summary(out), expected, check_exact=True)
    assert main(["optimal", str(cli_fit), "--compute", "1e24"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("| compute C (FLOPs) | N* (parameters) |") and "| 1e24 |" in md


def test_report_command(cli_fit, tmp_path, capsys):
    argv = ["report", str(cli_fit), "--out", str(tmp_path / "r"), "--compute", "1e23"]
    assert main([*argv, "--dataset", "chinchilla_besiroglu2024"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "r" / "report.md")
    assert (tmp_path / "r" / "frontier.png").is_file()
    md = (tmp_path / "r" / "report.md").read_text()
    assert "**dataset**: chinchilla_besiroglu2024" in md


def test_listing_commands(capsys):
    assert main(["laws"]) == 0
    assert "chinchilla" in capsys.readouterr().out
    assert main(["datasets"]) == 0
    assert "chinchilla_besiroglu2024" in capsys.readouterr().out


def test_prior_and_columns_options(runs_csv, tmp_path, capsys):
    renamed = pd.read_csv(runs_csv).rename(columns={"N": "params", "loss": "val_loss"})
    renamed.to_csv(tmp_path / "renamed.csv", index=False)
    out = tmp_path / "g.nc"
    argv = ["fit", "chinchilla", str(tmp_path / "renamed.csv"), "--out", str(out), "--quiet"]
    argv += ["--columns", "N=params,loss=val_loss", "--prior", "beta=fixed(0.36)", *SETTINGS]
    assert main(argv) == 0
    fit = bs.Fit.load(out)
    assert fit.priors["beta"].is_fixed
    assert float(fit.params()["beta"].min()) == pytest.approx(0.36)


def test_accuracy_law_fits_with_its_default_likelihood_and_options(tmp_path, capsys):
    runs = bs.emergence.pinned_emergence_fit(random_seed=0).data
    runs.to_csv(tmp_path / "acc.csv", index=False)
    out = tmp_path / "acc.nc"
    argv = ["fit", "emergence", str(tmp_path / "acc.csv"), "--out", str(out), "--quiet"]
    argv += ["--option", "floor=0", "--option", "x=C", *SETTINGS]
    argv[argv.index("--draws") + 1] = "100"
    assert main(argv) == 0, capsys.readouterr().err
    fit = bs.Fit.load(out)
    law = bs.get_law("emergence")
    assert fit.likelihood.name == law.default_likelihood == "beta"
    assert fit.law.options["floor"] == 0 and fit.law.options["x"] == "C"
    assert "floor" not in fit.priors  # fixed by the option, not sampled


def test_option_values_are_literals_or_text():
    from bayescale.cli import _parse_options

    parsed = _parse_options(["breaks=2", "x=C", "floor=0.25", "ceiling=None", "name=a b"])
    assert parsed == {"breaks": 2, "x": "C", "floor": 0.25, "ceiling": None, "name": "a b"}


def test_unwritable_output_is_one_line_and_exit_2(cli_fit, runs_csv, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / "fit.nc"
    line = _error(capsys, ["fit", "chinchilla", str(runs_csv), "--out", str(target), *SETTINGS])
    assert str(target) in line and "not a directory" in line
    line = _error(capsys, ["summary", str(cli_fit), "--out", str(blocker / "s.md")])
    assert str(blocker / "s.md") in line
    line = _error(capsys, ["report", str(cli_fit), "--out", str(blocker / "rep")])
    assert str(blocker / "rep") in line


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["fit", "chinchilla", "{missing}", "--out", "x.nc"], "data file not found"),
        (["fit", "chinchila", "{runs}", "--out", "x.nc"], "unknown law 'chinchila'"),
        (["fit", "chinchilla", "{runs}", "--out", "x.nc", "--columns", "Q=C"], "'Q'"),
        (["fit", "chinchilla", "{runs}", "--out", "x.nc", "--columns", "N=params"], "'params'"),
        (["fit", "chinchilla", "{runs}", "--out", "x.nc", "--columns", "N"], "--columns"),
        (["fit", "chinchilla", "{bad}", "--out", "x.nc"], "column 'D' has non-numeric values"),
        (["fit", "chinchilla", "{runs}", "--out", "x.nc", "--prior", "alpha=Normal(mu="], "prior"),
        (["fit", "chinchilla", "{runs}", "--out", "x.nc", "--prior", "zeta=fixed(1)"], "'zeta'"),
        (["fit", "chinchilla", "{runs}", "--out", "x.nc", "--draws", "0"], "draws"),
        (["fit", "bnsl", "{runs}", "--out", "x.nc", "--option", "breaks=two"], "breaks"),
        (["fit", "bnsl", "{runs}", "--out", "x.nc", "--option", "zeta=1"], "zeta"),
        (["fit", "chinchilla", "{runs}", "--out", "x.nc", "--option", "x=C"], "no options"),
        (["fit", "bnsl", "{runs}", "--out", "x.nc", "--option", "breaks"], "--option"),
        (["summary", "{missing}"], "fit file not found"),
        (["summary", "{runs}"], "runs.csv"),
        (["optimal", "{missing}", "--compute", "abc"], "not a number: 'abc'"),
        (["summary", "{missing}", "--format", "xlsx"], "invalid choice: 'xlsx'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "required"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, needle, runs_csv, tmp_path, capsys):
    bad = pd.read_csv(runs_csv).astype({"D": object})
    bad.loc[4, "D"] = "lots"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    paths = {"missing": tmp_path / "nope.csv", "runs": runs_csv, "bad": tmp_path / "bad.csv"}
    argv = [a.format(**paths) for a in argv]
    assert needle in _error(capsys, argv)


def test_installed_command_exits_2_with_one_line(tmp_path):
    script = Path(sys.executable).parent / "bayescale"
    commands = [[sys.executable, "-m", "bayescale.cli"]]
    if script.is_file():  # the console script of the installed package
        commands.append([str(script)])
    for cmd in commands:
        proc = subprocess.run(
            [*cmd, "fit", "chinchilla", str(tmp_path / "missing.csv"), "--out", "x.nc"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            f"bayescale: error: data file not found: {tmp_path / 'missing.csv'}"
        ]


def test_fixed_inputs_for_laws_with_more_inputs(tmp_path, capsys):
    from test_report import _pinned_data_constrained_fit

    path = _pinned_data_constrained_fit().save(tmp_path / "dc.nc")
    out = tmp_path / "opt.json"
    argv = ["optimal", path, "--compute", "1e22", "--fixed", "U=25e9", "--format", "json"]
    assert main([*argv, "--out", str(out)]) == 0
    expected = summary_table(bs.compute_optimal(bs.Fit.load(path), [1e22], fixed={"U": 25e9}))
    pd.testing.assert_frame_equal(read_summary(out), expected, check_exact=True)
    capsys.readouterr()
    assert "'U'" in _error(capsys, ["optimal", path, "--compute", "1e22"])
    assert "--fixed" in _error(capsys, ["optimal", path, "--compute", "1e22", "--fixed", "U"])
    assert main(["report", path, "--out", str(tmp_path / "rep"), "--fixed", "U=25e9"]) == 0
    assert (tmp_path / "rep" / "optimal.csv").exists()


def test_fit_prints_results_on_stdout_and_diagnostics_on_stderr(runs_csv, tmp_path, capsys):
    out = tmp_path / "g.nc"
    assert main(["fit", "chinchilla", str(runs_csv), "--out", str(out), *SETTINGS]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("<bayescale.Fit chinchilla@1")
    assert "alpha" in captured.out and "ci95_lo" in captured.out
    assert "diagnostics" not in captured.out and "wrote" not in captured.out
    assert "diagnostics: " in captured.err and f"wrote {out}" in captured.err


def test_predict_matches_the_api(cli_fit, tmp_path, capsys):
    capsys.readouterr()
    argv = ["predict", str(cli_fit), "--at", "N=70e9,D=1.4e12", "--at", "N=1e9,D=2e10"]
    assert main([*argv, "--format", "csv"]) == 0
    (tmp_path / "p.csv").write_text(capsys.readouterr().out)
    table = read_summary(tmp_path / "p.csv")
    fit = bs.Fit.load(cli_fit)
    draws = bs.predict_loss(
        fit, kind="predictive", random_seed=0, N=[70e9, 1e9], D=[1.4e12, 2e10]
    ).to_numpy()
    draws = draws.reshape(-1, 2)
    np.testing.assert_allclose(table["loss_median"], np.median(draws, axis=0), rtol=1e-12)
    # the one default interval, bs.CI_PROB = 0.95, as everywhere; --ci-prob picks another
    np.testing.assert_allclose(table["loss_lo95"], np.quantile(draws, 0.025, axis=0), rtol=1e-12)
    assert main([*argv, "--format", "csv", "--ci-prob", "0.8"]) == 0
    (tmp_path / "p80.csv").write_text(capsys.readouterr().out)
    table = read_summary(tmp_path / "p80.csv")
    np.testing.assert_allclose(table["loss_lo80"], np.quantile(draws, 0.1, axis=0), rtol=1e-12)
    assert main(argv) == 0
    md = capsys.readouterr().out
    assert "| 70B | 1.4T |" in md  # inputs read as counts
    runs = tmp_path / "planned.csv"
    pd.DataFrame({"N": [70e9], "D": [1.4e12]}).to_csv(runs, index=False)
    assert main(["predict", str(cli_fit), "--runs", str(runs), "--kind", "mean"]) == 0
    assert "| 70B | 1.4T |" in capsys.readouterr().out
    assert "--at" in _error(capsys, ["predict", str(cli_fit), "--at", "N=1e9"])
    assert "--at" in _error(capsys, ["predict", str(cli_fit)])


def test_plot_command_writes_the_figure(cli_fit, tmp_path, capsys):
    for kind, ext in (("isoflops", "png"), ("frontier", "svg")):
        out = tmp_path / f"{kind}.{ext}"
        assert main(["plot", str(cli_fit), kind, "--out", str(out), "--dpi", "60"]) == 0
        assert capsys.readouterr().out.strip() == str(out)
        assert out.stat().st_size > 5000
    assert "already exists" in _error(
        capsys, ["plot", str(cli_fit), "isoflops", "--out", str(tmp_path / "isoflops.png")]
    )
    assert ".png, .svg or .pdf" in _error(
        capsys, ["plot", str(cli_fit), "fit", "--out", str(tmp_path / "x.gif")]
    )


def test_plan_command_prints_the_plan_and_predict_checks_its_run(cli_fit, tmp_path, capsys):
    capsys.readouterr()
    argv = ["plan", str(cli_fit), "--budget", "1e24", "--outcomes", "4", "--ci-prob", "0.8"]
    assert main(argv) == 0
    md = capsys.readouterr().out
    fit = bs.Fit.load(cli_fit)
    p = bs.plan(fit, compute=1e24, n_outcomes=4, ci_prob=0.8, random_seed=0)
    assert md == p.to_markdown() + "\n"
    assert md.startswith("# Plan for 1e24 FLOPs")
    assert "Best next pilot run" in md and "D = 20·N" in md
    # bayescale predict on the plan's run gives the plan's predictive loss
    assert main(["predict", str(fit_path := cli_fit), "--at", f"N={p.N!r},D={p.D!r}",
                 "--format", "csv", "--ci-prob", "0.8"]) == 0  # fmt: skip
    (tmp_path / "p.csv").write_text(capsys.readouterr().out)
    table = read_summary(tmp_path / "p.csv")
    row = p.summary().loc["loss_predictive"]
    assert table["loss_median"].iloc[0] == pytest.approx(row["median"], rel=1e-12)
    assert table["loss_lo80"].iloc[0] == pytest.approx(row["lo"], rel=1e-12)
    out = tmp_path / "plan.md"
    assert main([*argv, "--out", str(out)]) == 0
    assert out.read_text() == md
    capsys.readouterr()
    assert "already exists" in _error(capsys, [*argv, "--out", str(out)])
    assert main([*argv, "--out", str(out), "--force"]) == 0
    capsys.readouterr()
    assert "must be a finite number > 0" in _error(
        capsys, ["plan", str(fit_path), "--budget", "-1e22"]
    )
    assert "fit file not found" in _error(capsys, ["plan", str(tmp_path / "no.nc"), "--budget",
                                                   "1e24"])  # fmt: skip
    assert "required" in _error(capsys, ["plan", str(fit_path)])


def test_backtest_command_prints_the_table_and_calibration(runs_csv, tmp_path, capsys):
    capsys.readouterr()
    argv = ["backtest", "chinchilla", str(runs_csv), "--cutoff", "1e20", *SETTINGS]
    assert main([*argv, "--format", "csv", "--out", str(tmp_path / "bt.csv")]) == 0
    capsys.readouterr()
    assert main(argv) == 0
    text = capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api = bs.backtest("chinchilla", pd.read_csv(runs_csv), split={"C": 1e20}, draws=200,
                          tune=200, chains=2, random_seed=3, warn=False)  # fmt: skip
    assert text.startswith(str(api))
    assert "calibration" in text and "coverage_80" in text
    calibration = text.split("calibration (pooled over every held-out run):")[1]
    assert "nominal" in calibration and "verdict" in calibration
    for verdict in api.calibration["verdict"]:
        assert f"| {verdict} |" in calibration
    written = read_summary(tmp_path / "bt.csv")
    np.testing.assert_allclose(written["coverage_80"], api.metrics["coverage_80"], rtol=1e-12)
    assert "already exists" in _error(capsys, [*argv, "--out", str(tmp_path / "bt.csv")])
    assert "no such column" in _error(capsys, [*argv, "--split", "steps"])
    assert "data file not found" in _error(
        capsys, ["backtest", "chinchilla", str(tmp_path / "no.csv"), "--cutoff", "1e20"]
    )
    assert "nothing to predict" in _error(
        capsys, ["backtest", "chinchilla", str(runs_csv), "--cutoff", "1e40", *SETTINGS]
    )
