"""Stacks of pooled fits: the group dimension through :class:`~bayescale.StackedFit`.

A stack whose members include pooled fits (``bs.fit(..., group="corpus", pool=...)``) answers per
group like a pooled fit. Its groups are those of its pooled members, which must be pooled over
the same column with the same groups (stacked fits are fits to the same runs). The answer for
group ``g`` is the mixture, with the stack's weights and draw counts, of each member's answer for
``g``: a pooled member's view of ``g`` (:func:`~bayescale.pooling.group_view`), an unpooled
member as it is (it has one set of parameters for every group). A new group
(:data:`~bayescale.NEW_GROUP`) is likewise each pooled member's own new group, drawn from that
member's population: member ``k``'s new-group draws and its function's seed are
:func:`~bayescale.stacking.member_seed`\\ ``(random_seed, k)``, so the stack's answer is exactly
the mixture of the members' answers ``f(member_k, group=g, random_seed=member_seed(seed, k))``.

:func:`stack_group_view` builds, for one label, the stack of the members' views (a stack without
groups); :func:`~bayescale.pooling.groupable` and :func:`~bayescale.stacking.stackable` route a
pooled stack through it, so every function that answers per group on a pooled fit answers per
group on a pooled stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["stack_group_view", "stack_pooling"]


def stack_pooling(fits: Mapping[str, Any]) -> Any:
    """The :class:`~bayescale.pooling.Pooling` of a stack's pooled members (the first one's),
    None when no member is pooled; a ``ValueError`` when pooled members group the runs by
    different columns or into different groups."""
    pooled = {n: f.pooling for n, f in fits.items() if getattr(f, "pooling", None) is not None}
    if not pooled:
        return None
    (first, ref), *rest = pooled.items()
    for name, p in rest:
        if p.column != ref.column or list(map(str, p.labels)) != list(map(str, ref.labels)):
            raise ValueError(
                f"stack: members {first!r} and {name!r} are pooled over different groups "
                f"({ref.column!r}: {list(ref.labels)} vs {p.column!r}: {list(p.labels)}); "
                "stack pooled fits of one group column, or stack one group's views "
                "(bayescale.pooling.group_view(fit, label)) instead"
            )
    return ref


def stack_group_view(stack: Any, group: Any, *, random_seed: int | None = None) -> Any:
    """The stack of its members' views of ``group`` (a label or ``NEW_GROUP``): pooled members
    replaced by their :func:`~bayescale.pooling.group_view` (member ``k``'s new group seeded by
    ``member_seed(random_seed, k)``), unpooled members as they are; same weights."""
    from ._stacking_common import member_seed
    from .pooling import group_view
    from .stacked_fit import StackedFit

    views = {}
    for k, (name, member) in enumerate(stack.fits.items()):
        if getattr(member, "pooling", None) is None:
            views[name] = member
        else:
            views[name] = group_view(member, group, random_seed=member_seed(random_seed, k))
    out = StackedFit.__new__(StackedFit)  # members already checked: no second runs check
    out.fits, out.weights, out.method = views, stack.weights, stack.method
    out._comparison = getattr(stack, "_comparison", None)
    return out
