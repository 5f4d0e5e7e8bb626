"""Pooled fits through the workflows (issue 11): the command line's ``--group``/``--pool``,
``backtest`` of a pooled fit (each held-out run in its own group, an unseen group predicted as a
new one), a stack backtest refitting pooled members pooled, and ``pool="partial_auto"``'s
Laplace pilot (bayescale/pooling_auto.py). Tiny draws throughout; NUTS quality of the forms is
measured by benchmarks/bench_centring.py."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.cli import main
from bayescale.pooling import NEW_GROUP, group_view
from bayescale.pooling_auto import AUTO_RATIO, _between_spread, choose_centring

KW = dict(draws=60, tune=60, chains=1, progressbar=False, warn=False)
#: One pool spec for the backtest and command-line fits (one compiled model structure).
POOL = {"alpha": "shared", "beta": "partial_centred"}
LAW = bs.get_law("chinchilla")


def _corpora(seed: int = 0, offsets: tuple[float, ...] = (0.0, 0.06), n: int = 40) -> pd.DataFrame:
    """Groups ``g0, g1, ...`` of ``n`` simulated Chinchilla runs each, group ``k``'s losses
    multiplied by ``exp(offsets[k])``."""
    frames = []
    for k, shift in enumerate(offsets):
        runs = bs.testing.simulate_chinchilla(n, random_seed=seed + k)
        runs["loss"] *= np.exp(shift)
        runs["corpus"] = f"g{k}"
        frames.append(runs)
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------- the pilot
def test_between_spread_recovers_a_simulated_spread():
    rng = np.random.default_rng(0)
    sd = rng.uniform(0.05, 0.4, 4000)  # unequal standard errors
    u = 1.0 + rng.normal(0.0, 0.3, sd.size) + rng.normal(0.0, sd)
    assert _between_spread(u, sd) == pytest.approx(0.3, rel=0.05)
    # no spread beyond the noise: estimated at (or next to) zero
    assert _between_spread(rng.normal(0.0, sd), sd) < 0.03


def test_pilot_centres_groups_their_data_pin_and_not_identical_groups():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DataWarning)
        # far apart (E differs by 25% between groups): every group's log_E is pinned well
        # inside the spread; identical groups: no spread, nothing to centre
        apart = _corpora(offsets=(0.0, 0.25, -0.25, 0.5), n=40)
        same = _corpora(offsets=(0.0, 0.0, 0.0, 0.0), n=40)
        out = {}
        for name, runs in (("apart", apart), ("same", same)):
            lik = bs.get_likelihood("studentt")
            from bayescale.data import prepare_data
            from bayescale.pooling import resolve_pooling
            from bayescale.structure import resolve_structure

            prep = prepare_data(LAW, runs)
            pooling, codes = resolve_pooling(
                LAW, "corpus", {"log_E": "partial_auto"}, runs, LAW.default_priors
            )
            structure, scodes = resolve_structure(None, True, runs, LAW.inputs, ("N", "D"))
            priors = {**LAW.default_priors, **lik.noise_priors, **structure.default_priors(),
                      **pooling.default_priors(LAW.default_priors)}  # fmt: skip
            ref = LAW.compute_reference(prep.inputs)
            out[name] = choose_centring(
                LAW, prep, priors, lik, ref, {**scodes, **codes}, structure, pooling
            )
    chosen, ratios = out["apart"]
    assert list(ratios.index) == ["log_E"]
    assert (ratios.loc["log_E"] < 0.3).all(), ratios
    assert chosen.centred == {"log_E": (0, 1, 2, 3)}
    chosen, ratios = out["same"]
    assert (ratios.loc["log_E"] > 0.8).all(), ratios
    assert chosen.centred == {}


def test_auto_fit_records_its_choice_saves_and_refits_by_spec(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DataWarning)
        runs = _corpora(offsets=(0.0, 0.25, -0.25, 0.5), n=40)  # as the pilot's test
        fit = bs.fit("chinchilla", runs, group="corpus", pool={"log_E": "partial_auto"},
                     random_seed=0, **KW)  # fmt: skip
    assert fit.pooling.auto == ("log_E",)
    assert fit.pooling.centred.get("log_E") == (0, 1, 2, 3)
    assert "pilot" in fit.timings
    again = bs.Fit.load(fit.save(tmp_path / "auto.nc"))
    assert again.pooling == fit.pooling
    spec = fit.pooling.spec()
    assert spec["log_E"] == "partial_auto" and spec["alpha"] == "partial_noncentred"
    from bayescale.next_runs import _refit_kwargs

    kwargs = _refit_kwargs(fit, None)
    assert kwargs["group"] == "corpus" and kwargs["pool"] == spec
    assert AUTO_RATIO == 0.5


# ---------------------------------------------------------------------- backtest
@pytest.fixture(scope="module")
def backtested():
    """g0 and g1 on both sides of the cutoff; g2 only above it, at g0's held-out inputs."""
    runs = _corpora(offsets=(0.0, 0.08), n=40, seed=3)
    c = 6 * runs["N"] * runs["D"]
    cutoff = float(np.quantile(c, 0.7))
    above = runs[(runs["corpus"] == "g0") & (c >= cutoff)]
    runs = pd.concat([runs, above.assign(corpus="g2", loss=above["loss"] * 1.04)])
    runs = runs.reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = bs.backtest("chinchilla", runs, split={"C": cutoff}, group="corpus", pool=POOL,
                         random_seed=2, draws=80, tune=80, chains=2, warn=False)  # fmt: skip
    return runs, cutoff, bt


def test_backtest_predicts_each_run_in_its_group_and_unseen_groups_as_new(backtested):
    _, cutoff, bt = backtested
    fit = bt.fits[cutoff]
    assert fit.pooling is not None and list(fit.pooling.labels) == ["g0", "g1"]
    t = bt.table
    assert {"group", "seen"} <= set(t.columns)
    assert set(t.loc[~t["seen"], "group"]) == {"g2"}
    g0 = t[t["group"] == "g0"].set_index(["N", "D"]).sort_index()
    g2 = t[t["group"] == "g2"].set_index(["N", "D"]).sort_index()
    assert len(g2) >= 5 and list(g0.index) == list(g2.index)
    # at the same inputs the new group's interval is wider: its values are drawn from the
    # population, not pinned by its runs
    width = {k: (v["hi95"] - v["lo95"]).to_numpy() for k, v in (("g0", g0), ("g2", g2))}
    assert np.all(width["g2"] > width["g0"]), width
    # a seen group's draws are that group's: the medians follow group_view's predictions
    g1 = t[t["group"] == "g1"]
    view = group_view(fit, "g1")
    mean = bs.predict_loss(view, N=g1["N"].to_numpy(), D=g1["D"].to_numpy(), kind="mean")
    med = np.median(mean.to_numpy().reshape(-1, len(g1)), axis=0)
    np.testing.assert_allclose(g1["median"].to_numpy(), med, rtol=0.02)


def test_backtest_of_a_pooled_fit_refits_with_its_pool_spec(backtested):
    runs, cutoff, bt = backtested
    fit = bt.fits[cutoff]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = bs.backtest(fit, runs, split={"C": cutoff}, random_seed=2, draws=80, tune=80,
                            chains=2, warn=False)  # fmt: skip
    refit = again.fits[cutoff]
    assert refit.pooling.spec() == fit.pooling.spec()
    pd.testing.assert_frame_equal(again.table, bt.table)  # same settings, same seed, same draws


@pytest.mark.slow  # two more refits (≈ 10 s on a quiet machine)
def test_stack_backtest_refits_pooled_members_pooled(backtested):
    runs, cutoff, bt = backtested
    train = runs[6 * runs["N"] * runs["D"] < cutoff]
    pooled = bt.fits[cutoff]  # fitted to the same runs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = bs.fit("chinchilla", train, random_seed=0, **KW)
        stack = bs.stack({"pooled": pooled, "plain": plain}, weights={"pooled": 0.5, "plain": 0.5})
        out = bs.backtest(stack, runs, split={"C": cutoff}, random_seed=0, draws=60, tune=60,
                          chains=1, warn=False)  # fmt: skip
    members = out.fits[cutoff].fits
    assert members["pooled"].pooling is not None
    assert members["pooled"].pooling.spec() == pooled.pooling.spec()
    assert members["plain"].pooling is None
    assert np.isfinite(out.table["median"]).all()


# ---------------------------------------------------------------------- the command line
@pytest.fixture(scope="module")
def cli_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pooled_cli")
    runs = folder / "runs.csv"
    _corpora(offsets=(0.0, 0.06), n=30).to_csv(runs, index=False)
    fit = folder / "pooled.nc"
    argv = ["fit", "chinchilla", str(runs), "--out", str(fit), "--quiet", "--group", "corpus",
            "--pool", "alpha=shared,beta=partial_centred", "--draws", "60", "--tune", "60",
            "--chains", "1", "--random-seed", "1"]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(argv) == 0
    return folder, runs, fit


def _error(capsys, argv) -> str:
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bayescale: error: "), captured.err
    return lines[0]


def test_cli_fit_keeps_the_pool_spec(cli_files):
    _, _, path = cli_files
    fit = bs.Fit.load(path)
    assert fit.pooling.column == "corpus"
    assert fit.pooling.modes["alpha"] == "shared"
    assert fit.pooling.centred == {"beta": (0, 1)}
    assert fit.pooling.spec() == {**{n: "partial_noncentred" for n in LAW.parameter_names}, **POOL}


def test_cli_tables_answer_per_group(cli_files, capsys):
    _, _, path = cli_files
    fit = bs.Fit.load(path)
    from bayescale.export import summary_table

    capsys.readouterr()
    assert main(["optimal", str(path), "--compute", "1e22", "--format", "csv"]) == 0
    table = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert list(table["group"]) == ["g0", "g1"]
    for label in ("g0", "g1"):
        api = summary_table(bs.compute_optimal(fit, 1e22, group=label), ci_prob=0.95)
        row = table[table["group"] == label].iloc[0]
        assert row["N_opt_median"] == pytest.approx(float(api["N_opt_median"].iloc[0]), rel=1e-9)
    assert main(["optimal", str(path), "--compute", "1e22", "--group", "g1", "--format",
                 "csv"]) == 0  # fmt: skip
    one = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert "group" not in one.columns
    assert one["N_opt_median"].iloc[0] == pytest.approx(
        float(table.loc[table["group"] == "g1", "N_opt_median"].iloc[0]), rel=1e-12
    )
    # a new group: seeded, wider than a fitted group's
    argv = ["predict", str(path), "--at", "N=1e9,D=2e10", "--format", "csv", "--group", "new"]
    assert main(argv) == 0
    new = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert main(argv) == 0
    pd.testing.assert_frame_equal(new, pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out)))
    assert main(argv[:-2]) == 0
    every = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert list(every["group"]) == ["g0", "g1"]
    new_width = float(new["loss_hi95"].iloc[0] - new["loss_lo95"].iloc[0])
    assert np.all(new_width > (every["loss_hi95"] - every["loss_lo95"]).to_numpy())
    assert main(["summary", str(path), "--group", "g0", "--format", "csv"]) == 0
    rows = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert "alpha" in set(rows["parameter"]) and not rows["parameter"].str.contains(r"\[").any()


@pytest.mark.slow  # a report's figures (≈ 10 s on a quiet machine)
def test_cli_figures_and_report_of_a_pooled_fit(cli_files, capsys, tmp_path):
    _, _, path = cli_files
    assert main(["plot", str(path), "fit", "--out", str(tmp_path / "groups.png")]) == 0
    assert (tmp_path / "groups.png").stat().st_size > 1000
    err = _error(capsys, ["plot", str(path), "frontier", "--out", str(tmp_path / "f.png")])
    assert "--group" in err and "g0" in err
    argv = ["plot", str(path), "frontier", "--group", "g0", "--out", str(tmp_path / "f.png")]
    assert main(argv) == 0
    assert main(["report", str(path), "--group", "new", "--out", str(tmp_path / "rep"),
                 "--compute", "1e22"]) == 0  # fmt: skip
    assert "new group" in (tmp_path / "rep" / "report.md").read_text().lower()


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--group", "corpus", "--pool", "alpha=pooled"], ["'pooled'", "alpha"]),
        (["--group", "corpus", "--pool", "gamma=shared"], ["gamma"]),
        (["--group", "corpus", "--pool", "alpha"], ["'alpha'"]),
        (["--pool", "partial"], ["--group"]),
        (["--group", "nope"], ["nope"]),
    ],
)
def test_cli_fit_refuses_bad_pooling_by_name(cli_files, capsys, tmp_path, extra, words):
    _, runs, _ = cli_files
    err = _error(capsys, ["fit", "chinchilla", str(runs), "--out", str(tmp_path / "x.nc"),
                          "--draws", "10", "--tune", "10", "--chains", "1", *extra])  # fmt: skip
    for w in words:
        assert w in err, err
    assert not (tmp_path / "x.nc").exists()


def test_cli_refuses_groups_it_cannot_answer(cli_files, capsys, tmp_path):
    _, _, path = cli_files
    err = _error(capsys, ["optimal", str(path), "--compute", "1e22", "--group", "g9"])
    assert "g9" in err and "g0, g1" in err
    plain = bs.testing.pinned_fit(random_seed=0).save(tmp_path / "plain.nc")
    err = _error(capsys, ["optimal", str(plain), "--compute", "1e22", "--group", "g0"])
    assert "no groups" in err


def test_new_group_literal_and_seed_path(cli_files):
    """``--group '<new group>'`` is the same as ``new`` (the API's NEW_GROUP)."""
    from bayescale.cli_groups import select_group

    pooled = bs.Fit.load(cli_files[2])
    a = select_group(pooled, "new", random_seed=3).params()["alpha"].to_numpy()
    b = select_group(pooled, NEW_GROUP, random_seed=3).params()["alpha"].to_numpy()
    np.testing.assert_array_equal(a, b)


def test_cli_backtest_pools_each_cutoff_and_takes_a_saved_fit(cli_files, capsys, tmp_path):
    _, runs, path = cli_files
    settings = ["--cutoff", "3e20", "--draws", "40", "--tune", "40", "--chains", "1",
                "--format", "csv", "--random-seed", "1"]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        capsys.readouterr()
        argv = ["backtest", "chinchilla", str(runs), "--group", "corpus", "--pool",
                "alpha=shared,beta=partial_centred", *settings]  # fmt: skip
        assert main(argv) == 0
        by_law = capsys.readouterr().out
        assert main(["backtest", str(path), str(runs), *settings]) == 0
        by_fit = capsys.readouterr().out
    assert "coverage_95" in by_law
    assert by_fit == by_law  # the saved fit refits with its own group column and pool spec
    err = _error(capsys, ["backtest", "chinchilla", str(runs), "--pool", "partial", *settings])
    assert "--group" in err


def test_cli_markdown_tables_and_plan_of_a_pooled_fit(cli_files, capsys):
    _, _, path = cli_files
    capsys.readouterr()
    assert main(["optimal", str(path), "--compute", "1e22", "1e23"]) == 0
    text = capsys.readouterr().out
    assert "| group |" in text and text.count("| g0 |") == 2 and text.count("| g1 |") == 2
    argv = ["plan", str(path), "--budget", "1e22", "--outcomes", "2"]
    assert main([*argv, "--group", "g1"]) == 0
    one = capsys.readouterr().out
    assert "group 'g1'" in one and "group 'g0'" not in one
