"""Scaling laws as data: a name, a version, inputs, parameters with priors and one expression.

A :class:`ScalingLaw` carries everything needed to fit it and to analyse its posterior:

* ``parameters`` — the quantities NUTS samples, each with a default :class:`~bayescale.Prior`.
  They are defined around *reference scales* computed from the data (for Chinchilla, the mean
  log N and log D), which keeps the posterior close to round and uncorrelated.
* ``natural`` — maps sampled parameters to the published-style ones (A, B, E, α, β).
* ``expression`` — the law itself, written once against an array namespace ``xp``, in terms of
  the natural parameters. It returns the log of the expected output. PyMC evaluates it with
  pytensor when fitting; the analysis layer evaluates it with numpy on posterior draws.
* ``derived`` — further quantities reported with the posterior (e.g. allocation exponents).
* ``optimum`` — optional closed-form compute-optimal allocation under C = 6ND.

And what makes the law complete as data, so that every law-level test loops over
:func:`list_laws` with no hand-kept table:

* ``sampled_from_natural`` — the inverse of ``natural``: published-style parameters and reference
  scales to the sampled ones (used to pin posteriors at known values and to start searches).
* ``floor`` — the name of the natural parameter no budget can beat (``"E"``), or None.
* ``example_design(n, seed)`` and ``example_truth`` — runs at which the law is identified and
  natural parameters to simulate them from; ``example_noise`` the noise values of the default
  likelihood. Recovery, save/load and evaluator tests are generated from these.
* ``multistart`` — an optional :class:`MultiStart`: points and a Sobol box of sampled
  parameters from which a mode search starts before NUTS (for multimodal posteriors).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._api import deprecated_args
from .priors import Prior
from .xp import ArrayNamespace, numpy_ns

__all__ = [
    "IdentifiabilityWarning",
    "MultiStart",
    "Parameter",
    "ScalingLaw",
    "get_law",
    "list_laws",
    "register_law",
    "register_law_family",
]


class IdentifiabilityWarning(UserWarning):
    """Warned by :func:`~bayescale.fit` when the data cannot separate some of a law's parameters
    (for example exponents of collinear inputs)."""


@dataclass(frozen=True)
class Parameter:
    """A sampled parameter of a law: name, default prior and a one-line meaning.

    Examples
    --------
    >>> from bayescale import Parameter, Prior
    >>> Parameter("alpha", Prior("LogNormal", mu=-1.2, sigma=0.7), "model-size exponent").name
    'alpha'
    """

    name: str
    prior: Prior
    description: str = ""
    shape: tuple[int, ...] = ()


@dataclass(frozen=True)
class MultiStart:
    """A multi-start mode search declared as data: where L-BFGS starts before NUTS.

    ``points`` are partial points of the *sampled* parameters (a parameter not named keeps the
    model's initial point; a vector parameter given a number gets it in every entry); ``sobol``
    more starts are a scrambled Sobol sample of ``box`` (``name -> (low, high)`` in sampled
    units), scrambled by a generator drawn from the fit's ``random_seed`` alone
    (:func:`bayescale.multistart.multistart_rng`). A short L-BFGS runs from each start and
    from the default start, the best mode is polished and every chain starts there
    (:func:`bayescale.sampling.sample_nutpie`). Iterating yields ``points``.

    Examples
    --------
    >>> from bayescale import MultiStart
    >>> ms = MultiStart(points=({"d_loc": 0.0},), sobol=16, box={"d_loc": (-1.5, 1.5)})
    >>> ms.n_starts
    17
    """

    points: tuple[dict[str, Any], ...] = ()
    sobol: int = 0
    box: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.points, Mapping) or not all(isinstance(p, Mapping) for p in self.points):
            raise TypeError(
                f"MultiStart: points must be a tuple of mappings name → value, got {self.points!r}"
            )
        object.__setattr__(self, "points", tuple(dict(p) for p in self.points))
        if isinstance(self.sobol, bool) or not isinstance(self.sobol, int) or self.sobol < 0:
            raise ValueError(
                f"MultiStart: sobol must be a non-negative integer, got {self.sobol!r}"
            )
        if self.sobol and not self.box:
            raise ValueError("MultiStart: sobol starts need a box of parameter ranges")
        for name, bounds in self.box.items():
            lo, hi = (float(v) for v in bounds)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise ValueError(f"MultiStart: box[{name!r}] must be (low, high), got {bounds!r}")

    @property
    def n_starts(self) -> int:
        """Number of declared starts (points + Sobol points)."""
        return len(self.points) + self.sobol

    @property
    def names(self) -> set[str]:
        """Every sampled parameter the declaration names."""
        return {n for p in self.points for n in p} | set(self.box)

    def __iter__(self) -> Any:
        return iter(self.points)

    def __len__(self) -> int:
        return self.n_starts


def _identity_natural(xp: ArrayNamespace, p: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    return dict(p)


def _no_reference(inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
    return {}


def _no_derived(xp: ArrayNamespace, q: Mapping[str, Any]) -> dict:
    return {}


def _identity_inverse(xp: ArrayNamespace, q: Mapping[str, Any], ref: Mapping[str, float]) -> dict:
    return dict(q)


@dataclass(frozen=True)
class ScalingLaw:
    """A scaling law as data.

    Parameters
    ----------
    name, version : str
        Registry key. A saved fit records both; loading refuses a different version.
    inputs : tuple of str
        Data columns the law reads (e.g. ``("N", "D")``).
    parameters : tuple of Parameter
        Sampled parameters with default priors.
    expression : callable
        ``expression(xp, inputs, q) -> log of the expected output``, written with the functions of
        :class:`~bayescale.xp.ArrayNamespace` only, in terms of the natural parameters ``q``.
    natural : callable, optional
        ``natural(xp, p, ref) -> q``: sampled parameters ``p`` and reference scales ``ref`` to
        the natural (published-style) parameters. Defaults to the identity.
    reference : callable, optional
        ``reference(inputs) -> dict`` of reference scales computed from the data at build time.
    derived : callable, optional
        ``derived(xp, q) -> dict`` of further reported quantities.
    natural_names : tuple of str
        Names of the natural parameters, in display order (a card provides these).
    optimum : callable, optional
        ``optimum(xp, q, C) -> {"N": ..., "D": ...}``, the closed-form compute-optimal allocation
        under C = 6ND.
    output : str
        Name of the modelled column (``"loss"``).
    likelihoods, default_likelihood : tuple of str, str
        Observation models the law can be fitted with, and the default.
    options : dict
        The options a law family was built with (see :func:`register_law_family`); saved with a
        fit so that loading rebuilds the same law.
    check : callable, optional
        ``check(inputs) -> list of str``: inspects the validated input columns before a fit and
        returns one message per identifiability problem (e.g. collinear inputs);
        :func:`~bayescale.fit` emits each as an :class:`IdentifiabilityWarning`.
    description, citation : str
        Shown by :func:`list_laws` and in reports.
    sampled_from_natural : callable, optional
        ``sampled_from_natural(xp, q, ref) -> p``, the inverse of ``natural``: natural parameters
        and reference scales to the sampled parameters (natural parameters fixed by the
        reference scales alone, such as a normaliser, are ignored). Required when ``natural`` is
        given; defaults to the identity otherwise.
    floor : str, optional
        Name of the natural parameter that is the output no budget can beat (``"E"``), or None
        when the law has none.
    example_design : callable, optional
        ``example_design(n, seed) -> DataFrame``: ``n`` runs' input columns (and any column the
        default likelihood needs) at which the law's parameters are identified.
    example_truth : dict
        Natural parameters to simulate :meth:`example_runs` from (consistent with the reference
        scales of ``example_design``).
    example_noise : dict, optional
        Noise values of the default likelihood for :meth:`example_runs` (default
        ``{"sigma": 0.01, "nu": 10.0}`` for the log-output likelihoods).
    example_size : int
        Number of runs of :meth:`example_runs` (default 60).
    multistart : MultiStart or tuple of dict
        Optional multi-start mode search before NUTS (:class:`MultiStart`; a tuple of dicts is
        taken as its ``points``): for posteriors with several modes, e.g. break positions spread
        over the data.
    pool : dict
        Default pooling mode of sampled parameters in a fit with ``group=``
        (:mod:`bayescale.pooling`): ``"shared"``, ``"partial"`` or ``"independent"``; a
        parameter not named is ``"partial"``.

    Examples
    --------
    A one-input power law with a floor, declared in a notebook:

    >>> import bayescale as bs
    >>> law = bs.ScalingLaw(
    ...     name="my_power_law", version="1", inputs=("N",),
    ...     parameters=(
    ...         bs.Parameter("log_E", bs.Prior("Normal", mu=0.5, sigma=1.0)),
    ...         bs.Parameter("log_A", bs.Prior("Normal", mu=2.0, sigma=3.0)),
    ...         bs.Parameter("alpha", bs.Prior("LogNormal", mu=-1.2, sigma=0.7)),
    ...     ),
    ...     expression=lambda xp, x, q: xp.logaddexp(
    ...         q["log_E"], q["log_A"] - q["alpha"] * xp.log(x["N"])),
    ... )
    >>> round(float(law.evaluate({"log_E": 0.5, "log_A": 2.0, "alpha": 0.3}, N=1e9)), 4)
    1.6635
    """

    name: str
    version: str
    inputs: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    expression: Callable[..., Any]
    natural: Callable[..., dict] = _identity_natural
    reference: Callable[[Mapping[str, np.ndarray]], dict[str, float]] = _no_reference
    derived: Callable[..., dict] = _no_derived
    natural_names: tuple[str, ...] = ()
    optimum: Callable[..., dict] | None = None
    output: str = "loss"
    description: str = ""
    citation: str = ""
    positive_inputs: tuple[str, ...] | None = None
    notes: dict[str, str] = field(default_factory=dict)
    likelihoods: tuple[str, ...] = ("studentt", "normal")
    default_likelihood: str = "studentt"
    options: dict[str, Any] = field(default_factory=dict)
    check: Callable[[Mapping[str, np.ndarray]], list[str]] | None = None
    sampled_from_natural: Callable[..., dict] | None = None
    floor: str | None = None
    example_design: Callable[[int, int], pd.DataFrame] | None = None
    example_truth: dict[str, Any] = field(default_factory=dict)
    example_noise: dict[str, float] | None = None
    example_size: int = 60
    multistart: MultiStart = field(default_factory=lambda: MultiStart())
    pool: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError(f"law {self.name!r}: parameter names repeat: {names}")
        if not self.inputs:
            raise ValueError(f"law {self.name!r} needs at least one input column")
        if not self.natural_names:
            object.__setattr__(self, "natural_names", tuple(names))
        if not isinstance(self.multistart, MultiStart):
            object.__setattr__(self, "multistart", MultiStart(points=tuple(self.multistart)))
        unknown_start = sorted(self.multistart.names - set(names))
        if unknown_start:
            raise ValueError(
                f"law {self.name!r}: multistart names unknown parameters {unknown_start}"
            )
        if self.sampled_from_natural is None and self.natural is _identity_natural:
            object.__setattr__(self, "sampled_from_natural", _identity_inverse)
        if self.floor is not None and self.floor not in self.natural_names:
            raise ValueError(
                f"law {self.name!r}: floor {self.floor!r} is not a natural parameter "
                f"({', '.join(self.natural_names)})"
            )
        unknown = sorted(set(self.pool) - set(names))
        if unknown:
            raise ValueError(f"law {self.name!r}: pool names unknown parameters {unknown}")
        unknown = sorted(set(self.example_truth) - set(self.natural_names))
        if unknown:
            raise ValueError(f"law {self.name!r}: example_truth names unknown parameters {unknown}")

    # ------------------------------------------------------------------ parameters
    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the sampled parameters."""
        return tuple(p.name for p in self.parameters)

    @property
    def default_priors(self) -> dict[str, Prior]:
        """Default prior of each sampled parameter, by name.

        Examples
        --------
        >>> import bayescale as bs
        >>> sorted(bs.get_law("chinchilla").default_priors)
        ['alpha', 'beta', 'log_A_ref', 'log_B_ref', 'log_E']
        """
        return {p.name: p.prior for p in self.parameters}

    @property
    def key(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @property
    def required_positive(self) -> tuple[str, ...]:
        """Input columns that must be strictly positive (all inputs unless stated)."""
        return self.inputs if self.positive_inputs is None else self.positive_inputs

    # ------------------------------------------------------------------ evaluation
    def natural_params(
        self, p: Mapping[str, Any], ref: Mapping[str, float], xp: ArrayNamespace = numpy_ns
    ) -> dict[str, Any]:
        """Natural (published-style) parameters from sampled ones and the reference scales."""
        return self.natural(xp, p, ref)

    def sampled_params(
        self, q: Mapping[str, Any], ref: Mapping[str, float], xp: ArrayNamespace = numpy_ns
    ) -> dict[str, Any]:
        """Sampled parameters for natural ones ``q`` at reference scales ``ref`` (the inverse of
        :meth:`natural_params`).

        Examples
        --------
        >>> import bayescale as bs
        >>> law = bs.get_law("chinchilla")
        >>> ref = {"logN_ref": 20.0, "logD_ref": 23.0}
        >>> p = law.sampled_params(bs.testing.BESIROGLU_TRUTH, ref)
        >>> round(float(law.natural_params(p, ref)["A"]), 6)
        482.01
        """
        if self.sampled_from_natural is None:
            raise ValueError(
                f"law {self.name!r} declares no inverse map (sampled_from_natural); "
                "give one to pin posteriors at natural values"
            )
        if xp is numpy_ns:
            q = {k: np.asarray(v, dtype=float) for k, v in q.items()}
        p = self.sampled_from_natural(xp, q, ref)
        return {name: p[name] for name in self.parameter_names}

    def example_runs(self, n: int | None = None, *, random_seed: int = 0) -> pd.DataFrame:
        """Runs simulated from ``example_truth`` at ``example_design(n, seed)`` with the default
        likelihood and ``example_noise``: data the law is identified on, for tests and demos.

        Examples
        --------
        >>> import bayescale as bs
        >>> runs = bs.get_law("kaplan").example_runs(20, random_seed=1)
        >>> list(runs.columns), len(runs)
        (['N', 'D', 'C', 'loss'], 20)
        """
        if self.example_design is None or not self.example_truth:
            raise ValueError(f"law {self.name!r} declares no example design and truth")
        from .testing import simulate

        n = self.example_size if n is None else int(n)
        design = self.example_design(n, random_seed)
        noise = self.example_noise
        if noise is None and self.default_likelihood in ("studentt", "normal"):
            noise = {"sigma": 0.01, "nu": 10.0}
        return simulate(
            self,
            self.example_truth,
            design,
            noise=noise,
            likelihood=self.default_likelihood,
            random_seed=(random_seed + 1) % 2**64,  # every seed below 2**64 is valid
        )

    def log_mean(self, q: Mapping[str, Any], xp: ArrayNamespace = numpy_ns, **inputs: Any) -> Any:
        """Log of the law's expected output at ``inputs`` for natural parameters ``q``."""
        missing = [k for k in self.inputs if k not in inputs]
        if missing:
            raise ValueError(
                f"law {self.name!r} needs inputs {list(self.inputs)}; missing {missing}"
            )
        if xp is numpy_ns:
            inputs = {k: np.asarray(v, dtype=float) for k, v in inputs.items()}
            q = {k: np.asarray(v, dtype=float) for k, v in q.items()}
        return self.expression(xp, inputs, q)

    def evaluate(self, params: Mapping[str, Any], **inputs: Any) -> np.ndarray:
        """Evaluate the law with numpy for natural parameters ``params`` (e.g. a card's).

        Arrays broadcast against each other, so posterior draws of shape ``(S, 1)`` and inputs of
        shape ``(M,)`` give an ``(S, M)`` result.

        Examples
        --------
        >>> import bayescale as bs
        >>> law = bs.get_law("chinchilla")
        >>> round(float(law.evaluate(bs.load_card("hoffmann2022").params, N=70e9, D=1.4e12)), 4)
        1.9366
        """
        return np.exp(self.log_mean(params, numpy_ns, **inputs))

    def compute_reference(self, inputs: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Reference scales of this law for the given input columns."""
        return {k: float(v) for k, v in self.reference(inputs).items()}

    def check_data(self, inputs: Mapping[str, np.ndarray]) -> list[str]:
        """Identifiability problems of the law on these input columns (empty when none).

        Examples
        --------
        >>> import bayescale as bs
        >>> bs.get_law("chinchilla").check_data({"N": [1e8, 1e9], "D": [1e9, 1e10]})
        []
        """
        if self.check is None:
            return []
        return list(self.check({k: np.asarray(v, dtype=float) for k, v in inputs.items()}))

    def derived_params(self, q: Mapping[str, Any], xp: ArrayNamespace = numpy_ns) -> dict:
        """The law's derived quantities (e.g. allocation exponents) from natural parameters."""
        return self.derived(xp, q)

    def describe(self) -> str:
        """A short multi-line description: inputs, parameters with priors, citation."""
        lines = [f"{self.key}: {self.description}", f"  inputs: {', '.join(self.inputs)}"]
        for p in self.parameters:
            lines.append(f"  {p.name:>10} ~ {p.prior!r}  {p.description}")
        if self.citation:
            lines.append(f"  source: {self.citation}")
        return "\n".join(lines)


_REGISTRY: dict[str, dict[str, ScalingLaw]] = {}
_FAMILIES: dict[str, dict[str, Callable[..., ScalingLaw]]] = {}
_FAMILY_CACHE: dict[tuple[str, str, str], ScalingLaw] = {}


def register_law_family(
    name: str, version: str, build: Callable[..., ScalingLaw]
) -> Callable[..., ScalingLaw]:
    """Register a family of laws built from options, e.g. a power law in a chosen input.

    ``build(**options)`` must return a :class:`ScalingLaw` with this ``name`` and ``version``.
    ``get_law(name, **options)`` builds (and caches) the member; a saved fit records the options
    and :meth:`Fit.load` rebuilds the same member.

    Examples
    --------
    >>> import bayescale as bs
    >>> def build(x="N"):
    ...     import bayescale as bs
    ...     return bs.ScalingLaw(
    ...         name="doc_family", version="1", inputs=(x,), options={"x": x},
    ...         parameters=(bs.Parameter("alpha", bs.Prior("HalfNormal", sigma=1.0)),),
    ...         expression=lambda xp, inp, q: -q["alpha"] * xp.log(inp[x]))
    >>> _ = bs.register_law_family("doc_family", "1", build)
    >>> bs.get_law("doc_family", x="C").inputs
    ('C',)
    """
    if name in _REGISTRY:
        raise ValueError(f"{name!r} is already registered as a single law")
    _FAMILIES.setdefault(name, {})[version] = build
    return build


def register_law(law: ScalingLaw, *, overwrite: bool = False) -> ScalingLaw:
    """Add ``law`` to the registry so that ``fit``, ``get_law`` and ``Fit.load`` find it.

    Registering the same name and version again replaces it only with ``overwrite=True`` (or when
    the new definition is the same object), so a saved fit always meets the law it was made with.

    Examples
    --------
    >>> import bayescale as bs
    >>> law = bs.get_law("chinchilla")
    >>> bs.register_law(law) is law
    True
    """
    if not isinstance(law, ScalingLaw):
        raise TypeError(f"register_law takes a ScalingLaw, got {type(law).__name__}: {law!r}")
    if law.name in _FAMILIES:
        raise ValueError(f"{law.name!r} is registered as a law family; use register_law_family")
    versions = _REGISTRY.setdefault(law.name, {})
    old = versions.get(law.version)
    if old is not None and old is not law and not overwrite:
        raise ValueError(
            f"law {law.key} is already registered; pass overwrite=True to replace it "
            "or give the new definition another version"
        )
    versions[law.version] = law
    return law


@deprecated_args(positional=("version",))
def get_law(name: str | ScalingLaw, *, version: str | None = None, **options: Any) -> ScalingLaw:
    """Look up a registered law by name (newest version unless ``version`` is given).

    For a law family (see :func:`register_law_family`) ``options`` select the member.

    Examples
    --------
    >>> import bayescale as bs
    >>> bs.get_law("chinchilla").inputs
    ('N', 'D')
    """
    if isinstance(name, ScalingLaw):
        if options:
            raise ValueError("options are only accepted with a law family's name")
        return name
    from . import laws  # noqa: F401  (registers the built-in laws)

    if not isinstance(name, str):
        raise TypeError(
            f"law must be a registered law's name (e.g. 'chinchilla') or a ScalingLaw, got "
            f"{name!r}; bs.list_laws() lists them"
        )
    if name in _FAMILIES:
        builders = _FAMILIES[name]
        if version is None:
            version = max(builders, key=_version_key)
        if version not in builders:
            raise ValueError(
                f"law {name!r} has no version {version!r}; registered versions: "
                f"{', '.join(sorted(builders, key=_version_key))}"
            )
        import json

        key = (name, version, json.dumps(options, sort_keys=True, default=str))
        if key not in _FAMILY_CACHE:
            try:
                law = builders[version](**options)
            except TypeError as err:
                raise ValueError(f"law {name!r}: bad options {options}: {err}") from None
            if (law.name, law.version) != (name, version):
                raise ValueError(f"family {name!r} built a law named {law.key}")
            # one object per member, however its options were spelled (defaults included)
            full = (name, version, json.dumps(law.options, sort_keys=True, default=str))
            _FAMILY_CACHE[key] = _FAMILY_CACHE.setdefault(full, law)
        return _FAMILY_CACHE[key]
    if options:
        raise ValueError(f"law {name!r} takes no options (got {sorted(options)})")
    versions = _REGISTRY.get(name)
    if not versions:
        known = sorted({*_REGISTRY, *_FAMILIES})
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(
            f"unknown law {name!r}{hint}; registered laws: {', '.join(known)}. "
            "A user-defined law must be registered with bayescale.register_law first."
        )
    if version is None:
        return versions[max(versions, key=_version_key)]
    if version not in versions:
        raise ValueError(
            f"law {name!r} has no version {version!r}; registered versions: "
            f"{', '.join(sorted(versions, key=_version_key))}"
        )
    return versions[version]


def _version_key(v: str) -> tuple:
    return tuple(int(x) if x.isdigit() else x for x in v.replace("-", ".").split("."))


def list_laws() -> pd.DataFrame:
    """All registered laws: name, version, inputs, parameters, closed-form optimum, floor,
    citation. Law families are listed with their default options.

    Examples
    --------
    >>> import bayescale as bs
    >>> "chinchilla" in set(bs.list_laws()["name"])
    True
    """
    from . import laws  # noqa: F401

    rows = []
    entries = {name: dict(v) for name, v in _REGISTRY.items()}
    for name, builders in _FAMILIES.items():
        entries[name] = {ver: get_law(name, version=ver) for ver in builders}
    for name in sorted(entries):
        for version, law in sorted(entries[name].items(), key=lambda kv: _version_key(kv[0])):
            rows.append(
                {
                    "name": name,
                    "version": version,
                    "inputs": ", ".join(law.inputs),
                    "parameters": ", ".join(law.parameter_names),
                    "closed_form_optimum": law.optimum is not None,
                    "floor": law.floor,
                    "options": ", ".join(f"{k}={v!r}" for k, v in law.options.items()),
                    "description": law.description,
                    "citation": law.citation,
                }
            )
    return pd.DataFrame(rows)
