"""compute_optimal and predict_loss on pinned posteriors (no MCMC)."""

from __future__ import annotations

import numpy as np
import pytest

import bayescale as bs


def test_compute_optimal_closed_form_draw_by_draw(pinned):
    C = np.array([1e21, 5.88e23])
    opt = bs.compute_optimal(pinned, compute=C)
    assert set(opt.data_vars) == {"N_opt", "D_opt", "tokens_per_param", "loss_opt"}
    assert opt["N_opt"].dims == ("chain", "draw", "compute")
    post = pinned.posterior
    al, be, A, B = (post[k].to_numpy()[..., None] for k in ("alpha", "beta", "A", "B"))
    G = (al * A / (be * B)) ** (1 / (al + be))
    np.testing.assert_allclose(opt["N_opt"], G * (C / 6) ** (be / (al + be)), rtol=1e-10)
    np.testing.assert_allclose(opt["D_opt"], (C / 6) ** (al / (al + be)) / G, rtol=1e-10)
    np.testing.assert_allclose(
        6 * opt["N_opt"] * opt["D_opt"], np.broadcast_to(C, opt["N_opt"].shape), rtol=1e-12
    )
    E = post["E"].to_numpy()[..., None]
    want = E + A / opt["N_opt"].to_numpy() ** al + B / opt["D_opt"].to_numpy() ** be
    np.testing.assert_allclose(opt["loss_opt"], want, rtol=1e-10)


def test_numeric_optimum_matches_closed_form(pinned):
    C = np.logspace(19, 26, 8)
    closed = bs.compute_optimal(pinned, compute=C)
    numeric = bs.compute_optimal(pinned, compute=C, method="numeric")
    np.testing.assert_allclose(numeric["N_opt"], closed["N_opt"], rtol=1e-4)
    np.testing.assert_allclose(numeric["D_opt"], closed["D_opt"], rtol=1e-4)


def test_pinned_tokens_per_param_near_besiroglu(pinned):
    opt = bs.compute_optimal(pinned, compute=5.88e23)
    assert float(opt["tokens_per_param"].median()) == pytest.approx(18.3, rel=0.05)


def test_predict_loss_mean_and_predictive(pinned):
    mean = bs.predict_loss(pinned, N=70e9, D=1.4e12)
    assert mean.dims == ("chain", "draw")
    post = pinned.posterior
    want = post["E"] + post["A"] / 70e9 ** post["alpha"] + post["B"] / 1.4e12 ** post["beta"]
    np.testing.assert_allclose(mean, want, rtol=1e-12)
    pred = bs.predict_loss(pinned, N=70e9, D=1.4e12, kind="predictive", random_seed=0)
    # predictive draws are the mean times Student-t noise on the log scale: wider, same centre
    assert float(np.log(pred / mean).std()) == pytest.approx(0.01 * np.sqrt(5 / 3), rel=0.15)
    assert float(pred.median()) == pytest.approx(float(mean.median()), rel=2e-3)
    grid = bs.predict_loss(pinned, N=[1e9, 1e10, 1e11], D=2e11)
    assert grid.dims == ("chain", "draw", "point") and grid.sizes["point"] == 3
    assert (grid.median(("chain", "draw")).diff("point") < 0).all()


def test_analysis_bad_input(pinned):
    with pytest.raises(ValueError, match="compute must be finite and > 0"):
        bs.compute_optimal(pinned, compute=[1e21, -1])
    with pytest.raises(ValueError, match="missing \\['D'\\]"):
        bs.predict_loss(pinned, N=1e9)
    with pytest.raises(ValueError, match="kind must be"):
        bs.predict_loss(pinned, N=1e9, D=1e10, kind="median")
    with pytest.raises(ValueError, match="equal lengths"):
        bs.predict_loss(pinned, N=[1e9, 2e9], D=[1e10, 2e10, 3e10])


def test_optimum_uses_the_closed_form_only_where_it_applies(pinned):
    from bayescale.analysis import _numeric_optimum, _optimum
    from bayescale.xp import numpy_ns

    law = pinned.law
    q = {k: v.to_numpy()[..., None] for k, v in pinned.params("natural").items()}
    C = np.array([1e21, 1e24])
    n, d = _optimum(law, q, C, 6.0, {})
    closed = law.optimum(numpy_ns, q, C)
    np.testing.assert_array_equal(n, closed["N"])
    np.testing.assert_array_equal(d, closed["D"])
    # another FLOP count: the numeric optimum along C = 8ND (the closed form assumes 6ND)
    n8, d8 = _optimum(law, q, C, 8.0, {})
    numeric = _numeric_optimum(law, q, C, 8.0)
    np.testing.assert_array_equal(n8, numeric["N"])
    np.testing.assert_allclose(8 * n8 * d8, np.broadcast_to(C, n8.shape), rtol=1e-12)
    with pytest.raises(ValueError, match=r"got \[\], need \['U'\]"):
        _optimum(bs.get_law("data_constrained"), q, C, 6.0, {})


def test_minimise_is_vectorised_and_skips_infeasible_points():
    from bayescale.analysis import _minimise

    centre = np.array([[-3.0], [0.5], [7.25]])
    skew = np.array([0.1, 1.0, 3.0])

    def objective(u):
        # smooth, skewed; infeasible (NaN, inf) left of centre - 2
        z = u - centre
        with np.errstate(invalid="ignore"):
            values = np.exp(skew * z) - skew * z
        return np.where(z < -2, np.where(z < -5, np.nan, np.inf), values)

    u = _minimise(objective, -20.0, np.full((3, 3), 20.0), n_parabolic=4)
    np.testing.assert_allclose(u, np.broadcast_to(centre, (3, 3)), atol=1e-7)


def test_predict_loss_accepts_inputs_the_law_allows_to_be_non_positive():
    """densing's time t may be ≤ 0; predict_loss follows the law's positivity rule and equals
    the law's numpy expression there."""
    import pandas as pd

    law = bs.get_law("densing")
    runs = pd.DataFrame({"t": [-100.0, 0.0, 50.0, 100.0], "density": [0.4, 1.1, 1.5, 2.8]})
    draws = {
        "slope_scaled": np.full((1, 3), 0.5),
        "log_density_ref": np.full((1, 3), 0.2),
        "sigma": np.full((1, 3), 0.05),
    }
    fit = bs.testing.fit_from_draws(law, runs, draws, likelihood="normal")
    t = np.array([-50.0, 0.0, 20.0])
    got = bs.predict_loss(fit, t=t, kind="mean").isel(chain=0, draw=0).to_numpy()
    q = {k: float(v.isel(chain=0, draw=0)) for k, v in fit.params("natural").items()}
    np.testing.assert_allclose(got, law.evaluate(q, t=t), rtol=1e-12)
    with pytest.raises(ValueError, match="t must be finite"):
        bs.predict_loss(fit, t=[np.nan], kind="mean")
