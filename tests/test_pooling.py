"""Many families in one model (bayescale/pooling.py): per-group law parameters.

Fast tests check the pooling spec, its errors and its numpy maps against closed forms; the slow
test recovers a simulated population of five groups (one with three runs) with NUTS and checks
coverage, shrinkage against an independent fit, analysis over groups, save/load.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.pooling import (
    NEW_GROUP,
    Pooling,
    _maps,
    centring_ratio,
    resolve_pooling,
    tau_scale,
)
from bayescale.testing import chinchilla_design, simulate
from bayescale.xp import numpy_ns

LAW = bs.get_law("chinchilla")


def _two_groups() -> pd.DataFrame:
    runs = bs.testing.simulate_chinchilla(12, random_seed=0)
    runs["corpus"] = ["a", "b", "c"] * 4
    return runs


def test_default_pool_is_partial_and_fixed_parameters_are_shared():
    priors = {**LAW.default_priors, "beta": bs.Prior.fixed(0.3)}
    pooling, codes = resolve_pooling(LAW, "corpus", None, _two_groups(), priors)
    assert pooling.modes == {
        "log_E": "partial",
        "log_A_ref": "partial",
        "log_B_ref": "partial",
        "alpha": "partial",
        "beta": "shared",
    }
    assert codes["pool_corpus"].tolist() == [0, 1, 2] * 4
    assert sorted(pooling.default_priors(priors)) == [
        "alpha_tau",
        "log_A_ref_tau",
        "log_B_ref_tau",
        "log_E_tau",
    ]
    back = Pooling.from_dict(pooling.to_dict())
    assert back == pooling


def _runs_per_group(sizes: list[int]) -> pd.DataFrame:
    runs = bs.testing.simulate_chinchilla(sum(sizes), random_seed=0)
    runs["corpus"] = np.repeat([f"g{i}" for i in range(len(sizes))], sizes)
    return runs


def test_partial_is_non_centred_unless_asked():
    """pool="partial" stays non-centred (whatever the runs per group); "partial_centred" /
    "partial_noncentred" (or US spellings) decide for every group of a parameter."""
    names = tuple(LAW.parameter_names)
    many = _runs_per_group([120, 90])
    assert resolve_pooling(LAW, "corpus", None, many, LAW.default_priors)[0].centred == {}
    pooling, _ = resolve_pooling(LAW, "corpus", "partial_centred", many, LAW.default_priors)
    assert pooling.centred == {n: (0, 1) for n in names}
    assert set(pooling.modes.values()) == {"partial"}
    assert "alpha (centred 2/2)" in pooling.describe()
    mixed = {"alpha": "partial_centered", "beta": "partial_noncentered", "log_E": "shared"}
    pooling, _ = resolve_pooling(LAW, "corpus", mixed, many, LAW.default_priors)
    assert pooling.centred == {"alpha": (0, 1)}
    assert pooling.modes["alpha"] == pooling.modes["beta"] == "partial"
    assert pooling.sampled_names(names) == [
        "log_E",
        *("log_A_ref_mu", "log_A_ref_tau", "log_A_ref_z"),
        *("log_B_ref_mu", "log_B_ref_tau", "log_B_ref_z"),
        *("alpha_mu", "alpha_tau", "alpha_u"),
        *("beta_mu", "beta_tau", "beta_z"),
    ]
    # a mixed form: group 1 centred, group 0 not
    part = Pooling(pooling.grouping, pooling.modes, {"alpha": (1,)})
    centred, rest = part.split("alpha")
    assert centred.tolist() == [1] and rest.tolist() == [0]
    assert part.sampled_names(["alpha"]) == ["alpha_mu", "alpha_tau", "alpha_z", "alpha_u"]
    with pytest.raises(ValueError, match="fixed"):
        priors = {**LAW.default_priors, "beta": bs.Prior.fixed(0.3)}
        resolve_pooling(LAW, "corpus", {"beta": "partial_centred"}, many, priors)


def test_centred_spec_round_trips_and_old_specs_load_non_centred():
    pooling, _ = resolve_pooling(
        LAW, "corpus", {"alpha": "partial_centred"}, _two_groups(), LAW.default_priors
    )
    data = pooling.to_dict()
    assert data["centred"] == {"alpha": [0, 1, 2]}
    assert Pooling.from_dict(data) == pooling
    import json

    assert Pooling.from_dict(json.loads(json.dumps(data))) == pooling
    old = {k: v for k, v in data.items() if k != "centred"}  # a fit saved before the choice
    assert Pooling.from_dict(old).centred == {}
    with pytest.raises(ValueError, match="not partially pooled"):
        Pooling.from_dict({**data, "modes": {**data["modes"], "alpha": "shared"}})
    with pytest.raises(ValueError, match="not codes"):
        Pooling.from_dict({**data, "centred": {"alpha": [0, 3]}})


def test_a_centred_fit_repeats_with_its_seed_and_saves_and_loads(tmp_path):
    kw = dict(draws=30, tune=30, chains=1, random_seed=3, progressbar=False, warn=False)
    runs = _two_groups()
    first = bs.fit("chinchilla", runs, group="corpus", pool={"alpha": "partial_centred"}, **kw)
    again = bs.fit("chinchilla", runs, group="corpus", pool={"alpha": "partial_centred"}, **kw)
    assert first.pooling.centred == {"alpha": (0, 1, 2)}
    assert "alpha_u" not in first.posterior and first.posterior["alpha_z"].dims[-1] == "group"
    np.testing.assert_array_equal(first.posterior["alpha"], again.posterior["alpha"])
    back = bs.Fit.load(first.save(str(tmp_path / "centred.nc")))
    assert back.pooling == first.pooling
    np.testing.assert_array_equal(
        bs.predict_loss(back, N=1e9, D=2e10, group=NEW_GROUP, random_seed=1),
        bs.predict_loss(first, N=1e9, D=2e10, group=NEW_GROUP, random_seed=1),
    )


def test_centred_and_non_centred_models_differ_by_the_jacobian_only():
    """The same hierarchical model in two coordinates: at u = h(mu) + tau z the centred
    density is the non-centred one minus G·log(tau) per partial parameter (Normal(u; m, tau)
    = Normal(z; 0, 1) / tau), whatever the data say."""
    from bayescale.data import prepare_data
    from bayescale.model import build_model, data_values

    lik = bs.get_likelihood("studentt")
    runs = _two_groups()
    prep = prepare_data(LAW, runs, likelihood=lik, warn=False)
    frame = prep.frame.assign(corpus=runs.loc[prep.frame.index, "corpus"].to_numpy())
    ref = LAW.compute_reference(prep.inputs)
    models = {}
    for form in ("partial_centred", "partial_noncentred"):
        pooling, codes = resolve_pooling(LAW, "corpus", form, frame, LAW.default_priors)
        priors = {
            **LAW.default_priors,
            **lik.noise_priors,
            **pooling.default_priors(LAW.default_priors),
        }
        values = data_values(LAW, prep, ref, lik, codes)
        models[form] = build_model(LAW, prep, priors, lik, ref, values, pooling=pooling)
    rng = np.random.default_rng(2)
    nc = models["partial_noncentred"]
    point = {k: v + 0.3 * rng.standard_normal(np.shape(v)) for k, v in nc.initial_point().items()}
    c_point = {k: v for k, v in point.items() if not k.endswith("_z")}
    expected = 0.0
    for n in LAW.parameter_names:
        mu_value = point[next(k for k in point if k.startswith(f"{n}_mu"))]
        mu = np.exp(mu_value) if n in ("alpha", "beta") else mu_value  # log-transformed values
        to_real, _ = _maps(LAW.default_priors[n], np.exp, np.log)
        tau = np.exp(point[f"{n}_tau_log__"])
        c_point[f"{n}_u"] = to_real(mu) + tau * point[f"{n}_z"]
        expected -= 3 * np.log(tau)
    logp_nc = float(nc.compile_logp(jacobian=False)(point))
    logp_c = float(models["partial_centred"].compile_logp(jacobian=False)(c_point))
    assert logp_c - logp_nc == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pool": {"gamma": "partial"}}, "not sampled parameters"),
        ({"pool": {"alpha": "pooled"}}, "unknown modes"),
        ({"pool": 3}, "pool must be"),
        ({"group": "nope"}, "not in the data"),
    ],
)
def test_bad_pooling_is_refused_by_name(kwargs, match):
    args = {"group": "corpus", "pool": None, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        resolve_pooling(LAW, args["group"], args["pool"], _two_groups(), LAW.default_priors)


def test_fixed_parameter_cannot_vary_and_pool_needs_group():
    priors = {**LAW.default_priors, "beta": bs.Prior.fixed(0.3)}
    with pytest.raises(ValueError, match="fixed"):
        resolve_pooling(LAW, "corpus", {"beta": "partial"}, _two_groups(), priors)
    with pytest.raises(ValueError, match="needs group"):
        resolve_pooling(LAW, None, "partial", _two_groups(), priors)
    one = _two_groups().assign(corpus="a")
    with pytest.raises(ValueError, match="at least two groups"):
        resolve_pooling(LAW, "corpus", None, one, priors)


@pytest.mark.parametrize(
    "prior",
    [
        bs.Prior("Normal", mu=0.0, sigma=1.0),
        bs.Prior("LogNormal", mu=-1.0, sigma=0.5),
        bs.Prior("Beta", alpha=2.0, beta=2.0),
        bs.Prior("TruncatedNormal", mu=1.0, sigma=1.0, lower=0.5, upper=3.0),
    ],
)
def test_support_maps_invert_and_stay_inside(prior):
    to_real, from_real = _maps(prior, np.exp, np.log)
    u = np.linspace(-8, 8, 33)
    x = from_real(u)
    low, high = prior.support
    assert np.all((x > low) & (x < high))
    np.testing.assert_allclose(to_real(x), u, rtol=1e-9, atol=1e-9)


def test_tau_scale_follows_the_prior():
    assert tau_scale(bs.Prior("LogNormal", mu=-1.2, sigma=0.7)) == pytest.approx(0.35)
    assert tau_scale(bs.Prior("Normal", mu=0.0, sigma=1.5)) == pytest.approx(0.75)


def test_group_values_are_the_non_centred_formula():
    """alpha[g] = exp(log mu + tau z[g]) (positive prior), log_E[g] = mu + tau z[g] (real)."""
    pooling, _ = resolve_pooling(LAW, "corpus", None, _two_groups(), LAW.default_priors)
    rng = np.random.default_rng(0)
    draws = {}
    for n in LAW.parameter_names:
        draws[f"{n}_mu"] = rng.uniform(0.2, 0.5, (2, 4))
        draws[f"{n}_tau"] = rng.uniform(0.05, 0.2, (2, 4))
        draws[f"{n}_z"] = rng.standard_normal((2, 4, 3))
    p = pooling.group_values(draws, LAW.default_priors, LAW.parameter_names)
    a = draws["alpha_mu"][..., None] * np.exp(draws["alpha_tau"][..., None] * draws["alpha_z"])
    np.testing.assert_allclose(p["alpha"], a, rtol=1e-12)
    e = draws["log_E_mu"][..., None] + draws["log_E_tau"][..., None] * draws["log_E_z"]
    np.testing.assert_allclose(p["log_E"], e, rtol=1e-12)
    # a new group: same formula with a fresh z; same seed, same draws
    n1 = pooling.new_group_values(
        draws, LAW.default_priors, LAW.parameter_names, np.random.default_rng(5)
    )
    n2 = pooling.new_group_values(
        draws, LAW.default_priors, LAW.parameter_names, np.random.default_rng(5)
    )
    np.testing.assert_array_equal(n1["alpha"], n2["alpha"])
    z = np.log(n1["alpha"] / draws["alpha_mu"]) / draws["alpha_tau"]
    assert np.all(np.abs(z) < 6)


def _population(seed: int = 3, sizes: tuple[int, ...] = (30, 30, 30, 30, 3), spread: float = 1.0):
    """Five groups with known sampled parameters (by default four of 30 runs, one of 3; true
    spreads tau × ``spread``) and the truth."""
    rng = np.random.default_rng(seed)
    designs = [chinchilla_design(n, random_seed=10 + g) for g, n in enumerate(sizes)]
    inputs = {k: np.concatenate([d[k].to_numpy() for d in designs]) for k in ("N", "D")}
    ref = LAW.compute_reference(inputs)
    centre = LAW.sampled_params(bs.testing.BESIROGLU_TRUTH, ref)
    mu = {k: float(centre[k]) for k in LAW.parameter_names}
    tau = {"log_E": 0.08, "log_A_ref": 0.15, "log_B_ref": 0.15, "alpha": 0.08, "beta": 0.05}
    tau = {k: spread * v for k, v in tau.items()}
    z = {k: rng.standard_normal(5) for k in LAW.parameter_names}
    groups = {}
    for k in LAW.parameter_names:
        if k in ("alpha", "beta"):
            groups[k] = mu[k] * np.exp(tau[k] * z[k])
        else:
            groups[k] = mu[k] + tau[k] * z[k]
    frames = []
    for g, design in enumerate(designs):
        q = LAW.natural(numpy_ns, {k: groups[k][g] for k in groups}, ref)
        runs = simulate("chinchilla", q, design, random_seed=20 + g)
        runs["corpus"] = f"g{g}"
        frames.append(runs)
    return pd.concat(frames, ignore_index=True), mu, tau, groups


SETTINGS = dict(draws=500, tune=500, chains=2, random_seed=1, progressbar=False, warn=False)


@pytest.fixture(scope="module")
def population_fits():
    runs, mu, tau, groups = _population()
    partial = bs.fit("chinchilla", runs, group="corpus", **SETTINGS)
    independent = bs.fit("chinchilla", runs, group="corpus", pool="independent", **SETTINGS)
    return runs, mu, tau, groups, partial, independent


@pytest.mark.slow
def test_recovery_shrinkage_analysis_and_save(population_fits, tmp_path):
    _runs, mu, tau, groups, partial, independent = population_fits
    assert partial.divergences == 0
    table = partial.summary(kind="all")
    wide = partial.summary(kind="all", ci_prob=0.99)
    # 35 truths (5 mu, 5 tau, 25 group values): at 95% about 1.75 misses are expected, so at
    # most 3 (P(more) ≈ 0.1 for independent intervals), and none outside its 99% interval
    truths = {}
    for k in LAW.parameter_names:
        truths[f"{k}_mu"], truths[f"{k}_tau"] = mu[k], tau[k]
        truths.update({f"{k}[g{g}]": groups[k][g] for g in range(5)})
    missed = [
        n for n, t in truths.items() if not table.loc[n, "ci95_lo"] <= t <= table.loc[n, "ci95_hi"]
    ]
    assert len(missed) <= 3, [(n, truths[n], *table.loc[n, ["ci95_lo", "ci95_hi"]]) for n in missed]
    far = [
        n for n, t in truths.items() if not wide.loc[n, "ci99_lo"] <= t <= wide.loc[n, "ci99_hi"]
    ]
    assert not far, [(n, truths[n], *wide.loc[n, ["ci99_lo", "ci99_hi"]]) for n in far]
    # shrinkage: the 3-run group's alpha is narrower than independently and pulled to the mean
    ind = independent.summary(kind="all")
    for k in ("alpha", "log_E"):
        w_part = table.loc[f"{k}[g4]", "ci95_hi"] - table.loc[f"{k}[g4]", "ci95_lo"]
        w_ind = ind.loc[f"{k}[g4]", "ci95_hi"] - ind.loc[f"{k}[g4]", "ci95_lo"]
        assert w_part < 0.6 * w_ind, (k, w_part, w_ind)
    centre = table.loc["alpha_mu", "median"]
    assert abs(table.loc["alpha[g4]", "median"] - centre) < abs(
        ind.loc["alpha[g4]", "median"] - centre
    )
    # centring_ratio: median over groups of sd(h(theta[g])) / median tau, here recomputed from
    # the per-group values the posterior holds (log for the positive exponents)
    ratio = centring_ratio(partial)
    post = partial.posterior
    for k, h in (("alpha", np.log), ("log_E", lambda x: x)):
        sd = h(post[k]).std(("chain", "draw")).median().item()
        assert ratio[k] == pytest.approx(sd / post[f"{k}_tau"].median().item(), rel=1e-6)
    # published summary: population rows and per-group rows with labels
    pub = partial.summary()
    assert {"alpha_mu", "alpha_tau", "alpha[g0]", "E[g4]"} <= set(pub.index)
    # analysis over groups, one group, a new group (same seed, same draws)
    opt = bs.compute_optimal(partial, compute=[1e21, 1e23])
    assert opt["N_opt"].dims == ("group", "chain", "draw", "compute")
    one = bs.compute_optimal(partial, compute=[1e21, 1e23], group="g1")
    np.testing.assert_array_equal(one["N_opt"], opt["N_opt"].sel(group="g1"))
    new1 = bs.predict_loss(partial, N=1e9, D=2e10, group=NEW_GROUP, random_seed=4)
    new2 = bs.predict_loss(partial, N=1e9, D=2e10, group=NEW_GROUP, random_seed=4)
    np.testing.assert_array_equal(new1, new2)
    seen = bs.predict_loss(partial, N=1e9, D=2e10)
    # a new group is more uncertain than every seen group with 30 runs
    sd_new = float(np.log(new1).std())
    assert all(sd_new > float(np.log(seen.sel(group=f"g{g}")).std()) for g in range(4))
    with pytest.raises(ValueError, match="not a group"):
        bs.predict_loss(partial, N=1e9, D=2e10, group="g9")
    # save/load keeps the pooling, and the checksum covers it
    path = partial.save(str(tmp_path / "pooled.nc"))
    back = bs.Fit.load(path)
    assert back.pooling == partial.pooling
    np.testing.assert_array_equal(
        bs.compute_optimal(back, compute=1e22)["N_opt"],
        bs.compute_optimal(partial, compute=1e22)["N_opt"],
    )
    import xarray as xr

    tree = xr.open_datatree(path, engine="h5netcdf").load()
    tree.attrs["bayescale_pooling"] = tree.attrs["bayescale_pooling"].replace(
        "partial", "shared", 1
    )
    edited = tmp_path / "edited.nc"
    tree.to_netcdf(edited, engine="h5netcdf")
    with pytest.raises(ValueError, match="definition"):
        bs.Fit.load(str(edited))
    # LOO compares pooled and independent fits of the same runs
    cmp = bs.compare({"partial": partial, "independent": independent}, warn=False)
    assert set(cmp.index) == {"partial", "independent"}
    _fig, ax = bs.plot_groups(partial)
    assert len(ax.get_legend().get_texts()) == 5


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("chinchilla", "partial"),
        ("chinchilla", "partial_centred"),
        ("chinchilla", "mixed"),
        ("emergence", "partial"),
        pytest.param("data_constrained", "partial", marks=pytest.mark.slow),
        pytest.param("power_law", "partial", marks=pytest.mark.slow),
    ],
)
def test_pooled_model_and_numpy_loglik_agree(name, form):
    """The PyMC model of a pooled fit and the numpy pointwise log-likelihood (per-group values
    recomputed from mu, tau, z; z of groups sampled centred from their u) give the same
    observed log density at a random point."""

    from bayescale.data import prepare_data
    from bayescale.model import build_model, data_values, observed_name
    from bayescale.posterior import pointwise_loglik, pooled_posterior

    law = bs.get_law(name)
    lik = bs.get_likelihood(law.default_likelihood)
    runs = law.example_runs(24, random_seed=0)
    runs["corpus"] = ["a", "b", "c"] * 8
    prep = prepare_data(law, runs, likelihood=lik, warn=False)
    frame = prep.frame.assign(corpus=runs.loc[prep.frame.index, "corpus"].to_numpy())
    pool = {n: form for n in law.parameter_names[1:] if form.startswith("partial_")}
    pool[law.parameter_names[0]] = "independent"
    pooling, codes = resolve_pooling(law, "corpus", pool, frame, law.default_priors)
    if form == "mixed":  # groups a and c centred, b not
        centred = {n: (0, 2) for n in pooling.names("partial")}
        pooling = Pooling(pooling.grouping, pooling.modes, centred)
    priors = {
        **law.default_priors,
        **lik.noise_priors,
        **pooling.default_priors(law.default_priors),
    }
    ref = law.compute_reference(prep.inputs)
    values = data_values(law, prep, ref, lik, codes)
    model = build_model(law, prep, priors, lik, ref, values, pooling=pooling)
    rng = np.random.default_rng(1)
    point = {
        k: v + 0.3 * rng.standard_normal(np.shape(v)) for k, v in model.initial_point().items()
    }
    obs = model[observed_name(law, lik)]
    logp = float(model.compile_logp(vars=[obs])(point))
    outs = [v for v in model.unobserved_value_vars if v.name in {r.name for r in model.free_RVs}]
    free = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    sampled = dict(zip([v.name for v in outs], free(point), strict=True))
    import xarray as xr

    post = xr.Dataset(
        {
            k: (
                ("chain", "draw", *[f"{k}_dim_{i}" for i in range(np.ndim(v))]),
                np.asarray(v, dtype=float)[None, None],
            )
            for k, v in sampled.items()
        }
    )
    full = pooled_posterior(law, pooling, priors, ref, post)
    ll = pointwise_loglik(
        law,
        lik,
        full,
        prep.inputs,
        values[f"{observed_name(law, lik)}_data"],
        prep.extra,
        codes=codes,
        pooling=pooling,
    )
    assert ll.shape == (1, 1, len(prep.frame))
    assert float(ll.sum()) == pytest.approx(logp, rel=1e-9, abs=1e-8)


@pytest.mark.slow
def test_a_new_group_takes_random_seed_even_where_the_function_has_none(population_fits):
    *_, partial, _ = population_fits
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # not read as a held input
        a = bs.compute_optimal(partial, compute=1e22, group=NEW_GROUP, random_seed=1)
        b = bs.compute_optimal(partial, compute=1e22, group=NEW_GROUP, random_seed=1)
        c = bs.compute_optimal(partial, compute=1e22, group=NEW_GROUP, random_seed=2)
    np.testing.assert_array_equal(a["N_opt"].to_numpy(), b["N_opt"].to_numpy())
    assert not np.array_equal(a["N_opt"].to_numpy(), c["N_opt"].to_numpy())
    # a fit without groups: compute_optimal has no random_seed, and says so
    with pytest.raises(TypeError, match="random_seed"):
        bs.compute_optimal(bs.testing.pinned_fit(random_seed=0), compute=1e22, random_seed=1)


def test_misallocation_answers_per_group_and_for_a_new_group():
    """Per group, the compute-optimal run at C' reaches the plan's loss in that group (the
    definition of C', checked through compute_optimal and predict_loss of the same group)."""
    kw = dict(draws=40, tune=40, chains=1, random_seed=2, progressbar=False, warn=False)
    fit = bs.fit("chinchilla", _two_groups(), group="corpus", **kw)
    cost = bs.misallocation_cost(fit, N=1e9, D=1e11)
    assert list(cost["group"].to_numpy()) == ["a", "b", "c"]
    for label in ("a", "c"):
        one = bs.misallocation_cost(fit, N=1e9, D=1e11, group=label)
        np.testing.assert_array_equal(one["C_equivalent"], cost["C_equivalent"].sel(group=label))
        c_eq = one["C_equivalent"].to_numpy().ravel()
        plan = bs.predict_loss(fit, N=1e9, D=1e11, kind="mean", group=label).to_numpy().ravel()
        opt = bs.compute_optimal(fit, compute=c_eq, group=label)  # (chain 1, draw S, compute S)
        s = np.arange(c_eq.size)  # draw s at its own C'
        n_opt = opt["N_opt"].to_numpy()[0, s, s]
        d_opt = opt["D_opt"].to_numpy()[0, s, s]
        at = bs.predict_loss(fit, N=n_opt, D=d_opt, kind="mean", group=label).to_numpy()
        np.testing.assert_allclose(at[0, s, s], plan, rtol=1e-6)
        assert np.ptp(plan) > 1e-4  # the draws differ, so a draw mixed up would fail
    new = bs.rule_of_thumb_check(fit, compute=[1e22], group=NEW_GROUP, random_seed=1)
    again = bs.rule_of_thumb_check(fit, compute=[1e22], group=NEW_GROUP, random_seed=1)
    np.testing.assert_array_equal(new["loss_excess"], again["loss_excess"])
    assert "group" not in new.dims
