"""Hostile inputs to the analysis over groups (issue 11, part 2), stacks of pooled fits, and
``score_holdout``'s integration of the drift on a real NUTS fit.

Pinned pooled posteriors (``bs.testing.pinned_pooled_fit``, no MCMC) except the last test (one
tiny NUTS fit, marked slow). Every number is checked against one computed here: the group's
own draws written out, the members' draws at the stack's draw indices, scipy's quadrature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import bayescale as bs
from bayescale._stacking_common import draw_indices, member_seed
from bayescale.pooling import NEW_GROUP, group_view, resolve_pooling

DIMS = ("chain", "draw")
LAW = bs.get_law("chinchilla")


@pytest.fixture(scope="module")
def pooled():
    return bs.testing.pinned_pooled_fit(random_seed=0, draws=1000)


def _frame(labels):
    runs = bs.testing.simulate_chinchilla(30, random_seed=0)
    runs["g"] = (list(labels) * 30)[:30]
    return runs


def _loss(fit, label, n, d):
    """The group's Chinchilla loss at (n, d), written out from its posterior draws."""
    post = fit.posterior
    q = {k: post[k].sel(group=label).transpose(*DIMS).to_numpy() for k in ("A", "B", "E")}
    q |= {k: post[k].sel(group=label).transpose(*DIMS).to_numpy() for k in ("alpha", "beta")}
    return q["E"] + q["A"] / n ** q["alpha"] + q["B"] / d ** q["beta"]


def test_group_labels_numbers_text_and_the_new_group_label():
    # whole numbers are families (years, seeds), not sizes clustered in log10: three groups,
    # ordered by value, zero allowed
    for values, labels in (
        ([2021, 2022, 2023], ("2021", "2022", "2023")),
        ([11, 9, 10], ("9", "10", "11")),
        ([0, 1, 2], ("0", "1", "2")),
        (["x y", "é", "3"], ("3", "x y", "é")),
    ):
        pooling, codes = resolve_pooling(LAW, "g", "partial", _frame(values), LAW.default_priors)
        assert pooling.labels == labels
        assert np.bincount(codes["pool_g"]).tolist() == [10, 10, 10]
    with pytest.raises(ValueError, match=r"bs\.NEW_GROUP asks for"):
        resolve_pooling(LAW, "g", "partial", _frame([NEW_GROUP, "a"]), LAW.default_priors)
    with pytest.raises(ValueError, match=r"missing values in rows \[0, 2, 4"):
        resolve_pooling(LAW, "g", "partial", _frame([np.nan, "a"]), LAW.default_priors)
    with pytest.raises(ValueError, match="at least two groups"):
        resolve_pooling(LAW, "g", "partial", _frame(["only"]), LAW.default_priors)


def test_a_label_given_as_a_number_or_as_text_is_the_same_group():
    fit = bs.testing.pinned_pooled_fit(random_seed=0, groups=("1", "2", "10"))
    by_text = bs.predict_loss(fit, N=1e9, D=2e10, group="2")
    for same in (2, 2.0, np.int64(2)):
        np.testing.assert_array_equal(bs.predict_loss(fit, N=1e9, D=2e10, group=same), by_text)
    np.testing.assert_allclose(by_text, _loss(fit, "2", 1e9, 2e10), rtol=1e-12)
    both = bs.predict_loss(fit, N=1e9, D=2e10, group=[10, NEW_GROUP])
    assert list(both["group"].to_numpy()) == ["10", NEW_GROUP]
    res = bs.compare_to_card(fit, "besiroglu2024")
    assert res[10] is res["10"]
    with pytest.raises(
        ValueError, match=r"group=3 is not a group of this fit \(\['1', '10', '2'\]\)"
    ):
        bs.predict_loss(fit, N=1e9, D=2e10, group=3)
    with pytest.raises(ValueError, match="not a group of this fit"):
        bs.posterior_predictive_check(fit, group="3")


def test_new_group_draws_depend_on_the_seed_alone(pooled):
    def new(seed):
        return bs.compute_optimal(pooled, compute=1e22, group=NEW_GROUP, random_seed=seed)

    first = new(5)["N_opt"].to_numpy()
    bs.plan(pooled, compute=1e22, group=NEW_GROUP, n_outcomes=2, random_seed=9)
    bs.compare_to_card(pooled, "besiroglu2024", group=NEW_GROUP, random_seed=5)
    np.testing.assert_array_equal(new(5)["N_opt"].to_numpy(), first)
    assert not np.allclose(new(6)["N_opt"].to_numpy(), first)


def test_predictive_intervals_of_one_group_agree_across_functions(pooled):
    """predict_loss(kind="predictive"), posterior_predictive_check and score_holdout predict the
    same runs of group b (and of a new group): their 95% intervals agree within Monte Carlo
    error of 2000 draws."""
    runs = pooled.data[pooled.data["corpus"] == "b"].iloc[:6]
    n, d = runs["N"].to_numpy(), runs["D"].to_numpy()
    widths = {}
    for group, label in (("b", "b"), (NEW_GROUP, "unseen")):
        draws = bs.predict_loss(pooled, N=n, D=d, group=group, kind="predictive", random_seed=1)
        lo, hi = np.quantile(draws.to_numpy().reshape(-1, len(runs)), [0.025, 0.975], axis=0)
        held = bs.score_holdout(pooled, runs.assign(corpus=label), random_seed=3)
        check = bs.posterior_predictive_check(pooled, group=group, random_seed=2).table
        check = check[check["group"] == "b"].loc[runs.index]
        width = hi - lo
        for other in (held, check):
            np.testing.assert_array_less(np.abs(other["lo"].to_numpy() - lo), 0.1 * width)
            np.testing.assert_array_less(np.abs(other["hi"].to_numpy() - hi), 0.1 * width)
        assert held["seen"].all() == (group == "b")
        widths[group] = width
    assert np.all(widths[NEW_GROUP] > 2 * widths["b"])  # a new corpus: far wider


def test_a_saved_and_loaded_pooled_fit_answers_the_same(pooled, tmp_path):
    loaded = bs.Fit.load(pooled.save(tmp_path / "pooled.nc"))
    runs = pooled.data.iloc[[0, 25, 50]].assign(corpus=["a", "b", "zz"])
    answers = {
        "loss": lambda f: bs.predict_loss(f, N=1e9, D=2e10).to_numpy(),
        "new": lambda f: bs.compute_optimal(f, compute=1e22, group=NEW_GROUP)["N_opt"].to_numpy(),
        "card": lambda f: bs.compare_to_card(f, "besiroglu2024").summary().to_numpy(),
        "check": lambda f: bs.posterior_predictive_check(f, random_seed=0).table.to_numpy(),
        "holdout": lambda f: bs.score_holdout(f, runs, random_seed=0).to_numpy(),
        "plan": lambda f: (
            bs.plan(f, compute=1e22, group="a", n_outcomes=2, random_seed=0).summary().to_numpy()
        ),
    }
    for name, answer in answers.items():
        a, b = np.ravel(answer(pooled)), np.ravel(answer(loaded))
        same = [x == y or (x != x and y != y) for x, y in zip(a, b, strict=True)]  # NaN = NaN
        assert a.shape == b.shape and all(same), name


def test_grouped_result_displays_and_exports(pooled, tmp_path):
    res = bs.compare_to_card(pooled, "besiroglu2024")
    table = res.summary()
    assert table.index.names == ["group", "parameter"]
    assert "group b:" in str(res) and "<table" in res._repr_html_()
    assert res.to_markdown().count("# Group") == 3  # a summary table for a result without a page
    path = bs.export_summary(res, tmp_path / "cards.csv")
    back = pd.read_csv(path, index_col=[0, 1])
    np.testing.assert_allclose(back["median"].to_numpy(), table["median"].to_numpy())
    plans = bs.plan(pooled, compute=1e22, n_outcomes=2)
    with pytest.raises(AttributeError, match=r"result\['a'\]\.plot"):
        plans.plot()


def test_next_runs_refuses_two_disagreeing_group_columns(pooled):
    cands = {"N": [1e9], "D": [2e10], "group": ["a"], "corpus": ["c"]}
    with pytest.raises(ValueError, match="'group' and 'corpus' both name groups"):
        bs.next_runs(pooled, cands, group="b", compute=1e22, n_outcomes=2, refit=False)


# ---------------------------------------------------------------------- stacks of pooled fits
@pytest.fixture(scope="module")
def members():
    a = bs.testing.pinned_pooled_fit(random_seed=0)
    b = bs.testing.pinned_pooled_fit(random_seed=0, rel_sd=0.03)  # same runs, wider draws
    plain = bs.testing.pinned_fit(random_seed=0, data=a.data.drop(columns="corpus"))
    return a, b, plain


def _mixture(parts, weights, total):
    """Member k's draws (flattened chain × draw) at the stack's evenly spaced indices."""
    counts = bs.stacking.draw_counts(weights, total)
    out = [np.ravel(p)[draw_indices(np.size(p), c)] for p, c in zip(parts, counts, strict=True)]
    return np.concatenate(out)


def test_a_stack_of_pooled_fits_mixes_each_groups_draws(members):
    a, b, _ = members
    st = bs.stack({"a": a, "b": b}, weights={"a": 0.6, "b": 0.4})
    assert st.pooling.labels == ("a", "b", "c")
    loss = bs.predict_loss(st, N=1e9, D=2e10)
    assert loss.dims == ("group", "chain", "draw")
    for g in ("a", "b", "c"):
        want = _mixture([_loss(a, g, 1e9, 2e10), _loss(b, g, 1e9, 2e10)], [0.6, 0.4], a.n_draws)
        np.testing.assert_allclose(loss.sel(group=g).to_numpy().ravel(), want, rtol=1e-12)
        one = bs.predict_loss(st, N=1e9, D=2e10, group=g)
        np.testing.assert_allclose(one.to_numpy().ravel(), want, rtol=1e-12)
    # a new group: each member's own new group, seeded by member_seed(random_seed, k)
    new = bs.compute_optimal(st, compute=1e22, group=NEW_GROUP, random_seed=3)["N_opt"]
    parts = [
        bs.compute_optimal(f, compute=1e22, group=NEW_GROUP, random_seed=member_seed(3, k))
        for k, f in enumerate((a, b))
    ]
    want = _mixture([p["N_opt"].to_numpy() for p in parts], [0.6, 0.4], a.n_draws)
    np.testing.assert_array_equal(new.to_numpy().ravel(), want)
    # functions of the parameters: the mixture's draws of the group
    card = bs.load_card("besiroglu2024").params
    res = bs.compare_to_card(st, "besiroglu2024", group="c")
    alpha = _mixture([f.posterior["alpha"].sel(group="c").to_numpy() for f in (a, b)],
                     [0.6, 0.4], a.n_draws)  # fmt: skip
    assert res.table.loc["alpha", "quantile"] == pytest.approx(np.mean(alpha < card["alpha"]))
    check = bs.posterior_predictive_check(st, random_seed=0)
    assert check.groups["n_runs"].tolist() == [20, 20, 20]


def test_a_stack_of_pooled_and_unpooled_fits(members, tmp_path):
    """The unpooled member has one set of parameters for every group (and a new one)."""
    a, _, plain = members
    st = bs.stack({"pooled": a, "plain": plain}, weights={"pooled": 0.5, "plain": 0.5})
    post = plain.posterior
    q = {k: post[k].transpose(*DIMS).to_numpy() for k in ("A", "B", "E", "alpha", "beta")}
    flat = q["E"] + q["A"] / 1e9 ** q["alpha"] + q["B"] / 2e10 ** q["beta"]
    loss = bs.predict_loss(st, N=1e9, D=2e10)
    for g in ("a", "c"):
        want = _mixture([_loss(a, g, 1e9, 2e10), flat], [0.5, 0.5], a.n_draws)
        np.testing.assert_allclose(loss.sel(group=g).to_numpy().ravel(), want, rtol=1e-12)
    down = bs.emergence.pinned_emergence_fit(random_seed=1, law="downstream")
    out = bs.chain(st, down, N=7e9, D=1.4e11, kind="mean", random_seed=0)
    assert out["accuracy"].dims == ("group", "chain", "draw")
    np.testing.assert_allclose(
        np.sort(out["loss"].sel(group="b").to_numpy().ravel()),
        np.sort(_mixture([_loss(a, "b", 7e9, 1.4e11), q["E"] + q["A"] / 7e9 ** q["alpha"]
                          + q["B"] / 1.4e11 ** q["beta"]], [0.5, 0.5], a.n_draws)),
        rtol=1e-12,
    )  # fmt: skip
    back = bs.load_stack(st.save(tmp_path / "stack"))
    np.testing.assert_array_equal(bs.predict_loss(back, N=1e9, D=2e10), loss)
    with pytest.raises(ValueError, match="report each member"):
        bs.report(st, tmp_path / "report")


def test_stacks_of_fits_pooled_over_different_groups_are_refused(members):
    a = members[0]
    other = bs.testing.pinned_pooled_fit(random_seed=0, groups=("a", "b", "d"))
    other.data["corpus"] = a.data["corpus"]  # the same runs, grouped otherwise
    with pytest.raises(ValueError, match="pooled over different groups"):
        bs.stack({"a": a, "o": other}, weights={"a": 0.5, "o": 0.5})


# ---------------------------------------------------------------------- holdout on NUTS
@pytest.mark.slow
def test_score_holdout_integrates_the_drift_of_a_nuts_fit():
    """The default model (Student-t noise, extrapolation drift) fitted by NUTS to the smaller
    80% of 40 simulated runs: the log predictive density of each run beyond the fitted range
    equals scipy's adaptive quadrature over the drift's shift, draw by draw."""
    runs = bs.testing.simulate_chinchilla(40, random_seed=3)
    c = 6 * runs["N"] * runs["D"]
    train, held = runs[c <= np.quantile(c, 0.8)], runs[c > np.quantile(c, 0.8)]
    fit = bs.fit("chinchilla", train, draws=150, tune=200, chains=2, random_seed=0,
                 progressbar=False, warn=False)  # fmt: skip
    assert fit.structure.drift and fit.likelihood.name == "studentt"
    scored = bs.score_holdout(fit, held, random_seed=0)
    post = fit.posterior
    q = {k: post[k].transpose(*DIMS).to_numpy().ravel()
         for k in ("A", "B", "E", "alpha", "beta", "sigma", "nu", "drift")}  # fmt: skip
    n, d, y = (held[k].to_numpy() for k in ("N", "D", "loss"))
    # decades beyond the fitted runs in 6ND, N or D, written out
    tn, td = train["N"].to_numpy(), train["D"].to_numpy()
    dist = np.max(
        [np.maximum(np.log10(x) - np.log10(t).max(), 0.0)
         for x, t in ((6 * n * d, 6 * tn * td), (n, tn), (d, td))], axis=0,
    )  # fmt: skip
    assert dist.min() > 0.1
    for i in np.argsort(-dist)[:3]:
        mu = np.log(q["E"] + q["A"] / n[i] ** q["alpha"] + q["B"] / d[i] ** q["beta"])
        sd = q["drift"] * dist[i] ** fit.structure.drift_power
        obs = np.log(y[i])

        def integrand(z, mu=mu, sd=sd, obs=obs):  # every draw at once, adaptive in z
            return stats.t.pdf(obs, q["nu"], mu + sd * z, q["sigma"]) * stats.norm.pdf(z)

        dens, _ = integrate.quad_vec(
            integrand, -np.inf, np.inf, epsabs=0, epsrel=1e-10, norm="max", limit=500
        )
        brute = np.log(dens.mean()) - obs
        # measured: within 1.7e-4 (161 grid nodes; 1.1e-5 with 641)
        assert scored["log_density"].iloc[i] == pytest.approx(brute, abs=5e-4)


def test_a_report_folder_holds_one_report(pooled, tmp_path):
    """A pooled fit's report written over an unpooled fit's leaves none of the other's
    figures behind (a pooled report has no frontier.png); files that are not bundle files
    stay."""
    import matplotlib

    matplotlib.use("Agg")
    stale = ["frontier.png", "frontier.svg", "params.png", "fit.svg", "isoflops.png"]
    for name in [*stale, "notes.txt", "frontier.pdf"]:
        (tmp_path / name).write_text("an earlier report's file")
    bs.report(pooled, tmp_path, compute=[1e22])
    files = {p.name for p in tmp_path.iterdir()}
    assert {"groups.png", "population.csv", "notes.txt", "frontier.pdf"} <= files
    assert not files & set(stale)


def test_score_holdout_refuses_a_run_without_its_group(pooled):
    runs = pooled.data.iloc[:3].assign(corpus=["a", None, "b"])
    with pytest.raises(ValueError, match=r"'corpus' is missing in rows \[1\]"):
        bs.score_holdout(pooled, runs)


def test_a_mixed_stacks_parameters_are_read_one_group_at_a_time(members):
    a, _, plain = members
    st = bs.stack({"pooled": a, "plain": plain}, weights={"pooled": 0.5, "plain": 0.5})
    with pytest.raises(ValueError, match=r"group_view\(stack, label\)\.posterior"):
        st.posterior  # noqa: B018
    alpha = group_view(st, "b").posterior["alpha"].to_numpy().ravel()
    want = _mixture(
        [a.posterior["alpha"].sel(group="b").to_numpy(), plain.posterior["alpha"].to_numpy()],
        [0.5, 0.5],
        a.n_draws,
    )
    np.testing.assert_array_equal(alpha, want)
