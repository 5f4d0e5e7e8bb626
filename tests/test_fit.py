"""Fitting, diagnostics, recovery of simulated truths, and save/load."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import bayescale as bs

SUMMARY_COLUMNS = ["mean", "sd", "median", "ci95_lo", "ci95_hi", "ess_bulk", "ess_tail", "r_hat"]


def test_summary_schema(small_fit):
    s = small_fit.summary()
    assert list(s.columns)[:8] == SUMMARY_COLUMNS
    for row in ["A", "B", "E", "alpha", "beta", "a", "b", "sigma", "nu"]:
        assert row in s.index
    # derived quantities are consistent draw by draw
    post = small_fit.posterior
    np.testing.assert_allclose(post["a"], post["beta"] / (post["alpha"] + post["beta"]))
    np.testing.assert_allclose(post["a"] + post["b"], 1.0)
    ref = small_fit.reference
    np.testing.assert_allclose(
        np.log(post["A"]), post["log_A_ref"] + post["alpha"] * ref["logN_ref"]
    )


def test_datatree_groups(small_fit):
    tree = small_fit.idata
    for group in ("posterior", "sample_stats", "log_likelihood", "observed_data", "constant_data"):
        assert group in tree.children, group
    ll = tree["log_likelihood"]["log_loss"]
    assert ll.shape == (2, 300, 80)
    assert np.isfinite(ll.to_numpy()).all()


def test_pointwise_loglik_matches_pymc_model(small_fit):
    """The numpy log-likelihood equals the PyMC model's observed log-density."""
    model = small_fit.model
    post = small_fit.posterior.isel(chain=0, draw=slice(0, 3))
    fn = model.compile_fn(
        model.logp(vars=model.observed_RVs, sum=False)[0],
        inputs=model.value_vars,
        on_unused_input="ignore",
    )
    for d in range(3):
        point = {}
        for rv in model.free_RVs:
            value = post[rv.name].isel(draw=d).to_numpy()
            tr = model.rvs_to_transforms.get(rv)
            vname = model.rvs_to_values[rv].name
            point[vname] = tr.forward(value, *rv.owner.inputs).eval() if tr is not None else value
        want = fn(point)
        got = small_fit.idata["log_likelihood"]["log_loss"].isel(chain=0, draw=d).to_numpy()
        np.testing.assert_allclose(got, want, rtol=1e-8)


def test_diagnostics_warn_and_flag():
    runs = bs.testing.simulate_chinchilla(n=30, random_seed=5)
    with pytest.warns(bs.DiagnosticWarning, match=r"(ess_bulk<400|r_hat>1.01)"):
        f = bs.fit(
            "chinchilla", runs, draws=30, tune=30, chains=2, random_seed=5, progressbar=False
        )
    flagged = f.summary()["flag"]
    assert (flagged != "").any()
    assert f.diagnostics()["problems"]


def test_save_load_round_trip(small_fit, tmp_path):
    path = small_fit.save(tmp_path / "fit.nc")
    same = bs.Fit.load(path)
    assert same.law is small_fit.law and same.priors == small_fit.priors
    assert same.reference == small_fit.reference
    np.testing.assert_array_equal(same.data.to_numpy(), small_fit.data.to_numpy())
    a = bs.compute_optimal(small_fit, compute=[1e21, 5.88e23])
    b = bs.compute_optimal(same, compute=[1e21, 5.88e23])
    xr.testing.assert_identical(a, b)
    pd_a, pd_b = small_fit.summary(), same.summary()
    assert pd_a.equals(pd_b)
    assert "<bayescale.Fit chinchilla@1" in repr(same)
    html = same._repr_html_()
    assert "converged" in html or "problem" in html
    problems = same.diagnostics()["problems"]
    assert ("converged" in html) == (not problems)
    assert ("problem(s)" in html) == bool(problems)
    assert ("diagnostics: ok" in repr(same)) == (not problems)


def test_load_refuses_unknown_law_or_version(small_fit, tmp_path):
    import h5py

    path = small_fit.save(tmp_path / "fit.nc")
    with h5py.File(path, "a") as fh:
        fh.attrs["bayescale_law_version"] = "7"
    with pytest.raises(ValueError, match=r"law 'chinchilla' version '7'.*not registered"):
        bs.Fit.load(path)
    with h5py.File(path, "a") as fh:
        fh.attrs["bayescale_law"] = "mystery_law"
    with pytest.raises(ValueError, match="mystery_law"):
        bs.Fit.load(path)
    with pytest.raises(FileNotFoundError):
        bs.Fit.load(tmp_path / "nope.nc")


def test_user_law_fits_saves_and_reloads(tmp_path, floor_power_law):
    law = floor_power_law("test_floor_power", "2")
    bs.register_law(law)
    truth = {"log_E": 0.6, "log_A": 3.0, "alpha": 0.25}
    design = bs.testing.chinchilla_design(60, random_seed=1)[["N"]]
    runs = bs.testing.simulate(
        law, truth, design, noise={"sigma": 0.005, "nu": 10.0}, random_seed=1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DiagnosticWarning)
        f = bs.fit(law, runs, draws=300, tune=300, chains=2, random_seed=1, progressbar=False)
    s = f.summary()
    for k, v in truth.items():
        assert s.loc[k, "ci95_lo"] <= v <= s.loc[k, "ci95_hi"], k
    same = bs.Fit.load(f.save(tmp_path / "user.nc"))
    assert same.law is law
    pred = bs.predict_loss(same, N=[1e8, 1e10])
    np.testing.assert_allclose(
        pred.median(("chain", "draw")), law.evaluate(truth, N=np.array([1e8, 1e10])), rtol=0.02
    )


def test_pymc_sampler_agrees_with_nutpie(small_fit):
    runs = bs.testing.simulate_chinchilla(n=80, random_seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = bs.fit(
            "chinchilla",
            runs,
            draws=300,
            tune=300,
            chains=2,
            random_seed=3,
            sampler="pymc",
            progressbar=False,
        )
    for name in ("alpha", "beta", "E"):
        a, b = f.summary().loc[name], small_fit.summary().loc[name]
        assert abs(a["median"] - b["median"]) < 0.5 * (a["sd"] + b["sd"]), name


def test_same_seed_same_draws():
    runs = bs.testing.simulate_chinchilla(n=40, random_seed=4)
    kw = dict(draws=50, tune=50, chains=2, random_seed=11, progressbar=False, warn=False)
    a = bs.fit("chinchilla", runs, **kw).posterior["alpha"].to_numpy()
    b = bs.fit("chinchilla", runs, **kw).posterior["alpha"].to_numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_recovery_on_chinchilla_design(chinchilla_runs):
    """Data simulated from known parameters at the real N/D design: 95% intervals cover truth."""
    truth = bs.testing.BESIROGLU_TRUTH
    design = chinchilla_runs[["N", "D", "C"]].reset_index(drop=True)
    runs = bs.testing.simulate(
        "chinchilla", truth, design, noise={"sigma": 0.01, "nu": 4.0}, random_seed=0
    )
    f = bs.fit("chinchilla", runs, random_seed=0, progressbar=False)
    s = f.summary()
    for name, value in truth.items():
        assert s.loc[name, "ci95_lo"] <= value <= s.loc[name, "ci95_hi"], (name, s.loc[name])
    assert f.divergences == 0


def test_chains_split_between_processes_are_reproducible():
    runs = bs.testing.simulate_chinchilla(n=40, random_seed=6)
    kw = dict(draws=60, tune=60, chains=3, random_seed=5, progressbar=False, warn=False)
    a = bs.fit("chinchilla", runs, processes=2, **kw)
    b = bs.fit("chinchilla", runs, processes=2, **kw)
    one = bs.fit("chinchilla", runs, processes=1, **kw)
    assert list(a.posterior["chain"].to_numpy()) == [0, 1, 2]
    np.testing.assert_array_equal(a.posterior["alpha"].to_numpy(), b.posterior["alpha"].to_numpy())
    assert a.idata["sample_stats"]["n_steps"].shape == (3, 60)
    assert a.idata.attrs["bayescale_tune_steps"] > 0
    # chains are seeded one by one: the number of processes does not change the draws
    np.testing.assert_array_equal(
        a.posterior["alpha"].to_numpy(), one.posterior["alpha"].to_numpy()
    )
    with pytest.raises(ValueError, match="processes must be a positive integer"):
        bs.fit("chinchilla", runs, processes=0, **kw)
