"""One vocabulary across the public API (see ``bayescale/_api.py``).

Every public callable — ``bayescale.__all__``, the functions of ``bs.plots``, ``bs.testing``
and ``bs.emergence`` and the public methods of the result classes — is read with
``inspect.signature`` and held to the rules:

- no parameter is named ``seed``, ``prob``, ``probs``, ``fixed_inputs``, ``C`` (the budget is
  ``compute``) or any other old name in ``FORBIDDEN``; an old name may live on only as a
  deprecated alias declared with ``bayescale._api.deprecated_args``, which warns;
- every parameter after the first (``self``/``cls`` not counted) is keyword-only, except the
  required operands and ``**kwargs`` listed, with their reasons, in ``POSITIONAL_OPERANDS`` and
  ``VAR_KEYWORD``; a parameter with a default is never positional;
- every ``ci_prob`` defaults to ``bs.CI_PROB`` and every ``ci_probs`` contains it;
- ``summary()`` of ``Fit`` and of every result object returns a DataFrame.

Adding ``seed=`` (or ``prob=``, ...) to any public function makes
``test_no_old_names`` fail, naming the function; adding a positional option makes
``test_options_are_keyword_only`` fail.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
import bayescale._api
from bayescale._api import deprecated_args

#: Old names and what replaced them.
FORBIDDEN = {
    "seed": "random_seed",
    "rng_seed": "random_seed",
    "prob": "ci_prob",
    "probs": "ci_probs",
    "hdi_prob": "ci_prob",
    "interval": "ci_prob",
    "fixed_inputs": "fixed",
    "C": "compute",
    "budget": "compute",
    "budgets": "compute",
}

#: Required operands that may stay positional after the first argument (a call reads as
#: ``verb(subject, object)``); options (parameters with defaults) never may.
POSITIONAL_OPERANDS = {
    "fit": ("data",),  # bs.fit("chinchilla", runs): the law and its data
    "backtest": ("data", "split"),  # like fit, plus the split that defines the backtest
    "prior_predictive": ("data",),  # like fit
    "chain": ("downstream_fit",),  # the two fits being chained
    "compare_to_card": ("card",),  # what the fit is compared with
    "compute_optimal": ("compute",),  # the budgets are the question
    "next_runs": ("candidates",),  # the runs being ranked
    "fit_capabilities": ("benchmarks",),  # the table and which of its columns are scores
    "score_holdout": ("runs",),  # the fit and the held-out runs it is scored on
    "compute_for_loss": ("target_loss",),  # the target is the question
    "inference_optimal": ("target_loss", "inference_tokens"),  # the question's two numbers
    "data_wall": ("available_tokens",),  # the question's number
    "export_summary": ("path",),  # what to write where
    "report": ("out_dir",),  # what to write where
    "register_law_family": ("version", "build"),  # a registration record
    "testing.simulate": ("params", "design"),  # law, truth, design
    "testing.fit_from_draws": ("runs", "draws"),  # law, data, draws
    "testing.chinchilla_sampled": ("ref",),  # a pure conversion of two mappings
    "testing.sbc": ("design",),  # like fit
    "emergence.exact_match": ("length",),  # per-token accuracy and sequence length
    "emergence.per_token": ("length",),  # the inverse
    "emergence.metric_choice": ("length",),  # a per-token fit and sequence length
    "emergence.task_runs": ("column",),  # table and column
    "sampling_laws.pass_at_k": ("c", "k"),  # the estimator of (n, c, k)
    "sampling_laws.beta_pass_at_k": ("beta", "k"),  # a closed form of (α, β, k)
}

#: Callables that take ``**kwargs``, and why.
VAR_KEYWORD = {
    "fit": "sampler options passed through to nutpie / PyMC",
    "backtest": "options of bs.fit for each cutoff",
    "testing.sbc": "options of bs.fit for each simulation",
    "testing.simulate_chinchilla": "options of testing.simulate",
    "predict_loss": "the law's inputs, named by the law (N=, D=, ...)",
    "predict_accuracy": "the law's inputs",
    "loss_at": "the law's inputs (and compute= for the budget)",
    "chain": "the inputs of the loss law",
    "get_law": "the options of a law family (x=, breaks=, ...)",
    "load_dataset": "the options of a dataset's table",
    "fit_many": "options of bs.fit shared by every job",
    "sampling_laws.extrapolation_check": "options of fit_pass_at_k (draws=, tune=, chains=)",
}

#: ``ci_prob`` parameters whose default is not the constant, and why.
CI_PROB_EXEMPT = {
    "plots.plot_backtest": "None reads the level from the table's interval columns",
}

RESULT_CLASSES = (
    "Fit",
    "BacktestResult",
    "CardComparison",
    "IsoflopResult",
    "Approach1Result",
    "PredictiveCheck",
    "SBCResult",
    "StackedFit",
    "BatchResult",
    "PassAtKResult",
    "Tradeoff",
    "NextRunsResult",
    "Plan",
    "CapabilityFit",
)


def _public_callables() -> dict[str, object]:
    """Qualified name → callable for the whole public surface."""
    out: dict[str, object] = {}
    for name in bs.__all__:
        if inspect.isfunction(obj := getattr(bs, name)):
            out[name] = obj
    for module in ("plots", "testing", "emergence", "sampling_laws"):
        for sub in getattr(bs, module).__all__:
            member = getattr(getattr(bs, module), sub)
            seen = any(member is f for f in out.values())  # re-exported at the top level
            if callable(member) and not inspect.isclass(member) and not seen:
                out[f"{module}.{sub}"] = member
    classes = {n: getattr(bs, n, None) or getattr(bs.testing, n) for n in RESULT_CLASSES}
    for cname, cls in classes.items():
        for attr, value in vars(cls).items():
            if attr.startswith("_"):
                continue
            if isinstance(value, staticmethod | classmethod):
                value = value.__func__
            if inspect.isfunction(value):
                out[f"{cname}.{attr}"] = value
    return out


API = _public_callables()


def _params(qualname: str, func: object) -> list[inspect.Parameter]:
    params = list(inspect.signature(func).parameters.values())
    if "." in qualname and qualname.split(".")[0] in RESULT_CLASSES and params:
        if params[0].name in ("self", "cls"):
            params = params[1:]
    return params


def test_the_enumeration_sees_the_api():
    for name in ("fit", "compute_optimal", "plots.plot_frontier", "testing.pinned_fit",
                 "testing.sbc", "emergence.threshold_summary", "Fit.summary",
                 "BacktestResult.summary", "SBCResult.summary"):  # fmt: skip
        assert name in API
    assert len(API) > 60


@pytest.mark.parametrize("qualname", sorted(API))
def test_no_old_names(qualname):
    bad = {p.name for p in _params(qualname, API[qualname]) if p.kind is not p.VAR_KEYWORD}
    bad &= set(FORBIDDEN)
    assert not bad, (
        f"{qualname} has parameters {sorted(bad)}; the API says "
        + ", ".join(f"{b} → {FORBIDDEN[b]}" for b in sorted(bad))
        + " (keep an old name only through bayescale._api.deprecated_args)"
    )


@pytest.mark.parametrize("qualname", sorted(API))
def test_options_are_keyword_only(qualname):
    params = _params(qualname, API[qualname])
    allowed = POSITIONAL_OPERANDS.get(qualname, ())
    for p in params[1:]:
        if p.kind is p.VAR_POSITIONAL:
            pytest.fail(f"{qualname} takes *{p.name}")
        if p.kind is p.VAR_KEYWORD:
            assert qualname in VAR_KEYWORD, f"{qualname} takes **{p.name}: list it with a reason"
            continue
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            assert p.default is p.empty, f"{qualname}: option {p.name!r} must be keyword-only"
            assert p.name in allowed, (
                f"{qualname}: {p.name!r} is positional; make it keyword-only or list it in "
                "POSITIONAL_OPERANDS with a reason"
            )


def test_exemption_lists_are_not_stale():
    for qualname, names in POSITIONAL_OPERANDS.items():
        params = {p.name: p for p in _params(qualname, API[qualname])}
        for n in names:
            assert params[n].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, (qualname, n)
    for qualname in VAR_KEYWORD:
        kinds = [p.kind for p in _params(qualname, API[qualname])]
        assert inspect.Parameter.VAR_KEYWORD in kinds, qualname


def test_one_interval_name_and_one_default():
    assert bs.CI_PROB == 0.95
    seen = 0
    for qualname, func in API.items():
        for p in _params(qualname, func):
            if p.name == "ci_prob" and qualname not in CI_PROB_EXEMPT:
                assert p.default == bs.CI_PROB, f"{qualname}: ci_prob={p.default!r}"
                seen += 1
            if p.name == "ci_probs":
                assert bs.CI_PROB in p.default, f"{qualname}: ci_probs={p.default!r}"
    assert seen >= 12


def test_one_seed_default():
    """``random_seed`` defaults to None (fresh entropy) everywhere, except the fixtures of
    ``bs.testing`` (and ``emergence.pinned_emergence_fit``), which make known data with 0
    (the rule is written in ``bayescale/_api.py``)."""
    seen, wrong = 0, []
    for qualname, func in API.items():
        for p in _params(qualname, func):
            if p.name != "random_seed":
                continue
            seen += 1
            # fit_from_draws draws nothing: it records the seed it is given on the Fit
            fixture = qualname != "testing.fit_from_draws" and (
                qualname.startswith("testing.") or qualname.split(".")[-1].startswith("pinned_")
            )
            expected = 0 if fixture else None
            if p.default is not expected and p.default != expected:
                wrong.append(f"{qualname}: random_seed={p.default!r} (expected {expected!r})")
    assert not wrong, "; ".join(wrong)
    assert seen >= 30
    assert "random_seed" in bayescale._api.__doc__ and "None" in bayescale._api.__doc__


@pytest.mark.parametrize("qualname", sorted(q for q in API if "_deprecated" not in q))
def test_deprecated_aliases_are_declared_consistently(qualname):
    """An alias maps an old name (absent from the signature) onto a current one."""
    spec = getattr(API[qualname], "__deprecated_args__", None)
    if spec is None:
        return
    names = {p.name: p for p in _params(qualname, API[qualname])}
    for old, new in spec["renamed"].items():
        assert old not in names and new in names, (qualname, old, new)
    for p in spec["positional"]:
        assert names[p].kind is inspect.Parameter.KEYWORD_ONLY, (qualname, p)
    if spec["into"] is not None:
        assert spec["into"] in names


def _warns_once(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    future = [w for w in caught if issubclass(w.category, FutureWarning)]
    assert len(future) == 1, [str(w.message) for w in caught]
    return out, str(future[0].message)


def test_old_names_still_work_and_warn(pinned):
    design, msg = _warns_once(lambda: bs.testing.chinchilla_design(12, seed=3))
    assert "random_seed" in msg
    pd.testing.assert_frame_equal(design, bs.testing.chinchilla_design(12, random_seed=3))
    _, msg = _warns_once(lambda: bs.testing.chinchilla_design(12, 3))
    assert "by position" in msg

    ds = bs.compute_optimal(pinned, compute=[1e22])
    table, msg = _warns_once(lambda: bs.decision_summary(ds, prob=0.8))
    assert "ci_prob" in msg and "ci80_lo" in table.columns
    table, _ = _warns_once(lambda: bs.decision_summary(ds, 0.8))
    assert "ci80_lo" in table.columns

    pen, msg = _warns_once(lambda: bs.overtraining_penalty(pinned, N=[1e10], C=[1e22]))
    assert "compute=" in msg and "compute" in pen.dims
    grid, msg = _warns_once(lambda: bs.loss_at(pinned, N=[1e10], C=[1e22]))
    assert "compute=" in msg and "compute" in grid.dims

    s, msg = _warns_once(lambda: pinned.summary(None, 0.8))
    assert "ci80_lo" in s.columns


def test_held_inputs_are_a_mapping_and_keywords_are_deprecated():
    law = bs.get_law("data_constrained")
    truth = {"A": 400.0, "B": 2000.0, "E": 1.8, "alpha": 0.34, "beta": 0.36}
    truth |= {"R_D_star": 15.0, "R_N_star": 5.0}
    n = 12
    rng = np.random.default_rng(0)
    design = pd.DataFrame(
        {"N": 10 ** rng.uniform(8, 9, n), "D": 10 ** rng.uniform(9.5, 10.5, n), "U": 1e10}
    )
    fit = bs.testing.fit_from_draws(
        law,
        bs.testing.simulate(law, truth, design, random_seed=0),
        lambda ref: {
            **{k: np.full((1, 4), v) for k, v in bs.testing.chinchilla_sampled(truth, ref).items()},
            "sigma": np.full((1, 4), 0.01),
            "nu": np.full((1, 4), 5.0),
        },
    )
    new = bs.compute_optimal(fit, compute=[1e21], fixed={"U": 1e10})
    old, msg = _warns_once(lambda: bs.compute_optimal(fit, compute=[1e21], U=1e10))
    assert "fixed={'U': ...}" in msg
    np.testing.assert_array_equal(new["N_opt"], old["N_opt"])
    with pytest.raises(ValueError, match="fixed"):
        bs.compute_optimal(fit, compute=[1e21])


def test_deprecated_args_refuses_both_forms():
    @deprecated_args(renamed={"seed": "random_seed"})
    def f(x, *, random_seed=0):
        return random_seed

    with pytest.raises(TypeError, match="both"):
        f(1, seed=1, random_seed=2)
    with pytest.raises(TypeError, match="cannot alias"):
        deprecated_args(renamed={"x": "y"})(lambda x: x)


def _results(pinned):
    from bayescale.sbc import SBCResult
    from bayescale.validation import BacktestResult

    metrics = pd.DataFrame({"n_train": [10], "n_test": [5], "coverage_95": [0.8]}, index=[1e21])
    metrics["median_abs_rel_error"] = 0.01
    metrics["mean_crps"] = 0.02
    backtest = BacktestResult(
        "C", [1e21], (0.95,), pd.DataFrame(), metrics, metrics.iloc[0].rename("pooled")
    )
    tests = pd.DataFrame({"chi2_pvalue": [0.5], "ks_pvalue": [0.4]}, index=["alpha"])
    sbc = SBCResult("chinchilla", pd.DataFrame({"alpha": [3]}), 9, tests, 1)
    return {
        "Fit": pinned,
        "BacktestResult": backtest,
        "CardComparison": bs.compare_to_card(pinned, "besiroglu2024"),
        "IsoflopResult": bs.testing.pinned_isoflops(random_seed=0),
        "Approach1Result": bs.fit_approach1(
            bs.testing.simulate_training_curves(random_seed=0), curve="run", random_seed=0
        ),
        "PredictiveCheck": bs.posterior_predictive_check(pinned, random_seed=0),
        "SBCResult": sbc,
        "BatchResult": bs.BatchResult(
            [bs.batch.JobResult(0, bs.FitJob("chinchilla", pinned.data), fit=pinned)], 1.0, "here"
        ),
        "StackedFit": bs.stack(
            {"a": pinned, "b": pinned}, weights={"a": 0.5, "b": 0.5}, warn=False
        ),
        "CapabilityFit": bs.capabilities.pinned_capability_fit(),
        "Tradeoff": bs.tradeoff(bs.testing.pinned_law_fit("train_test", random_seed=0)),
        "PassAtKResult": bs.PassAtKResult(
            models=["m"],
            N=np.array([1e9]),
            alpha=np.full((4, 1), 0.3),
            beta=np.full((4, 1), 10.0),
            counts=None,
        ),
        "NextRunsResult": bs.next_runs(
            pinned,
            [[1e9, 2e10], [2e9, 4e10]],
            compute=1e23,
            n_outcomes=4,
            refit=False,
            random_seed=0,
        ),
        "Plan": bs.plan(pinned, compute=1e23, n_outcomes=4),
    }


def test_every_summary_is_a_dataframe(pinned):
    results = _results(pinned)
    with_summary = {
        n
        for n in [*bs.__all__, *bs.testing.__all__]
        if inspect.isclass(c := getattr(bs, n, None) or getattr(bs.testing, n, None))
        and callable(getattr(c, "summary", None))
    }
    assert with_summary == set(results) == set(RESULT_CLASSES)
    for name, res in results.items():
        table = res.summary()
        assert isinstance(table, pd.DataFrame), name
        assert isinstance(str(res), str) and len(str(res)) > 20, name
        assert "<table" in res._repr_html_(), name


def test_text_reports_stay_available_through_str(pinned):
    results = _results(pinned)
    assert "coverage" in str(results["BacktestResult"])
    assert "Mahalanobis" in str(results["CardComparison"])
    assert "observed inside the 95% band" in str(results["PredictiveCheck"])
    assert "SBC of chinchilla" in str(results["SBCResult"])
    _, msg = _warns_once(lambda: results["BacktestResult"].probs)
    assert "ci_probs" in msg
