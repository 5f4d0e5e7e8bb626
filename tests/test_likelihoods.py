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
