"""Emergence and downstream laws, accuracy likelihoods, thresholds, chains, metric choice."""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.emergence import pinned_emergence_fit, task_runs, threshold_summary

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SMALL = {"draws": 300, "tune": 300, "chains": 2, "progressbar": False}


def _fit(law, runs, seed=0, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DiagnosticWarning)
        return bs.fit(law, runs, random_seed=seed, **SMALL, **kw)


def _load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------- laws
@pytest.mark.parametrize(
    "name, options, q, x",
    [
        ("emergence", {"floor": 0.0}, {"T": 22.0, "k": 2.0, "floor": 0.0, "ceiling": 0.9}, "C"),
        ("emergence", {"floor": 0.25}, {"T": 22.0, "k": 2.0, "floor": 0.25, "ceiling": 0.9}, "C"),
        ("emergence", {}, {"T": 22.0, "k": 2.0, "floor": 0.1, "ceiling": 0.8}, "C"),
        (
            "downstream",
            {"form": "exponential"},
            {"eps": 0.7, "k": 0.7 * np.exp(2.0 * 1.5), "gamma": 2.0, "L0": 1.5},
            "loss",
        ),
        (
            "downstream",
            {"form": "sigmoid", "floor": 0.25},
            {"L_mid": 2.5, "s": 4.0, "floor": 0.25, "ceiling": 0.9},
            "loss",
        ),
    ],
)
def test_numpy_and_pytensor_agree(name, options, q, x):
    import pytensor.tensor as pt

    from bayescale.xp import numpy_ns, pytensor_ns

    law = bs.get_law(name, **options)
    grid = np.logspace(18, 26, 9) if x == "C" else np.linspace(1.6, 4.0, 9)
    ref = law.log_mean(q, numpy_ns, **{x: grid})
    sym = law.expression(
        pytensor_ns,
        {x: pt.as_tensor_variable(grid)},
        {k: pt.as_tensor_variable(np.float64(v)) for k, v in q.items()},
    ).eval(mode="FAST_COMPILE")
    np.testing.assert_allclose(sym, ref, rtol=1e-10, atol=1e-12)
    acc = np.exp(ref)
    assert np.all((acc > 0) & (acc <= 1 + 1e-12))


def test_emergence_closed_form_midpoint():
    law = bs.get_law("emergence", x="N", floor=0.25, ceiling=1.0)
    assert law.inputs == ("N",)
    assert law.evaluate(
        {"T": 9.0, "k": 3.0, "floor": 0.25, "ceiling": 1.0}, N=1e9
    ) == pytest.approx(0.625)


# ---------------------------------------------------------------------- likelihoods
def test_accuracy_likelihoods_handle_exact_zero_and_one():
    y = np.array([0.0, 0.3, 1.0])
    beta = bs.get_likelihood("beta")
    obs = beta.transform(y)
    assert np.all((obs > 0) & (obs < 1))
    np.testing.assert_allclose(beta.inverse(obs), y)
    lp = beta.logpdf(obs, np.log([0.01, 0.3, 0.99]), phi=20.0)
    assert np.all(np.isfinite(lp))
    for name in ("binomial", "betabinomial"):
        lik = bs.get_likelihood(name)
        k = lik.transform(y, n_items=np.array([10.0, 10.0, 10.0]))
        assert k.tolist() == [0.0, 3.0, 10.0]
        noise = {"phi": 20.0} if name == "betabinomial" else {}
        lp = lik.logpdf(k, np.log([0.01, 0.3, 1.0]), n_items=10.0, **noise)
        assert np.all(np.isfinite(lp))
    with pytest.raises(ValueError, match="whole number of correct items"):
        bs.get_likelihood("binomial").transform(np.array([0.33]), n_items=np.array([10.0]))


def test_beta_fit_with_exact_zero_and_one():
    law = bs.get_law("emergence", x="C", floor=0.0, ceiling=1.0)
    rng = np.random.default_rng(4)
    C = np.logspace(19, 25, 30)
    acc = law.evaluate({"T": 22.0, "k": 2.0, "floor": 0.0, "ceiling": 1.0}, C=C)
    y = np.clip(acc + rng.normal(0, 0.03, C.size), 0, 1)
    y[:4], y[-4:] = 0.0, 1.0
    fit = _fit(law, pd.DataFrame({"C": C, "accuracy": y}), likelihood="beta")
    s = fit.summary()
    assert np.isfinite(fit.idata["log_likelihood"]["accuracy"].values).all()
    assert s.loc["T", "ci95_lo"] < 22.0 < s.loc["T", "ci95_hi"]


# ---------------------------------------------------------------------- recovery
TRUTH = {"T": 22.3, "k": 1.8, "floor": 0.25, "ceiling": 0.92}


@pytest.fixture(scope="module")
def binomial_fit():
    law = bs.get_law("emergence", x="C", floor=0.25)
    design = pd.DataFrame({"C": np.logspace(19.5, 25, 24), "n_items": 400.0})
    runs = bs.testing.simulate(law, TRUTH, design, likelihood="binomial", random_seed=11)
    return _fit(law, runs, seed=1, likelihood="binomial")


def test_recovery_binomial(binomial_fit):
    s = binomial_fit.summary()
    for name in ("T", "k", "ceiling"):
        assert s.loc[name, "ci95_lo"] < TRUTH[name] < s.loc[name, "ci95_hi"], name
    assert binomial_fit.divergences == 0
    # the true crossing of accuracy 0.6 lies inside the threshold posterior's 95% interval
    level = 0.6
    u = (level - TRUTH["floor"]) / (TRUTH["ceiling"] - TRUTH["floor"])
    true_x = TRUTH["T"] + np.log(u / (1 - u)) / TRUTH["k"]
    thr = bs.emergence_threshold(binomial_fit, level=level, by=[10**true_x])
    lo, hi = np.quantile(thr["log10_threshold"], [0.025, 0.975])
    assert lo < true_x < hi
    assert 0.05 < float(thr["p_emerged"][0]) < 0.95
    assert thr.attrs["n_never_reached"] == 0
    rel = bs.emergence_threshold(binomial_fit, level=0.5, relative=True)
    np.testing.assert_allclose(rel["log10_threshold"], binomial_fit.posterior["T"])


def test_threshold_reports_never_reached_draws():
    fit = pinned_emergence_fit(
        random_seed=3, truth={"T": 22.0, "k": 2.0, "floor": 0.0, "ceiling": 0.8}, rel_sd=0.05
    )
    ceiling = fit.posterior["ceiling"].to_numpy()
    level = float(np.median(ceiling))
    thr = bs.emergence_threshold(fit, level=level, by=[1e30])
    never = ~thr["reached"].to_numpy()
    assert never.sum() == thr.attrs["n_never_reached"] == (ceiling <= level).sum() > 0
    assert np.isinf(thr["threshold"].to_numpy()[never]).all()
    assert float(thr["p_emerged"][0]) == pytest.approx(1 - thr.attrs["p_never_reached"])
    s = threshold_summary(thr, ci_prob=0.8)
    assert s["hi"] == np.inf and s["p_never_reached"] == pytest.approx(never.mean())
    low = bs.emergence_threshold(
        pinned_emergence_fit(random_seed=0, truth={"T": 22, "k": 2, "floor": 0.3, "ceiling": 0.9}),
        level=0.2,
    )
    assert (low["threshold"] == 0).all() and low.attrs["n_never_reached"] == 0


# ---------------------------------------------------------------------- chain
DOWN_TRUTH = {"eps": 0.75, "gamma": 2.5, "L0": 1.55}


def test_chain_propagates_both_posteriors(small_fit):
    law = bs.get_law("downstream", form="exponential", floor=0.25)
    truth = {**DOWN_TRUTH, "k": DOWN_TRUTH["eps"] * np.exp(DOWN_TRUTH["gamma"] * DOWN_TRUTH["L0"])}
    design = pd.DataFrame({"loss": np.linspace(1.95, 3.2, 20), "n_items": 1000.0})
    runs = bs.testing.simulate(law, truth, design, likelihood="binomial", random_seed=5)
    down = _fit(law, runs, seed=2, likelihood="binomial")
    plan = {"N": 70e9, "D": 1.4e12}
    true_loss = bs.get_law("chinchilla").evaluate(bs.testing.BESIROGLU_TRUTH, **plan)
    true_acc = float(law.evaluate(truth, loss=true_loss))
    fc = bs.chain(small_fit, down, kind="mean", random_seed=0, **plan)
    lo, hi = np.quantile(fc["accuracy"], [0.05, 0.95])
    assert lo < true_acc < hi
    pred = bs.chain(small_fit, down, n_items=1000, random_seed=0, **plan)
    plug = bs.chain(small_fit, down, n_items=1000, method="plugin", random_seed=0, **plan)
    w_pred = np.subtract(*np.quantile(pred["accuracy"], [0.95, 0.05]))
    w_plug = np.subtract(*np.quantile(plug["accuracy"], [0.95, 0.05]))
    lo, hi = np.quantile(pred["accuracy"], [0.05, 0.95])
    assert lo < true_acc < hi
    assert w_pred > 1.2 * w_plug
    mean_plug = bs.chain(small_fit, down, kind="mean", method="plugin", **plan)
    assert float(mean_plug["accuracy"].std()) == pytest.approx(0.0, abs=1e-12)
    several = bs.chain(small_fit, down, kind="mean", N=[1e9, 70e9], D=[2e10, 1.4e12])
    assert several["accuracy"].sizes["point"] == 2
    assert float(several["accuracy"].isel(point=1).median()) > float(
        several["accuracy"].isel(point=0).median()
    )


def test_chain_input_errors(pinned):
    down = pinned_emergence_fit(random_seed=0, law="downstream")
    with pytest.raises(ValueError, match="missing"):
        bs.chain(pinned, down, N=70e9, D=1.4e12)  # predictive binomial needs n_items
    with pytest.raises(ValueError, match="kind"):
        bs.chain(pinned, down, N=70e9, D=1.4e12, kind="median")


# ---------------------------------------------------------------------- metric choice
def test_exact_match_round_trip_and_metric_choice():
    p = np.array([0.2, 0.7, 0.95])
    np.testing.assert_allclose(bs.emergence.per_token(bs.emergence.exact_match(p, 6), 6), p)
    fit = pinned_emergence_fit(
        random_seed=0, truth={"T": 21.0, "k": 0.9, "floor": 0.0, "ceiling": 0.99}
    )
    grid = np.logspace(18, 26, 5)
    mc = bs.emergence.metric_choice(fit, 8, level=0.4, relative=False, x=grid)
    direct = bs.emergence_threshold(fit, level=0.4 ** (1 / 8))
    np.testing.assert_allclose(mc["exact_match_threshold"], direct["log10_threshold"])
    # the definition, per draw: the exact-match accuracy p(X)^8 is 0.4 at the threshold X ...
    q = {n: v.to_numpy() for n, v in fit.params().items()}
    at = fit.law.evaluate(q, C=10 ** mc["exact_match_threshold"].to_numpy())
    np.testing.assert_allclose(at**8, 0.4, rtol=1e-9)
    # ... and with relative=True it is half-way between p^8 at the floor and at the ceiling
    rel = bs.emergence.metric_choice(fit, 8, level=0.5)
    at = fit.law.evaluate(q, C=10 ** rel["exact_match_threshold"].to_numpy())
    fe, ce = q["floor"] ** 8, q["ceiling"] ** 8
    np.testing.assert_allclose(at**8, fe + 0.5 * (ce - fe), rtol=1e-9)
    # the per-token curve crosses its own level there, and the width is the law's 10–90% width
    at = fit.law.evaluate(q, C=10 ** rel["per_token_threshold"].to_numpy())
    np.testing.assert_allclose(at, q["floor"] + 0.5 * (q["ceiling"] - q["floor"]), rtol=1e-9)
    np.testing.assert_allclose(rel["per_token_width"], 2 * np.log(9) / q["k"], rtol=1e-12)
    np.testing.assert_allclose(mc["exact_match_accuracy"], mc["per_token_accuracy"] ** 8)
    assert (mc["exact_match_threshold"] > mc["per_token_threshold"]).all()
    assert float(mc["exact_match_width"].median()) < float(mc["per_token_width"].median())
    with pytest.raises(ValueError, match="length"):
        bs.emergence.exact_match(p, 0)


# ---------------------------------------------------------------------- bad input
def test_bad_inputs():
    law = bs.get_law("emergence", x="C", floor=0.0)
    runs = pd.DataFrame({"C": [1e20, 1e21, 1e22, 1e23, 1e24], "accuracy": [0, 0.1, 0.5, 1.2, -0.1]})
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        bs.fit(law, runs, **SMALL)
    with pytest.raises(ValueError, match=r"chance level floor=0\.9 must lie below the ceiling"):
        bs.get_law("emergence", floor=0.9, ceiling=0.8)
    with pytest.raises(ValueError, match="floor"):
        bs.get_law("emergence", floor=1.0)
    with pytest.raises(ValueError, match="ceiling"):
        bs.get_law("emergence", ceiling=1.5)
    with pytest.raises(ValueError, match="form"):
        bs.get_law("downstream", form="linear")
    table = pd.DataFrame({"C": [1e20, 1e21, np.nan], "task": [np.nan, np.nan, 0.4]})
    with pytest.raises(ValueError, match="no values at a known 'C'"):
        task_runs(table, "task")
    with pytest.raises(ValueError, match="all 3 are missing"):
        task_runs(table.assign(task=np.nan), "task")
    with pytest.raises(ValueError, match="no column 'other'"):
        task_runs(table, "other")
    fit = pinned_emergence_fit(random_seed=0)
    for level in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="level"):
            bs.emergence_threshold(fit, level=level)
    with pytest.raises(ValueError, match="'emergence' law"):
        bs.emergence_threshold(bs.testing.pinned_fit(random_seed=0), level=0.5)
    with pytest.raises(ValueError, match="supports the likelihoods"):
        bs.fit(law, runs.assign(accuracy=0.5), likelihood="studentt", **SMALL)


def test_bleu_column_is_refused_on_its_0_100_scale(tmp_path):
    frame = pd.DataFrame({"C": np.logspace(20, 23, 6), "bleu": [0.1, 0.5, 3.0, 12.0, 27.0, 40.0]})
    law = bs.get_law("emergence", x="C", floor=0.0)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        bs.fit(law, task_runs(frame, "bleu"), **SMALL)
    assert task_runs(frame, "bleu", scale=100.0)["accuracy"].max() == pytest.approx(0.4)


def test_save_and_load_emergence_fit(tmp_path):
    fit = pinned_emergence_fit(random_seed=0)
    loaded = bs.Fit.load(fit.save(os.path.join(tmp_path, "emergence.nc")))
    assert loaded.law.key == fit.law.key and loaded.law.options == fit.law.options
    assert loaded.likelihood.name == "binomial"
    np.testing.assert_allclose(
        bs.predict_accuracy(loaded, C=1e22).values, bs.predict_accuracy(fit, C=1e22).values
    )


# ---------------------------------------------------------------------- examples
@pytest.fixture(scope="module")
def emergent_table():
    from bayescale.datasets import DatasetError

    try:
        return bs.load_dataset("obsscaling_ruan2024", table="emergent", download=False)
    except DatasetError as err:
        pytest.skip(f"obsscaling_ruan2024 not available locally: {err}")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::bayescale.DiagnosticWarning")
def test_emergence_example_on_real_table(emergent_table, tmp_path, capsys):
    """The example's comparison runs end to end (26 fits: 2 chains x 200 draws)."""
    example = _load_example("emergence")
    out = example.main(["--draws", "200", "--tune", "200", "--chains", "2", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert "11 without known training FLOPs" in text
    assert "LOO prefers" in text and out["sentence"] in text
    held = out["holdout"]
    assert list(held.index) == [*example.MODELS, example.LATENT]
    # every model scored on the same held-out accuracies: 137 scores of the 5 tasks
    assert (held["n"] == 137).all()
    assert out["best"] in example.LOO_MODELS
    assert set(out["ranks"].columns) == set(example.LOO_MODELS)
    rows = out["held_out"]
    assert (rows["C"] > example.CUTOFF).all()
    assert rows.groupby("fitted_model").size().eq(137).all()
    assert np.isfinite(rows["log_density"]).all()
    assert len(out["thresholds"]) == len(example.TASKS)
    assert (tmp_path / "emergence.png").is_file() and (tmp_path / "holdout.csv").is_file()


@pytest.mark.filterwarnings("ignore::bayescale.DiagnosticWarning")
def test_metric_choice_example(tmp_path, capsys):
    out = _load_example("metric_choice").main(
        ["--draws", "200", "--tune", "200", "--chains", "2", "--out", str(tmp_path)]
    )
    s = out["summary"]
    assert s.loc["exact_match", "k_median"] > s.loc["per_token", "k_median"]
    assert s.loc["exact_match", "threshold_median"] > 10 * s.loc["per_token", "threshold_median"]
    implied = s.loc["exact_match_implied_by_per_token"]
    assert implied["threshold_lo"] < implied["true_threshold"] < implied["threshold_hi"]
    assert (tmp_path / "metric_choice.png").is_file()
