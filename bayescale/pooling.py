"""Many families in one model: per-group law parameters, shared, partially pooled or independent.

Real scaling data come in families (pretraining corpora, model families, tasks). A fit with
``bs.fit(law, runs, group="experiment", pool={...})`` gives every group of the column
``experiment`` its own values of the law's parameters, one of three ways per sampled
(reference-scale) parameter ``θ``:

* ``"shared"``: one value for every group (the ordinary fit);
* ``"partial"``: hierarchical. Group values are drawn from a population, non-centred so NUTS
  sees a round posterior: ``θ[g] = h⁻¹(h(θ_mu) + θ_tau · θ_z[g])`` with ``θ_z[g] ~ Normal(0, 1)``.
  ``θ_mu`` (the population's typical value) has the parameter's own default prior; ``h`` maps the
  prior's support to the real line (identity for a real parameter, ``log`` for a positive one
  such as an exponent, ``logit`` for one in (0, 1)), so ``θ_tau`` is the between-group spread on
  that scale (for an exponent: a relative spread, 0.1 ≈ 10%). ``θ_tau ~ HalfNormal(s)`` with
  ``s`` = :data:`TAU_FRACTION` × the prior's own spread on the same scale (its ``sigma`` for a
  Normal or LogNormal prior, :data:`DEFAULT_TAU_SCALE` otherwise): groups are a priori closer to
  each other than the prior is wide, and the data decide how close. Override with
  ``priors={"alpha_tau": Prior("HalfNormal", sigma=0.05)}``.
* ``"independent"``: one value per group, each with the parameter's default prior; a new group
  learns nothing from the others (its values are prior draws).

A partial parameter is sampled one of two ways, the same model in other coordinates
(Betancourt & Girolami 2013, "Hamiltonian Monte Carlo for hierarchical models"; Stan User's
Guide, "Reparameterization"). *Non-centred* (above; ``"partial"``, the default) suits groups
their data say little about, or a spread ``θ_tau`` that may be small: ``z`` then follows its
prior and NUTS sees no funnel. *Centred* (``"partial_centred"``), ``u[g] = h(θ[g]) ~
Normal(h(θ_mu), θ_tau)`` sampled directly, suits groups their data pin down well inside the
spread between groups: non-centred, each ``z[g]`` is then a thin ridge of width (data sd) /
``θ_tau``, curved with ``θ_mu`` and ``θ_tau`` — a funnel the other way. ``Pooling.centred``
names the groups sampled centred per parameter (a mixed form is possible; the ``pool`` options
centre every group or none). :func:`centring_ratio` of a fit reports, per parameter, the
groups' posterior sd over ``θ_tau``: well below 1, centre. Measured (4 chains × 500 + 500
warm-up unless said):

* the 7 isoFLOP experiments of ``examples/hierarchical_isoflops.py`` (85-176 runs each; ratio
  0.06-0.17): non-centred, mean tree depth 8.1 (416 leapfrog steps a draw), R-hat 1.061, min
  bulk ESS 76, 240 CPU-seconds; centred, depth 4.0 (15 steps), R-hat 1.011, ESS 702, 20
  CPU-seconds (with 1000 draws: R-hat 1.004, ESS 1654, 25 s); 0 divergences either way;
* the simulated population of ``tests/test_pooling.py`` (small true spreads, ``tau`` 0.05-0.15;
  2 chains): five groups of 60 runs, centred 32 divergences, non-centred none (four of 60 and
  one of 3: 0 against 134 when the four are centred); four of 30 and one of 3: non-centred 0
  divergences, the four centred 8. A rule on run counts alone therefore cannot choose: how
  many runs pin a group depends on the noise and on ``tau``, which only the fit knows — so
  the default stays non-centred, and :func:`centring_ratio` says when to switch.
  ``"partial_auto"`` measures the same ratio before sampling with a Laplace pilot and centres
  the groups where it is small (:mod:`bayescale.pooling_auto`; an option, measured there).

Either way the posterior records ``θ_z`` (for a centred group ``(u − h(θ_mu)) / θ_tau``), so
analysis, new groups and saved files do not depend on the choice; the choice is saved with the
fit (``centred``; fits saved before it are non-centred).

The default for every scalar parameter is ``"partial"``: whatever the groups share (an exponent,
the scale of a term at the data's reference size) is learnt from all of them, and a group
that differs gets its own value once ``tau`` grows; a law may declare other defaults as data
(``ScalingLaw.pool``). Fixed parameters (``Prior.fixed``) and vector parameters are always
shared.

Groups are a :class:`~bayescale.structure.Grouping` — the same class as the structured noise's
group offsets (``groups=``): one notion of group codes, new groups and JSON persistence. In the
posterior, per-group values sit on a ``group`` dimension whose coordinates are the labels.
Analysis and decision functions decorated with :func:`groupable` answer per group (a ``group``
dimension), for one group (``group="dclm"``) or for a new group of the population
(``group=bs.NEW_GROUP``: per posterior draw, ``z ~ Normal(0, 1)`` seeded by ``random_seed``, or
by the fit's own seed when the function has none).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .pooling_views import (  # noqa: F401  (moved; old import paths kept)
    _NEW_GROUP_STREAM,
    GROUP_DIM,
    NEW_GROUP,
    _as_float,
    _combine,
    _group_seed,
    group_view,
    groupable,
    match_label,
    natural_dataset,
    per_group,
)
from .priors import Prior
from .structure import Grouping, prior_draws, warn_groups

__all__ = [
    "AUTO_FORM",
    "DEFAULT_TAU_SCALE",
    "NEW_GROUP",
    "PARTIAL_FORMS",
    "POOL_MODES",
    "TAU_FRACTION",
    "Pooling",
    "centring_ratio",
    "group_view",
    "groupable",
    "resolve_pooling",
]

POOL_MODES = ("shared", "partial", "independent")
#: Ways of sampling a partial parameter (``"partial"`` alone is non-centred): centred or
#: non-centred in every group (US spellings accepted).
PARTIAL_FORMS = {
    "partial_centred": True,
    "partial_centered": True,
    "partial_noncentred": False,
    "partial_noncentered": False,
    "partial_auto": None,
}
#: The form ``"partial_auto"``: each group's form chosen by a Laplace pilot before sampling
#: (:mod:`bayescale.pooling_auto`).
AUTO_FORM = "partial_auto"
#: The HalfNormal scale of a partial parameter's ``tau`` as a fraction of its prior's spread.
TAU_FRACTION = 0.5
#: The HalfNormal scale of ``tau`` when the prior's spread has no closed form on the pooling scale.
DEFAULT_TAU_SCALE = 0.5


# ---------------------------------------------------------------------- support maps
def _maps(prior: Prior, exp: Callable, log: Callable) -> tuple[Callable, Callable]:
    """``(h, h⁻¹)``: the prior's support to the real line and back."""
    low, high = prior.support
    if math.isinf(low) and math.isinf(high):
        return (lambda x: x), (lambda u: u)
    if math.isinf(high):
        return (lambda x: log(x - low)), (lambda u: low + exp(u))
    if math.isinf(low):
        return (lambda x: -log(high - x)), (lambda u: high - exp(-u))
    width = high - low

    def to_real(x: Any) -> Any:
        s = (x - low) / width
        return log(s) - log(1.0 - s)

    def from_real(u: Any) -> Any:
        return low + width / (1.0 + exp(-u))

    return to_real, from_real


def tau_scale(prior: Prior) -> float:
    """HalfNormal scale of ``tau`` for a parameter with this prior (see the module docstring).

    Examples
    --------
    >>> tau_scale(Prior("LogNormal", mu=-1.2, sigma=0.7))  # an exponent: 35% on the log scale
    0.35
    >>> tau_scale(Prior("Normal", mu=0.5, sigma=1.0))
    0.5
    """
    low, high = prior.support
    if prior.dist == "Normal" and math.isinf(low) and math.isinf(high):
        return TAU_FRACTION * float(prior.params["sigma"])
    if prior.dist == "LogNormal":
        return TAU_FRACTION * float(prior.params["sigma"])
    return DEFAULT_TAU_SCALE


def centring_ratio(fit: Any) -> pd.Series:
    """Per partial parameter of a pooled fit: how tightly its groups' data pin their values,
    relative to the spread between groups — the median over groups of the posterior sd of
    ``h(θ[g])`` divided by the posterior median of ``θ_tau``. Well below 1 (say < 0.3), the
    data dominate and the centred form samples better (``pool="partial_centred"``); near or
    above 1 the non-centred one (the default).

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(40, random_seed=0)
    >>> runs["corpus"] = ["a", "b"] * 20
    >>> fit = bs.fit("chinchilla", runs, group="corpus", draws=100, tune=100, chains=2,
    ...              progressbar=False, warn=False)
    >>> sorted(centring_ratio(fit).index)
    ['alpha', 'beta', 'log_A_ref', 'log_B_ref', 'log_E']
    """
    pooling: Pooling = fit.pooling
    post = fit.posterior
    out = {}
    for n in pooling.names("partial"):
        to_real, _ = _maps(fit.priors[n], np.exp, np.log)
        mu = to_real(post[f"{n}_mu"].transpose("chain", "draw").to_numpy())[..., None]
        tau = post[f"{n}_tau"].transpose("chain", "draw").to_numpy()
        u = mu + tau[..., None] * post[f"{n}_z"].transpose("chain", "draw", GROUP_DIM).to_numpy()
        sd = u.reshape(-1, u.shape[-1]).std(axis=0)
        out[n] = float(np.median(sd) / np.median(tau))
    return pd.Series(out, name="group sd / tau")


# ---------------------------------------------------------------------- the spec
@dataclass(frozen=True)
class Pooling:
    """Which law parameters vary by group, and how (see the module docstring).

    Attributes
    ----------
    grouping : Grouping
        The group column and its labels (codes of the fitted runs are stored with the fit).
    modes : dict
        Every sampled law parameter → ``"shared"``, ``"partial"`` or ``"independent"``.
    centred : dict
        Partial parameter → the groups (codes) whose values are sampled centred
        (``u[g] = h(θ[g]) ~ Normal(h(θ_mu), θ_tau)``); the other groups, and parameters not
        named, are non-centred. Fits saved before the choice existed are non-centred.
    auto : tuple of str
        Partial parameters whose ``centred`` groups were chosen by the fit's Laplace pilot
        (``pool="partial_auto"``, :mod:`bayescale.pooling_auto`); a refit (a backtest's
        cutoff) chooses again on its own runs.
    """

    grouping: Grouping
    modes: dict[str, str]
    centred: dict[str, tuple[int, ...]] = field(default_factory=dict)
    auto: tuple[str, ...] = ()

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Codes of the groups of partial parameter ``name`` sampled centred and non-centred."""
        centred = np.asarray(sorted(self.centred.get(name, ())), dtype=np.int64)
        rest = np.setdiff1d(np.arange(self.grouping.size), centred).astype(np.int64)
        return centred, rest

    @property
    def column(self) -> str:
        return self.grouping.column

    @property
    def index_name(self) -> str:
        """Name of the data container holding each run's group code."""
        return f"pool_{self.grouping.column}"

    @property
    def labels(self) -> tuple[Any, ...]:
        return self.grouping.labels

    def names(self, mode: str) -> list[str]:
        """Parameters pooled with ``mode``, in the law's order."""
        return [n for n, m in self.modes.items() if m == mode]

    def default_priors(self, priors: Mapping[str, Prior]) -> dict[str, Prior]:
        """The ``<name>_tau`` prior of each partial parameter, from its own prior ``priors``."""
        return {
            f"{n}_tau": Prior("HalfNormal", sigma=tau_scale(priors[n]))
            for n in self.names("partial")
        }

    def population_names(self) -> list[str]:
        """``<name>_mu`` and ``<name>_tau`` of each partial parameter."""
        return [f"{n}_{s}" for n in self.names("partial") for s in ("mu", "tau")]

    def sampled_names(self, law_names: Sequence[str]) -> list[str]:
        """The model's free variables standing for the law's sampled parameters."""
        out = []
        for n in law_names:
            mode = self.modes.get(n, "shared")
            if mode != "partial":
                out.append(n)
                continue
            centred, rest = self.split(n)
            out += [f"{n}_mu", f"{n}_tau"]
            out += [f"{n}_z"] if rest.size else []
            out += [f"{n}_u"] if centred.size else []
        return out

    # ------------------------------------------------------------------ model
    def build(self, law: Any, priors: Mapping[str, Prior], values: Mapping[str, Any]) -> dict:
        """Inside a PyMC model: the law's sampled parameters, one value per run."""
        import pymc as pm
        import pytensor.tensor as pt

        idx = pm.Data(self.index_name, values[self.index_name], dims="run")
        size = self.grouping.size
        ones = pt.ones_like(idx, dtype="float64")
        p = {}
        for par in law.parameters:
            mode = self.modes.get(par.name, "shared")
            prior = priors[par.name]
            if mode == "shared":
                p[par.name] = prior.create(par.name) * ones
            elif mode == "independent":
                p[par.name] = prior.create(par.name, shape=size)[idx]
            else:
                to_real, from_real = _maps(prior, pt.exp, pt.log)
                mu = prior.create(f"{par.name}_mu")
                tau = priors[f"{par.name}_tau"].create(f"{par.name}_tau")
                centred, rest = self.split(par.name)
                if rest.size:
                    z = pm.Normal(f"{par.name}_z", 0.0, 1.0, shape=rest.size)
                    u = to_real(mu) + tau * z
                if centred.size:
                    uc = pm.Normal(f"{par.name}_u", to_real(mu), tau, shape=centred.size)
                    u = uc
                if rest.size and centred.size:  # a mixed form: each group from its own vector
                    u = pt.zeros(size)
                    u = pt.set_subtensor(u[rest], to_real(mu) + tau * z)
                    u = pt.set_subtensor(u[centred], uc)
                p[par.name] = from_real(u)[idx]
        return p

    # ------------------------------------------------------------------ draws
    def group_values(
        self, draws: Mapping[str, np.ndarray], priors: Mapping[str, Prior], law_names: Sequence[str]
    ) -> dict[str, np.ndarray]:
        """Sampled law parameters from posterior ``draws``: ``(chain, draw, group)`` for pooled
        ones, ``(chain, draw)`` for shared ones (fixed ones as constants)."""
        template = next(iter(draws.values()))
        out = {}
        for n in law_names:
            mode = self.modes.get(n, "shared")
            if mode == "partial":
                to_real, from_real = _maps(priors[n], np.exp, np.log)
                mu, tau = draws[f"{n}_mu"], draws[f"{n}_tau"]
                out[n] = from_real(to_real(mu)[..., None] + tau[..., None] * draws[f"{n}_z"])
            elif n in draws:
                out[n] = np.asarray(draws[n], dtype=float)
            else:
                out[n] = np.full(template.shape[:2], float(priors[n].params["value"]))
        return out

    def new_group_values(
        self,
        draws: Mapping[str, np.ndarray],
        priors: Mapping[str, Prior],
        law_names: Sequence[str],
        rng: np.random.Generator,
    ) -> dict[str, np.ndarray]:
        """Sampled law parameters of a new group, ``(chain, draw)``: a fresh ``z`` per draw for
        partial parameters, a prior draw for independent ones (in the law's parameter order)."""
        template = next(iter(draws.values()))
        shape = template.shape[:2]
        out = {}
        for n in law_names:
            mode = self.modes.get(n, "shared")
            if mode == "partial":
                to_real, from_real = _maps(priors[n], np.exp, np.log)
                z = rng.standard_normal(shape)
                out[n] = from_real(to_real(draws[f"{n}_mu"]) + draws[f"{n}_tau"] * z)
            elif mode == "independent":
                out[n] = prior_draws(priors[n], shape, rng)  # the one prior sampler
            elif n in draws:
                out[n] = np.asarray(draws[n], dtype=float)
            else:
                out[n] = np.full(shape, float(priors[n].params["value"]))
        return out

    def per_run(self, q: Mapping[str, np.ndarray], codes: np.ndarray) -> dict[str, np.ndarray]:
        """Per-group parameters ``(chain, draw[, group])`` → per run ``(chain, draw, run)``."""
        codes = np.asarray(codes, dtype=np.int64)
        return {k: v[..., codes] if v.ndim == 3 else v[..., None] for k, v in q.items()}

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        out = {
            "grouping": self.grouping.to_dict(),
            "modes": dict(self.modes),
            "centred": {n: [int(g) for g in sorted(c)] for n, c in self.centred.items()},
        }
        if self.auto:
            out["auto"] = list(self.auto)
        return out

    def spec(self) -> dict[str, str]:
        """The ``pool=`` mapping that fits this pooling again (a backtest's refits): each
        parameter's mode, a partial one with its form — ``"partial_auto"`` when the pilot chose
        it (chosen again on the new runs), ``"partial_centred"`` when every group was centred,
        else ``"partial_noncentred"``.

        Examples
        --------
        >>> import bayescale as bs, pandas as pd
        >>> law = bs.get_law("chinchilla")
        >>> runs = pd.DataFrame({"N": [1e8, 2e8], "D": [1e9] * 2, "corpus": ["a", "b"]})
        >>> pool = {"alpha": "shared", "beta": "partial_centred", "log_E": "partial_auto"}
        >>> pooling, _ = resolve_pooling(law, "corpus", pool, runs, law.default_priors)
        >>> pooling.spec()["beta"], pooling.spec()["log_E"], pooling.spec()["log_A_ref"]
        ('partial_centred', 'partial_auto', 'partial_noncentred')
        """
        out = {}
        for n, mode in self.modes.items():
            if mode != "partial":
                out[n] = mode
            elif n in self.auto:
                out[n] = AUTO_FORM
            elif len(self.centred.get(n, ())) == self.grouping.size:
                out[n] = "partial_centred"
            else:
                out[n] = "partial_noncentred"
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pooling:
        """The inverse of :meth:`to_dict`; a dict without ``"centred"`` (fits saved before the
        choice existed) is non-centred throughout."""
        modes = {str(k): str(v) for k, v in data["modes"].items()}
        bad = {k: v for k, v in modes.items() if v not in POOL_MODES}
        if bad:
            raise ValueError(f"unknown pooling modes {bad}; choose from {list(POOL_MODES)}")
        grouping = Grouping.from_dict(data["grouping"])
        centred = {
            str(n): tuple(int(g) for g in c) for n, c in dict(data.get("centred", {})).items()
        }
        stray = sorted(set(centred) - {n for n, m in modes.items() if m == "partial"})
        if stray:
            raise ValueError(f"centred parameters {stray} are not partially pooled")
        bad = {n: c for n, c in centred.items() if any(not 0 <= g < grouping.size for g in c)}
        if bad:
            raise ValueError(f"centred groups {bad} are not codes of the {grouping.size} groups")
        auto = tuple(str(n) for n in data.get("auto", ()))
        stray = sorted(set(auto) - {n for n, m in modes.items() if m == "partial"})
        if stray:
            raise ValueError(f"auto-centred parameters {stray} are not partially pooled")
        return cls(grouping, modes, centred, auto)

    def describe(self) -> str:
        """One line for people: the group column and each mode's parameters (a partial
        parameter sampled centred in k of the G groups marked ``(centred k/G)``)."""

        def mark(n: str) -> str:
            k = len(self.centred.get(n, ()))
            how = "auto: " if n in self.auto else ""
            return f"{n} ({how}centred {k}/{self.grouping.size})" if k or how else n

        parts = [f"{m}: {', '.join(map(mark, self.names(m)))}" for m in POOL_MODES if self.names(m)]
        return f"{self.grouping.size} groups of {self.column!r} ({'; '.join(parts)})"


def resolve_pooling(
    law: Any,
    group: str | None,
    pool: Mapping[str, str] | str | None,
    frame: pd.DataFrame,
    priors: Mapping[str, Prior],
) -> tuple[Pooling | None, dict[str, np.ndarray]]:
    """The :class:`Pooling` of a fit and each run's group code (``{}`` without ``group``).

    ``pool`` is a mode for every parameter (``"partial"``) or a mapping parameter → mode;
    parameters it does not name take the law's default (``law.pool``, else ``"partial"``).
    ``priors`` are the law parameters' priors (defaults merged with the user's): fixed ones must
    be shared.

    Examples
    --------
    >>> import bayescale as bs, pandas as pd
    >>> law = bs.get_law("chinchilla")
    >>> runs = pd.DataFrame({"N": [1e8, 2e8, 1e8], "D": [1e9] * 3, "corpus": ["a", "b", "a"]})
    >>> pooling, codes = resolve_pooling(law, "corpus", {"alpha": "shared"}, runs,
    ...                                  law.default_priors)
    >>> pooling.describe()
    "2 groups of 'corpus' (shared: alpha; partial: log_E, log_A_ref, log_B_ref, beta)"
    >>> codes["pool_corpus"].tolist()
    [0, 1, 0]
    """
    if group is None:
        if pool is not None:
            raise ValueError("pool= needs group=, the column whose groups the parameters vary by")
        return None, {}
    if not isinstance(group, str) or not group:
        raise TypeError(f"group must be a column name (a non-empty string), got {group!r}")
    names = list(law.parameter_names)
    declared = dict(getattr(law, "pool", {}) or {})
    if pool is None:
        given: dict[str, str] = {}
    elif isinstance(pool, str):
        given = {n: pool for n in names}
    elif isinstance(pool, Mapping):
        given = {str(k): v for k, v in pool.items()}
    else:
        raise TypeError(f"pool must be a mode or a mapping parameter → mode, got {pool!r}")
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValueError(
            f"pool: {unknown} are not sampled parameters of {law.name!r}; choose from {names}"
        )
    choices = [*POOL_MODES, *PARTIAL_FORMS]
    bad = {k: v for k, v in given.items() if v not in choices}
    if bad:
        raise ValueError(f"pool: unknown modes {bad}; each must be one of {choices}")
    modes, forms = {}, {}
    for par in law.parameters:
        fixed_or_vector = bool(par.shape) or priors[par.name].is_fixed
        mode = given.get(
            par.name, "shared" if fixed_or_vector else declared.get(par.name, "partial")
        )
        if mode in PARTIAL_FORMS:
            forms[par.name] = PARTIAL_FORMS[mode]
            mode = "partial"
        if mode != "shared" and par.shape:
            raise ValueError(
                f"pool[{par.name!r}]={mode!r}: {par.name!r} is a vector parameter (shape "
                f"{par.shape}); only scalar parameters vary by group"
            )
        if mode != "shared" and priors[par.name].is_fixed:
            raise ValueError(
                f"pool[{par.name!r}]={mode!r}: {par.name!r} is fixed (Prior.fixed); a fixed "
                "parameter is shared by every group"
            )
        modes[par.name] = mode
    if group not in frame.columns:
        raise ValueError(
            f"group: column {group!r} is not in the data (columns: {list(frame.columns)})"
        )
    grouping, codes = Grouping.from_frame(frame, group, categorical=True)
    if NEW_GROUP in grouping.labels:
        raise ValueError(
            f"group={group!r}: the label {NEW_GROUP!r} is what bs.NEW_GROUP asks for (a new "
            "group of the population); rename that group in the data"
        )
    if grouping.size >= 2:
        warn_groups(grouping, codes, f"group={group!r}")
    every = tuple(range(grouping.size))
    centred = {n: every for n, m in modes.items() if m == "partial" and forms.get(n) is True}
    auto = tuple(n for n, m in modes.items() if m == "partial" and n in forms and forms[n] is None)
    pooling = Pooling(grouping, modes, centred, auto)
    if grouping.size < 2:
        raise ValueError(
            f"group={group!r} has {grouping.size} group; pooling needs at least two groups"
        )
    return pooling, {pooling.index_name: codes}


def pooled_posterior(
    law: Any,
    pooling: Pooling,
    priors: Mapping[str, Prior],
    reference: Mapping[str, float],
    post: xr.Dataset,
) -> xr.Dataset:
    """The sampled posterior of a pooled fit with a ``group`` dimension (labels as coordinates),
    the per-group sampled values and the natural and derived parameters added."""
    partial = pooling.names("partial")
    per_group = {*pooling.names("independent"), *(f"{k}_z" for k in partial)}  # noqa: F811
    coords = {GROUP_DIM: list(pooling.labels)}
    variables = {}
    for n in post.data_vars:
        da = post[n].transpose("chain", "draw", ...)
        k = n[:-2]
        if n.endswith(("_z", "_u")) and k in partial:
            if f"{k}_z" in variables:
                continue
            # recorded in non-centred coordinates whichever groups were sampled centred,
            # z = (u - h(mu)) / tau: one posterior layout (and file format)
            centred, rest = pooling.split(k)
            shape = (post.sizes["chain"], post.sizes["draw"], pooling.grouping.size)
            z = np.empty(shape)
            if rest.size:
                z[..., rest] = post[f"{k}_z"].transpose("chain", "draw", ...).to_numpy()
            if centred.size:
                to_real, _ = _maps(priors[k], np.exp, np.log)
                mu = to_real(post[f"{k}_mu"].transpose("chain", "draw").to_numpy())[..., None]
                tau = post[f"{k}_tau"].transpose("chain", "draw").to_numpy()[..., None]
                u = post[f"{k}_u"].transpose("chain", "draw", ...).to_numpy()
                z[..., centred] = (u - mu) / tau
            variables[f"{k}_z"] = (("chain", "draw", GROUP_DIM), z)
        elif n in per_group:
            variables[n] = (("chain", "draw", GROUP_DIM), da.to_numpy())
        else:
            variables[n] = da
    out = xr.Dataset(variables, coords={"chain": post["chain"], "draw": post["draw"], **coords})
    draws = {n: out[n].to_numpy() for n in out.data_vars}
    p = pooling.group_values(draws, priors, law.parameter_names)
    for n in pooling.names("partial"):
        out[n] = (("chain", "draw", GROUP_DIM), p[n])
    for name, (dims, value) in natural_dataset(law, p, reference, coords).items():
        if name not in out:
            out[name] = (dims, np.array(value))
    return out
