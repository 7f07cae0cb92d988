"""Merging groups by name: which original groups end up in which merged group. No Qt."""

from __future__ import annotations

__all__ = ["merge_components", "merge_names"]


def merge_names(merges: dict, names: list[str], merged: str, originals=None) -> dict:
    """``merges`` (original group name → merged name) after merging the groups now called
    ``names`` into one group called ``merged``. Groups that are already merges of others
    stay merged: every original that maps to one of ``names`` now maps to ``merged``.
    ``originals`` are the group names in the data before any merge (when known): only
    those become keys, since validation refuses a merge of a group that does not exist."""
    out = dict(merges)
    targets = set(names)
    for original, current in merges.items():
        if current in targets:
            out[original] = merged
    for name in names:
        if originals is None or name in originals:
            out[name] = merged
    return {k: v for k, v in out.items() if k != v}


def merge_components(pairs, order: list[str]) -> list[list[str]]:
    """Sets of groups joined by (a, b) pairs, each listed in ``order``."""
    parent: dict[str, str] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    comps: dict[str, list[str]] = {}
    for name in order:
        if name in parent:
            comps.setdefault(find(name), []).append(name)
    return [c for c in comps.values() if len(c) > 1]


def merges_text(merges: dict) -> str:
    """The merges in force, in words: "Merged: 'A+B' = 'A' and 'B'"."""
    if not merges:
        return "No groups are merged."
    by_target: dict[str, list[str]] = {}
    for original, merged in merges.items():
        by_target.setdefault(merged, []).append(original)
    return "Merged: " + "; ".join(f"'{t}' = " + " and ".join(f"'{o}'" for o in sorted(origs))
                                  for t, origs in by_target.items())
