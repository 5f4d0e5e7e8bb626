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
