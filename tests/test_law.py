"""The law as data: numpy and pytensor agree, the closed-form optimum is right, registry works."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

import bayescale as bs
from bayescale.xp import numpy_ns, pytensor_ns

HOFFMANN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def _random_params(rng, n):
    return {
        "E": rng.uniform(0.5, 3.0, n),
        "A": np.exp(rng.uniform(2, 9, n)),
        "B": np.exp(rng.uniform(2, 9, n)),
        "alpha": rng.uniform(0.05, 0.9, n),
        "beta": rng.uniform(0.05, 0.9, n),
    }


def test_numpy_and_pytensor_expressions_agree():
    import pytensor
    import pytensor.tensor as pt

    law = bs.get_law("chinchilla")
    rng = np.random.default_rng(0)
    n = 500
    q = _random_params(rng, n)
    N = np.exp(rng.uniform(np.log(1e6), np.log(1e13), n))
    D = np.exp(rng.uniform(np.log(1e8), np.log(1e15), n))
    sym_q = {k: pt.dvector(k) for k in q}
    sym_x = {"N": pt.dvector("N"), "D": pt.dvector("D")}
    out = law.expression(pytensor_ns, sym_x, sym_q)
    f = pytensor.function([*sym_x.values(), *sym_q.values()], out)
    symbolic = f(N, D, *q.values())
    numeric = law.log_mean(q, numpy_ns, N=N, D=D)
    np.testing.assert_allclose(numeric, symbolic, rtol=1e-10, atol=0)
    # and the natural/derived maps
    ref = law.compute_reference({"N": N, "D": D})
    p = {
        "alpha": q["alpha"],
        "beta": q["beta"],
        "log_E": np.log(q["E"]),
        "log_A_ref": rng.normal(-1, 1, n),
        "log_B_ref": rng.normal(-1, 1, n),
    }
    sym_p = {k: pt.dvector(k) for k in p}
    nat = law.natural(pytensor_ns, sym_p, ref)
    g = pytensor.function(list(sym_p.values()), [nat[k] for k in law.natural_names])
    for got, name in zip(g(*p.values()), law.natural_names, strict=True):
        want = law.natural(numpy_ns, p, ref)[name]
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_hoffmann_card_value_matches_hand_formula():
    law = bs.get_law("chinchilla")
    card = bs.load_card("hoffmann2022")
    got = law.evaluate(card.params, N=70e9, D=1.4e12)
    want = 1.69 + 406.4 / 70e9**0.34 + 410.7 / 1.4e12**0.28
    assert got == pytest.approx(want, rel=1e-12)
    assert want == pytest.approx(1.93665, abs=1e-4)


@pytest.mark.parametrize("C", [1e18, 5.88e23, 1e27])
def test_closed_form_optimum_matches_brute_force(C):
    law = bs.get_law("chinchilla")
    for q in (HOFFMANN, bs.testing.BESIROGLU_TRUTH):
        closed = law.optimum(numpy_ns, q, C)

        def loss(logn, q=q):
            n = np.exp(logn)
            return float(law.evaluate(q, N=n, D=C / (6 * n)))

        res = optimize.minimize_scalar(
            loss, bounds=(np.log(1e3), np.log(C / 6e3)), method="bounded", options={"xatol": 1e-12}
        )
        assert np.exp(res.x) == pytest.approx(float(closed["N"]), rel=1e-6)
        assert 6 * float(closed["N"]) * float(closed["D"]) == pytest.approx(C, rel=1e-12)


def test_besiroglu_point_estimate_allocation():
    # SOURCE.md: from a=6.17796, b=7.64273, e=0.59711, alpha=0.34781, beta=0.36585,
    # N* = 73.1B, D* = 1.34T, D*/N* = 18.3 at 5.88e23 FLOPs; Hoffmann's: 32.5B, 3.02T, 92.8.
    law = bs.get_law("chinchilla")
    q = {
        "A": np.exp(6.17796),
        "B": np.exp(7.64273),
        "E": np.exp(0.59711),
        "alpha": 0.34781,
        "beta": 0.36585,
    }
    opt = law.optimum(numpy_ns, q, 5.88e23)
    assert float(opt["N"]) == pytest.approx(73.1e9, rel=2e-3)
    assert float(opt["D"]) == pytest.approx(1.34e12, rel=4e-3)
    assert float(opt["D"] / opt["N"]) == pytest.approx(18.3, abs=0.05)
    h = law.optimum(numpy_ns, HOFFMANN, 5.88e23)
    assert float(h["N"]) == pytest.approx(32.5e9, rel=2e-3)
    assert float(h["D"] / h["N"]) == pytest.approx(92.8, abs=0.1)


def test_derived_allocation_exponents():
    law = bs.get_law("chinchilla")
    d = law.derived_params(HOFFMANN)
    assert d["a"] == pytest.approx(0.28 / 0.62)
    assert d["b"] == pytest.approx(0.34 / 0.62)


def test_registry_lookup_and_errors():
    assert "chinchilla" in set(bs.list_laws()["name"])
    with pytest.raises(ValueError, match="did you mean 'chinchilla'"):
        bs.get_law("chinchila")
    with pytest.raises(ValueError, match="no version '99'"):
        bs.get_law("chinchilla", version="99")
    law = bs.get_law("chinchilla")
    with pytest.raises(ValueError, match="already registered"):
        bs.register_law(
            bs.ScalingLaw(
                name="chinchilla",
                version="1",
                inputs=("N",),
                parameters=law.parameters,
                expression=law.expression,
            )
        )


def test_user_defined_law_registers_and_evaluates(floor_power_law):
    law = floor_power_law("test_user_power_law", "1")
    bs.register_law(law)
    assert bs.get_law("test_user_power_law") is law
    want = np.exp(0.5) + np.exp(2.0) * 1e9**-0.3
    assert float(law.evaluate({"log_E": 0.5, "log_A": 2.0, "alpha": 0.3}, N=1e9)) == pytest.approx(
        want
    )
    with pytest.raises(ValueError, match="missing"):
        law.log_mean({"log_E": 0.5, "log_A": 2.0, "alpha": 0.3}, D=1.0)


def test_shared_law_helpers():
    from bayescale.laws import _common

    assert _common.mean_sd([2.0, 2.0, 2.0]) == (2.0, 1.0)  # zero spread read as 1
    mean, sd = _common.mean_sd([1.0, 3.0])
    assert (mean, sd) == (2.0, 1.0)
    prior = _common.lognormal_median(0.5, 1.0).to_dict()
    assert prior == bs.Prior("LogNormal", mu=float(np.log(0.5)), sigma=1.0).to_dict()
    assert _common.exponent_prior(0.3).to_dict() == _common.lognormal_median(0.3, 0.7).to_dict()
    for bad in ("", None, 3):
        with pytest.raises(TypeError, match="x must be a column name"):
            _common.check_column(bad)
    # the variants reuse Chinchilla's reference scales, and the one-input laws mean_log's
    chin = bs.get_law("chinchilla")
    for name in ("chinchilla_shared_exponent", "precision", "data_constrained"):
        assert bs.get_law(name).reference is chin.reference
    x = np.array([1e8, 1e9, 1e10])
    ref = bs.get_law("power_law", x="D").compute_reference({"D": x})
    assert ref == _common.mean_log({"D": x}, "D")
    bnsl = bs.get_law("bnsl", x="D").compute_reference({"D": x})
    assert bnsl == {
        "logD_ref": pytest.approx(np.log(1e9)),
        "logD_sd": pytest.approx(np.log(10) * np.sqrt(2 / 3)),
    }


def test_the_architecture_example_law_is_complete(tmp_path):
    """The code of ARCHITECTURE.md's "How to add a law" runs and gives a law every catalogue
    test can use (registered here under another name)."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "ARCHITECTURE.md").read_text()
    section = text[text.index("## How to add a law") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(code.replace('"my_law"', '"doc_example_law"'), namespace)
    law = namespace["my_law"]
    assert bs.get_law("doc_example_law") is law and law.floor == "E"
    runs = law.example_runs(random_seed=0)
    ref = law.compute_reference({k: runs[k].to_numpy() for k in law.inputs})
    back = law.natural_params(law.sampled_params(law.example_truth, ref), ref)
    for key in law.natural_names:
        assert float(back[key]) == pytest.approx(law.example_truth[key], rel=1e-10)
    fit = bs.testing.pinned_law_fit(law, draws=10)
    same = bs.Fit.load(fit.save(tmp_path / "doc.nc"))
    assert same.law is law


def test_list_laws_shows_the_floor_and_sampled_params_invert_chinchilla():
    table = bs.list_laws().set_index("name")
    assert table.loc["chinchilla", "floor"] == "E"
    assert pd.isna(table.loc["kaplan", "floor"])
    law = bs.get_law("chinchilla")
    ref = {"logN_ref": 20.0, "logD_ref": 23.0}
    want = bs.testing.chinchilla_sampled(bs.testing.BESIROGLU_TRUTH, ref)
    got = law.sampled_params(bs.testing.BESIROGLU_TRUTH, ref)
    assert got.keys() == want.keys()
    for key in want:
        assert float(got[key]) == pytest.approx(float(want[key]), rel=1e-12)
