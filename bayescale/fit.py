"""``bs.fit``: sample a law's posterior with NUTS and return a :class:`Fit`.

A :class:`Fit` holds everything that defines the result — the law (name and version), the priors,
the likelihood, the runs and the reference scales — next to the ArviZ ``DataTree`` (posterior,
sample_stats, log_likelihood, observed and constant data). It reports convergence diagnostics,
summarises the parameters and saves to / loads from NetCDF without pickles.
"""

from __future__ import annotations

import json
import os
import re
import time
import traceback
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ._api import check_flag
from ._fit_common import (  # noqa: F401  (re-exported)
    ESS_MIN,
    IMPROPER,
    RHAT_MAX,
    SUMMARY_COLUMNS,
    DiagnosticWarning,
    SmallDataWarning,
    _flat,
    _group_frame,
    _labels,
    _resolve_seed,
)
from .batch_options import check_shared_options
from .data import data_warnings, prepare_data
from .fit_result import Fit
from .law import IdentifiabilityWarning, ScalingLaw, get_law
from .likelihoods import Likelihood, get_likelihood
from .model import build_model, data_values, observed_name
from .pooling import resolve_pooling
from .posterior import assemble_datatree, clean_sample_stats
from .prior_checks import check_prior_mass
from .priors import Prior, merge_priors
from .pseudo_forecast import law_mode_fit
from .structure import resolve_structure

__all__ = ["DiagnosticWarning", "Fit", "SmallDataWarning", "fit"]


def _build_and_sample(
    law: ScalingLaw,
    prepared: Any,
    all_priors: Mapping[str, Prior],
    lik: Any,
    reference: Mapping[str, float],
    codes: Any,
    structure: Any,
    sampler: str,
    settings: Mapping[str, Any],
    sampler_kwargs: Mapping[str, Any],
    t_start: float,
    pooling: Any = None,
) -> tuple[Any, dict[str, float], Any, Any, Any]:
    """The PyMC model and its draws (the part of :func:`fit` that runs inside PyMC, PyTensor
    and nutpie)."""
    from .sampling import backends, get_backend

    values = data_values(law, prepared, reference, lik, codes)
    # A structure compiled before in this process (a second fit, a batch's jobs) is found by
    # its definition, without building this fit's PyMC model (rebuilt on demand by
    # Fit.model); a law with a multi-start search needs the model for its starting points.
    from .sampling import native

    key = None
    if sampler == "nutpie" and native.enabled() and not law.multistart.n_starts:
        key = backends.definition_key(law, lik, all_priors, structure, pooling, values)
    compiled = backends.compiled_for_definition(key, law, lik)
    backend = get_backend(sampler)
    model = None
    t_build = time.perf_counter()
    timings: dict[str, float] = {"build": t_build - t_start}
    if compiled is None:
        model = build_model(
            law, prepared, all_priors, lik, reference, values, structure, pooling=pooling
        )
        t_build = time.perf_counter()
        timings["build"] = t_build - t_start
        compiled = backend.compile(model)
        backends.remember_definition(key, law, lik, compiled)
    timings["compile"] = time.perf_counter() - t_build
    options = dict(sampler_kwargs)
    if backend.name == "nutpie":
        if pooling is not None and "init" not in options:
            # a pooled fit's mode sits in the neck of its funnels (group spreads at zero): on
            # the 6 non-Llama isoFLOP experiments (2 x 300 draws) starting at the model's
            # initial point took 552 leapfrog steps per draw and R-hat 1.022, against 1006 and
            # 1.085 from the mode with its Laplace metric; centred (7 experiments, 4 x 500),
            # 15 steps and R-hat 1.011 against R-hat 1.098 from the mode (a skewed group)
            options["init"] = "point"
        # the multi-start search refines the mode: a fit started at the model's initial point
        # (init="point", pooled fits) has none, and its law parameters may be pooled names
        if (
            law.multistart.n_starts
            and "starts" not in options
            and options.get("init", "mode") == "mode"
        ):
            from .multistart import law_starts

            options["starts"] = law_starts(law, model, compiled, settings["seed"])
    ready = backend.set_data(compiled, values)
    trace = backend.sample(
        ready,
        draws=settings["draws"],
        tune=settings["tune"],
        chains=settings["chains"],
        random_seed=settings["seed"],
        progressbar=settings["progressbar"],
        **options,
    )
    timings.update(ready.timings)
    # the nutpie fast path's compiled log density serves the pseudo-forecast's mode fit
    return trace, timings, values, model, compiled if backend.name == "nutpie" else None


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


#: The pointwise ``log_likelihood`` group is computed on the first access of ``Fit.idata``
#: (LOO, WAIC, stacking, compare, save), not by ``fit``: a batch job reduced to its summary
#: and diagnostics never needs it (0.05 CPU-s of a 1.3 CPU-s 240-run fit, 8 MB of the 8.7 MB a
#: whole fit pickles to). Same numbers either way (tests/test_fit_overhead.py).
LAZY_LOG_LIKELIHOOD = True

TUNE_FROM_MODE = 500  # warm-up from the Laplace-whitened mode
TUNE_OTHERWISE = 1000
RUNS_PER_PARAMETER_FROM_MODE = 10  # fewer runs per law parameter: the priors shape the posterior


def default_tune(
    law: ScalingLaw,
    sampler: str,
    pooling: Any = None,
    options: Mapping[str, Any] | None = None,
    *,
    n_runs: int | None = None,
) -> int:
    """Warm-up iterations per chain when ``fit`` is not given ``tune``.

    500 (``TUNE_FROM_MODE``) when nutpie starts from the posterior mode with the Laplace
    approximation's metric — the default for a law without a multi-start declaration and
    without pooling: the chains start in the bulk, on an already round posterior, and the
    Chinchilla fits (240 and 245 runs, seeds 0-2) had the same step size, leapfrog steps per draw,
    R-hat (≤ 1.004) and bulk ESS (≥ 2300 of 4000) after 300, 500 or 1000 warm-up iterations.
    1000 (``TUNE_OTHERWISE``) otherwise: pooled fits (started at the initial point, the metric
    learnt from the identity), multi-start laws (multimodal surfaces), ``init="point"``,
    ``sampler="nutpie-compiled"`` and ``"pymc"``, and fits with fewer than
    ``RUNS_PER_PARAMETER_FROM_MODE`` (10) runs per law parameter (``n_runs``), whose posterior
    the priors shape and the Laplace metric fits less well: the 6-run card-prior fit of
    ``examples/small_data.py`` had max R-hat 1.046 after 500 warm-up iterations and 1.016 after
    1000.

    Examples
    --------
    >>> import bayescale as bs
    >>> default_tune(bs.get_law("chinchilla"), "nutpie"), default_tune(bs.get_law("bnsl"), "nutpie")
    (500, 1000)
    >>> default_tune(bs.get_law("chinchilla"), "nutpie", n_runs=6)
    1000
    """
    options = options or {}
    from_mode = (
        sampler == "nutpie"
        and pooling is None
        and not law.multistart.n_starts
        and options.get("init", "mode") == "mode"
        and options.get("starts") is None
        and (n_runs is None or n_runs >= RUNS_PER_PARAMETER_FROM_MODE * len(law.parameter_names))
    )
    return TUNE_FROM_MODE if from_mode else TUNE_OTHERWISE


def recordable_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The sampler options a fit records for its refits: plain numbers, flags and text;
    ``processes``/``cores`` (the draws do not depend on them) and arrays (``starts``) are not.

    Examples
    --------
    >>> recordable_options({"target_accept": 0.99, "processes": 2, "init": "point"})
    {'target_accept': 0.99, 'init': 'point'}
    """
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key in ("processes", "cores", "progressbar"):
            continue
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, bool | int | float | str):
            out[key] = value
    return out


def _sampling_failure(
    err: Exception, law: ScalingLaw, prepared: Any, columns: Mapping[str, str] | None
) -> Exception:
    """An error raised inside PyMC, PyTensor or nutpie while building or sampling, restated
    as a bayescale error: the law, the dependency's own first line, and what in the runs
    probably caused it (the data warnings, e.g. a loss given in percent, naming the column).
    Errors bayescale raised itself pass through unchanged."""
    frames = traceback.extract_tb(err.__traceback__)
    path = frames[-1].filename.replace(os.sep, "/") if frames else ""
    # a failure in a forked sampler process reaches the parent as sampling.py's RuntimeError
    worker = isinstance(err, RuntimeError) and str(err).startswith("sampling failed in a worker")
    if not worker and (
        "-packages/" not in path or path.startswith(_PACKAGE_DIR.replace(os.sep, "/"))
    ):
        return err  # raised by bayescale itself (or by the caller's own code): unchanged
    source = {k: (columns or {}).get(k, k) for k in prepared.frame.columns}
    hints = data_warnings(law, prepared.frame, source)
    where = "a sampler process" if worker else path.split("-packages/")[-1].split("/")[0]
    first = next((ln.strip() for ln in str(err).splitlines() if ln.strip()), type(err).__name__)
    unknown = re.search(r"Unknown settings attribute: (\w+)", str(err))
    cause = (
        "; a possible cause in the runs: " + " | ".join(hints)
        if hints
        else "; check the runs' units and the priors (bs.prior_predictive shows what they imply)"
    )
    if unknown:
        cause = (
            f"; {unknown.group(1)!r} is not an option of bs.fit or of the sampler (a misspelt "
            "keyword? bs.fit takes draws, tune, chains, random_seed, priors, ...)" + cause
        )
    return ValueError(
        f"fitting law {law.name!r} failed inside {where} ({type(err).__name__}: "
        f"{first[:200]}){cause}"
    )


def _start_problem(
    law: ScalingLaw,
    prepared: Any,
    all_priors: Mapping[str, Prior],
    lik: Any,
    reference: Mapping[str, float],
    codes: Any,
    structure: Any,
    pooling: Any,
    given: Mapping[str, Any] | None,
) -> str:
    """After a failed fit: the terms of the log density that are not finite at the model's
    starting point (e.g. the runs' likelihood under a fixed value no run can come from),
    named with the priors given, or "" when every term is finite (or the model cannot be
    built again)."""
    try:
        values = data_values(law, prepared, reference, lik, codes)
        model = build_model(
            law, prepared, all_priors, lik, reference, values, structure, pooling=pooling
        )
        with np.errstate(all="ignore"):
            terms = model.point_logps()
    except Exception:  # a diagnosis only; the failure is reported either way
        return ""
    bad = sorted(name for name, value in terms.items() if not np.isfinite(value))
    if not bad:
        return ""
    mine = {k: all_priors[k] for k in (given or {}) if k in all_priors}
    return (
        f"at the starting point the log density of {bad} is not finite"
        + (f" under the priors given ({', '.join(f'{k}={v!r}' for k, v in mine.items())})"
           if mine else "")
        + ": a fixed value or a prior outside what the runs allow makes every start fail"
    )  # fmt: skip


def fit(
    law: str | ScalingLaw,
    data: pd.DataFrame | Mapping[str, Any],
    *,
    priors: Mapping[str, Prior] | None = None,
    likelihood: str | Likelihood | None = None,
    draws: int = 1000,
    tune: int | None = None,
    chains: int = 4,
    random_seed: int | None = None,
    sampler: str | None = None,
    progressbar: bool = True,
    columns: Mapping[str, str] | None = None,
    warn: bool = True,
    groups: Any = None,
    drift: bool = True,
    scatter: bool = False,
    group: str | None = None,
    pool: Mapping[str, str] | str | None = None,
    **sampler_kwargs: Any,
) -> Fit:
    """Fit a scaling law to training runs with NUTS.

    Parameters
    ----------
    law : str or ScalingLaw
        A registered law's name (``"chinchilla"``) or a law object.
    data : DataFrame or mapping
        One row per run with the law's input columns and ``loss``.
    priors : mapping, optional
        Overrides of the default priors by parameter name (noise parameters ``sigma``/``nu``
        included). ``Prior.fixed(v)`` holds a parameter constant. Unknown names are an error.
    likelihood : str or Likelihood, optional
        Observation model. Loss laws: ``"studentt"`` (default; robust to outlying runs) or
        ``"normal"`` on log-loss. Default: the law's ``default_likelihood``.
    draws, tune, chains : int
        Posterior draws and warm-up iterations per chain, and the number of chains. ``tune``
        defaults to :func:`default_tune`: 500 when nutpie starts from the Laplace-whitened mode
        (the default path: no pooling, no multi-start declaration, ``init="mode"``), 1000
        otherwise (pooled fits, multi-start laws, ``init="point"``, the other samplers).
    random_seed : int, optional
        Seed for reproducible draws (recorded in the fit). With nutpie, chain ``c`` is seeded
        from ``(random_seed, c)`` (:func:`bayescale.sampling.chain_seed`): the draws depend on
        the data, law, priors, likelihood, settings and this seed only, not on the number of
        processes, the caches or other fits run before in the process.
    sampler : {"nutpie", "nutpie-compiled", "pymc"}, optional
        ``"nutpie"`` (default): nutpie with low-rank mass-matrix adaptation on the cached compiled
        model. ``"nutpie-compiled"``: nutpie's own compiled PyMC model (data swapped between
        fits of one structure; nutpie's initialisation). ``"pymc"``: PyMC's own NUTS. See
        :mod:`bayescale.sampling.backends`.
    progressbar : bool
        Show the sampler's progress bar.
    columns : mapping, optional
        Canonical name → column in ``data`` (e.g. ``{"N": "params", "loss": "val_loss"}``).
    warn : bool
        Emit a :class:`DiagnosticWarning` per problem (divergences, R-hat, ESS).
    groups : None, "auto", str or sequence of str
        Columns whose runs share a residual offset (structured noise, see
        :mod:`bayescale.structure`): a column name such as ``"N"`` (runs of one model size) or
        ``"experiment"``, a list of names, or ``"auto"`` (``N`` when model sizes repeat).
        Default None: independent noise — on the real splits of
        ``benchmarks/bench_calibration.py`` group offsets by N did not improve coverage over the
        drift alone, cost ≈ 5× the sampling time and sampled badly on outlier-heavy isoFLOP data;
        they do widen the parameters' posteriors (α's sd ×1.27 on Chinchilla), as the runs'
        correlation demands. Loss-type (positive) outputs only.
    drift : bool
        Add the extrapolation drift term (default True; loss-type outputs only): predictions
        beyond the fitted runs (in compute, size or tokens) widen by ``drift · √d`` at ``d``
        decades out (see :mod:`bayescale.structure`).
    scatter : bool
        Add the extrapolation scatter (default False; loss-type outputs only): beyond the
        fitted runs each predicted run also gets an independent term of sd ``scatter · √d``,
        prior median from the law's in-sample pseudo-forecast scatter (see
        :mod:`bayescale.structure`; measured and not made the default in stop 20).
    group : str, optional
        A column (e.g. ``"experiment"``) whose groups get their own values of the law's
        parameters (:mod:`bayescale.pooling`): many families in one hierarchical model.
    pool : str or mapping, optional
        With ``group``: per sampled law parameter ``"shared"``, ``"partial"`` (hierarchical,
        non-centred; the default), ``"partial_centred"`` (hierarchical, centred: for groups
        their data pin down, see ``bayescale.pooling.centring_ratio``), ``"partial_auto"``
        (each group's form chosen before sampling by a Laplace pilot,
        :mod:`bayescale.pooling_auto`) or ``"independent"``; one string applies to all. The
        priors of the between-group spreads are named ``<parameter>_tau``.
    **sampler_kwargs
        Passed to the sampler: e.g. ``target_accept`` (default 0.95 with ``"nutpie"`` and
        ``"nutpie-compiled"``) or ``processes`` (nutpie only; chains are split between forked
        processes, one per core by default; the draws do not depend on it).

    Returns
    -------
    Fit

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(n=40, random_seed=2)
    >>> f = bs.fit("chinchilla", runs, draws=200, tune=200, random_seed=0, progressbar=False,
    ...            warn=False)
    >>> f.idata["posterior"]["alpha"].shape
    (4, 200)
    """
    t_start = time.perf_counter()
    if sampler_kwargs or not (sampler is None or isinstance(sampler, str)):
        # a misspelt keyword (draw=, random_sed=, grup=) or a bad sampler option is refused
        # here, naming the closest known one, not after the sampler's worker fails
        check_shared_options({"sampler": sampler, **sampler_kwargs}, caller="fit", scope="")
    law = get_law(law)
    lik = get_likelihood(likelihood if likelihood is not None else law.default_likelihood)
    if law.likelihoods and lik.name not in law.likelihoods:
        raise ValueError(
            f"law {law.name!r} supports the likelihoods {list(law.likelihoods)}, not {lik.name!r}"
        )
    for name, value in (("draws", draws), ("tune", tune), ("chains", chains)):
        if name == "tune" and value is None:
            continue
        if (
            isinstance(value, bool | np.bool_)
            or not isinstance(value, int | np.integer)
            or value < (0 if name == "tune" else 1)
        ):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    for name, flag in (("drift", drift), ("scatter", scatter)):
        if not isinstance(flag, bool | np.bool_):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    check_flag(progressbar, "progressbar")
    check_flag(warn, "warn")
    if not (
        groups is None
        or groups is False
        or isinstance(groups, str)
        or (
            isinstance(groups, Sequence | tuple)
            and not isinstance(groups, bytes)
            and all(isinstance(g, str) for g in groups)
        )
    ):
        raise TypeError(
            f"groups must be None, 'auto', a column name or a list of column names, got {groups!r}"
        )
    loss_like = lik.output_domain == "positive"
    if not loss_like and groups not in (None, False, "auto", ()):
        raise ValueError(
            f"groups={groups!r}: group offsets act on a positive (loss-type) output; the "
            f"{lik.name!r} likelihood observes proportions or counts"
        )
    if not loss_like and scatter:
        raise ValueError(
            "scatter=True: the extrapolation scatter acts on a positive (loss-type) output; the "
            f"{lik.name!r} likelihood observes proportions or counts; drop scatter="
        )
    prepared = prepare_data(law, data, columns, likelihood=lik, warn=True)
    frame = _group_frame(prepared.frame, data, columns, groups)
    if group is not None:
        if not isinstance(group, str):
            raise TypeError(f"group must be a column name, got {group!r}")
        if group == law.output or group == (columns or {}).get(law.output):
            raise ValueError(
                f"group={group!r} is the law's output column; group by a label such as the "
                "experiment or corpus of each run"
            )
        named = (
            [groups]
            if isinstance(groups, str)
            else groups
            if isinstance(groups, list | tuple)
            else []
        )
        if group in named:
            raise ValueError(
                f"group={group!r} is also in groups=: one column either pools the law's "
                "parameters (group=) or shares a residual offset (groups=), not both; drop it "
                "from groups="
            )
        frame = _group_frame(frame, data, columns, group, "group")
    structure, codes = resolve_structure(
        groups if loss_like else None,
        bool(drift) and loss_like,
        frame,
        law.inputs,
        law.required_positive,
        scatter=bool(scatter) and loss_like,
    )
    if priors is not None and not isinstance(priors, Mapping):
        merge_priors({}, priors)  # the one error for priors that are not a mapping
    law_priors = merge_priors(
        law.default_priors, {k: v for k, v in (priors or {}).items() if k in law.parameter_names}
    )
    # priors whose mass lies where the law overflows at these runs are refused before the
    # model is built (prior_checks.check_prior_mass), once per fit, pooled or not
    check_prior_mass(law, prepared.inputs, law_priors)
    pooling, pool_codes = resolve_pooling(law, group, pool, frame, law_priors)
    defaults = {**law.default_priors, **lik.noise_priors, **structure.default_priors()}
    if pooling is not None:
        defaults.update(pooling.default_priors(law_priors))
        codes = {**codes, **pool_codes}
    all_priors = merge_priors(defaults, priors)
    vector = {par.name for par in law.parameters if par.shape}
    for name in priors or {}:  # every scalar parameter given a prior: numbers, no vectors
        if name in vector or name not in all_priors:
            continue
        sizes = {k: np.size(v) for k, v in all_priors[name].params.items()}
        if any(n > 1 for n in sizes.values()):
            raise ValueError(
                f"the prior of {name!r} has vector arguments {sizes} but {name!r} is a scalar "
                "parameter: give numbers, e.g. Prior('Normal', mu=0.3, sigma=0.1)"
            )
    for par in law.parameters:
        if par.shape and all_priors[par.name].is_fixed:
            raise ValueError(
                f"cannot fix the vector parameter {par.name!r} (shape {par.shape}) with "
                "Prior.fixed; give it a narrow prior instead, e.g. "
                "Prior('Normal', mu=..., sigma=1e-3) (the law gives it its shape)"
            )
    n_law = sum(not all_priors[n].is_fixed for n in law.parameter_names) + sum(
        not all_priors[n].is_fixed for n in lik.noise_priors
    )
    if prepared.n < n_law:
        improper = sorted(n for n, p in all_priors.items() if p.dist in IMPROPER)
        if improper:
            raise ValueError(
                f"{prepared.n} runs for {n_law} free parameters of {law.name!r}, and the priors "
                f"of {improper} are improper: give them proper priors (e.g. from "
                "bs.load_card(...).as_priors()) or add runs"
            )
        warnings.warn(
            f"{law.name}: {prepared.n} runs for {n_law} free parameters; the priors carry "
            "the rest, so the posterior is only as good as they are",
            SmallDataWarning,
            stacklevel=2,
        )
    for message in law.check_data(prepared.inputs):
        warnings.warn(f"{law.name}: {message}", IdentifiabilityWarning, stacklevel=2)
    reference = law.compute_reference(prepared.inputs)
    seed = _resolve_seed(random_seed)
    sampler = (sampler or "nutpie").lower()
    if sampler not in ("nutpie", "nutpie-compiled", "pymc"):
        raise ValueError(f"sampler must be 'nutpie', 'nutpie-compiled' or 'pymc', got {sampler!r}")
    tune_given = {"tune": int(tune)} if tune is not None else {}  # a default is re-chosen per refit
    if tune is None:
        tune = default_tune(law, sampler, pooling, sampler_kwargs, n_runs=prepared.n)
    if sampler.startswith("nutpie") and tune == 0:
        raise ValueError(
            "tune=0: nutpie needs at least one warm-up iteration (tune >= 1); "
            "sampler='pymc' accepts tune=0"
        )

    t_pilot = time.perf_counter()
    if pooling is not None and pooling.auto:  # pool="partial_auto": the Laplace pilot
        from .pooling_auto import choose_centring

        pooling, _ = choose_centring(
            law, prepared, all_priors, lik, reference, codes, structure, pooling
        )
    t_pilot = time.perf_counter() - t_pilot
    try:
        trace, timings, values, model, compiled = _build_and_sample(
            law, prepared, all_priors, lik, reference, codes, structure, sampler,
            dict(draws=draws, tune=tune, chains=chains, seed=seed, progressbar=progressbar),
            sampler_kwargs, t_start, pooling,
        )  # fmt: skip
    except BaseException as err:  # nutpie's Rust panics (PanicException) are BaseExceptions
        if not isinstance(err, Exception) and type(err).__name__ != "PanicException":
            raise  # KeyboardInterrupt, SystemExit
        failure = _sampling_failure(err, law, prepared, columns)
        if failure is err:
            raise
        start = _start_problem(
            law, prepared, all_priors, lik, reference, codes, structure, pooling, priors
        )
        if start:
            failure = ValueError(f"{failure}; {start}")
        raise failure from err
    law_sampled = (
        pooling.sampled_names(law.parameter_names) if pooling else list(law.parameter_names)
    )
    sampled = [*law_sampled, *lik.noise_priors, *structure.parameter_names()]
    post = trace["posterior"].to_dataset()
    post = post[[n for n in sampled if n in post]]
    adapt = [
        name
        for name, on in (("drift", structure.drift), ("scatter", structure.scatter))
        if on and name not in (priors or {})
    ]
    if adapt and pooling is None:
        # the prior medians of drift and scatter from the law's in-sample pseudo-forecast
        # (structure.py); a prior given by the user stands
        mode_fit = law_mode_fit(law, model, values, reference, all_priors, compiled)
        obs_log = values[f"{observed_name(law, lik)}_data"]
        given = structure
        structure = structure.adapt_drift(prepared.inputs, obs_log, mode_fit, n_law + 2)
        if "drift" not in adapt:
            structure = replace(structure, drift_scale=given.drift_scale)
        adapted = structure.default_priors()
        all_priors = {**all_priors, **{name: adapted[name] for name in adapt}}
    post = structure.with_prior_only(post, all_priors, seed)
    stats = clean_sample_stats(trace["sample_stats"].to_dataset())
    attrs = {
        "bayescale_law": law.name,
        "bayescale_law_version": law.version,
        "bayescale_likelihood": lik.name,
        "bayescale_law_options": json.dumps(law.options, sort_keys=True),
        "bayescale_sampler": sampler,
        "bayescale_random_seed": seed,
        "bayescale_structure": json.dumps(structure.to_dict()),
        # what a refit (backtest, next_runs, a stack's members) repeats: the warm-up and the
        # sampler's options given (target_accept, maxdepth, init, ...), not processes; a
        # default warm-up is not recorded: default_tune depends on the runs (fewer than 10 per
        # parameter: 1000), so a backtest's early cutoff chooses its own
        "bayescale_sampler_options": json.dumps(
            {**tune_given, **recordable_options(sampler_kwargs)}, sort_keys=True
        ),
    }
    if pooling is not None:
        attrs["bayescale_pooling"] = json.dumps(pooling.to_dict())
    if "warmup_sample_stats" in trace and "n_steps" in trace["warmup_sample_stats"]:
        attrs["bayescale_tune_steps"] = int(trace["warmup_sample_stats"]["n_steps"].sum())
    observed = values[f"{observed_name(law, lik)}_data"]
    idata = assemble_datatree(
        law,
        lik,
        all_priors,
        prepared,
        reference,
        post,
        stats,
        attrs,
        observed=observed,
        structure=structure,
        codes=codes,
        pooling=pooling,
        log_likelihood=not LAZY_LOG_LIKELIHOOD,
    )
    if pooling is not None and pooling.auto:
        timings["pilot"] = t_pilot
    timings["total"] = time.perf_counter() - t_start
    result = Fit(
        law,
        lik,
        all_priors,
        frame,
        reference,
        idata,
        timings=timings,
        sampler=sampler,
        random_seed=seed,
        model=model,
        structure=structure,
        pooling=pooling,
    )
    if LAZY_LOG_LIKELIHOOD:
        result._defer_log_likelihood(
            prepared.inputs, np.asarray(observed, dtype=float), prepared.extra, codes,
            np.asarray(prepared.frame.index),
        )  # fmt: skip
    if warn:
        result._warn_diagnostics()
    return result
