"""Model averaging: LOO stacking of fits to the same runs (Yao et al. 2018).

:func:`stack` weighs several fits — different laws, likelihoods or priors fitted to the same
runs — by stacking their leave-one-out predictive distributions (``arviz_stats.compare`` with
``method="stacking"``, through :func:`bayescale.compare`), or by weights you give, and returns a
:class:`StackedFit`. Every analysis and decision function that takes a :class:`~bayescale.Fit`
accepts a :class:`StackedFit` too, through one mechanism, :func:`stackable`: the function is
evaluated on each member and the draws are mixed. Member ``k`` contributes ``round(w_k · S)``
draws (largest-remainder rounding, so the counts add up to ``S``, the chain × draw count of the
first member), taken evenly spaced over its flattened chain × draw; the parts are concatenated
along ``draw`` with one chain, so the result has the variables and dimensions it has for a single
fit. Functions with a ``random_seed`` give member ``k`` the seed
``SeedSequence(random_seed, spawn_key=(k,))`` (independent streams; same seed, same draws).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import check_path
from .fit import Fit

__all__ = ["StackedFit", "load_stack", "stack", "stackable"]

STACK_FILE = "stack.json"
_FORMAT = 1
_METHODS = ("stacking", "BB-pseudo-BMA", "pseudo-BMA")
_SUMMARY_COLUMNS = [
    "law",
    "likelihood",
    "weight",
    "mixture_draws",
    "elpd",
    "se",
    "elpd_diff",
    "dse",
    "p",
    "n_high_k",
    "max_k",
]


# ---------------------------------------------------------------------- draw counts
def draw_counts(weights: Sequence[float], total: int) -> np.ndarray:
    """Largest-remainder rounding of ``weights · total`` to integers adding up to ``total``.

    Ties in the remainders go to the earlier member.

    Examples
    --------
    >>> draw_counts([0.5, 0.25, 0.25], 10).tolist()
    [5, 3, 2]
    >>> draw_counts([1.0, 0.0], 7).tolist()
    [7, 0]
    """
    w = np.asarray(weights, dtype=float)
    raw = w * total
    base = np.floor(raw + 1e-9).astype(int)
    base = np.minimum(base, total)
    rest = int(total - base.sum())
    if rest > 0:
        order = np.argsort(-(raw - base), kind="stable")
        base[order[:rest]] += 1
    elif rest < 0:  # only through rounding of weights summing to slightly above 1
        order = np.argsort(raw - base, kind="stable")
        for i in order:
            if rest == 0:
                break
            if base[i] > 0:
                base[i] -= 1
                rest += 1
    return base


def draw_indices(n_available: int, n_wanted: int) -> np.ndarray:
    """``n_wanted`` flat chain × draw indices evenly spaced over ``n_available`` draws.

    Examples
    --------
    >>> draw_indices(10, 4).tolist()
    [0, 2, 5, 7]
    """
    return (np.arange(n_wanted, dtype=np.int64) * n_available) // max(n_wanted, 1)


def member_seed(random_seed: int | None, k: int) -> int | None:
    """The seed member ``k`` of a stack gets for ``random_seed`` (None stays None)."""
    if random_seed is None:
        return None
    if isinstance(random_seed, bool) or not isinstance(random_seed, int | np.integer):
        raise TypeError(f"random_seed must be an int or None, got {random_seed!r}")
    if random_seed < 0:
        raise ValueError(f"random_seed must be non-negative, got {random_seed}")
    seq = np.random.SeedSequence(int(random_seed), spawn_key=(k,))
    return int(seq.generate_state(1, np.uint64)[0])


# ---------------------------------------------------------------------- validation
def _check_fits(fits: Mapping[str, Fit] | Sequence[Fit]) -> dict[str, Fit]:
    if isinstance(fits, StackedFit):
        return dict(fits.fits)
    if isinstance(fits, Fit):
        raise TypeError("stack takes several fits (a mapping name → Fit or a list), not one Fit")
    if isinstance(fits, Mapping):
        named = dict(fits)
        for name in named:
            if not isinstance(name, str) or not name:
                raise TypeError(f"stack member names must be non-empty strings, got {name!r}")
    elif isinstance(fits, Sequence) and not isinstance(fits, str):
        named = {}
        for i, f in enumerate(fits):
            if not isinstance(f, Fit):
                raise TypeError(f"fits[{i}] is not a bayescale.Fit but {type(f).__name__}")
            base = f"{f.law.key}:{f.likelihood.name}"
            name, k = base, 2
            while name in named:
                name, k = f"{base}_{k}", k + 1
            named[name] = f
    else:
        raise TypeError(
            f"stack takes a mapping name → Fit or a list of Fit, got {type(fits).__name__}"
        )
    if not named:
        raise ValueError("stack needs at least one fit")
    for name, f in named.items():
        if not isinstance(f, Fit):
            raise TypeError(f"stack member {name!r} is not a bayescale.Fit but {type(f).__name__}")
    if len(named) > 1:
        from .validation import _same_runs

        try:
            _same_runs(named)
        except ValueError as err:
            raise ValueError(f"stack: {err}".replace("compare needs", "stack needs")) from err
    return named


def _check_weights(names: Sequence[str], weights: Mapping[str, Any] | pd.Series) -> pd.Series:
    if not isinstance(weights, Mapping | pd.Series):
        raise TypeError(f"weights must be a mapping name → weight, got {type(weights).__name__}")
    given = dict(weights.items())
    unknown = [k for k in given if k not in names]
    missing = [k for k in names if k not in given]
    if unknown or missing:
        raise ValueError(
            f"weights: unknown names {unknown}, missing names {missing}; the stack's members "
            f"are {list(names)}"
        )
    values = {}
    for name in names:
        v = given[name]
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            raise TypeError(f"weight of {name!r} must be a number, got {v!r}")
        v = float(v)
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"weight of {name!r} must be finite and >= 0, got {v!r}")
        values[name] = v
    total = sum(values.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"weights must sum to 1, got {total:.6g} ({values})")
    out = pd.Series(values, name="weight", dtype=float) / total
    out.index.name = "member"
    return out


# ---------------------------------------------------------------------- the stacked fit
class StackedFit:
    """A weighted mixture of fits to the same runs (result of :func:`stack`).

    Pass it wherever an analysis or decision function takes a :class:`~bayescale.Fit`
    (:func:`~bayescale.compute_optimal`, :func:`~bayescale.predict_loss`,
    :func:`~bayescale.compute_for_loss`, :func:`~bayescale.loss_at`,
    :func:`~bayescale.overtraining_penalty`, :func:`~bayescale.inference_optimal`,
    :func:`~bayescale.data_wall`, :func:`~bayescale.predict_accuracy`,
    :func:`~bayescale.emergence_threshold`): the answer is the mixture of the members' answers,
    one chain of :attr:`n_draws` draws (see :mod:`bayescale.stacking`). The figures
    :func:`~bayescale.plots.plot_fit`, :func:`~bayescale.plots.plot_frontier` and
    :func:`~bayescale.plots.plot_tokens_per_param` and :func:`~bayescale.export_summary` (the
    :meth:`summary` table) take it too.

    Attributes
    ----------
    fits : dict
        Member name → :class:`~bayescale.Fit`, in order.
    weights : pandas.Series
        Member name → weight (non-negative, summing to 1).
    method : str
        ``"stacking"``, ``"BB-pseudo-BMA"``, ``"pseudo-BMA"`` or ``"given"``.

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(60, random_seed=0)
    >>> a = bs.testing.pinned_fit(random_seed=0, data=runs)
    >>> b = bs.testing.pinned_fit(random_seed=1, data=runs, rel_sd=0.03)
    >>> st = bs.stack({"a": a, "b": b}, weights={"a": 0.75, "b": 0.25})
    >>> st.draw_counts().tolist()
    [750, 250]
    >>> bs.compute_optimal(st, compute=1e22)["N_opt"].sizes
    Frozen({'chain': 1, 'draw': 1000, 'compute': 1})
    """

    def __init__(
        self,
        fits: Mapping[str, Fit],
        weights: Mapping[str, float] | pd.Series,
        *,
        method: str = "given",
        comparison: pd.DataFrame | None = None,
    ) -> None:
        self.fits = _check_fits(fits)
        self.weights = _check_weights(list(self.fits), weights)
        self.method = method
        self._comparison = comparison

    # ------------------------------------------------------------------ access
    @property
    def names(self) -> list[str]:
        """Member names, in order."""
        return list(self.fits)

    @property
    def n_draws(self) -> int:
        """Draws of every mixed result: the first member's chains × draws."""
        return next(iter(self.fits.values())).n_draws

    @property
    def law_names(self) -> list[str]:
        """The distinct law names of the members, in order."""
        return list(dict.fromkeys(f.law.name for f in self.fits.values()))

    @property
    def data(self) -> pd.DataFrame:
        """The runs every member was fitted to."""
        return next(iter(self.fits.values())).data

    def draw_counts(self) -> pd.Series:
        """Draws each member contributes to a mixed result (largest-remainder rounding)."""
        counts = draw_counts(self.weights.to_numpy(), self.n_draws)
        return pd.Series(counts, index=self.weights.index, name="mixture_draws")

    def comparison(self) -> pd.DataFrame | None:
        """The ELPD-LOO table of :func:`bayescale.compare` (computed on first use; None for a
        single member)."""
        if self._comparison is None and len(self.fits) > 1:
            from .validation import compare

            self._comparison = compare(self.fits, method="stacking", warn=False)
        return self._comparison

    def summary(self) -> pd.DataFrame:
        """One row per member: law, likelihood, weight, draws in a mixed result and its
        ELPD-LOO figures (``elpd``, ``se``, ``elpd_diff``, ``dse``, ``p``, ``n_high_k``,
        ``max_k``; NaN for a single member).

        Examples
        --------
        >>> import bayescale as bs
        >>> runs = bs.testing.simulate_chinchilla(60, random_seed=0)
        >>> st = bs.stack({"a": bs.testing.pinned_fit(random_seed=0, data=runs),
        ...                "b": bs.testing.pinned_fit(random_seed=1, data=runs)},
        ...               weights={"a": 0.5, "b": 0.5})
        >>> list(st.summary().columns[:4])
        ['law', 'likelihood', 'weight', 'mixture_draws']
        """
        table = pd.DataFrame(
            {
                "law": [f.law.key for f in self.fits.values()],
                "likelihood": [f.likelihood.name for f in self.fits.values()],
                "weight": self.weights.to_numpy(),
                "mixture_draws": self.draw_counts().to_numpy(),
            },
            index=pd.Index(self.names, name="member"),
        )
        comp = self.comparison()
        for col in _SUMMARY_COLUMNS[4:]:
            if comp is not None and col in comp:
                table[col] = comp[col].reindex(table.index).astype(float)
            else:
                table[col] = np.nan
        table.attrs["method"] = self.method
        table.attrs["n_draws"] = self.n_draws
        if comp is not None:
            table.attrs["warnings"] = list(comp.attrs.get("warnings", []))
        return table

    # ------------------------------------------------------------------ mixing
    def mix(
        self,
        func: Callable[..., Any],
        *,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        """``func(member, *args, **kwargs)`` for every member with draws, mixed by weight.

        ``func`` must return an ``xarray`` Dataset or DataArray over ``(chain, draw, ...)``.
        A ``random_seed`` keyword is replaced by each member's own seed
        (:func:`member_seed`). Members with no draws in the mixture are not evaluated. A
        member that cannot answer (e.g. a law without an input given) raises the error with the
        member named.
        """
        kwargs = dict(kwargs or {})
        counts = self.draw_counts()
        seed = kwargs.get("random_seed")
        parts, names = [], []
        for k, (name, member) in enumerate(self.fits.items()):
            n = int(counts[name])
            if n == 0:
                continue
            kw = dict(kwargs)
            if "random_seed" in kw:
                kw["random_seed"] = member_seed(seed, k)
            try:
                result = func(member, *args, **kw)
            except (ValueError, TypeError, KeyError) as err:
                message = f"stack member {name!r} ({member.law.key}, {member.likelihood.name}): "
                detail = err.args[0] if len(err.args) == 1 else str(err)
                try:
                    named_err = type(err)(f"{message}{detail}")
                except Exception:  # an exception class that takes other arguments
                    named_err = ValueError(f"{message}{detail}")
                raise named_err from err
            if not isinstance(result, xr.Dataset | xr.DataArray) or not {
                "chain",
                "draw",
            } <= set(result.dims):
                raise TypeError(
                    f"{getattr(func, '__name__', func)} returned {type(result).__name__} without "
                    "(chain, draw) dimensions: it cannot be mixed over a stack"
                )
            parts.append(_take(result, n))
            names.append(name)
        _check_alike(parts, names)
        return self._combine(parts)

    def _combine(self, parts: list[Any]) -> Any:
        first = parts[0]
        if len(parts) == 1:
            out = parts[0]
        else:
            extra = {"data_vars": "minimal"} if isinstance(first, xr.Dataset) else {}
            out = xr.concat(
                parts,
                dim="__sample",
                coords="minimal",
                compat="override",
                join="exact",
                combine_attrs="override",
                **extra,
            )
        out = out.rename({"__sample": "draw"})
        out = out.assign_coords(draw=np.arange(out.sizes["draw"]))
        if isinstance(out, xr.Dataset):
            out = out.assign(
                {
                    k: v.expand_dims(chain=1, axis=0)
                    for k, v in out.data_vars.items()
                    if "draw" in v.dims
                }
            )
            out = out.assign_coords(chain=[0])
            out = out.transpose("chain", "draw", ...)
            for k in out.data_vars:
                out[k].attrs = dict(first[k].attrs)
        else:
            out = out.expand_dims(chain=[0], axis=0).transpose("chain", "draw", ...)
            out.name = first.name
        out.attrs = dict(first.attrs)
        if "law" in out.attrs:
            out.attrs["law"] = self._label()
        if "n_draws" in out.attrs:
            out.attrs["n_draws"] = int(out.sizes["draw"])
        out.attrs["stack"] = self._label()
        return out

    def _label(self) -> str:
        return "stack(" + ", ".join(f"{n}: {w:.4g}" for n, w in self.weights.items()) + ")"

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> str:
        """Write the stack to the folder ``path``: one NetCDF file per member
        (:meth:`Fit.save <bayescale.Fit.save>`) and ``stack.json`` (names, files and their
        SHA-256, weights, method, bayescale version), each file written atomically,
        ``stack.json`` last; member files of a larger stack saved there before are removed.

        Examples
        --------
        >>> import bayescale as bs, tempfile, os
        >>> runs = bs.testing.simulate_chinchilla(60, random_seed=0)
        >>> st = bs.stack({"a": bs.testing.pinned_fit(random_seed=0, data=runs),
        ...                "b": bs.testing.pinned_fit(random_seed=1, data=runs)},
        ...               weights={"a": 0.5, "b": 0.5})
        >>> folder = st.save(os.path.join(tempfile.mkdtemp(), "stack"))
        >>> sorted(os.listdir(folder))
        ['member_0.nc', 'member_1.nc', 'stack.json']
        >>> bs.load_stack(folder).weights.to_dict()
        {'a': 0.5, 'b': 0.5}
        """
        from . import __version__
        from .io import atomic_write_text

        folder = Path(path)
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(f"cannot save a stack to {folder}: it is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        members = []
        for i, (name, member) in enumerate(self.fits.items()):
            file = f"member_{i}.nc"
            member.save(str(folder / file))
            members.append(
                {
                    "name": name,
                    "file": file,
                    "sha256": _sha256(folder / file),
                    "weight": float(self.weights[name]),
                    "law": member.law.key,
                    "likelihood": member.likelihood.name,
                }
            )
        meta = {
            "format": _FORMAT,
            "bayescale_version": __version__,
            "method": self.method,
            "members": members,
        }
        atomic_write_text(folder / STACK_FILE, json.dumps(meta, indent=2) + "\n")
        listed = {m["file"] for m in members}
        for stale in folder.glob("member_*.nc"):  # members of a larger stack saved here before
            if stale.name not in listed:
                stale.unlink()
        return str(folder)

    @classmethod
    def load(cls, path: str | os.PathLike) -> StackedFit:
        """Read a stack written by :meth:`save`; every member file must exist, match its
        recorded SHA-256 and load (:meth:`Fit.load <bayescale.Fit.load>`). Problems raise one
        ``ValueError`` naming the path and the member."""
        from .io import load_fit

        folder = check_path(path)
        meta_path = folder / STACK_FILE
        if not meta_path.is_file():
            raise ValueError(f"{folder} is not a saved stack: {STACK_FILE} is missing")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            members = meta["members"]
            method = str(meta["method"])
            if meta.get("format") != _FORMAT:
                raise ValueError(f"unknown stack format {meta.get('format')!r}")
            entries = [(str(m["name"]), str(m["file"]), m["sha256"], m["weight"]) for m in members]
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{meta_path}: not a valid stack description ({err})") from err
        fits, weights = {}, {}
        for name, file, digest, weight in entries:
            member_path = folder / file
            if Path(file).name != file or not re.fullmatch(r"[\w.-]+\.nc", file):
                raise ValueError(f"{meta_path}: member {name!r} has a bad file name {file!r}")
            if not member_path.is_file():
                raise ValueError(f"{folder}: the file {file} of member {name!r} is missing")
            if _sha256(member_path) != digest:
                raise ValueError(
                    f"{folder}: the file {file} of member {name!r} does not match the SHA-256 "
                    f"recorded in {STACK_FILE} (replaced or edited since the stack was saved)"
                )
            try:
                fits[name] = load_fit(member_path)
            except ValueError as err:
                raise ValueError(f"{folder}: member {name!r} cannot be loaded: {err}") from err
            weights[name] = weight
        return cls(fits, weights, method=method)

    # ------------------------------------------------------------------ display
    def _rows(self) -> list[tuple[str, str, str, float, int]]:
        counts = self.draw_counts()
        return [
            (n, f.law.key, f.likelihood.name, float(self.weights[n]), int(counts[n]))
            for n, f in self.fits.items()
        ]

    def __repr__(self) -> str:
        first = next(iter(self.fits.values()))
        lines = [
            f"<bayescale.StackedFit: {len(self.fits)} fits to {len(first.data)} runs, "
            f"{self.method} weights, {self.n_draws} mixed draws>"
        ]
        width = max(len(n) for n in self.fits)
        for name, law, lik, w, c in self._rows():
            lines.append(f"  {name:<{width}}  {law} {lik:<10} weight {w:.3f} ({c} draws)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from html import escape

        first = next(iter(self.fits.values()))
        rows = "".join(
            f"<tr><td><code>{escape(n)}</code></td><td>{escape(law)}</td><td>{escape(lik)}</td>"
            f"<td>{w:.3f}</td><td>{c}</td></tr>"
            for n, law, lik, w, c in self._rows()
        )
        return (
            f"<div><b>bayescale.StackedFit</b> · {len(self.fits)} fits to {len(first.data)} "
            f"runs · {escape(self.method)} weights · {self.n_draws} mixed draws"
            "<table><tr><th>member</th><th>law</th><th>likelihood</th><th>weight</th>"
            f"<th>draws</th></tr>{rows}</table></div>"
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _take(result: Any, n: int) -> Any:
    """``n`` draws of ``result`` evenly spaced over its flattened (chain, draw), along
    ``__sample``; variables without (chain, draw) are left as they are."""
    chains, draws = result.sizes["chain"], result.sizes["draw"]
    idx = draw_indices(chains * draws, n)
    out = result.isel(
        chain=xr.DataArray(idx // draws, dims="__sample"),
        draw=xr.DataArray(idx % draws, dims="__sample"),
    )
    return out.drop_vars(["chain", "draw"], errors="ignore")


def _check_alike(parts: list[Any], names: list[str]) -> None:
    def shape(obj: Any) -> Any:
        if isinstance(obj, xr.Dataset):
            return {
                k: tuple(d for d in v.dims if d != "__sample") for k, v in obj.data_vars.items()
            }
        return tuple(d for d in obj.dims if d != "__sample")

    ref = shape(parts[0])
    for name, part in zip(names[1:], parts[1:], strict=True):
        if shape(part) != ref:
            raise ValueError(
                f"stack members {names[0]!r} and {name!r} give results of different shapes "
                f"({ref} vs {shape(part)}): they cannot be mixed"
            )


# ---------------------------------------------------------------------- the decorator
def stackable(
    func: Callable[..., Any] | None = None, *, finish: Callable[[Any], Any] | None = None
) -> Any:
    """Let an analysis function of a :class:`~bayescale.Fit` (its first argument) take a
    :class:`StackedFit`: it is then evaluated on each member and the draws mixed
    (:meth:`StackedFit.mix`); ``finish`` recomputes what the mixture changes beyond the draws
    (e.g. counts over draws)."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            target = args[0] if args else kwargs.get("fit")
            if not isinstance(target, Fit | StackedFit):
                raise TypeError(
                    f"{f.__name__} takes a fit (bs.fit, bs.Fit.load or bs.stack) as its first "
                    f"argument, got {type(target).__name__}"
                )
            if isinstance(target, StackedFit):
                if args:
                    out = target.mix(f, args=args[1:], kwargs=kwargs)
                else:
                    rest = {k: v for k, v in kwargs.items() if k != "fit"}
                    out = target.mix(f, kwargs=rest)
                return finish(out) if finish is not None else out
            return f(*args, **kwargs)

        return wrapper

    return decorate(func) if func is not None else decorate


# ---------------------------------------------------------------------- entry points
def stack(
    fits: Mapping[str, Fit] | Sequence[Fit],
    *,
    method: str = "stacking",
    weights: Mapping[str, float] | pd.Series | None = None,
    warn: bool = True,
) -> StackedFit:
    """Average fits to the same runs by LOO stacking weights (or weights you give).

    Parameters
    ----------
    fits : mapping of name → Fit, or sequence of Fit
        Fits to the same runs: different laws, likelihoods or priors. A list is named by each
        fit's law key and likelihood (``"chinchilla@1:studentt"``).
    method : {"stacking", "BB-pseudo-BMA", "pseudo-BMA"}
        How the weights are computed from each fit's PSIS-LOO pointwise predictive densities
        (:func:`bayescale.compare`, ``arviz_stats.compare``): ``"stacking"`` (Yao et al. 2018)
        maximises the leave-one-out log score of the mixture.
    weights : mapping of name → float, optional
        Given weights instead (non-negative, summing to 1, one per member); no LOO is computed.
    warn : bool
        Warn about runs with high Pareto k (unreliable LOO) when computing weights.

    Returns
    -------
    StackedFit

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(60, random_seed=0)
    >>> good = bs.testing.pinned_fit(random_seed=0, data=runs)
    >>> wrong = bs.testing.pinned_fit(random_seed=1, data=runs, truth={**bs.testing.BESIROGLU_TRUTH,
    ...                                                        "E": 2.2})
    >>> st = bs.stack({"good": good, "wrong": wrong}, warn=False)
    >>> bool(st.weights["good"] > 0.99)
    True
    >>> loss = bs.predict_loss(st, N=70e9, D=1.4e12)
    >>> loss.dims, loss.sizes["draw"]
    (('chain', 'draw'), 1000)
    """
    named = _check_fits(fits)
    if weights is not None:
        if method != "stacking":
            raise ValueError(
                f"method={method!r} computes weights; with weights= given leave method out"
            )
        return StackedFit(named, weights, method="given")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {list(_METHODS)}, got {method!r}")
    if len(named) < 2:
        raise ValueError("stack needs at least two fits to compute weights; give weights=")
    from .validation import compare

    table = compare(named, method=method, warn=warn)
    w = table["weight"].reindex(list(named)).to_numpy(dtype=float)
    w = np.clip(np.nan_to_num(w, nan=0.0), 0.0, None)
    if w.sum() <= 0:
        raise ValueError(f"{method} gave no positive weight: {table['weight'].to_dict()}")
    w = w / w.sum()
    return StackedFit(named, dict(zip(named, w, strict=True)), method=method, comparison=table)


def load_stack(path: str | os.PathLike) -> StackedFit:
    """Read a stack written by :meth:`StackedFit.save` (see :meth:`StackedFit.load`)."""
    return StackedFit.load(path)
