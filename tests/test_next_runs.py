"""next_runs (preposterior value of a run) and plan: closed forms, ranking, contents."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.next_runs import (
    candidate_grid,
    new_run_loglik,
    psis_log_weights,
    weighted_quantiles,
)
from bayescale.testing import BESIROGLU_TRUTH, chinchilla_sampled, fit_from_draws

# A conjugate case: only log E varies, N and D so large that the law is E to 1e-12, Normal
# noise on log loss: the posterior of log E after one run is Normal with a closed form.
M, S, SIGMA = 0.5, 0.04, 0.04
HUGE = 1e30


def _conjugate_fit(n_draws: int = 2000):
    runs = bs.testing.simulate_chinchilla(30, random_seed=1)

    def draws(ref):
        centre = chinchilla_sampled(BESIROGLU_TRUTH, ref)
        rng = np.random.default_rng(7)
        out = {k: np.full((2, n_draws), v) for k, v in centre.items()}
        out["log_E"] = M + S * rng.standard_normal((2, n_draws))
        out["sigma"] = np.full((2, n_draws), SIGMA)
        return out

    return fit_from_draws("chinchilla", runs, draws, likelihood="normal", random_seed=0)


@pytest.fixture(scope="module")
def conjugate():
    return _conjugate_fit()


@pytest.fixture(scope="module")
def pinned():
    return bs.testing.pinned_fit(random_seed=0, draws=250)


def test_reweighting_matches_the_conjugate_posterior(conjugate):
    log_e = conjugate.posterior["log_E"].to_numpy().reshape(-1)
    y = np.exp(M + 0.05)  # one observed loss a little above the prior mean of E
    ll = new_run_loglik(conjugate, [HUGE], [HUGE], [[y]])
    lw, k = psis_log_weights(ll)
    w = np.exp(lw[0, 0])
    post_prec = 1 / S**2 + 1 / SIGMA**2
    exact_mean = (M / S**2 + np.log(y) / SIGMA**2) / post_prec
    exact_sd = post_prec**-0.5
    mean = np.sum(w * log_e)
    sd = np.sqrt(np.sum(w * (log_e - mean) ** 2))
    assert k[0, 0] < 0.5
    assert mean == pytest.approx(exact_mean, abs=0.05 * exact_sd)
    assert sd == pytest.approx(exact_sd, rel=0.05)
    # the log-likelihood is the Normal density of log y around log E (up to the law's reducible
    # terms, ~1e-8 of E at N = D = 1e30)
    direct = -0.5 * np.log(2 * np.pi * SIGMA**2) - 0.5 * ((np.log(y) - log_e) / SIGMA) ** 2
    np.testing.assert_allclose(ll[0, 0], direct, atol=1e-4)


def test_expected_shrinkage_matches_the_closed_form(conjugate):
    # in the conjugate Normal case the posterior sd after the run does not depend on its
    # outcome: sd' = (1/S² + 1/σ²)^-1/2, so the expected sd shrinkage is 1 − sd'/S exactly
    res = bs.next_runs(conjugate, {"N": [HUGE, 1e9], "D": [HUGE, 2e10]}, target="loss",
                       N=HUGE, D=HUGE, n_outcomes=24, random_seed=3, refit=False)  # fmt: skip
    table = res.candidates
    exact = 1 - (1 / S**2 + 1 / SIGMA**2) ** -0.5 / S
    assert table.loc[0, "sd_shrinkage"] == pytest.approx(exact, abs=0.03)
    assert table.loc[0, "shrinkage"] == pytest.approx(exact, abs=0.05)  # Normal: width ∝ sd
    # a run at 1B parameters tells about E only through the other (fixed) terms: less shrinkage
    assert table.loc[1, "shrinkage"] < table.loc[0, "shrinkage"] - 0.1
    assert res.width_now == pytest.approx(
        np.diff(np.quantile(np.exp(conjugate.posterior["log_E"]), [0.025, 0.975]))[0], rel=0.02
    )


def test_weighted_quantiles_equal_unweighted_with_equal_weights():
    x = np.random.default_rng(0).normal(size=501)
    got = weighted_quantiles(x, np.ones((2, 501)), [0.1, 0.5, 0.9])
    want = np.quantile(x, [0.1, 0.5, 0.9], method="hazen")
    np.testing.assert_allclose(got, np.stack([want, want]), rtol=1e-12)
    # weights that zero out all but the largest half give that half's quantiles
    w = (x >= np.median(x)).astype(float)
    top = np.sort(x)[250:]
    np.testing.assert_allclose(
        weighted_quantiles(x, w, [0.5])[0], np.quantile(top, [0.5], method="hazen"), rtol=1e-12
    )


def test_ranking_is_by_shrinkage_per_flop_and_seeded(pinned):
    grid = candidate_grid(pinned, compute=[1e20, 1e21])
    kwargs = {"target": "N_opt", "compute": 1e23, "n_outcomes": 8, "refit": False}
    a = bs.next_runs(pinned, grid[["N", "D"]], random_seed=5, **kwargs).summary()
    b = bs.next_runs(pinned, grid[["N", "D"]].to_numpy(), random_seed=5, **kwargs).summary()
    pd.testing.assert_frame_equal(a, b)
    assert list(a["rank"]) == list(range(1, len(grid) + 1))
    assert (np.diff(a["shrinkage_per_flop"]) <= 0).all()
    np.testing.assert_allclose(a["compute"], 6 * a["N"] * a["D"])
    c = bs.next_runs(pinned, grid[["N", "D"]], random_seed=6, **kwargs).summary()
    assert not np.allclose(a["shrinkage"], c["shrinkage"])


def test_the_planned_run_itself_is_the_most_informative_about_its_loss(pinned):
    target = {"N": 5e9, "D": 1e11}
    cands = {"N": [5e9, 1e8], "D": [1e11, 2e9]}
    res = bs.next_runs(pinned, cands, target="loss", **target, n_outcomes=16, random_seed=0,
                       refit=False)  # fmt: skip
    t = res.candidates
    assert t.loc[0, "shrinkage"] > t.loc[1, "shrinkage"]
    assert t.loc[0, "sd_shrinkage"] > 0.05


def test_bad_input_is_named(pinned):
    with pytest.raises(ValueError, match="compute="):
        bs.next_runs(pinned, [[1e9, 2e10]], target="N_opt")
    with pytest.raises(ValueError, match="target must be one of"):
        bs.next_runs(pinned, [[1e9, 2e10]], target="alpha")
    with pytest.raises(ValueError, match=r"missing the column\(s\) \['D'\]"):
        bs.next_runs(pinned, {"N": [1e9]}, compute=1e22)
    with pytest.raises(ValueError, match=r"candidates\['N'\]"):
        bs.next_runs(pinned, {"N": [-1.0], "D": [1e9]}, compute=1e22)
    with pytest.raises(ValueError, match="n_outcomes"):
        bs.next_runs(pinned, [[1e9, 2e10]], compute=1e22, n_outcomes=1)


def test_high_pareto_k_is_flagged_without_refit(pinned):
    # a run far beyond the fitted ones moves the posterior too far for reweighting
    res = bs.next_runs(pinned, {"N": [3e11], "D": [6e12]}, compute=1e25, n_outcomes=8,
                       k_threshold=-1.0, refit=False, random_seed=0)  # fmt: skip
    t = res.candidates
    assert t.loc[0, "n_unreliable"] == 8 and t.loc[0, "n_refit"] == 0


def test_plan_holds_the_answers(pinned):
    p = bs.plan(pinned, compute=1e24, price_per_flop=1e-18, n_outcomes=4, random_seed=0)
    table = p.summary()
    opt = bs.compute_optimal(pinned, 1e24)
    assert table.loc["N", "median"] == pytest.approx(float(opt["N_opt"].median()), rel=1e-9)
    assert p.N == pytest.approx(table.loc["N", "median"])
    width = table["hi"] - table["lo"]
    assert width["loss_predictive"] > width["loss"]
    assert table.loc["C_train", "median"] == pytest.approx(1e24, rel=1e-6)
    rules = p.rules.set_index("tokens_per_param")
    direct = bs.misallocation_cost(pinned, N=rules.loc[100.0, "N"], D=rules.loc[100.0, "D"])
    assert rules.loc[100.0, "deadweight_fraction"] == pytest.approx(
        float(direct["deadweight_fraction"].median()), rel=1e-9
    )
    assert rules.loc[100.0, "deadweight_fraction"] > rules.loc[20.0, "deadweight_fraction"]
    assert "deadweight_cost" in p.rules
    md = p.to_markdown()
    assert "# Plan for 1e24 FLOPs" in md and "Best next pilot run" in md
    assert "<pre>" in p._repr_html_()
    assert p.best_pilot["rank"] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_inf = bs.plan(pinned, compute=1e24, inference_tokens=1e14, n_outcomes=4)
    assert p_inf.N < p.N  # heavy inference demand: a smaller model trained longer
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = p.plot()
    assert len(axes) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="compute must be one"):
        bs.plan(pinned, compute=-1.0)


@pytest.mark.slow
def test_refits_replace_high_k_outcomes():
    runs = bs.testing.simulate_chinchilla(n=40, random_seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bs.fit("chinchilla", runs, draws=200, tune=200, chains=2, random_seed=0,
                     progressbar=False, warn=False, processes=1)  # fmt: skip
        res = bs.next_runs(fit, {"N": [2e9], "D": [4e10]}, compute=1e22, n_outcomes=2,
                           k_threshold=-1.0, random_seed=0, processes=1)  # fmt: skip
        low = bs.next_runs(fit, {"N": [2e9], "D": [4e10]}, compute=1e22, n_outcomes=2,
                           refit=False, random_seed=0)  # fmt: skip
    assert int(res.candidates.loc[0, "n_refit"]) == 2
    assert res.outcomes["refit"].all()
    # the refits and the reweighted draws see the same run: their widths agree loosely
    # (independent MCMC error of 400 draws)
    np.testing.assert_allclose(res.outcomes["width"], low.outcomes["width"], rtol=0.3)


def test_small_shrinkage_is_unbiased_where_the_truth_is_exact():
    # the regime of benchmarks/bench_next_runs.py (one run shrinks the 80% width by ~2%): a weak
    # conjugate run (σ = 5 S) shrinks the sd of log E by exactly 1 − (1 + S²/σ²)^-½ = 1.94%;
    # reweighting keeps the old draws' support, which must not bias the expected shrinkage
    sigma = 5 * S
    exact = 1 - (1 + S**2 / sigma**2) ** -0.5
    runs = bs.testing.simulate_chinchilla(30, random_seed=1)
    width, sd = [], []
    for seed in range(4):

        def draws(ref, seed=seed):
            out = {
                k: np.full((2, 1500), v)
                for k, v in chinchilla_sampled(BESIROGLU_TRUTH, ref).items()
            }
            out["log_E"] = M + S * np.random.default_rng(seed).standard_normal((2, 1500))
            out["sigma"] = np.full((2, 1500), sigma)
            return out

        fit = fit_from_draws("chinchilla", runs, draws, likelihood="normal", random_seed=0)
        t = bs.next_runs(
            fit,
            {"N": [HUGE], "D": [HUGE]},
            target="loss",
            N=HUGE,
            D=HUGE,
            ci_prob=0.8,
            n_outcomes=50,
            random_seed=seed,
            refit=False,
        ).candidates
        width.append(t.loc[0, "shrinkage"])
        sd.append(t.loc[0, "sd_shrinkage"])
    assert np.mean(sd) == pytest.approx(exact, rel=0.05)
    assert np.mean(width) == pytest.approx(exact, rel=0.2)  # 80% width ∝ sd; quantile noise
