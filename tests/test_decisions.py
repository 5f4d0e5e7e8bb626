"""Planning questions (bayescale.decisions) on pinned posteriors, and on the 240-run fit (slow)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

import bayescale as bs
from bayescale.fit import Fit


def chinchilla_draws(fit):
    post = fit.posterior
    return {k: post[k].to_numpy() for k in ("A", "B", "E", "alpha", "beta")}


def closed_form_compute(p, target):
    """C reaching ``target`` on the frontier: E + K·(C/6)^(−αβ/(α+β)) = target."""
    al, be = p["alpha"], p["beta"]
    G = (al * p["A"] / (be * p["B"])) ** (1 / (al + be))
    K = p["A"] * G**-al + p["B"] * G**be
    return 6 * (K / (target - p["E"])) ** ((al + be) / (al * be))


def same_fit_other_law(fit, law):
    return Fit(law, fit.likelihood, fit.priors, fit.data, fit.reference, fit.idata)


def pinned_law_fit(law_name, centre, runs, seed=0, draws=200, rel_sd=0.01):
    """A fit of any law whose draws of the sampled parameters sit around ``centre``."""
    law = bs.get_law(law_name)
    rng = np.random.default_rng(seed)

    def jittered(ref):
        values = {k: centre(ref)[k] for k in law.parameter_names} | {"sigma": 0.01, "nu": 5.0}
        return {k: v + rel_sd * abs(v) * rng.standard_normal((2, draws)) for k, v in values.items()}

    return bs.testing.fit_from_draws(law, runs, jittered)


# ---------------------------------------------------------------------- compute_for_loss
def test_compute_for_loss_inverts_compute_optimal_draw_by_draw(pinned):
    targets = [2.1, 2.0, 1.95]
    res = bs.compute_for_loss(pinned, targets)
    assert res["C_needed"].dims == ("chain", "draw", "target_loss")
    p = chinchilla_draws(pinned)
    for t in targets:
        r = res.sel(target_loss=t)
        ok = r["reachable"].to_numpy()
        assert ok.all()
        C = r["C_needed"].to_numpy()
        np.testing.assert_allclose(C, closed_form_compute(p, t), rtol=1e-6)
        # the allocation returned is compute_optimal's at that budget, and reaches the target
        N, D = r["N_opt"].to_numpy(), r["D_opt"].to_numpy()
        np.testing.assert_allclose(6 * N * D, C, rtol=1e-12)
        loss = p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"]
        np.testing.assert_allclose(loss, t, rtol=1e-9)
    # and the other way round: compute_optimal(C) → its loss → compute_for_loss gives C back
    opt = bs.compute_optimal(pinned, compute=3e22).isel(compute=0)
    for chain, draw in [(0, 0), (1, 17), (3, 249)]:
        target = float(opt["loss_opt"][chain, draw])
        back = bs.compute_for_loss(pinned, target)["C_needed"][chain, draw, 0]
        assert float(back) == pytest.approx(3e22, rel=1e-6)


def test_compute_for_loss_counts_unreachable_draws(pinned):
    target = 1.83
    res = bs.compute_for_loss(pinned, [2.0, target])
    E = pinned.posterior["E"].to_numpy()
    r = res.sel(target_loss=target)
    expected = int((E >= target).sum())
    assert 0 < expected < pinned.n_draws
    assert int(r["n_unreachable"]) == expected
    assert int(r["n_reached"]) + int(r["n_unreachable"]) == pinned.n_draws
    np.testing.assert_array_equal(r["reachable"].to_numpy(), E < target)
    np.testing.assert_array_equal(np.isnan(r["C_needed"].to_numpy()), E >= target)
    assert set(np.unique(r["status"].to_numpy())) == {"reached", "unreachable"}
    table = bs.decision_summary(res)
    assert table.loc[("C_needed", target), "n_missing"] == expected
    assert table.loc[("C_needed", 2.0), "n_missing"] == 0


def test_compute_for_loss_beyond_budget_is_counted(pinned):
    res = bs.compute_for_loss(pinned, 2.0, max_compute=1e21)
    assert int(res["n_beyond_max_compute"].sum()) == pinned.n_draws
    assert bool(res["reachable"].all()) and bool(res["C_needed"].isnull().all())


def test_numeric_optimum_path_agrees_with_closed_form(pinned):
    law = dataclasses.replace(bs.get_law("chinchilla"), name="chinchilla_numeric", optimum=None)
    numeric = same_fit_other_law(pinned, law)
    a = bs.compute_for_loss(pinned, [2.0, 1.95])
    b = bs.compute_for_loss(numeric, [2.0, 1.95])
    np.testing.assert_allclose(b["C_needed"], a["C_needed"], rtol=1e-5)
    np.testing.assert_allclose(b["N_opt"], a["N_opt"], rtol=1e-4)


def test_laws_without_n_and_d_are_refused(pinned):
    power = same_fit_other_law(pinned, bs.get_law("power_law"))
    for call in (
        lambda: bs.compute_for_loss(power, 2.0),
        lambda: bs.overtraining_penalty(power, N=1e9, compute=1e21),
        lambda: bs.inference_optimal(power, 2.0, 0),
        lambda: bs.data_wall(power, 1e13),
    ):
        with pytest.raises(ValueError, match="needs a law of model size N and training tokens D"):
            call()
    with pytest.raises(ValueError, match="target_loss must be finite and > 0"):
        bs.compute_for_loss(pinned, [2.0, -1])
    with pytest.raises(ValueError, match="inference_tokens must be finite and >= 0"):
        bs.inference_optimal(pinned, 2.0, -1)


# ---------------------------------------------------------------------- loss_at / overtraining
def test_loss_at_grid_matches_predict_loss(pinned):
    N, D = [1e9, 1e10, 1e11], [2e10, 2e11]
    grid = bs.loss_at(pinned, N=N, D=D)
    assert grid.dims == ("chain", "draw", "N", "D") and grid.shape[2:] == (3, 2)
    for i, n in enumerate(N):
        for j, d in enumerate(D):
            np.testing.assert_allclose(grid[:, :, i, j], bs.predict_loss(pinned, N=n, D=d))
    iso = bs.loss_at(pinned, N=N, compute=[1e21, 1e22])
    np.testing.assert_allclose(iso["D"], np.array([[1e21, 1e22]]) / (6 * np.array(N)[:, None]))
    np.testing.assert_allclose(iso["tokens_per_param"], iso["D"] / np.array(N)[:, None])
    with pytest.raises(ValueError, match="exactly one of N and D"):
        bs.loss_at(pinned, N=N, D=D, compute=1e21)


def test_overtraining_penalty(pinned):
    C = 5.88e23
    pen = bs.overtraining_penalty(pinned, N=[8e9, 70e9, 3e11], compute=C)
    p = {k: v[..., None, None] for k, v in chinchilla_draws(pinned).items()}
    n = np.array([8e9, 70e9, 3e11])[:, None]
    D = C / (6 * n)
    np.testing.assert_allclose(pen["tokens_per_param"].isel(chain=0, draw=0), D / n)
    loss = p["E"] + p["A"] / n ** p["alpha"] + p["B"] / D ** p["beta"]
    np.testing.assert_allclose(pen["loss"], loss, rtol=1e-12)
    assert bool((pen["extra_loss"] >= 0).all())
    assert bool((pen["compute_efficiency"] <= 1 + 1e-12).all())
    # C_equivalent reaches the plan's loss on the frontier, draw by draw
    for i in (0, 2):
        r = pen.isel(N=i, compute=0)
        want = closed_form_compute(chinchilla_draws(pinned), r["loss"].to_numpy())
        np.testing.assert_allclose(r["C_equivalent"], want, rtol=1e-6)
    # 8e9 parameters at Chinchilla's budget waste most of it; 70e9 almost nothing
    med = pen["compute_efficiency"].median(("chain", "draw")).to_numpy()[:, 0]
    assert med[0] < 0.3 and med[1] > 0.99 and med[2] < 0.9


# ---------------------------------------------------------------------- inference-aware optimum
def test_inference_optimal_zero_demand_is_training_optimum(pinned):
    res = bs.inference_optimal(pinned, [2.0, 1.95], [0.0, 1e12, 1e14])
    base = bs.compute_for_loss(pinned, [2.0, 1.95])
    zero = res.sel(inference_tokens=0.0)
    np.testing.assert_allclose(zero["N_opt"], base["N_opt"], rtol=1e-5)
    np.testing.assert_allclose(zero["D_opt"], base["D_opt"], rtol=1e-5)
    np.testing.assert_allclose(zero["C_total"], base["C_needed"], rtol=1e-10)
    np.testing.assert_allclose(zero["N_train_opt"], base["N_opt"], rtol=1e-9)
    # growing demand: smaller N, larger D, draw by draw, and never costlier than the base plan
    n = res["N_opt"].to_numpy()
    d = res["D_opt"].to_numpy()
    assert (np.diff(n, axis=-1) < 0).all() and (np.diff(d, axis=-1) > 0).all()
    assert bool((res["savings"] > -1e-9).all())
    big = res.sel(inference_tokens=1e14, target_loss=2.0)
    ratio = float((big["N_opt"] / big["N_train_opt"]).median())
    assert ratio < 0.5
    # every plan reaches the target
    p = chinchilla_draws(pinned)
    loss = (
        p["E"][..., None]
        + p["A"][..., None] / res["N_opt"].sel(target_loss=2.0).to_numpy() ** p["alpha"][..., None]
        + p["B"][..., None] / res["D_opt"].sel(target_loss=2.0).to_numpy() ** p["beta"][..., None]
    )
    np.testing.assert_allclose(loss, 2.0, rtol=1e-9)


def test_inference_optimal_matches_brute_force_for_one_draw(pinned):
    target, T = 2.0, 1e13
    res = bs.inference_optimal(pinned, target, T).isel(chain=0, draw=0, target_loss=0)
    p = {k: float(v[0, 0]) for k, v in chinchilla_draws(pinned).items()}
    N = np.logspace(9, 12, 200001)
    gap = target - p["E"] - p["A"] / N ** p["alpha"]
    ok = gap > 0
    D = (p["B"] / gap[ok]) ** (1 / p["beta"])
    cost = 6 * N[ok] * D + 2 * N[ok] * T
    k = np.argmin(cost)
    assert float(res["N_opt"].squeeze()) == pytest.approx(N[ok][k], rel=1e-3)
    assert float(res["C_total"].squeeze()) == pytest.approx(cost[k], rel=1e-8)


# ---------------------------------------------------------------------- data wall
def test_data_wall_closed_form_and_beyond(pinned):
    U = np.array([10e12, 20e12])
    wall = bs.data_wall(pinned, U, compute=[1e24, 1e27])
    p = {k: v[..., None] for k, v in chinchilla_draws(pinned).items()}
    al, be = p["alpha"], p["beta"]
    G = (al * p["A"] / (be * p["B"])) ** (1 / (al + be))
    # D*(C) = (C/6)^(α/(α+β)) / G = U  →  C = 6·(U·G)^((α+β)/α)
    np.testing.assert_allclose(wall["C_wall"], 6 * (U * G) ** ((al + be) / al), rtol=1e-8)
    far = wall.sel(compute=1e27)
    assert bool(far["beyond_wall"].all())
    np.testing.assert_allclose(far["D_opt"], np.broadcast_to(U, far["D_opt"].shape))
    np.testing.assert_allclose(far["N_opt"], 1e27 / (6 * far["D_opt"]))
    assert bool((far["extra_loss"] > 0).all())
    near = wall.sel(compute=1e24)
    assert not bool(near["beyond_wall"].any())
    np.testing.assert_allclose(near["N_opt"], near["N_unlimited"])
    np.testing.assert_allclose(near["extra_loss"], 0, atol=1e-12)


@pytest.fixture(scope="module")
def data_constrained_fit():
    """A data_constrained fit pinned near Besiroglu's Chinchilla values, R_D* 15, R_N* 5."""
    truth = bs.testing.BESIROGLU_TRUTH
    design = bs.testing.chinchilla_design(40, random_seed=0)
    runs = design.assign(U=design["D"], loss=2.5)

    def centre(ref):
        return bs.testing.chinchilla_sampled({**truth, "R_D_star": 15.0, "R_N_star": 5.0}, ref)

    return pinned_law_fit("data_constrained", centre, runs)


def test_data_wall_with_data_constrained_law(data_constrained_fit):
    fit = data_constrained_fit
    wall = bs.data_wall(fit, 1e13, compute=[1e24, 1e27])
    assert wall.attrs["unique_input"] == "U"
    # with unlimited unique data the law is Chinchilla's, so the wall sits, draw by draw, where
    # Chinchilla's closed form puts it for the fit's own A, B, α, β: C = 6·(U·G)^((α+β)/α)
    p = {k: v[..., None] for k, v in chinchilla_draws(fit).items()}
    al, be = p["alpha"], p["beta"]
    G = (al * p["A"] / (be * p["B"])) ** (1 / (al + be))
    np.testing.assert_allclose(wall["C_wall"], 6 * (1e13 * G) ** ((al + be) / al), rtol=1e-6)
    np.testing.assert_allclose(
        wall["N_unlimited"],
        G[..., None] * (np.array([1e24, 1e27]) / 6) ** (be / (al + be))[..., None],
        rtol=1e-6,
    )
    # and about where the pinned Chinchilla posterior (same centre) puts it
    chin = bs.data_wall(bs.testing.pinned_fit(random_seed=0), 1e13)
    ratio = float(wall["C_wall"].median() / chin["C_wall"].median())
    assert ratio == pytest.approx(1.0, rel=0.1)
    # below the wall the token limit does not bind: the plan is the unlimited one
    near = wall.sel(compute=1e24)
    assert not bool(near["beyond_wall"].any())
    np.testing.assert_allclose(near["N_opt"], near["N_unlimited"], rtol=1e-5)
    np.testing.assert_allclose(near["extra_loss"], 0, atol=1e-12)
    # the limited plan is compute_optimal's with U held at the available tokens
    opt = bs.compute_optimal(fit, compute=[1e24, 1e27], fixed={"U": 1e13})
    np.testing.assert_allclose(wall["N_opt"].isel(available_tokens=0), opt["N_opt"], rtol=1e-12)
    np.testing.assert_allclose(wall["loss"].isel(available_tokens=0), opt["loss_opt"], rtol=1e-12)
    far = wall.sel(compute=1e27)
    # repeating data is allowed: more than one epoch, and better than a single epoch
    assert float(far["epochs"].median()) > 1.0
    single = far["N_opt"] * 0 + 1e27 / (6 * 1e13)
    assert float((far["N_opt"] / single).median()) < 1.0
    assert bool((far["loss"] >= far["loss_unlimited"] - 1e-9).all())


# ---------------------------------------------------------------------- published fits
def test_compare_to_card_on_pinned(pinned):
    hof = bs.compare_to_card(pinned, "hoffmann2022")
    assert hof.df == 5 and hof.joint_tail_prob < 1e-6 and hof.empirical_tail_prob == 0
    assert list(hof.table.index) == ["A", "B", "E", "alpha", "beta"]
    assert list(hof.table["scale"]) == ["log", "log", "log", "linear", "linear"]
    assert hof.table.loc["beta", "tail_prob"] == 0
    assert (
        hof.allocation.loc["tokens_per_param", "card"]
        > 3 * hof.allocation.loc["tokens_per_param", "median"]
    )
    bes = bs.compare_to_card(pinned, bs.load_card("besiroglu2024"))
    assert bes.joint_tail_prob > 0.5
    assert "Mahalanobis" in str(hof) and "hoffmann2022" in repr(hof)
    assert isinstance(hof.summary(), pd.DataFrame)
    only = bs.compare_to_card(pinned, "hoffmann2022", params=["alpha", "beta"])
    assert only.df == 2
    with pytest.raises(ValueError, match="is for law 'kaplan'"):
        bs.compare_to_card(pinned, "kaplan2020")


def test_compare_to_card_holds_the_extra_inputs_fixed(data_constrained_fit):
    fit = data_constrained_fit
    with pytest.raises(ValueError, match=r"holds its inputs \['U'\] fixed; pass them as fixed="):
        bs.compare_to_card(fit, "muennighoff2023", compute=1e22)
    with pytest.raises(ValueError, match="cannot hold \\['V'\\] fixed"):
        bs.compare_to_card(fit, "muennighoff2023", compute=1e22, fixed={"V": 1.0})
    res = bs.compare_to_card(fit, "muennighoff2023", compute=1e22, fixed={"U": 25e9})
    # the card's allocation is the one published with it: 7.02e9 parameters, 2.373e11 tokens
    alloc = res.allocation
    assert alloc.loc["N_opt", "card"] == pytest.approx(7.02e9, rel=1e-3)
    assert alloc.loc["D_opt", "card"] == pytest.approx(2.373e11, rel=1e-3)
    opt = bs.compute_optimal(fit, compute=1e22, fixed={"U": 25e9})
    assert alloc.loc["N_opt", "median"] == pytest.approx(float(opt["N_opt"].median()), rel=1e-12)


def _pinned_shared_exponent_fit():
    truth = bs.testing.BESIROGLU_TRUTH
    runs = bs.testing.simulate_chinchilla(n=40, random_seed=0)

    def centre(ref):
        shared = {k: truth[k] for k in ("A", "B", "E")} | {"alpha": 0.3}
        return bs.testing.chinchilla_sampled(shared, ref)

    return pinned_law_fit("chinchilla_shared_exponent", centre, runs, draws=200)


def test_compare_to_card_degrees_of_freedom_follow_the_rank():
    fit = _pinned_shared_exponent_fit()
    post = fit.posterior
    np.testing.assert_array_equal(post["alpha"].to_numpy(), post["beta"].to_numpy())
    card = dataclasses.replace(bs.load_card("hoffmann2022"), law="chinchilla_shared_exponent")
    res = bs.compare_to_card(fit, card)
    # α and β are one parameter: 5 compared, rank 4
    assert list(res.table.index) == ["A", "B", "E", "alpha", "beta"]
    assert res.df == 4
    assert any("rank 4" in n for n in res.notes)
    assert res.joint_tail_prob == pytest.approx(stats.chi2.sf(res.mahalanobis2, 4), rel=1e-12)
    assert np.isfinite(res.mahalanobis2) and res.mahalanobis2 > 0
    # the identical columns only add a null direction: comparing alpha alone gives df 1
    assert bs.compare_to_card(fit, card, params=["alpha", "beta"]).df == 1
    # a parameter held fixed (no spread) is reported but not compared
    tree = fit.idata.copy()
    post_e = tree["posterior"].to_dataset()
    for name in ("log_E", "E"):
        post_e[name] = post_e[name] * 0 + float(post_e[name].mean())
    tree["posterior"] = xr.DataTree(post_e)
    pinned_e = Fit(fit.law, fit.likelihood, fit.priors, fit.data, fit.reference, tree)
    res_e = bs.compare_to_card(pinned_e, card)
    assert res_e.table.loc["E", "note"] == "fixed" and np.isnan(res_e.table.loc["E", "z"])
    assert res_e.table.loc["A", "note"] == "" and np.isfinite(res_e.table.loc["A", "z"])
    assert res_e.df == 3
    assert any("E fixed" in n for n in res_e.notes)


def test_decision_summary_shapes(pinned):
    table = bs.decision_summary(
        bs.overtraining_penalty(pinned, N=[1e10, 7e10], compute=[1e22, 1e23])
    )
    assert {"median", "ci95_lo", "ci95_hi", "n_draws", "n_missing"} <= set(table.columns)
    assert isinstance(table.index, pd.MultiIndex)
    assert table.loc["extra_loss"].shape[0] == 4


# ---------------------------------------------------------------------- the 240-run fit
@pytest.mark.slow
def test_protocol_fit_card_comparison_and_inversion(protocol_fit):
    hof = bs.compare_to_card(protocol_fit, "hoffmann2022")
    assert hof.joint_tail_prob < 1e-6
    assert hof.empirical_tail_prob == 0
    bes = bs.compare_to_card(protocol_fit, "besiroglu2024")
    assert bes.joint_tail_prob > 0.05
    res = bs.compute_for_loss(protocol_fit, [2.0, 1.9])
    p = chinchilla_draws(protocol_fit)
    for t in (2.0, 1.9):
        C = res["C_needed"].sel(target_loss=t).to_numpy()
        ok = np.isfinite(C)
        np.testing.assert_allclose(C[ok], closed_form_compute(p, t)[ok], rtol=1e-6)
