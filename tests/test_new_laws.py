"""The mixture-of-experts laws (Krajewski et al. 2024; Clark et al. 2022) and the over-training
law (Gadre et al. 2024) against their papers' equations written out by hand, and the cards of
the papers' printed coefficients (Gadre et al. Table 6, Krajewski et al. Table 1) against the
same equations. Recovery, the inverse maps, numpy = PyTensor and save/load are covered for them by
test_catalogue.py."""

from __future__ import annotations

import numpy as np
import pytest

import bayescale as bs

OVERTRAINING = {"E": 1.8, "a": 540.0, "b": 1100.0, "eta": 0.165}


def _powlaw_ours(n, m, alpha, beta, b, e):
    """Gadre et al.'s fitting function in N and M as in their code (mlfoundations/scaling,
    scaling/laws.py, ``powlaw_ours``): alpha·N^b + beta·6^(b/2)·(M·N)^b + E."""
    return alpha * np.power(n, b) + beta * np.power(6, b / 2) * np.power(m * n, b) + e


def test_overtraining_is_gadre_et_al_equation_at_three_points():
    law = bs.get_law("overtraining")
    q = OVERTRAINING
    n = np.array([1.1e7, 4.11e8, 1.4e9])
    m = np.array([20.0, 640.0, 5.0])
    c = 6.0 * n * (m * n)  # C = 6ND, D = M·N
    # the paper's form, L(C, M) = E + (a·M^η + b·M^(−η))·C^(−η)
    by_hand = q["E"] + (q["a"] * m ** q["eta"] + q["b"] * m ** -q["eta"]) * c ** -q["eta"]
    np.testing.assert_allclose(law.evaluate(q, C=c, M=m), by_hand, rtol=1e-9)
    # and the authors' code's form in N and M, with b' = −2η, alpha' = a/6^η, beta' = b
    eta = q["eta"]
    code = _powlaw_ours(n, m, q["a"] / 6.0**eta, q["b"], -2.0 * eta, q["E"])
    np.testing.assert_allclose(law.evaluate(q, C=c, M=m), code, rtol=1e-9)


def test_overtraining_is_chinchilla_with_a_shared_exponent():
    """With α = β = 2η, A = a/6^η and B = b/6^η, L(C, M) is Chinchilla's L(N, D) on C = 6ND."""
    law, chin = bs.get_law("overtraining"), bs.get_law("chinchilla")
    eta = OVERTRAINING["eta"]
    q_chin = {
        "E": OVERTRAINING["E"],
        "A": OVERTRAINING["a"] / 6.0**eta,
        "B": OVERTRAINING["b"] / 6.0**eta,
        "alpha": 2 * eta,
        "beta": 2 * eta,
    }
    n, d = np.array([1e8, 1e9, 7e10]), np.array([2e9, 1e11, 1.4e12])
    np.testing.assert_allclose(
        law.evaluate(OVERTRAINING, C=6 * n * d, M=d / n),
        chin.evaluate(q_chin, N=n, D=d),
        rtol=1e-12,
    )
    # the token multiplier that minimises the loss at fixed compute, by brute force
    m = np.exp(np.linspace(np.log(0.5), np.log(1e4), 200001))
    losses = law.evaluate(OVERTRAINING, C=1e21, M=m)
    m_opt = float(law.derived_params(OVERTRAINING)["M_opt"])
    assert m[np.argmin(losses)] == pytest.approx(m_opt, rel=1e-3)


def test_moe_granularity_is_krajewski_et_al_equation():
    law = bs.get_law("moe_granularity")
    q = law.example_truth
    n, d, g = np.array([1e8, 1e9, 1e10]), np.array([1e10, 2e10, 3e11]), np.array([1.0, 8.0, 64.0])
    by_hand = (
        q["c"] + (q["g"] / g ** q["gamma"] + q["a"]) * n ** -q["alpha"] + q["b"] * d ** -q["beta"]
    )
    np.testing.assert_allclose(law.evaluate(q, N=n, D=d, G=g), by_hand, rtol=1e-12)
    # infinitely fine experts: the Chinchilla law with A = a
    chin = bs.get_law("chinchilla").evaluate(
        {"E": q["c"], "A": q["a"], "B": q["b"], "alpha": q["alpha"], "beta": q["beta"]}, N=n, D=d
    )
    np.testing.assert_allclose(law.evaluate(q, N=n, D=d, G=1e30), chin, rtol=1e-12)
    # the compute-optimal allocation at a fixed granularity is found numerically
    runs = law.example_runs(20, random_seed=0)
    fit = bs.testing.fit_from_draws(
        law,
        runs,
        lambda ref: {
            k: np.full((1, 3), v)
            for k, v in {**law.sampled_params(q, ref), "sigma": 0.01, "nu": 10.0}.items()
        },
    )
    opt = bs.compute_optimal(fit, compute=[1e22, 1e22], fixed={"G": [1.0, 64.0]})
    n_opt = opt["N_opt"].isel(chain=0, draw=0).to_numpy()
    loss = opt["loss_opt"].isel(chain=0, draw=0).to_numpy()
    assert np.all(np.isfinite(n_opt))
    assert loss[1] < loss[0]  # finer experts: lower loss at the same compute


def _e_hat(e, e_start, e_max):
    """Clark et al.'s saturating expert count, written out."""
    return 1.0 / (1.0 / (e - 1.0 + 1.0 / (1.0 / e_start - 1.0 / e_max)) + 1.0 / e_max)


def test_routed_is_clark_et_al_bilinear_law():
    law = bs.get_law("routed")
    q = law.example_truth
    n, e = np.array([1e7, 1.3e8, 1e9]), np.array([1.0, 64.0, 512.0])
    e_hat = _e_hat(e, q["E_start"], q["E_max"])
    log_l = (
        q["a"] * np.log(n) + q["b"] * np.log(e_hat) + q["c"] * np.log(n) * np.log(e_hat) + q["d"]
    )
    np.testing.assert_allclose(np.log(law.evaluate(q, N=n, E=e)), log_l, rtol=1e-12)
    # Ê starts at E_start, tracks E over the middle range and saturates at E_max
    assert _e_hat(1.0, 2.0, 200.0) == pytest.approx(2.0)
    assert _e_hat(1e9, 2.0, 200.0) == pytest.approx(200.0, rel=1e-6)
    # the plain bilinear law in log E
    plain = bs.get_law("routed", saturating=False)
    assert plain.options == {"saturating": False} and "E_max" not in plain.natural_names
    q_plain = {k: q[k] for k in "abcd"}
    want = np.exp(q["a"] * np.log(n) + q["b"] * np.log(e) + q["c"] * np.log(n) * np.log(e) + q["d"])
    np.testing.assert_allclose(plain.evaluate(q_plain, N=n, E=e), want, rtol=1e-12)
    with pytest.raises(ValueError, match="bad options"):
        bs.get_law("routed", saturating="yes")


#: Gadre et al. 2024, Appendix E, Table 6, written out again here: dataset → (E, a, b, η,
#: ε, k, γ) and the compute-optimal token multiplier M* the paper derives from them (Eq. 10).
GADRE_TABLE6 = {
    "c4": (1.51, 114.0, 190.0, 0.242, 0.850, 2.08, 0.756, 2.87),
    "redpajama": (1.84, 166.0, 367.0, 0.272, 0.857, 2.21, 0.715, 4.30),
    "refinedweb": (1.73, 125.0, 246.0, 0.254, 0.865, 2.21, 0.707, 3.79),
}


@pytest.mark.parametrize("dataset", sorted(GADRE_TABLE6))
def test_gadre_cards_reproduce_the_papers_equations(dataset):
    e, a, b, eta, eps, k, gamma, m_star = GADRE_TABLE6[dataset]
    card = bs.load_card(f"gadre2024_{dataset}")
    law = bs.get_law(card.law)
    c = np.array([1.45e16, 7.5e21, 5.9e23])
    m = np.array([20.0, 640.0, 5.0])
    eq4 = e + (a * m**eta + b * m**-eta) * c**-eta  # Eq. (4) with Table 6's values
    np.testing.assert_allclose(law.evaluate(card.params, C=c, M=m), eq4, rtol=1e-9)
    # the paper's own compute-optimal multiplier, M* = (b/a)^(1/(2η)), to the digits it prints
    m_opt = float(law.derived_params(card.params)["M_opt"])
    assert m_opt == pytest.approx(m_star, abs=0.005)
    assert card.derived["M_opt"] == m_star
    # Eq. (5): average top-1 error against loss; the law gives the accuracy 1 − Err
    down = bs.load_card(f"gadre2024_{dataset}_downstream")
    loss = np.array([2.5, 3.4, 5.0])
    eq5 = eps - k * np.exp(-gamma * loss)
    got = bs.get_law(down.law).evaluate(down.params, loss=loss)
    np.testing.assert_allclose(1.0 - got, eq5, rtol=1e-9)


def test_krajewski_card_reproduces_eq_9():
    card = bs.load_card("krajewski2024")
    law = bs.get_law(card.law)
    n, d, g = np.array([1.29e8, 1e9, 3.7e9]), np.array([1.6e10, 6.5e10, 1.3e11]), [1.0, 8.0, 16.0]
    g = np.asarray(g)
    # Table 1, MoE row: a = 18.1, α = 0.115, b = 30.8, β = 0.147, g = 2.1, γ = 0.58, c = 0.47
    eq9 = 0.47 + (2.1 / g**0.58 + 18.1) / n**0.115 + 30.8 / d**0.147
    np.testing.assert_allclose(law.evaluate(card.params, N=n, D=d, G=g), eq9, rtol=1e-9)


def test_no_card_for_the_routed_law_without_published_coefficients():
    """Cards carry values read from the papers only; Clark et al.'s fitted table was not read."""
    assert "routed" not in set(bs.list_cards()["law"])
