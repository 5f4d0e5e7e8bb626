"""Model averaging: stacking weights, mixed draws, save/load and bad inputs."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import xarray as xr

import bayescale as bs
from bayescale.stacking import draw_counts, member_seed

TRUTH = bs.testing.BESIROGLU_TRUTH


@pytest.fixture(scope="module")
def runs():
    return bs.testing.simulate_chinchilla(60, random_seed=0)


@pytest.fixture(scope="module")
def members(runs):
    """Two pinned Chinchilla fits to the same runs, the second with fewer draws."""
    a = bs.testing.pinned_fit(random_seed=0, data=runs)  # 4 x 250 = 1000 draws
    b = bs.testing.pinned_fit(random_seed=1, data=runs, draws=100, truth={**TRUTH, "E": 1.9})
    return a, b


def _power_law_fit(runs):
    """A power law in compute C fitted (pinned) to the same runs: its only input is C."""
    law = bs.get_law("power_law", x="C")
    rng = np.random.default_rng(3)
    centre = {"log_E": np.log(1.8), "log_R_ref": -0.5, "alpha": 0.15, "sigma": 0.02, "nu": 5.0}
    draws = {k: v * np.exp(0.05 * rng.standard_normal((2, 100))) for k, v in centre.items()}
    return bs.testing.fit_from_draws(law, runs, draws)


def _flat(da: xr.DataArray) -> np.ndarray:
    """Draws of ``da`` flattened over (chain, draw) in C order, other dimensions kept."""
    arr = da.transpose("chain", "draw", ...).to_numpy()
    return arr.reshape(-1, *arr.shape[2:])


# ---------------------------------------------------------------------- weights
def test_draw_counts_largest_remainder():
    assert draw_counts([0.5, 0.25, 0.25], 10).tolist() == [5, 3, 2]
    assert draw_counts([1 / 3, 1 / 3, 1 / 3], 1000).tolist() == [334, 333, 333]
    assert draw_counts([0.0, 1.0], 7).tolist() == [0, 7]
    rng = np.random.default_rng(0)
    for _ in range(200):
        w = rng.dirichlet(np.ones(rng.integers(1, 6)))
        total = int(rng.integers(1, 5000))
        c = draw_counts(w, total)
        assert c.sum() == total
        assert np.all(np.abs(c - w * total) < 1)


def test_stacking_weights_favour_the_right_fit(runs):
    good = bs.testing.pinned_fit(random_seed=0, data=runs)
    wrong = bs.testing.pinned_fit(random_seed=1, data=runs, truth={**TRUTH, "E": 2.2})
    st = bs.stack({"good": good, "wrong": wrong}, warn=False)
    assert st.method == "stacking"
    assert st.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert (st.weights >= 0).all()
    assert st.weights["good"] > 0.99
    table = st.summary()
    assert list(table.index) == ["good", "wrong"]
    assert table.loc["good", "elpd"] > table.loc["wrong", "elpd"] + 50
    assert table["mixture_draws"].sum() == st.n_draws == 1000


def test_stacking_weights_of_real_fits():
    """A free Chinchilla fit against one with badly wrong fixed exponents (tiny NUTS runs)."""
    runs = bs.testing.simulate_chinchilla(40, random_seed=3)
    kw = dict(draws=200, tune=200, chains=2, random_seed=3, progressbar=False, warn=False)
    good = bs.fit("chinchilla", runs, **kw)
    fixed = bs.fit(
        "chinchilla",
        runs,
        priors={"alpha": bs.Prior.fixed(0.15), "beta": bs.Prior.fixed(0.6)},
        **kw,
    )
    st = bs.stack([good, fixed], warn=False)
    assert st.names == ["chinchilla@1:studentt", "chinchilla@1:studentt_2"]
    assert st.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert st.weights.iloc[0] > 0.95
    opt = bs.compute_optimal(st, compute=1e22)
    assert opt.sizes["draw"] == good.n_draws == 400


def test_given_weights_and_list_names(members):
    a, b = members
    st = bs.stack([a, b], weights={"chinchilla@1:studentt": 0.25, "chinchilla@1:studentt_2": 0.75})
    assert st.method == "given"
    assert st.draw_counts().tolist() == [250, 750]
    assert "StackedFit" in repr(st) and "weight 0.250" in repr(st)
    assert "<table>" in st._repr_html_()


# ---------------------------------------------------------------------- mixed draws
def test_mixture_draws_are_the_members_draws(members):
    a, b = members
    st = bs.stack({"a": a, "b": b}, weights={"a": 0.3, "b": 0.7})
    N, D = [1e9, 7e10], [2e10, 1.4e12]
    mixed = bs.predict_loss(st, N=N, D=D)
    assert mixed.dims == ("chain", "draw", "point")
    assert mixed.sizes["chain"] == 1 and mixed.sizes["draw"] == 1000
    # brute force: member k gives n_k draws evenly spaced over its own flattened draws
    own_a, own_b = _flat(bs.predict_loss(a, N=N, D=D)), _flat(bs.predict_loss(b, N=N, D=D))
    assert own_a.shape[0] == 1000 and own_b.shape[0] == 400  # b has fewer draws than its share
    expected = [own_a[int(i * 1000 / 300)] for i in range(300)]
    expected += [own_b[int(i * 400 / 700)] for i in range(700)]
    np.testing.assert_array_equal(_flat(mixed), np.array(expected))
    np.testing.assert_array_equal(mixed["N"].to_numpy(), N)


def test_predictive_draws_use_member_seeds(members):
    a, b = members
    st = bs.stack({"a": a, "b": b}, weights={"a": 0.5, "b": 0.5})
    one = bs.predict_loss(st, N=7e10, D=1.4e12, kind="predictive", random_seed=11)
    two = bs.predict_loss(st, N=7e10, D=1.4e12, kind="predictive", random_seed=11)
    xr.testing.assert_identical(one, two)
    other = bs.predict_loss(st, N=7e10, D=1.4e12, kind="predictive", random_seed=12)
    assert not np.array_equal(one.to_numpy(), other.to_numpy())
    own_b = bs.predict_loss(b, N=7e10, D=1.4e12, kind="predictive", random_seed=member_seed(11, 1))
    expected_b = _flat(own_b)[[int(i * 400 / 500) for i in range(500)]]
    np.testing.assert_array_equal(_flat(one)[500:], expected_b)


def test_weight_one_gives_that_member(members, runs):
    a, b = members
    st = bs.stack({"a": a, "b": b}, weights={"a": 1.0, "b": 0.0})
    for func, kwargs in [
        (bs.compute_optimal, {"compute": [1e21, 5.88e23]}),
        (bs.compute_for_loss, {"target_loss": [2.0, 1.83]}),
        (bs.overtraining_penalty, {"N": [8e9, 7e10], "compute": 5.88e23}),
        (bs.data_wall, {"available_tokens": 15e12, "compute": [1e24, 1e26]}),
        (bs.loss_at, {"N": [1e9, 1e10], "compute": [1e21, 1e22]}),
    ]:
        mixed, own = func(st, **kwargs), func(a, **kwargs)
        if isinstance(own, xr.DataArray):
            own, mixed = own.to_dataset(name="v"), mixed.to_dataset(name="v")
        assert set(mixed.data_vars) == set(own.data_vars), func.__name__
        for name, var in own.data_vars.items():
            if "draw" in var.dims:
                np.testing.assert_array_equal(_flat(mixed[name]), _flat(var), err_msg=name)
                assert mixed[name].dims == var.dims
            else:
                np.testing.assert_array_equal(mixed[name].to_numpy(), var.to_numpy())
    # a weight-0 member is not evaluated: a law that cannot answer does no harm
    st2 = bs.stack({"a": a, "p": _power_law_fit(runs)}, weights={"a": 1.0, "p": 0.0})
    assert bs.predict_loss(st2, N=1e9, D=2e10).sizes["draw"] == 1000


def test_compute_for_loss_counts_follow_the_mixture(members):
    a, b = members
    st = bs.stack({"a": a, "b": b}, weights={"a": 0.5, "b": 0.5})
    res = bs.compute_for_loss(st, target_loss=[2.0, 1.85])
    status = res["status"].to_numpy().reshape(-1, 2)
    for name in ("reached", "unreachable", "beyond_max_compute", "below_min_compute"):
        assert res[f"n_{name}"].to_numpy().tolist() == (status == name).sum(axis=0).tolist()
    assert res["n_reached"].sum() + res["n_unreachable"].sum() > 0
    assert res.attrs["n_draws"] == 1000 and res.attrs["law"].startswith("stack(")
    # b (E = 1.9) cannot reach 1.85 for almost any draw: half the mixture is unreachable
    assert int(res["n_unreachable"].sel(target_loss=1.85)) >= 480
    table = bs.decision_summary(res)
    assert table.loc["C_needed", "n_draws"].tolist() == [1000, 1000]


def test_other_analysis_functions_accept_a_stack(members):
    a, b = members
    st = bs.stack({"a": a, "b": b}, weights={"a": 0.5, "b": 0.5})
    inf = bs.inference_optimal(st, target_loss=2.2, inference_tokens=[0, 1e13])
    assert inf["N_opt"].dims == ("chain", "draw", "target_loss", "inference_tokens")
    assert inf.sizes["draw"] == 1000
    fit_e = bs.emergence.pinned_emergence_fit(random_seed=0)
    st_e = bs.stack({"x": fit_e, "y": fit_e}, weights={"x": 0.5, "y": 0.5})
    thr = bs.emergence_threshold(st_e, level=0.95, by=[1e21, 1e23])
    assert thr.attrs["n_draws"] == fit_e.n_draws and thr.attrs["p_never_reached"] == 1.0
    assert bs.predict_accuracy(st_e, C=[1e21, 1e22]).sizes["draw"] == fit_e.n_draws
    from bayescale.export import summary_table

    assert list(summary_table(st).index) == ["a", "b"]


def test_member_that_cannot_answer_is_named(members, runs):
    a, _ = members
    st = bs.stack({"chin": a, "pow": _power_law_fit(runs)}, weights={"chin": 0.5, "pow": 0.5})
    with pytest.raises(ValueError, match=r"stack member 'pow'.*power_law"):
        bs.predict_loss(st, N=1e9, D=2e10)
    with pytest.raises(ValueError, match="stack member 'chin'"):
        bs.predict_loss(st, C=1e21)
    with pytest.raises(ValueError, match="stack member 'pow'"):
        bs.compute_optimal(st, compute=1e22)


# ---------------------------------------------------------------------- save / load
def test_save_load_round_trip(members, tmp_path):
    a, b = members
    st = bs.stack({"a": a, "b": b}, weights={"a": 0.4, "b": 0.6})
    folder = st.save(tmp_path / "stack")
    meta = json.loads((tmp_path / "stack" / "stack.json").read_text())
    assert [m["name"] for m in meta["members"]] == ["a", "b"]
    assert meta["method"] == "given" and meta["bayescale_version"] == bs.__version__
    back = bs.load_stack(folder)
    assert back.names == ["a", "b"] and back.weights.to_dict() == st.weights.to_dict()
    kw = dict(N=[1e9, 7e10], D=[2e10, 1.4e12], kind="predictive", random_seed=5)
    xr.testing.assert_identical(bs.predict_loss(back, **kw), bs.predict_loss(st, **kw))
    xr.testing.assert_identical(
        bs.compute_optimal(bs.StackedFit.load(folder), compute=1e22),
        bs.compute_optimal(st, compute=1e22),
    )
    # saving again over the folder works and leaves no temporary files
    st.save(folder)
    assert sorted(_kinds(folder)) == ["member_0", "member_1", "stack.json"]
    # a smaller stack saved over it leaves no stale member file
    bs.stack({"a": a}, weights={"a": 1.0}).save(folder)
    assert sorted(_kinds(folder)) == ["member_0", "stack.json"]
    assert bs.load_stack(folder).names == ["a"]


def _kinds(folder):
    """The folder's files, member files without their content suffix (member_0_<sha>.nc)."""
    return [name.rsplit("_", 1)[0] for name in os.listdir(folder)]


def test_load_refuses_missing_or_replaced_members(members, tmp_path):
    a, b = members
    st = bs.stack({"a": a, "b": b}, weights={"a": 0.5, "b": 0.5})
    folder = tmp_path / "s"
    st.save(folder)
    b_file = json.loads((folder / "stack.json").read_text())["members"][1]["file"]
    a.save(str(folder / b_file))  # b's file replaced by another fit
    with pytest.raises(ValueError, match=r"member 'b'.*SHA-256"):
        bs.load_stack(folder)
    os.remove(folder / b_file)
    with pytest.raises(ValueError, match=rf"{b_file} of member 'b' is missing"):
        bs.load_stack(folder)
    with pytest.raises(ValueError, match=r"stack.json is missing"):
        bs.load_stack(tmp_path / "nowhere")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "stack.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a valid stack description"):
        bs.load_stack(tmp_path / "bad")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        st.save(tmp_path / "file")


# ---------------------------------------------------------------------- bad input
def test_bad_inputs_name_the_culprit(members):
    a, b = members
    other_runs = bs.testing.pinned_fit(random_seed=5)  # simulated on other runs
    with pytest.raises(ValueError, match="'other' and 'a' were fitted to different runs"):
        bs.stack({"a": a, "other": other_runs}, weights={"a": 0.5, "other": 0.5})
    with pytest.raises(ValueError, match="different runs"):
        bs.stack({"a": a, "other": other_runs}, warn=False)
    with pytest.raises(ValueError, match="weight of 'b' must be finite and >= 0"):
        bs.stack({"a": a, "b": b}, weights={"a": 1.5, "b": -0.5})
    with pytest.raises(ValueError, match=r"unknown names \['c'\], missing names \['b'\]"):
        bs.stack({"a": a, "b": b}, weights={"a": 0.5, "c": 0.5})
    with pytest.raises(ValueError, match="must sum to 1"):
        bs.stack({"a": a, "b": b}, weights={"a": 0.5, "b": 0.4})
    with pytest.raises(TypeError, match="weight of 'a' must be a number"):
        bs.stack({"a": a, "b": b}, weights={"a": "half", "b": 0.5})
    with pytest.raises(TypeError, match=r"stack member 'b' is not a bayescale.Fit"):
        bs.stack({"a": a, "b": "fit.nc"}, weights={"a": 0.5, "b": 0.5})
    with pytest.raises(TypeError, match="not one Fit"):
        bs.stack(a)
    with pytest.raises(ValueError, match="method must be one of"):
        bs.stack({"a": a, "b": b}, method="vote")
    with pytest.raises(ValueError, match="with weights= given leave method out"):
        bs.stack({"a": a, "b": b}, method="pseudo-BMA", weights={"a": 0.5, "b": 0.5})
    with pytest.raises(ValueError, match="at least two fits"):
        bs.stack({"a": a})
    st = bs.stack({"a": a, "b": b}, weights={"a": 0.5, "b": 0.5})
    with pytest.raises(ValueError, match="random_seed must be non-negative"):
        bs.predict_loss(st, N=1e9, D=2e10, kind="predictive", random_seed=-1)


# ---------------------------------------------------------------------- presentation
def test_plots_and_export_take_a_stack(members, runs, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayescale import plots

    a, b = members
    st = bs.stack({"a": a, "b": b}, weights={"a": 0.5, "b": 0.5})
    _, ax = plots.plot_fit(st, predictive=True, random_seed=0)
    assert ax.get_title().startswith("chinchilla fit")
    fig, _ = plots.plot_frontier(st, compute=np.logspace(20, 24, 5))
    assert fig.get_suptitle().startswith("chinchilla: compute-optimal")
    _, ax = plots.plot_tokens_per_param(st, compute=np.logspace(20, 24, 5))
    assert "bayescale chinchilla (60 runs)" in ax.get_legend().get_texts()[0].get_text()
    plt.close("all")
    path = bs.export_summary(st, tmp_path / "stack.csv")
    back = bs.read_summary(path)
    assert back["weight"].tolist() == [0.5, 0.5]
    mixed = bs.stack({"chin": a, "pow": _power_law_fit(runs)}, weights={"chin": 0.5, "pow": 0.5})
    with pytest.raises(ValueError, match=r"plot_fit: stack member 'pow'"):
        plots.plot_fit(mixed)
    # a stack of two laws has no one set of parameters to compare with a card
    with pytest.raises(ValueError, match=r"different laws .*chin: chinchilla@1, pow: power_law"):
        bs.compare_to_card(mixed, "hoffmann2022")


def test_report_of_a_stack(members, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    a, b = members
    st = bs.stack({"a": a, "b": b}, weights={"a": 0.5, "b": 0.5})
    path = bs.report(st, tmp_path / "rep", compute=[1e22, 1e23])
    files = sorted(os.listdir(tmp_path / "rep"))
    assert files == [
        "fit.png",
        "frontier.png",
        "isoflops.png",
        "optimal.csv",
        "report.html",
        "report.md",
        "residuals.png",
        "summary.csv",
        "tokens_per_param.png",
    ]
    text = open(path).read()
    assert "## Members" in text and "| a | chinchilla@1 | studentt | 0.5 | 500 |" in text
    assert bs.read_summary(tmp_path / "rep" / "optimal.csv").shape[0] == 2
    import hashlib

    digest = hashlib.sha256(st.data.to_csv(index=False).encode()).hexdigest()
    assert f"**fitted runs**: 60 rows, SHA-256 {digest}" in text
