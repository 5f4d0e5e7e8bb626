"""The law catalogue: every built-in law evaluates identically in numpy and pytensor, recovers
known parameters from simulated runs, and round-trips through save/load; published check values
and the numeric compute-optimal allocation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.xp import numpy_ns, pytensor_ns

MUENNIGHOFF = bs.load_card("muennighoff2023").params


def _log_uniform(rng, lo, hi, n):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def _design_nd(rng, n):
    d = bs.testing.chinchilla_design(n, random_seed=int(rng.integers(1 << 30)))
    return d.reset_index(drop=True)


def _design(name, rng, n):
    if name in ("kaplan", "chinchilla_shared_exponent"):
        return _design_nd(rng, n)
    if name == "precision":
        return _design_nd(rng, n).assign(P=rng.choice([3.0, 4.0, 6.0, 8.0, 16.0], n))
    if name == "data_constrained":
        U = _log_uniform(rng, 1e8, 1e10, n)
        return pd.DataFrame(
            {"N": _log_uniform(rng, 1e8, 1e10, n), "U": U, "D": U * _log_uniform(rng, 1, 100, n)}
        )
    if name == "loglinear":
        return pd.DataFrame(
            {
                "N": _log_uniform(rng, 1e7, 1e10, n),
                "C": _log_uniform(rng, 1e17, 1e22, n),
                "D": _log_uniform(rng, 1e9, 1e12, n),
            }
        )
    if name == "power_law":
        return pd.DataFrame({"D": _log_uniform(rng, 1e7, 1e12, n)})
    if name == "pure_power_law":
        return pd.DataFrame({"C": _log_uniform(rng, 1e18, 1e23, n)})
    if name == "bnsl":
        return pd.DataFrame({"x": _log_uniform(rng, 100, 2000, n)})
    if name == "saturating_compute":
        return pd.DataFrame({"C": _log_uniform(rng, 1e-3, 1e3, n)})
    if name == "transfer":
        return pd.DataFrame(
            {"D_F": _log_uniform(rng, 1e5, 1e9, n), "N": _log_uniform(rng, 1e6, 1e9, n)}
        )
    if name == "encoder_decoder":
        # a grid symmetric in log size around 1e8, so the normalisers N̄ are exactly 1e8
        side = np.exp(np.log(1e8) + np.linspace(-2.5, 2.5, 7))
        ne, nd = np.meshgrid(side, side)
        return pd.DataFrame({"N_e": ne.ravel(), "N_d": nd.ravel()})
    if name == "densing":
        return pd.DataFrame({"t": np.sort(rng.uniform(-200, 600, n))})
    raise KeyError(name)


# name, options, natural parameters used as the truth, noise sd on the log output, runs
CASES = {
    "kaplan": ({}, bs.load_card("kaplan2020").params, 0.01, 80),
    "chinchilla_shared_exponent": (
        {},
        {"A": 400.0, "B": 1500.0, "E": 1.8, "alpha": 0.33, "beta": 0.33},
        0.01,
        80,
    ),
    "precision": ({}, {**bs.testing.BESIROGLU_TRUTH, "gamma": 2.5}, 0.01, 200),
    "data_constrained": ({}, MUENNIGHOFF, 0.005, 150),
    "loglinear": ({}, {"A": 30.0, "alpha": 0.05, "beta": 0.02, "gamma": 0.08}, 0.01, 80),
    "power_law": ({"x": "D"}, {"E": 1.7, "X0": 1e9, "alpha": 0.35}, 0.01, 50),
    "pure_power_law": ({"x": "C"}, {"A": 20.0, "alpha": 0.05}, 0.01, 40),
    "bnsl": ({"breaks": 1}, bs.load_card("caballero2022").params, 0.005, 50),
    "saturating_compute": ({}, bs.load_card("zhai2022").params, 0.01, 50),
    "transfer": ({}, bs.load_card("hernandez2021").params, 0.05, 60),
    "encoder_decoder": (
        {},
        {"a": 0.8, "Nbar_e": 1e8, "Nbar_d": 1e8, "p_e": 0.2, "p_d": 0.35, "L_inf": 1.5},
        0.01,
        49,
    ),
    "densing": ({}, {"A": 0.007, "B": -1.0}, 0.1, 40),
}


def _law(name):
    return bs.get_law(name, **CASES[name][0])


def test_every_catalogue_law_is_registered():
    names = set(bs.list_laws()["name"])
    assert set(CASES) | {"chinchilla"} <= names


def _random_sampled_params(law, rng):
    """Random values of every sampled parameter (Normal(0.3, 0.1), of the parameter's shape);
    random values are enough to compare the two evaluators of natural()."""
    out = {}
    for par in law.parameters:
        shape = par.shape or ()
        out[par.name] = rng.normal(0.3, 0.1, shape) if shape else float(rng.normal(0.3, 0.1))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy_and_pytensor_agree(name):
    import pytensor
    import pytensor.tensor as pt

    law = _law(name)
    rng = np.random.default_rng(0)
    design = _design(name, rng, 60)
    inputs = {k: design[k].to_numpy(dtype=float) for k in law.inputs}
    truth = CASES[name][1]
    q = {k: float(truth[k]) for k in law.natural_names}
    sym_q = {k: pt.dscalar(k) for k in q}
    sym_x = {k: pt.dvector(k) for k in inputs}
    graph = law.expression(pytensor_ns, sym_x, sym_q)
    f = pytensor.function([*sym_x.values(), *sym_q.values()], graph)
    symbolic = f(*inputs.values(), *q.values())
    numeric = law.log_mean(q, numpy_ns, **inputs)
    np.testing.assert_allclose(numeric, symbolic, rtol=1e-10, atol=0)
    # the natural map from sampled parameters, both evaluators
    ref = law.compute_reference(inputs)
    p = _random_sampled_params(law, rng)
    sym_p = {
        par.name: (pt.dvector(par.name) if par.shape else pt.dscalar(par.name))
        for par in law.parameters
    }
    nat = law.natural(pytensor_ns, sym_p, ref)
    g = pytensor.function(list(sym_p.values()), [nat[k] for k in law.natural_names])
    want = law.natural(numpy_ns, p, ref)
    for got, key in zip(g(*p.values()), law.natural_names, strict=True):
        np.testing.assert_allclose(got, want[key], rtol=1e-10, err_msg=key)


@pytest.mark.parametrize("name", sorted(CASES))
def test_recovery_and_round_trip(name, tmp_path):
    _, truth, sigma, n = CASES[name]
    law = _law(name)
    rng = np.random.default_rng(1)
    design = _design(name, rng, n)
    runs = bs.testing.simulate(
        law, truth, design, noise={"sigma": sigma, "nu": 10.0}, random_seed=2
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DiagnosticWarning)
        f = bs.fit(law, runs, draws=400, tune=500, chains=2, random_seed=3, progressbar=False)
    s = f.summary()
    for key in law.natural_names:
        if name == "encoder_decoder" and key.startswith("Nbar"):
            assert s.loc[key, "median"] == pytest.approx(1e8, rel=1e-9)
            continue
        lo, hi = s.loc[key, "ci95_lo"], s.loc[key, "ci95_hi"]
        assert lo <= truth[key] <= hi, (key, truth[key], lo, hi)
    same = bs.Fit.load(f.save(tmp_path / f"{name}.nc"))
    assert same.law.key == law.key and same.law.options == law.options
    assert same.reference == f.reference
    pd.testing.assert_frame_equal(same.summary(), s)


def test_data_constrained_published_check_values():
    law = bs.get_law("data_constrained")
    got = law.evaluate(MUENNIGHOFF, N=np.array([6.34e9, 8.67e9]), D=[242e9, 178e9], U=25e9)
    np.testing.assert_allclose(got, [2.2256440889984477, 2.2269634075087867], rtol=1e-9)
    # no repetition and no excess parameters: Chinchilla's law
    chin = bs.get_law("chinchilla").evaluate(MUENNIGHOFF, N=1e8, D=2e9)
    assert float(law.evaluate(MUENNIGHOFF, N=1e8, D=2e9, U=5e9)) == pytest.approx(float(chin))


def _fit_at(law, natural, runs, draws=4):
    """A Fit whose posterior is ``draws`` copies of the sampled values implied by ``natural``."""

    def copies(ref):
        sampled = bs.testing.chinchilla_sampled(natural, ref)
        sampled = {k: v for k, v in sampled.items() if k in law.parameter_names}
        return {k: np.full((1, draws), v) for k, v in {**sampled, "sigma": 0.01}.items()}

    return bs.testing.fit_from_draws(law, runs, copies, likelihood="normal")


def test_data_constrained_optimum_respects_unique_tokens():
    law = bs.get_law("data_constrained")
    runs = pd.DataFrame({"N": [1e8, 1e9, 5e9], "D": [1e10, 5e10, 2e11], "U": [1e10] * 3})
    runs["loss"] = law.evaluate(MUENNIGHOFF, **runs)
    fit = _fit_at(law, MUENNIGHOFF, runs)
    opt = bs.compute_optimal(fit, compute=[1e22, 1e22], fixed={"U": [25e9, 1e13]})
    n, d = opt["N_opt"].isel(draw=0, chain=0), opt["D_opt"].isel(draw=0, chain=0)
    # README grid search: 7.02e9 parameters, 2.373e11 tokens (9.49 epochs) at U = 25e9
    assert float(n[0]) == pytest.approx(7.02e9, rel=2e-3)
    assert float(d[0]) == pytest.approx(2.373e11, rel=2e-3)
    assert float(opt["epochs"].isel(chain=0, draw=0, compute=0)) == pytest.approx(9.49, abs=0.01)
    # with ample unique data it is Chinchilla's allocation
    chin = bs.get_law("chinchilla").optimum(numpy_ns, MUENNIGHOFF, 1e22)
    assert float(n[1]) == pytest.approx(float(chin["N"]), rel=1e-4)
    with pytest.raises(ValueError, match=r"missing \['U'\]"):
        bs.compute_optimal(fit, compute=1e22)


@pytest.mark.parametrize("name", ["chinchilla", "chinchilla_shared_exponent", "kaplan"])
def test_numeric_optimum_matches_closed_form(name):
    law = bs.get_law(name)
    truth = {
        "chinchilla": bs.testing.BESIROGLU_TRUTH,
        "chinchilla_shared_exponent": CASES["chinchilla_shared_exponent"][1],
        "kaplan": bs.load_card("kaplan2020").params,
    }[name]
    rng = np.random.default_rng(0)
    q = {k: (v * (1 + 0.03 * rng.standard_normal((2, 50))))[..., None] for k, v in truth.items()}
    if name == "chinchilla_shared_exponent":
        q["beta"] = q["alpha"]
    C = np.logspace(17, 27, 21)
    from bayescale.analysis import _numeric_optimum

    numeric = _numeric_optimum(law, q, C, 6.0)
    closed = law.optimum(numpy_ns, q, C)
    np.testing.assert_allclose(numeric["N"], closed["N"], rtol=1e-4)
    np.testing.assert_allclose(numeric["D"], closed["D"], rtol=1e-4)


def test_precision_optimum_holds_precision_fixed():
    law = bs.get_law("precision")
    truth = {**bs.testing.BESIROGLU_TRUTH, "gamma": 2.5}
    runs = _design("precision", np.random.default_rng(0), 10)
    runs["loss"] = law.evaluate(truth, **runs[["N", "D", "P"]])
    fit = _fit_at(law, truth, runs)
    opt = bs.compute_optimal(fit, compute=[1e23, 1e23], fixed={"P": [64.0, 4.0]})
    # at 64 bits N_eff = N: Chinchilla's closed form; at 4 bits a bigger model is optimal
    chin = bs.get_law("chinchilla").optimum(numpy_ns, truth, 1e23)
    n = opt["N_opt"].isel(chain=0, draw=0).to_numpy()
    assert n[0] == pytest.approx(float(chin["N"]), rel=1e-4)
    assert n[1] > n[0]
    with pytest.raises(ValueError, match="closed-form"):
        bs.compute_optimal(fit, compute=1e23, fixed={"P": 16.0}, method="closed_form")


def test_loglinear_warns_on_collinear_compute():
    law = bs.get_law("loglinear")
    design = _design_nd(np.random.default_rng(0), 40)[["N", "D"]]
    design["C"] = 6 * design["N"] * design["D"]
    runs = bs.testing.simulate(law, CASES["loglinear"][1], design, random_seed=0)
    with pytest.warns(bs.IdentifiabilityWarning, match="not separately identifiable"):
        bs.fit(law, runs, draws=50, tune=50, chains=1, random_seed=0, progressbar=False, warn=False)
    # C varying independently of N and D: no warning
    assert (
        law.check_data({k: _design("loglinear", np.random.default_rng(0), 40)[k] for k in "NCD"})
        == []
    )


def test_bnsl_family_members_and_options():
    two = bs.get_law("bnsl", breaks=2, x="D")
    assert two.inputs == ("D",) and two.options == {"breaks": 2, "x": "D"}
    assert two.natural_names == ("a", "b", "c0", "c1", "d1", "f1", "c2", "d2", "f2")
    assert dict(two.default_priors["d_loc"].params)["mu"] == [-1.0, 1.0]
    with pytest.raises(ValueError, match="bad options"):
        bs.get_law("bnsl", breaks=1, slope=2)
    # a second break far beyond the data leaves the one-break law unchanged there
    q = {**bs.load_card("caballero2022").params, "c2": 1.0, "d2": 1e12, "f2": 0.1}
    x = np.array([200.0, 700.0])
    one = bs.get_law("bnsl", breaks=1)
    np.testing.assert_allclose(
        bs.get_law("bnsl", breaks=2).evaluate(q, x=x), one.evaluate(q, x=x), rtol=1e-9
    )


def test_power_law_in_any_column():
    law = bs.get_law("power_law", x="tokens_seen")
    assert law.inputs == ("tokens_seen",)
    got = law.evaluate({"E": 1.0, "X0": 10.0, "alpha": 0.5}, tokens_seen=1000.0)
    assert float(got) == pytest.approx(1.0 + 0.1)
    assert float(
        bs.get_law("pure_power_law").evaluate({"A": 4.0, "alpha": 0.5}, N=100.0)
    ) == pytest.approx(0.4)


def test_densing_accepts_non_positive_time():
    law = bs.get_law("densing")
    assert law.required_positive == ()
    got = law.evaluate({"A": 0.01, "B": 0.5}, t=np.array([-100.0, 0.0, 100.0]))
    np.testing.assert_allclose(np.log(got), [-0.5, 0.5, 1.5])
    d = law.derived_params({"A": np.log(2) / 100, "B": 0.0})
    assert d["doubling_time"] == pytest.approx(100.0)
