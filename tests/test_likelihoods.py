"""The numpy log densities of the likelihoods agree with scipy.stats (independent reference)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import bayescale as bs


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_studentt_and_normal(rng):
    y, mu = rng.normal(1.0, 0.1, 50), rng.normal(1.0, 0.1, 50)
    sigma, nu = rng.uniform(0.01, 0.2, 50), rng.uniform(1.5, 30, 50)
    got = bs.get_likelihood("studentt").logpdf(y, mu, sigma=sigma, nu=nu)
    np.testing.assert_allclose(got, stats.t.logpdf(y, df=nu, loc=mu, scale=sigma), rtol=1e-12)
    got = bs.get_likelihood("normal").logpdf(y, mu, sigma=sigma)
    np.testing.assert_allclose(got, stats.norm.logpdf(y, loc=mu, scale=sigma), rtol=1e-12)


def test_count_and_proportion_likelihoods(rng):
    n = rng.integers(1, 400, 60).astype(float)
    p = rng.uniform(0.01, 0.99, 60)
    k = rng.binomial(n.astype(int), p).astype(float)
    k[:3], n[:3] = [0.0, 5.0, 7.0], [5.0, 5.0, 9.0]  # the boundaries 0 and n
    mu = np.log(p)
    got = bs.get_likelihood("binomial").logpdf(k, mu, n_items=n)
    np.testing.assert_allclose(got, stats.binom.logpmf(k, n, p), rtol=1e-10)
    phi = rng.uniform(2, 200, 60)
    got = bs.get_likelihood("betabinomial").logpdf(k, mu, phi=phi, n_items=n)
    want = stats.betabinom.logpmf(k, n, p * phi, (1 - p) * phi)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    lik = bs.get_likelihood("beta")
    y = lik.transform(rng.uniform(0, 1, 60))
    got = lik.logpdf(y, mu, phi=phi)
    from bayescale.likelihoods import SQUEEZE

    m = SQUEEZE + (1 - 2 * SQUEEZE) * p
    np.testing.assert_allclose(got, stats.beta.logpdf(y, m * phi, (1 - m) * phi), rtol=1e-10)


def test_import_does_not_load_scipy_stats():
    import subprocess
    import sys

    code = "import sys, bayescale; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Values of every noise parameter used below; a likelihood with a parameter not listed here fails
# the test, so that a new likelihood is tied to its PyMC density too.
_NOISE_VALUES = {"sigma": (0.05, 0.3, 0.01), "nu": (3.0, 30.0, 1.5), "phi": (5.0, 200.0, 2.0)}


@pytest.mark.parametrize("name", bs.list_likelihoods())
def test_numpy_logpdf_equals_pymc_logp_of_build(name):
    """The numpy log density equals ``pm.logp`` of the distribution that ``build`` creates."""
    import pymc as pm

    lik = bs.get_likelihood(name)
    missing = sorted(set(lik.noise_priors) - set(_NOISE_VALUES))
    assert not missing, f"add test values for the noise parameters {missing}"
    rng = np.random.default_rng(1)
    n_runs = 25
    for setting in range(3):
        mu = np.log(rng.uniform(0.02, 0.98, n_runs))
        mu[0] = 0.0  # p = 1: the clipped boundary
        # float64 arrays: PyTensor would make float32 constants of some Python floats
        noise = {k: np.asarray(_NOISE_VALUES[k][setting]) for k in lik.noise_priors}
        extra = {k: rng.integers(1, 300, n_runs).astype(float) for k in lik.extra_columns}
        # observations as a fit sees them: outputs mapped to the observed scale by ``transform``
        obs = lik.transform(lik.inverse(lik.sample(rng, mu, **noise, **extra), **extra), **extra)
        with pm.Model():
            rv = lik.build("obs", mu, noise, obs, extra)
        want = pm.logp(rv, obs).eval()
        got = lik.logpdf(obs, mu, **noise, **extra)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10, err_msg=f"setting {setting}")


def test_binomial_count_check_is_one_rule():
    """prepare_data's hook and the binomial transform refuse exactly the same products."""
    lik = bs.get_likelihood("binomial")
    n = np.array([100.0, 3.0, 7.0, 1000.0, 10.0])
    y = np.array([0.29, 0.333, 0.5, 0.1234567, 0.3])  # whole, 0.999, 3.5, 123.4567, whole
    found = lik.invalid_rows(y, n_items=n)
    assert found.mask.tolist() == [False, True, True, True, False]
    np.testing.assert_allclose(found.values, y * n)
    for i in range(len(y)):
        if found.mask[i]:
            with pytest.raises(ValueError, match="whole number of correct items"):
                lik.transform(y[i : i + 1], n_items=n[i : i + 1])
        else:
            assert lik.transform(y[i : i + 1], n_items=n[i : i + 1])[0] == round(y[i] * n[i])
    ok = ~found.mask
    assert lik.invalid_rows(y[ok], n_items=n[ok]) is None
    for other in ("betabinomial", "beta", "studentt", "normal"):
        assert bs.get_likelihood(other).invalid_rows is None
