"""A StackedFit wherever a fit is taken: each function against an independent reference.

The references are the single-fit functions on the members (with the member's seed and the
mixture's draw selection), fits built from the mixed draws, and closed forms (a conjugate
two-member mixture for next_runs).
"""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest
from scipy import optimize, stats

import bayescale as bs
from bayescale.analysis import noise_draws
from bayescale.plots_decisions import plot_compute_for_loss
from bayescale.stacking import draw_indices, member_seed
from bayescale.testing import BESIROGLU_TRUTH, chinchilla_sampled, fit_from_draws

matplotlib.use("Agg")
import matplotlib.pyplot as plt

W = {"t": 0.6, "n": 0.4}


@pytest.fixture(scope="module")
def runs():
    return bs.testing.simulate_chinchilla(60, random_seed=0)


def _normal_fit(runs, *, E=1.85, sigma=0.012, draws=100, seed=5):
    """A Chinchilla fit with the Normal likelihood, pinned near ``E`` (no MCMC)."""

    def centre(ref):
        rng = np.random.default_rng(seed)
        c = {**chinchilla_sampled({**BESIROGLU_TRUTH, "E": E}, ref), "sigma": sigma}
        return {k: v + 0.01 * abs(v) * rng.standard_normal((2, draws)) for k, v in c.items()}

    return fit_from_draws("chinchilla", runs, centre, likelihood="normal", random_seed=1)


@pytest.fixture(scope="module")
def members(runs):
    """A Student-t fit (2 x 100 draws) and a Normal-likelihood fit of the same law and runs."""
    return bs.testing.pinned_fit(random_seed=0, data=runs, chains=2, draws=100), _normal_fit(runs)


@pytest.fixture(scope="module")
def st(members):
    t, n = members
    return bs.stack({"t": t, "n": n}, weights=W)


def _flat(da):
    arr = da.transpose("chain", "draw", ...).to_numpy()
    return arr.reshape(-1, *arr.shape[2:])


def _mixed(parts):
    """Brute force: member k's flattened draws ``parts[k]`` at the mixture's indices."""
    counts = [120, 80]  # 0.6 and 0.4 of the first member's 200 draws
    return np.concatenate(
        [p[draw_indices(len(p), c)] for p, c in zip(parts, counts, strict=True)], axis=0
    )


# ---------------------------------------------------------------------- the mixture as a posterior
def test_params_and_posterior_are_the_mixed_member_draws(members, st, runs):
    t, n = members
    for name in ("A", "alpha", "E"):
        want = _mixed([_flat(t.params()[name]), _flat(n.params()[name])])
        np.testing.assert_array_equal(_flat(st.params()[name]), want)
    # the posterior holds what both members have (sigma, not the Student-t's nu)
    post = st.posterior
    assert "sigma" in post and "nu" not in post and post.sizes == {"chain": 1, "draw": 200}
    assert st.law is t.law
    with pytest.raises(ValueError, match=r"different likelihoods .*t: studentt, n: normal"):
        st.likelihood  # noqa: B018
    with pytest.raises(ValueError, match="different likelihoods"):
        st.params("noise")
    power = bs.testing.fit_from_draws(
        bs.get_law("power_law", x="C"),
        runs,
        {k: np.full((2, 100), v) for k, v in {"log_E": 0.6, "log_R_ref": -0.5, "alpha": 0.15,
                                               "sigma": 0.02, "nu": 5.0}.items()},
    )  # fmt: skip
    two_laws = bs.stack({"t": t, "pow": power}, weights={"t": 0.5, "pow": 0.5})
    with pytest.raises(ValueError, match=r"different laws .*pow: power_law"):
        two_laws.params()
    with pytest.raises(ValueError, match="plot_residuals: stack member 'pow'"):
        bs.plots.plot_residuals(two_laws)


def test_compare_to_card_equals_a_fit_of_the_mixed_draws(members, st, runs):
    t, n = members
    # reference: a plain Fit whose posterior is the mixture's draws of the sampled parameters
    sampled = {
        k: _mixed([_flat(t.posterior[k]), _flat(n.posterior[k])])[None, :]
        for k in ("log_A_ref", "log_B_ref", "log_E", "alpha", "beta", "sigma")
    }
    sampled["nu"] = np.full((1, 200), 5.0)  # unused by compare_to_card
    ref = fit_from_draws("chinchilla", runs, sampled)
    got, want = bs.compare_to_card(st, "hoffmann2022"), bs.compare_to_card(ref, "hoffmann2022")
    np.testing.assert_allclose(got.table["quantile"], want.table["quantile"], rtol=0, atol=0)
    np.testing.assert_allclose(got.table["median"], want.table["median"], rtol=1e-12)
    assert got.mahalanobis2 == pytest.approx(want.mahalanobis2, rel=1e-9)
    assert got.n_draws == 200 and got.df == want.df == 5
    np.testing.assert_allclose(got.allocation["median"], want.allocation["median"], rtol=1e-9)
    # one member with weight 1 is that member
    alone = bs.compare_to_card(bs.stack({"t": t}, weights={"t": 1.0}), "hoffmann2022")
    direct = bs.compare_to_card(t, "hoffmann2022")
    assert alone.mahalanobis2 == direct.mahalanobis2
    np.testing.assert_array_equal(alone.table["quantile"], direct.table["quantile"])


def test_tradeoff_of_a_stack_is_the_mixture_of_exchange_rates():
    law = bs.get_law("train_test")
    tt_runs = law.example_runs(random_seed=0)
    x = bs.testing.pinned_law_fit("train_test", runs=tt_runs, random_seed=0)
    y = bs.testing.pinned_law_fit(
        "train_test", runs=tt_runs, random_seed=1, natural={**law.example_truth, "a": 3.4}
    )
    st = bs.stack({"x": x, "y": y}, weights={"x": 0.25, "y": 0.75})
    res = bs.tradeoff(st, level=0.5, compute=[1e15])
    ex = [(_flat(f.params()["a"]) / _flat(f.params()["b"])) for f in (x, y)]
    want = np.concatenate([ex[0][draw_indices(200, 50)], ex[1][draw_indices(200, 150)]])
    np.testing.assert_allclose(_flat(res.draws["exchange"]), want, rtol=1e-12)
    # two modes, a/b ≈ 2.9/2.4 and 3.4/2.4: a quarter of the draws below 1.3
    assert np.mean(want < 1.3) == pytest.approx(0.25, abs=0.01)


# ---------------------------------------------------------------------- predictive functions
def test_posterior_predictive_check_mixes_each_members_own_draws(members, st):
    t, n = members
    got = bs.posterior_predictive_check(st, random_seed=7)
    parts = [
        _flat(bs.posterior_predictive_check(f, random_seed=member_seed(7, k)).draws)
        for k, f in enumerate((t, n))
    ]
    np.testing.assert_array_equal(_flat(got.draws), _mixed(parts))
    obs = t.data["loss"].to_numpy()
    lo, hi = np.quantile(_mixed(parts), [0.025, 0.975], axis=0)
    assert got.metrics["frac_inside"] == pytest.approx(np.mean((obs >= lo) & (obs <= hi)))


def test_plot_residuals_band_is_the_mixture_of_member_noise(members, st):
    t, n = members
    # one fit: the band's draws are its likelihood's draws with the plot's seed
    eps = noise_draws(t, random_seed=0).to_numpy().ravel()
    noise = {k: v.to_numpy().ravel() for k, v in t.params("noise").items()}
    direct = t.likelihood.sample(np.random.default_rng(0), np.zeros(200), **noise)
    np.testing.assert_array_equal(eps, direct)
    # a stack: Student-t draws of member t, Normal draws of member n
    parts = [noise_draws(f, random_seed=member_seed(3, k)).to_numpy().ravel()
             for k, f in enumerate((t, n))]  # fmt: skip
    mixed = _mixed(parts)
    fig, axes = bs.plots.plot_residuals(st, random_seed=3, x="N")
    band = axes.patches[0]
    lo, hi = np.quantile(mixed, [0.025, 0.975])
    assert (band.get_y(), band.get_y() + band.get_height()) == pytest.approx((lo, hi), rel=1e-9)
    mean = _mixed([_flat(bs.predict_loss(f, kind="mean", N=f.data["N"], D=f.data["D"]))
                   for f in (t, n)])  # fmt: skip
    resid = np.log(t.data["loss"].to_numpy()) - np.log(mean).mean(axis=0)
    shown = np.concatenate([c.get_offsets()[:, 1] for c in axes.collections])
    np.testing.assert_allclose(np.sort(shown), np.sort(resid), rtol=1e-12)
    plt.close(fig)


def test_chain_from_a_stack_of_loss_fits(members, st):
    t, n = members
    down = bs.emergence.pinned_emergence_fit(random_seed=1, law="downstream")
    kw = {"N": 7e10, "D": 1.4e12, "n_items": 500}
    got = bs.chain(st, down, random_seed=4, **kw)
    parts = [_flat(bs.chain(f, down, random_seed=member_seed(4, k), **kw)["accuracy"])
             for k, f in enumerate((t, n))]  # fmt: skip
    np.testing.assert_array_equal(_flat(got["accuracy"]), _mixed(parts))
    assert bs.chain(loss_fit=st, downstream_fit=down, random_seed=4, **kw).identical(got)


def test_decision_figures_and_plan_take_a_stack(st):
    res = bs.compute_for_loss(st, [2.3, 2.4])
    fig, axes = plot_compute_for_loss(st, target_loss=[2.3, 2.4])
    line = axes[0].get_lines()[0]
    np.testing.assert_allclose(  # the curve is the mixture's median compute per target
        np.sort(line.get_xdata()), np.sort(np.median(_flat(res["C_needed"]), axis=0)), rtol=1e-9
    )
    plt.close(fig)
    for plot in ("plot_isoflops", "plot_params"):
        fig, _ = getattr(bs.plots, plot)(st)
        plt.close(fig)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pilot = {"N": [1e8, 3e8], "D": [2e9, 6e9]}
        p = bs.plan(st, compute=1e23, n_outcomes=4, random_seed=0, candidates=pilot)
    opt = bs.compute_optimal(st, 1e23)
    assert p.N == pytest.approx(float(opt["N_opt"].median()), rel=1e-9)
    assert "Stack of `t` (0.60), `n` (0.40) fitted to 60 runs" in p.to_markdown()


# ---------------------------------------------------------------------- next_runs: closed form
# Two conjugate members: only log E varies and N, D are so large that the law is E; member a
# has Normal noise sigma_a on log loss, member b Student-t with nu = 1e8 (Normal to 1e-8) and
# sigma_b. After one run with log loss z the mixture's posterior of log E is a two-component
# Normal mixture: weights w_k N(z; m_k, s² + σ_k²), components the conjugate updates.
HUGE, S = 1e30, 0.04
MEMBERS = {"a": (0.50, 0.04, "normal"), "b": (0.58, 0.08, "studentt")}


def _conjugate(m, sigma, lik, seed):
    runs = bs.testing.simulate_chinchilla(30, random_seed=1)

    def draws(ref):
        rng = np.random.default_rng(seed)
        out = {
            k: np.full((2, 2000), v) for k, v in chinchilla_sampled(BESIROGLU_TRUTH, ref).items()
        }
        out["log_E"] = m + S * rng.standard_normal((2, 2000))
        out["sigma"] = np.full((2, 2000), sigma)
        if lik == "studentt":
            out["nu"] = np.full((2, 2000), 1e8)
        return out

    return fit_from_draws("chinchilla", runs, draws, likelihood=lik, random_seed=0)


def _mixture_posterior(z, weights):
    w, mean, var = [], [], []
    for (m, sigma, _), wk in zip(MEMBERS.values(), weights, strict=True):
        w.append(wk * stats.norm.pdf(z, m, np.sqrt(S**2 + sigma**2)))
        prec = 1 / S**2 + 1 / sigma**2
        mean.append((m / S**2 + z / sigma**2) / prec)
        var.append(1 / prec)
    w, mean, var = np.array(w) / np.sum(w), np.array(mean), np.array(var)
    return w, mean, var


def _sd_and_width(w, mean, var):
    mu = np.sum(w * mean)
    sd = np.sqrt(np.sum(w * (var + mean**2)) - mu**2)

    def quantile(p):  # of E = exp(log E)
        f = lambda x: np.sum(w * stats.norm.cdf(x, mean, np.sqrt(var))) - p  # noqa: E731
        return np.exp(optimize.brentq(f, -5, 5, xtol=1e-12))

    return sd, quantile(0.975) - quantile(0.025)


def test_next_runs_on_a_stack_updates_members_and_weights_by_the_closed_form():
    fits = {k: _conjugate(m, s, lik, seed) for seed, (k, (m, s, lik)) in enumerate(MEMBERS.items())}
    st = bs.stack(fits, weights={"a": 0.5, "b": 0.5})
    res = bs.next_runs(st, {"N": [HUGE], "D": [HUGE]}, target="loss", N=HUGE, D=HUGE,
                       n_outcomes=10, random_seed=3, refit=False)  # fmt: skip
    prior_means = np.array([m for m, _, _ in MEMBERS.values()])
    sd_now, width_now = _sd_and_width(np.array([0.5, 0.5]), prior_means, np.full(2, S**2))
    assert res.candidates.loc[0, "sd_now"] == pytest.approx(sd_now, rel=0.03)
    assert res.width_now == pytest.approx(width_now, rel=0.03)
    out = res.outcomes
    assert out["pareto_k"].max() < 0.7
    for z, sd, width in zip(np.log(out["loss"]), out["sd"], out["width"], strict=True):
        w, mean, var = _mixture_posterior(z, [0.5, 0.5])
        want_sd, want_width = _sd_and_width(w, mean, var)
        assert sd == pytest.approx(want_sd, rel=0.06)
        assert width == pytest.approx(want_width, rel=0.06)
    # the update moves the members' weights: outcomes near b's mean favour b
    w_far, _, _ = _mixture_posterior(0.62, [0.5, 0.5])
    assert w_far[1] > 0.8


def test_what_a_stack_cannot_be_says_why(members, st):
    t, _ = members
    with pytest.raises(TypeError, match="'s' is a StackedFit: compare ranks single fits"):
        bs.compare({"s": st, "t": t})
    with pytest.raises(TypeError, match="is a StackedFit"):
        bs.compare([t, st])
    with pytest.raises(ValueError, match=r"plot_groups draws one pooled fit.*stack\.fits"):
        bs.plot_groups(st)
    with pytest.raises(TypeError, match=r"score_holdout scores one fit.*stack\.fits"):
        bs.score_holdout(st, t.data)
    # a single Fit is backtested by refitting it with its own settings
    # (tests/test_pooling_workflows.py); a stack with stack= of its own is refused
    with pytest.raises(ValueError, match="stack= needs several members"):
        bs.backtest(t, t.data, split={"C": 1e21}, stack="stacking")


def test_misallocation_of_a_stack_mixes_and_recounts(members, st):
    t, n = members
    got = bs.misallocation_cost(st, N=1e9, D=2e10)
    for var in ("deadweight_fraction", "C_equivalent"):
        want = _mixed([_flat(bs.misallocation_cost(f, N=1e9, D=2e10)[var]) for f in (t, n)])
        np.testing.assert_array_equal(_flat(got[var]), want)
    # within=0.002: a tolerance the draws straddle, so the recount matters
    check = bs.rule_of_thumb_check(st, compute=[1e22], tokens_per_param=60.0, within=0.002)
    excess = _mixed([
        _flat(bs.rule_of_thumb_check(f, compute=[1e22], tokens_per_param=60.0)["loss_excess"])
        for f in (t, n)
    ])  # fmt: skip
    np.testing.assert_array_equal(_flat(check["loss_excess"]), excess)
    p = float(np.mean(excess <= 0.002))
    assert 0 < p < 1
    assert float(check["p_within_loss"][0]) == pytest.approx(p, abs=1e-12)


# every public function whose first argument is a fit, and where a stack is tested with it
COVERED = {
    "chain": "test_chain_from_a_stack_of_loss_fits",
    "compare_to_card": "test_compare_to_card_equals_a_fit_of_the_mixed_draws",
    "compute_for_loss": "test_stacking.py::test_compute_for_loss_counts_follow_the_mixture",
    "compute_optimal": "test_stacking.py::test_weight_one_gives_that_member",
    "data_wall": "test_stacking.py::test_other_analysis_functions_accept_a_stack",
    "emergence_threshold": "test_stacking.py::test_other_analysis_functions_accept_a_stack",
    "inference_optimal": "test_stacking.py::test_other_analysis_functions_accept_a_stack",
    "loss_at": "test_stacking.py::test_other_analysis_functions_accept_a_stack",
    "misallocation_cost": "test_misallocation_of_a_stack_mixes_and_recounts",
    "next_runs": "test_next_runs_on_a_stack_updates_members_and_weights_by_the_closed_form",
    "overtraining_penalty": "test_stacking.py::test_other_analysis_functions_accept_a_stack",
    "plan": "test_decision_figures_and_plan_take_a_stack",
    "plot_groups": "refused with its reason: test_what_a_stack_cannot_be_says_why",
    "posterior_predictive_check": "test_posterior_predictive_check_mixes_each_members_own_draws",
    "predict_accuracy": "test_stacking.py::test_other_analysis_functions_accept_a_stack",
    "predict_loss": "test_stacking.py::test_mixture_draws_are_the_members_draws",
    "report": "test_stacking.py::test_report_of_a_stack",
    "rule_of_thumb_check": "test_misallocation_of_a_stack_mixes_and_recounts",
    "tradeoff": "test_tradeoff_of_a_stack_is_the_mixture_of_exchange_rates",
    "plot_fit": "test_stacking.py::test_plots_and_export_take_a_stack",
    "plot_frontier": "test_stacking.py::test_plots_and_export_take_a_stack",
    "plot_isoflops": "test_decision_figures_and_plan_take_a_stack",
    "plot_params": "test_decision_figures_and_plan_take_a_stack",
    "plot_residuals": "test_plot_residuals_band_is_the_mixture_of_member_noise",
    "plot_tokens_per_param": "test_stacking.py::test_plots_and_export_take_a_stack",
    "score_holdout": "refused with its reason: test_what_a_stack_cannot_be_says_why",
}


def test_every_function_of_a_fit_is_covered_for_stacks():
    """A new public function of a fit must be made to take a stack (and listed here)."""
    import inspect

    from bayescale import plots, plots_decisions

    found = set()
    for module, names in (
        (bs, bs.__all__),
        (plots, dir(plots)),
        (plots_decisions, dir(plots_decisions)),
    ):
        for name in names:
            obj = getattr(module, name)
            if inspect.isfunction(obj) and not name.startswith("_"):
                params = list(inspect.signature(obj).parameters)
                if params and params[0] in ("fit", "loss_fit"):
                    found.add(name)
    assert found == set(COVERED)
