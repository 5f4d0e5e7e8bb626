"""Cost of a misallocation and the tokens-per-parameter rule (bayescale/misallocation.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

import bayescale as bs


@pytest.fixture(scope="module")
def pinned():
    return bs.testing.pinned_fit(random_seed=0, chains=1, draws=6)


def _draw(fit, i):
    p = fit.posterior
    return {k: float(p[k].to_numpy().ravel()[i]) for k in ("A", "B", "E", "alpha", "beta")}


def _loss(q, n, d):
    return q["E"] + q["A"] / n ** q["alpha"] + q["B"] / d ** q["beta"]


def _frontier(q, c):
    """min over log N of L(N, C/6N), by scipy (bounded scalar minimisation)."""
    res = optimize.minimize_scalar(
        lambda x: _loss(q, np.exp(x), c / (6 * np.exp(x))),
        bounds=(np.log(c) / 2 - 25, np.log(c) / 2 + 10),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return res.fun


def _c_prime(q, target, c):
    return np.exp(
        optimize.brentq(
            lambda lc: _frontier(q, np.exp(lc)) - target,
            np.log(c) - 30,
            np.log(c),
            xtol=1e-14,
            rtol=1e-15,
        )
    )


def test_misallocation_matches_brute_force(pinned):
    n, d = 70e9, 300e9
    res = bs.misallocation_cost(pinned, N=n, D=d, price_per_flop=2e-18)
    c = 6 * n * d
    assert res.attrs["compute"] == pytest.approx(c)
    for i in range(6):
        q = _draw(pinned, i)
        target = _loss(q, n, d)
        cp = _c_prime(q, target, c)
        got = res.isel(chain=0, draw=i)
        assert float(got["loss"]) == pytest.approx(target, rel=1e-10)
        assert float(got["loss_opt"]) == pytest.approx(_frontier(q, c), rel=1e-8)
        assert float(got["C_equivalent"]) == pytest.approx(cp, rel=1e-6)
        assert float(got["deadweight_flops"]) == pytest.approx(c - cp, rel=1e-6)
        assert float(got["deadweight_cost"]) == pytest.approx(2e-18 * (c - cp), rel=1e-6)
    assert res["deadweight_flops"].dims == ("chain", "draw")


def test_optimal_plan_has_no_deadweight(pinned):
    q = _draw(pinned, 0)
    opt = bs.compute_optimal(pinned, compute=1e22)
    n = float(opt["N_opt"].isel(chain=0, draw=0, compute=0))
    d = float(opt["D_opt"].isel(chain=0, draw=0, compute=0))
    res = bs.misallocation_cost(pinned, N=n, D=d)
    assert abs(float(res["deadweight_fraction"].isel(chain=0, draw=0))) < 1e-6
    assert float(res["loss"].isel(chain=0, draw=0)) == pytest.approx(_frontier(q, 6 * n * d))
    assert (res["deadweight_flops"] >= -1e-6 * 1e22).all()
    assert "deadweight_cost" not in res


def test_rule_of_thumb_matches_brute_force(pinned):
    res = bs.rule_of_thumb_check(pinned, compute=[1e20, 1e24], tokens_per_param=5, within=0.01)
    for c in (1e20, 1e24):
        n = np.sqrt(c / (6 * 5))
        for i in range(6):
            q = _draw(pinned, i)
            target = _loss(q, n, 5 * n)
            got = res.sel(compute=c).isel(chain=0, draw=i)
            assert float(got["loss_excess"]) == pytest.approx(
                target / _frontier(q, c) - 1, rel=1e-6
            )
            assert float(got["compute_overhead"]) == pytest.approx(
                c / _c_prime(q, target, c) - 1, rel=1e-6
            )
    over = res["compute_overhead"].to_numpy()
    np.testing.assert_allclose(res["p_within_compute"], (over <= 0.01).reshape(-1, 2).mean(axis=0))
    assert res["N_rule"].sel(compute=1e24) == pytest.approx(np.sqrt(1e24 / 30))


def test_bad_input_is_named(pinned):
    with pytest.raises(ValueError, match="one plan"):
        bs.misallocation_cost(pinned, N=[1e9, 2e9], D=1e10)
    with pytest.raises(ValueError, match="price_per_flop"):
        bs.misallocation_cost(pinned, N=1e9, D=1e10, price_per_flop=-1.0)
    with pytest.raises(ValueError, match="tokens_per_param"):
        bs.rule_of_thumb_check(pinned, compute=1e21, tokens_per_param=0)
    with pytest.raises(ValueError, match="within"):
        bs.rule_of_thumb_check(pinned, compute=1e21, within=-0.1)


def test_a_stack_mixes_draws_and_recounts():
    f1 = bs.testing.pinned_fit(random_seed=0, chains=1, draws=40)
    f2 = bs.testing.pinned_fit(random_seed=0, chains=1, draws=40, rel_sd=0.05)
    st = bs.stack({"a": f1, "b": f2}, weights={"a": 0.5, "b": 0.5}, warn=False)
    cost = bs.misallocation_cost(st, N=70e9, D=300e9)
    assert cost["deadweight_flops"].sizes == {"chain": 1, "draw": 40}
    check = bs.rule_of_thumb_check(st, compute=[1e21, 1e24], within=1e-4)
    over = check["compute_overhead"].to_numpy().reshape(-1, 2)
    np.testing.assert_allclose(check["p_within_compute"], (over <= 1e-4).mean(axis=0))
