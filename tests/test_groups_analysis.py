"""Analysis over groups (issue 11, part 2): every function of a fit answers per group of a
pooled fit, for one group (``group="label"``) or a new group (``group=bs.NEW_GROUP``).

All tests run on pinned pooled posteriors (``bs.testing.pinned_pooled_fit``, no MCMC): the
per-group answers are checked against numbers computed here from the posterior's per-group
draws (closed forms, numpy/scipy densities), and a new group against the fitted ones (wider).
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayescale as bs
from bayescale.pooling import NEW_GROUP, group_view

DIMS = ("chain", "draw")


@pytest.fixture(scope="module")
def pooled():
    return bs.testing.pinned_pooled_fit(random_seed=0)


@pytest.fixture(scope="module")
def wide():
    """Wider per-group posteriors and noisier runs: one new run moves them measurably."""
    return bs.testing.pinned_pooled_fit(
        random_seed=0, rel_sd=0.02, draws=250, noise={"sigma": 0.05, "nu": 10.0}
    )


def _width(x, p=0.95):
    lo, hi = np.quantile(np.ravel(x), [(1 - p) / 2, (1 + p) / 2])
    return hi - lo


def test_pinned_pooled_fit_and_summary_carry_the_population(pooled):
    """The summary of a pooled fit has per-group rows, the population centres (mu) and the
    between-group spreads (tau); the pinned truth is where the draws are."""
    table = pooled.summary()
    names = pooled.law.parameter_names
    assert {f"{n}_mu" for n in names} | {f"{n}_tau" for n in names} <= set(table.index)
    assert {"alpha[a]", "E[c]", "A[b]"} <= set(table.index)
    for n in names:
        assert table.loc[f"{n}_tau", "median"] == pytest.approx(0.1, rel=0.01)
    for g, q in pooled.truth["natural"].items():
        assert table.loc[f"alpha[{g}]", "median"] == pytest.approx(q["alpha"], rel=0.02)
        assert table.loc[f"E[{g}]", "median"] == pytest.approx(q["E"], rel=0.02)


def test_compare_to_card_per_group_and_for_a_new_group(pooled):
    res = bs.compare_to_card(pooled, "besiroglu2024")
    assert list(res) == ["a", "b", "c"]
    table = res.summary()
    post = pooled.posterior
    card = bs.load_card("besiroglu2024").params
    for g in ("a", "b", "c"):
        for n in ("alpha", "E"):
            draws = post[n].sel(group=g).to_numpy().ravel()
            assert table.loc[(g, n), "quantile"] == pytest.approx(np.mean(draws < card[n]))
            assert table.loc[(g, n), "median"] == pytest.approx(np.median(draws))
        one = bs.compare_to_card(pooled, "besiroglu2024", group=g)
        assert one.mahalanobis2 == pytest.approx(res[g].mahalanobis2, rel=1e-12)
        view = bs.compare_to_card(group_view(pooled, g), "besiroglu2024")
        pd.testing.assert_frame_equal(view.allocation, res[g].allocation)
    new = bs.compare_to_card(pooled, "besiroglu2024", group=NEW_GROUP, random_seed=1)
    # the population is centred on Besiroglu's values: a new group sits around the card, and
    # its intervals are wider than every fitted group's
    assert new.table.loc["alpha", "tail_prob"] > 0.5
    w_new = new.table.loc["alpha", "ci95_hi"] - new.table.loc["alpha", "ci95_lo"]
    for g in ("a", "b", "c"):
        assert w_new > 5 * (table.loc[(g, "alpha"), "ci95_hi"] - table.loc[(g, "alpha"), "ci95_lo"])
    again = bs.compare_to_card(pooled, "besiroglu2024", group=NEW_GROUP, random_seed=1)
    assert again.mahalanobis2 == new.mahalanobis2


def test_chain_through_a_pooled_loss_fit_and_a_pooled_downstream_fit(pooled):
    down = bs.emergence.pinned_emergence_fit(random_seed=1, law="downstream")
    out = bs.chain(pooled, down, N=7e9, D=1.4e11, kind="mean", random_seed=0)
    assert out["accuracy"].dims == ("group", "chain", "draw")
    for g in ("a", "c"):
        mine = bs.chain(group_view(pooled, g), down, N=7e9, D=1.4e11, kind="mean", random_seed=0)
        np.testing.assert_array_equal(out["accuracy"].sel(group=g), mine["accuracy"])
        # the loss is the group's own law at (N, D), written out
        q = {
            k: pooled.posterior[k].sel(group=g).to_numpy() for k in ("A", "B", "E", "alpha", "beta")
        }
        loss = q["E"] + q["A"] / 7e9 ** q["alpha"] + q["B"] / 1.4e11 ** q["beta"]
        np.testing.assert_allclose(out["loss"].sel(group=g), loss, rtol=1e-10)
    # both fits pooled over the same labels: groups matched by label
    pdown = bs.testing.pinned_pooled_fit("downstream", random_seed=1, tau=0.05)
    both = bs.chain(pooled, pdown, N=7e9, D=1.4e11, kind="mean", random_seed=0)
    assert list(both["group"].to_numpy()) == ["a", "b", "c"]
    b_only = bs.chain(pooled, pdown, N=7e9, D=1.4e11, kind="mean", random_seed=0, group="b")
    np.testing.assert_array_equal(both["accuracy"].sel(group="b"), b_only["accuracy"])
    new = bs.chain(pooled, pdown, N=7e9, D=1.4e11, kind="mean", random_seed=0, group=NEW_GROUP)
    assert new["accuracy"].dims == DIMS
    assert float(new["accuracy"].std()) > 5 * float(both["accuracy"].std(DIMS).max())
    with pytest.raises(ValueError, match="not a group"):
        bs.chain(pooled, pdown, N=7e9, D=1.4e11, group="z")
    with pytest.raises(ValueError, match="neither fit has groups"):
        bs.chain(bs.testing.pinned_fit(random_seed=0), down, N=7e9, D=1.4e11, group="a")


def test_tradeoff_per_group_is_each_groups_exchange_rate():
    fit = bs.testing.pinned_pooled_fit("train_test", random_seed=0)
    res = bs.tradeoff(fit, train_multiples=[10.0])
    post = fit.posterior
    assert len({r.level for r in res.values()}) == 1  # one level: the curves compare
    for g in ("a", "b", "c"):
        a, b = (post[k].sel(group=g).transpose(*DIMS).to_numpy() for k in ("a", "b"))
        np.testing.assert_allclose(res[g].draws["exchange"], a / b, rtol=1e-12)
        np.testing.assert_allclose(
            res[g].draws["test_multiple"].isel(train_multiple=0), 10.0 ** (a / b), rtol=1e-12
        )
    new = bs.tradeoff(fit, group=NEW_GROUP, random_seed=0, level=res["a"].level)
    assert new.draws["exchange"].dims == DIMS
    assert _width(new.draws["exchange"]) > 3 * max(
        _width(r.draws["exchange"]) for r in res.values()
    )
    assert res.summary().index.names[0] == "group"
    with pytest.raises(ValueError, match="no groups"):
        bs.tradeoff(bs.testing.pinned_law_fit("train_test", random_seed=0), group="a")


def _student_t_loglik(fit, label, n, d, y):
    """log p(y | group's draws) written out: Student-t on log loss around the Chinchilla law
    of the group's natural parameters (scipy's density, not bayescale's)."""
    post = fit.posterior
    q = {k: post[k].sel(group=label).transpose(*DIMS).to_numpy().ravel() for k in "ABE"}
    q.update(
        {k: post[k].sel(group=label).transpose(*DIMS).to_numpy().ravel() for k in ("alpha", "beta")}
    )
    mu = np.log(q["E"] + q["A"] / n ** q["alpha"] + q["B"] / d ** q["beta"])
    sigma = post["sigma"].transpose(*DIMS).to_numpy().ravel()
    nu = post["nu"].transpose(*DIMS).to_numpy().ravel()
    return stats.t.logpdf(np.log(y), df=nu, loc=mu, scale=sigma)


def test_next_runs_reweights_by_the_candidates_group_likelihood(wide):
    """Each outcome's width is the weighted interval of the target group's N*(C) under PSIS
    weights of the candidate group's Student-t likelihood of the simulated loss — recomputed
    here with scipy from the per-group draws."""
    from bayescale.next_runs import _spread, psis_log_weights

    cands = pd.DataFrame({"N": [3e9, 1e9], "D": [6e10, 3e10], "corpus": ["b", "a"]})
    res = bs.next_runs(
        wide, cands, target="N_opt", compute=1e22, n_outcomes=6, random_seed=0, refit=False,
        group="a",
    )  # fmt: skip
    table = res.candidates
    assert table["group"].tolist() == ["b", "a"]
    target = bs.compute_optimal(wide, compute=1e22, group="a")["N_opt"]
    target = target.isel(compute=0).transpose(*DIMS).to_numpy().ravel()
    assert res.width_now == pytest.approx(_spread(target, np.ones((1, target.size)), 0.95)[0][0])
    for j, (n, d, g) in enumerate(cands.itertuples(index=False)):
        rows = res.outcomes[res.outcomes["candidate"] == j]
        ll = np.stack([_student_t_loglik(wide, g, n, d, y) for y in rows["loss"]])
        lw, k = psis_log_weights(ll)
        width, sd = _spread(target, np.exp(lw), 0.95)
        np.testing.assert_allclose(rows["width"], width, rtol=1e-9)
        np.testing.assert_allclose(rows["sd"], sd, rtol=1e-9)
        np.testing.assert_allclose(rows["pareto_k"], k, rtol=1e-9)


def test_next_runs_for_a_new_group_and_every_group(wide):
    cands = {"N": [3e9, 3e9], "D": [6e10, 6e10], "group": [NEW_GROUP, "a"]}
    kw = dict(target="N_opt", compute=1e22, n_outcomes=6, random_seed=0, refit=False)
    new = bs.next_runs(wide, cands, group=NEW_GROUP, **kw)
    seen = bs.next_runs(wide, cands, group="a", **kw)
    # today's N*(C) of a corpus not trained on is far wider than of a fitted one
    assert new.width_now > 3 * seen.width_now
    again = bs.next_runs(wide, cands, group=NEW_GROUP, **kw)
    pd.testing.assert_frame_equal(new.outcomes, again.outcomes)
    each = bs.next_runs(wide, {"N": [3e9], "D": [6e10]}, **kw)
    assert list(each) == ["a", "b", "c"]
    assert each.summary().index.names[0] == "group"
    one = bs.next_runs(wide, {"N": [3e9], "D": [6e10]}, group="b", **kw)
    pd.testing.assert_frame_equal(one.summary(), each["b"].summary())
    with pytest.raises(ValueError, match="name the target's group"):
        bs.next_runs(wide, cands, **kw)
    with pytest.raises(ValueError, match="not a group"):
        bs.next_runs(wide, {"N": [3e9], "D": [6e10], "group": ["q"]}, group="a", **kw)
    with pytest.raises(ValueError, match="pooled fit"):
        bs.next_runs(bs.testing.pinned_fit(random_seed=0, draws=50), cands, group="a", **kw)


def test_next_runs_refits_add_the_run_to_its_group(wide, monkeypatch):
    """The refit path (NUTS replaced by a recorder): each run joins its group — a new group's
    run under a fresh label — the pooled model is refitted with the fit's group column and
    modes, and the target is read in the refit's group."""
    import importlib

    from bayescale.next_runs_groups import NEW_LABEL

    nr = importlib.import_module("bayescale.next_runs")  # the module (bs.next_runs: the function)

    calls = []

    def fake_refit(fit, runs, reduce, *, seeds, fit_kwargs=None, processes=None):
        calls.append((runs, dict(fit_kwargs)))
        return [(1.0, 0.5)] * len(runs)

    monkeypatch.setattr(nr, "refit_with_runs", fake_refit)
    cands = {"N": [3e9, 3e9], "D": [6e10, 6e10], "group": ["b", NEW_GROUP]}
    res = bs.next_runs(
        wide, cands, target="N_opt", compute=1e22, n_outcomes=2, random_seed=0,
        refit=True, k_threshold=-1e9, group=NEW_GROUP,
    )  # fmt: skip
    assert res.outcomes["refit"].all() and (res.outcomes["width"] == 1.0).all()
    added = [r for runs, _ in calls for r in runs]
    assert sorted(r["corpus"] for r in added) == ["b", "b", NEW_LABEL, NEW_LABEL]
    for _, kwargs in calls:
        assert kwargs["group"] == "corpus" and kwargs["pool"] == wide.pooling.spec()
        assert set(kwargs["pool"].values()) == {"partial_noncentred"}  # the fit's form, named
    # two batches: the target is the new run's fresh group, or a new group of the refit
    assert len(calls) == 2


def test_plan_for_a_group_and_for_a_corpus_not_trained_on(pooled):
    p = bs.plan(pooled, compute=1e24, n_outcomes=4, group="b")
    opt = bs.compute_optimal(pooled, compute=1e24, group="b")["N_opt"].to_numpy()
    assert p.summary().loc["N", "median"] == pytest.approx(np.median(opt))
    assert "group 'b' (20 runs)" in p.to_markdown()
    new = bs.plan(pooled, compute=1e24, n_outcomes=4, group=NEW_GROUP)
    assert "a corpus we have not trained on yet" in new.to_markdown()
    w = lambda plan: plan.summary().loc["N", "hi"] - plan.summary().loc["N", "lo"]  # noqa: E731
    assert w(new) > 5 * w(p)
    # the pilot runs of the plan are planned for the same new group as its numbers
    assert set(new.next_runs.candidates["group"]) == {NEW_GROUP}
    every = bs.plan(pooled, compute=1e24, n_outcomes=4)
    assert list(every) == ["a", "b", "c"]
    assert every["b"].summary().loc["N", "median"] == p.summary().loc["N", "median"]
    assert every.to_markdown().count("# Plan for") == 3  # what the command line prints


def test_report_of_a_pooled_fit(pooled, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    path = bs.report(pooled, tmp_path, compute=[1e22, 1e24])
    files = set(p.name for p in tmp_path.iterdir())
    assert {"groups.png", "population.csv", "spread.csv", "optimal.csv"} <= files
    assert "frontier.png" not in files  # one set of parameters: not for a pooled fit
    text = open(path).read()
    assert "Between-group spread tau" in text and "<new group>" in text
    population = pd.read_csv(tmp_path / "population.csv", index_col=0)
    assert population.loc["alpha", "median"] == pytest.approx(0.3478, rel=0.01)
    spread = pd.read_csv(tmp_path / "spread.csv", index_col=0)
    assert spread.loc["alpha", "scale"] == "log"
    assert spread.loc["alpha", "median"] == pytest.approx(0.1, rel=0.02)
    optimal = pd.read_csv(tmp_path / "optimal.csv", index_col=[0, 1])
    for g in ("a", "c"):
        n = bs.compute_optimal(pooled, compute=1e24, group=g)["N_opt"].to_numpy()
        assert optimal.loc[(1e24, g), "N_opt_median"] == pytest.approx(np.median(n), rel=1e-9)
    assert set(optimal.index.get_level_values("group")) == {"a", "b", "c", NEW_GROUP}
    # an accuracy law of one input: the group figure along it (accuracy on a linear axis)
    acc = bs.testing.pinned_pooled_fit("emergence", random_seed=0)
    bs.report(acc, tmp_path / "acc", compute=[1e22])
    assert {"groups.png", "spread.csv"} <= {p.name for p in (tmp_path / "acc").iterdir()}
    _fig, ax = bs.plot_groups(acc, x="C")
    assert ax.get_ylabel() == "accuracy" and ax.get_yscale() == "linear"


def test_one_set_figures_take_a_group_and_refuse_without_one(pooled):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayescale import plots

    with pytest.raises(ValueError, match="plot_groups"):
        plots.plot_frontier(pooled)
    fig, _ = plots.plot_frontier(pooled, group="a")
    plt.close(fig)
    with pytest.raises(ValueError, match="no groups"):
        plots.plot_fit(bs.testing.pinned_fit(random_seed=0), group="a")


def test_posterior_predictive_check_predicts_each_run_from_its_own_group(pooled):
    """log(draw) − the run's own group's law (written out) is the noise alone: centred on 0
    for every run, with the Student-t's sd; another group's law would leave offsets."""
    check = bs.posterior_predictive_check(pooled, random_seed=0)
    assert check.groups["n_runs"].tolist() == [20, 20, 20]
    const = pooled.idata["constant_data"]
    n, d = const["N"].to_numpy(), const["D"].to_numpy()
    groups = check.table["group"].to_numpy()
    post = pooled.posterior
    resid = np.empty(check.draws.shape)
    for g in ("a", "b", "c"):
        q = {k: post[k].sel(group=g).transpose(*DIMS).to_numpy()[..., None] for k in "ABE"}
        q |= {
            k: post[k].sel(group=g).transpose(*DIMS).to_numpy()[..., None]
            for k in ("alpha", "beta")
        }
        mu = np.log(q["E"] + q["A"] / n ** q["alpha"] + q["B"] / d ** q["beta"])
        resid[..., groups == g] = (np.log(check.draws.to_numpy()) - mu)[..., groups == g]
        other = "a" if g != "a" else "b"
        q2 = {
            k: post[k].sel(group=other).to_numpy()[..., None]
            for k in ("A", "B", "E", "alpha", "beta")
        }
        mu2 = np.log(q2["E"] + q2["A"] / n ** q2["alpha"] + q2["B"] / d ** q2["beta"])
        wrong = np.median(np.log(check.draws.to_numpy()) - mu2, axis=(0, 1))[groups == g]
        assert np.max(np.abs(wrong)) > 0.02  # the groups' laws differ by more than the noise
    assert np.max(np.abs(np.median(resid, axis=(0, 1)))) < 0.003
    sd = 0.01 * np.sqrt(10 / 8)  # Student-t(nu=10, sigma=0.01)
    assert resid.std() == pytest.approx(sd, rel=0.1)
    for g in ("a", "b", "c"):
        t = check.table[check.table["group"] == g]
        assert check.groups.loc[g, "frac_inside"] == t["inside"].mean()
    one = bs.posterior_predictive_check(pooled, random_seed=0, group="b")
    assert set(one.table["group"]) == {"b"} and len(one.table) == 20
    new = bs.posterior_predictive_check(pooled, random_seed=0, group=NEW_GROUP)
    width = (check.table["hi"] - check.table["lo"]).to_numpy()
    assert np.all((new.table["hi"] - new.table["lo"]).to_numpy() > 2 * width)
    assert new.groups["frac_inside"].min() >= check.groups["frac_inside"].min()
    with pytest.raises(ValueError, match="no groups"):
        bs.posterior_predictive_check(bs.testing.pinned_fit(random_seed=0), group="a")


# every public function whose first argument is a fit: per group on a pooled fit (group=),
# or here with the reason it needs none
NO_GROUP_ARGUMENT = {
    "plot_groups": "draws every group of a pooled fit (its purpose)",
    "report": "a pooled fit's report covers every group, a new group and the population",
    "score_holdout": "reads each held-out run's group from the runs (a new label: a new group)",
}


def test_every_function_of_a_fit_answers_per_group():
    from bayescale import plots, plots_decisions

    found = {}
    for module, names in (
        (bs, bs.__all__),
        (plots, dir(plots)),
        (plots_decisions, dir(plots_decisions)),
    ):
        for name in names:
            obj = getattr(module, name)
            if inspect.isfunction(obj) and not name.startswith("_"):
                params = inspect.signature(obj).parameters
                if params and next(iter(params)) in ("fit", "loss_fit"):
                    found[name] = "group" in params
    missing = sorted(n for n, has in found.items() if not has and n not in NO_GROUP_ARGUMENT)
    assert not missing, f"public functions of a fit without group=: {missing}"
    assert set(NO_GROUP_ARGUMENT) <= set(found)
