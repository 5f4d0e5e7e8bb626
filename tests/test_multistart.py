"""Multi-start mode search before NUTS: declarations, starting points and a bimodal posterior."""

from __future__ import annotations

import numpy as np
import pytest

import bayescale as bs
from bayescale.convergence import rhat
from bayescale.multistart import law_starts
from bayescale.sampling import compile_model, find_mode, sample_nutpie


def _bimodal_model():
    """x ~ Normal(0, 5) times a mixture: 2% of Normal(−1, 0.3) and 98% of Normal(4, 0.3).

    L-BFGS from the model's initial point x = 0 climbs to the minor mode at −1 (the major mode's
    density is e^-89 there); the two modes are ≈ 17 sd apart, so NUTS never crosses.
    """
    import pymc as pm
    import pytensor.tensor as pt

    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 5.0)
        minor = np.log(0.02) + pm.logp(pm.Normal.dist(-1.0, 0.3), x)
        major = np.log(0.98) + pm.logp(pm.Normal.dist(4.0, 0.3), x)
        pm.Potential("mixture", pm.math.logsumexp(pt.stack([minor, major])))
    return model


@pytest.fixture(scope="module")
def bimodal():
    return compile_model(_bimodal_model())


GRID = np.linspace(-6.0, 6.0, 5)[:, None]  # a grid of starts: -6, -3, 0, 3, 6


def test_multistart_finds_the_major_mode_that_one_start_misses(bimodal):
    single, _ = find_mode(bimodal, {}, bimodal.x0)
    multi, _ = find_mode(bimodal, {}, bimodal.x0, GRID)
    # closed form: the major mode of N(4, 0.3²) times the N(0, 5²) prior is at 4·25/(25 + 0.09)
    assert single[0] == pytest.approx(-1.0 * 25 / 25.09, abs=1e-3)
    assert multi[0] == pytest.approx(4.0 * 25 / 25.09, abs=1e-3)


def test_chains_agree_on_a_bimodal_posterior(bimodal):
    kwargs = dict(draws=300, tune=300, chains=3, seed=5, progressbar=False, processes=1)
    trace, _ = sample_nutpie(bimodal, {}, bimodal.x0, starts=GRID, **kwargs)
    x = trace["posterior"]["x"].to_numpy()
    # every chain sits in the major mode: mean 4·25/25.09 ≈ 3.986, sd 0.3·√(25/25.09) ≈ 0.2995
    np.testing.assert_allclose(x.mean(axis=1), 3.986, atol=0.08)
    np.testing.assert_allclose(x.std(axis=1), 0.2995, rtol=0.25)
    assert rhat(x) < 1.02
    # the same seed gives the same draws; from the default start the chains stay in the minor mode
    again, _ = sample_nutpie(bimodal, {}, bimodal.x0, starts=GRID, **kwargs)
    np.testing.assert_array_equal(again["posterior"]["x"].to_numpy(), x)
    plain, _ = sample_nutpie(bimodal, {}, bimodal.x0, **kwargs)
    assert np.all(np.abs(plain["posterior"]["x"].to_numpy().mean(axis=1) + 1.0) < 0.1)


def test_bnsl_starts_follow_the_declaration():
    law = bs.get_law("bnsl", breaks=1)
    spec = law.multistart
    assert spec.n_starts == 3 + spec.sobol and spec.sobol > 0
    fit = bs.testing.pinned_law_fit(law)  # no MCMC: only its PyMC model is used
    compiled = compile_model(fit.model, cache=True)
    starts = law_starts(law, fit.model, compiled, seed=0)
    assert starts.shape == (spec.n_starts, compiled.ndim)
    col = {name: i for i, name in enumerate(compiled.x_names)}
    np.testing.assert_array_equal(starts[:3, col["d_loc"]], [-1.0, 0.0, 1.0])
    named = {"d_loc", "log_f", "c"}
    for name, i in col.items():
        inside = starts[3:, i]
        if name in named:
            lo, hi = spec.box[name]
            assert np.all((inside >= lo) & (inside <= hi)), name
            assert np.ptp(inside) > 0.5 * (hi - lo), name  # spread over the box
        else:  # not named: the model's initial point
            np.testing.assert_array_equal(starts[:, i], compiled.x0[i])
    # the Sobol points depend on the seed alone
    np.testing.assert_array_equal(law_starts(law, fit.model, compiled, seed=0), starts)
    other = law_starts(law, fit.model, compiled, seed=1)
    np.testing.assert_array_equal(other[:3], starts[:3])
    assert not np.array_equal(other[3:], starts[3:])


def test_multistart_declarations_are_checked():
    with pytest.raises(ValueError, match="box"):
        bs.MultiStart(sobol=4)
    with pytest.raises(ValueError, match="low, high"):
        bs.MultiStart(sobol=4, box={"x": (1.0, 0.0)})
    base = bs.get_law("chinchilla")
    with pytest.raises(ValueError, match="unknown parameters"):
        bs.ScalingLaw(
            name="ms_check",
            version="1",
            inputs=base.inputs,
            parameters=base.parameters,
            expression=base.expression,
            multistart=bs.MultiStart(points=({"gamma": 1.0},)),
        )
    # a tuple of dicts is taken as the points
    law = bs.ScalingLaw(
        name="ms_check",
        version="1",
        inputs=base.inputs,
        parameters=base.parameters,
        expression=base.expression,
        multistart=({"alpha": 0.5},),
    )
    assert law.multistart.points == ({"alpha": 0.5},) and law.multistart.n_starts == 1
