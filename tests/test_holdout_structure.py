"""score_holdout on fits with structured terms (the default drift, group offsets): the normal
shift integrated out per draw, checked against closed forms and scipy's quadrature."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

import bayescale as bs
from bayescale.holdout import _log_density
from bayescale.likelihoods import get_likelihood


def test_normal_noise_matches_the_closed_form():
    """Normal noise convolved with a normal shift is normal with the variances added."""
    rng = np.random.default_rng(0)
    lik = get_likelihood("normal")
    mu = rng.normal(0.5, 0.1, (40, 3))
    sigma = rng.uniform(0.01, 0.03, (40, 1))
    mean = rng.normal(0.0, 0.02, (40, 3))
    sd = rng.uniform(0.0, 0.08, (40, 3))  # from no spread to several noise sds
    obs = np.array([0.45, 0.55, 0.8])
    got = _log_density(lik, obs, mu, {"sigma": sigma}, {}, (mean, sd))
    want = stats.norm.logpdf(obs[None, :], mu + mean, np.sqrt(sigma**2 + sd**2))
    np.testing.assert_allclose(got, want, atol=1e-3, rtol=1e-3)  # to 0.1% far in a tail


def test_student_t_noise_matches_quadrature():
    rng = np.random.default_rng(1)
    lik = get_likelihood("studentt")
    mu = rng.normal(0.0, 0.02, (8, 2))
    sigma = rng.uniform(0.005, 0.02, (8, 1))
    nu = rng.uniform(1.2, 8.0, (8, 1))
    mean = rng.normal(0.0, 0.01, (8, 2))
    sd = rng.uniform(0.002, 0.08, (8, 2))  # from a fifth to 16 noise scales
    obs = np.array([0.01, -0.05])
    got = _log_density(lik, obs, mu, {"sigma": sigma, "nu": nu}, {}, (mean, sd))
    for s in range(8):
        for i in range(2):

            def integrand(d, s=s, i=i):
                return stats.t.pdf(obs[i], nu[s, 0], mu[s, i] + d, sigma[s, 0]) * stats.norm.pdf(
                    d, mean[s, i], sd[s, i]
                )

            lo, hi = mean[s, i] - 12 * sd[s, i], mean[s, i] + 12 * sd[s, i]
            peaks = [mean[s, i], obs[i] - mu[s, i]]
            value, _ = integrate.quad(integrand, lo, hi, points=peaks, limit=200)
            assert got[s, i] == pytest.approx(np.log(value), abs=2e-3)


def test_default_fit_with_drift_is_scored(small_fit):
    """The default model (drift on) is scored; runs beyond the fitted range get wider intervals
    and the density integrates the drift (its lpd differs from the drift-free density)."""
    assert small_fit.structure.drift
    runs = small_fit.data
    big = bs.testing.simulate_chinchilla(n=6, random_seed=9)
    big["N"] = big["N"] * 30
    big["D"] = big["D"] * 30
    big["loss"] = np.exp(
        np.log(bs.predict_loss(small_fit, N=big["N"], D=big["D"]).median(("chain", "draw")))
    ).to_numpy() * np.exp(np.random.default_rng(2).normal(0, 0.01, 6))
    inside = runs.iloc[:6]
    s_in = bs.score_holdout(small_fit, inside, random_seed=0)
    s_out = bs.score_holdout(small_fit, big, random_seed=0)
    assert np.isfinite(s_out["log_density"]).all()
    assert ((s_out["hi"] / s_out["lo"]).mean()) > ((s_in["hi"] / s_in["lo"]).mean())
    # runs inside the fitted range have no drift: the density is the plain Student-t one,
    # written out with scipy per draw (with the Jacobian of the log)
    mu = np.log(bs.predict_loss(small_fit, N=inside["N"], D=inside["D"]).to_numpy())
    mu = mu.reshape(-1, len(inside))
    sigma = small_fit.posterior["sigma"].to_numpy().reshape(-1, 1)
    nu = small_fit.posterior["nu"].to_numpy().reshape(-1, 1)
    y = inside["loss"].to_numpy()
    dens = stats.t.pdf(np.log(y)[None, :], nu, mu, sigma)
    plain = np.log(dens.mean(axis=0)) - np.log(y)
    np.testing.assert_allclose(s_in["log_density"], plain, rtol=1e-9)


def test_group_offsets_and_drift_against_the_normal_closed_form():
    """A Normal-noise fit with group offsets and drift: each held-out run's density equals the
    closed form written out from the posterior arrays (seen group: its offset; new group: the
    offset's variance; beyond the range: the drift's)."""
    import warnings

    runs = bs.testing.simulate_chinchilla(n=45, random_seed=4)
    runs["corpus"] = np.repeat(["a", "b", "c"], 15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bs.fit(
            "chinchilla", runs, likelihood="normal", groups="corpus", draws=100, tune=200,
            chains=2, random_seed=1, progressbar=False,
        )  # fmt: skip
    held = runs.iloc[[0, 20, 40]].copy()
    held["N"] *= [1.0, 10.0, 3.0]
    held["D"] *= [1.0, 10.0, 3.0]
    held["corpus"] = ["a", "b", "zzz"]
    s = bs.score_holdout(fit, held, random_seed=0)
    post = fit.posterior
    sd_g = post["group_sd_corpus"].to_numpy().reshape(-1)
    z = post["group_z_corpus"].to_numpy().reshape(len(sd_g), -1)
    labels = [str(v) for v in fit.structure.groupings[0].labels]
    drift = post["drift"].to_numpy().reshape(-1)
    sigma = post["sigma"].to_numpy().reshape(-1)
    dist = fit.structure.drift_factor({"N": held["N"].to_numpy(), "D": held["D"].to_numpy()})
    assert dist[0] == 0 and dist[1] > 0
    mu = np.log(bs.predict_loss(fit, N=held["N"], D=held["D"]).to_numpy().reshape(-1, 3))
    for i, corpus in enumerate(held["corpus"]):
        var = sigma**2 + (drift * dist[i]) ** 2
        if corpus in labels:
            m = sd_g * z[:, labels.index(corpus)]
        else:
            m, var = 0.0, var + sd_g**2
        dens = stats.norm.pdf(np.log(held["loss"].iloc[i]), mu[:, i] + m, np.sqrt(var))
        want = np.log(dens.mean()) - np.log(held["loss"].iloc[i])  # Jacobian of log
        assert s["log_density"].iloc[i] == pytest.approx(want, abs=2e-3)
