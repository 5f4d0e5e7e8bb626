"""A fit is ArviZ-complete on request: posterior_predictive, prior and prior_predictive groups."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pytest

import bayescale as bs


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_posterior_predictive_matches_the_observed_data():
    fit = bs.testing.pinned_fit(random_seed=0)
    pp = fit.add_posterior_predictive(random_seed=0)
    obs = fit.idata["observed_data"]["log_loss"]
    assert pp["log_loss"].dims == ("chain", "draw", *obs.dims)
    assert pp["log_loss"].shape[2:] == obs.shape
    # simulated log losses scatter around the observed ones (noise sigma ~ 0.01)
    gap = np.abs(pp["log_loss"].median(("chain", "draw")).to_numpy() - obs.to_numpy())
    assert np.median(gap) < 0.03
    again = bs.testing.pinned_fit(random_seed=0).add_posterior_predictive(random_seed=0)
    np.testing.assert_array_equal(again["log_loss"].to_numpy(), pp["log_loss"].to_numpy())


def test_arviz_checks_run_on_a_fit():
    fit = bs.testing.pinned_fit(random_seed=0)
    fit.add_posterior_predictive(random_seed=1)
    prior = fit.add_prior(draws=200, random_seed=1)
    assert {"alpha", "beta", "A", "E", "sigma"} <= set(prior.data_vars)
    assert "log_loss" in fit.idata["prior_predictive"].data_vars
    assert {"posterior_predictive", "prior", "prior_predictive"} <= set(fit.idata.children)
    az.plot_ppc_dist(fit.idata)
    az.plot_loo_pit(fit.idata)
    az.plot_prior_posterior(fit.idata, var_names=["alpha", "beta"])
    with pytest.raises(ValueError, match="draws"):
        fit.add_prior(draws=0)


def test_groups_on_a_sampled_fit_with_drift(small_fit):
    fit = bs.Fit(
        small_fit.law,
        small_fit.likelihood,
        small_fit.priors,
        small_fit.data,
        small_fit.reference,
        small_fit.idata.copy(),
        structure=small_fit.structure,
    )
    pp = fit.add_posterior_predictive(random_seed=2)
    assert np.isfinite(pp["log_loss"].to_numpy()).all()
    fit.add_prior(draws=50, random_seed=2)
    az.plot_ppc_dist(fit.idata)


def test_added_groups_survive_save_and_load(tmp_path):
    fit = bs.testing.pinned_fit(random_seed=0)
    pp = fit.add_posterior_predictive(random_seed=3)
    fit.add_prior(draws=40, random_seed=3)
    back = bs.Fit.load(fit.save(tmp_path / "f.nc"))
    assert {"posterior_predictive", "prior", "prior_predictive"} <= set(back.idata.children)
    np.testing.assert_array_equal(
        back.idata["posterior_predictive"]["log_loss"].to_numpy(), pp["log_loss"].to_numpy()
    )
