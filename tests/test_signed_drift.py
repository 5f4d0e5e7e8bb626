"""The signed drift of the stop-21 calibration study (``bayescale.pseudo_forecast``): the drift
conditioned on the law's own pseudo-forecast. Measured and not adopted (rule and results in
``docs/calibration_rule_stop21.md``); these check its mathematics against simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from bayescale.pseudo_forecast import (
    PseudoForecast,
    conditional_drift,
    drift_scale_posterior,
    pseudo_variance,
)


def simulate(s, rho2, dbar, d, v, n, seed):
    """The generative model written out: a persistent direction shared by the pseudo-forecast's
    mean error and the forecast's, a fresh one each, and the pseudo-forecast's own noise."""
    rng = np.random.default_rng(seed)
    zp, zf, zf2, eps = rng.standard_normal((4, n))
    rho = np.sqrt(rho2)
    ebar = s * np.sqrt(dbar) * (rho * zp + np.sqrt(1 - rho2) * zf2) + np.sqrt(v) * eps
    delta = s * np.sqrt(d) * (rho * zp + np.sqrt(1 - rho2) * zf)
    return ebar, delta


@pytest.mark.parametrize("rho2", [0.5, 0.7, 1.0])
def test_conditional_mean_and_sd_match_the_simulated_model(rho2):
    s, dbar, d, sigma, n_held = 0.03, 0.25, 0.6, 0.004, 8
    v = sigma**2 / n_held
    ebar, delta = simulate(s, rho2, dbar, d, v, 400_000, seed=1)
    # the regression of the forecast's error on the pseudo-forecast's, from the simulation
    slope = np.cov(ebar, delta)[0, 1] / ebar.var()
    resid_sd = np.std(delta - slope * ebar)
    for e in (-0.02, 0.0, 0.015):
        pf = PseudoForecast(n_held, dbar, e, sigma, drift=0.0)
        assert pseudo_variance(pf) == pytest.approx(v)
        mean, sd = conditional_drift(pf, s, d, rho2)
        assert float(mean) == pytest.approx(slope * e, abs=3e-4)
        assert float(sd) == pytest.approx(resid_sd, rel=0.01)
    # conditioning on a narrow window of the observed miss: the simulated forecasts' mean and
    # sd there (a brute-force check that does not assume normality of the conditional)
    e = -0.012
    near = np.abs(ebar - e) < 0.0005
    mean, sd = conditional_drift(PseudoForecast(n_held, dbar, e, sigma, 0.0), s, d, rho2)
    assert delta[near].mean() == pytest.approx(float(mean), abs=6e-4)
    assert delta[near].std() == pytest.approx(float(sd), rel=0.05, abs=5e-4)


def test_a_known_miss_is_carried_forward_and_shrinks_with_noise():
    # the law missed its top runs by −1% at 0.25 decades; no noise, full persistence: −2% at
    # one decade (the random coefficient of √d recovered exactly)
    exact = PseudoForecast(n_held=10, distance=0.25, error=-0.01, sigma=0.0, drift=0.0)
    mean, sd = conditional_drift(exact, 0.05, np.array([0.25, 1.0, 4.0]), rho2=1.0)
    np.testing.assert_allclose(mean, [-0.01, -0.02, -0.04], rtol=1e-12)
    np.testing.assert_allclose(sd, 0.0, atol=1e-12)
    # a noisy pseudo-forecast is shrunk toward 0, by the normal-normal weight s²d̄ / (s²d̄ + v)
    noisy = PseudoForecast(n_held=4, distance=0.25, error=-0.01, sigma=0.02, drift=0.0)
    s = 0.02
    weight = s**2 * 0.25 / (s**2 * 0.25 + 0.02**2 / 4)
    mean, _ = conditional_drift(noisy, s, 1.0, rho2=1.0)
    assert float(mean) == pytest.approx(-0.02 * weight, rel=1e-12)
    # the robust spread of the held runs counts when it exceeds the noise
    wide = PseudoForecast(4, 0.25, -0.01, 0.002, 0.0, scatter=0.04)
    assert pseudo_variance(wide) == pytest.approx((0.002**2 + 0.04**2 * 0.25) / 4)
    # inside the data (d = 0) nothing moves
    mean, sd = conditional_drift(noisy, s, 0.0, rho2=0.7)
    assert float(mean) == 0.0 and float(sd) == 0.0


def test_scale_posterior_matches_importance_sampling():
    rng = np.random.default_rng(2)
    mu, sigma = np.log(0.02), 0.5
    prior = np.exp(mu + sigma * rng.standard_normal(400_000))
    for error in (0.0, -0.01, 0.03):
        pf = PseudoForecast(n_held=6, distance=0.3, error=error, sigma=0.004, drift=0.0)
        var = prior**2 * 0.3 + pseudo_variance(pf)
        w = norm.pdf(error, scale=np.sqrt(var))
        order = np.argsort(prior)
        cdf = np.cumsum(w[order]) / w.sum()
        for u in (0.1, 0.5, 0.9):
            brute = prior[order][np.searchsorted(cdf, u)]
            grid = drift_scale_posterior(pf, mu, sigma, [u])[0]
            assert grid == pytest.approx(brute, rel=0.02)
    # a large miss moves the scale up, no miss moves it down
    big = PseudoForecast(6, 0.3, 0.05, 0.004, 0.0)
    none = PseudoForecast(6, 0.3, 0.0, 0.004, 0.0)
    assert (
        drift_scale_posterior(big, mu, sigma, [0.5])[0]
        > 0.02
        > (drift_scale_posterior(none, mu, sigma, [0.5])[0])
    )
