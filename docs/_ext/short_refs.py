"""Resolve Python cross-references written relative to the defining module.

Docstrings name objects the way their own module sees them (``:func:`psth_sums```,
``:class:`~elephant_fit.network.observation.Bernoulli```), while the reference documents each
object once, under its public path (``elephant_fit.statistics.psth_sums``,
``elephant_fit.network.Bernoulli``). When Sphinx cannot find such a target, this extension
looks for the documented objects of the role's kind whose full name ends with the target's last
components, from the longest suffix to the shortest (preferring the referring module's package),
and links to the one object that matches. A full path (``elephant_fit.x.y``) must import as that
very object. A target that matches nothing, several objects equally well, or under a wrong
module path, stays unresolved and fails a ``-W`` build.
"""

from __future__ import annotations

import importlib
from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.nodes import make_refnode

#: Object types each role may link to (``obj`` and unknown roles: any).
ROLE_TYPES = {
    "func": {"function"},
    "meth": {"method", "classmethod", "staticmethod"},
    "class": {"class", "exception"},
    "exc": {"exception", "class"},
    "data": {"data", "attribute"},
    "attr": {"attribute", "property", "data"},
    "mod": {"module"},
}


_MISSING = object()


def _lookup(path: str) -> object:
    """The object a dotted path names (a module, then attributes), or ``_MISSING``."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            obj = getattr(obj, attribute, _MISSING)
            if obj is _MISSING:
                return _MISSING
        return obj
    return _MISSING


def _same_object(target: str, documented: str) -> bool:
    """Whether a fully qualified target names the very object documented under another path."""
    found, other = _lookup(target), _lookup(documented)
    if found is _MISSING:
        return False
    try:  # bound class methods are new objects at each access, equal but not identical
        return found is other or bool(found == other)
    except Exception:  # objects whose == does not give a truth value (arrays)
        return False


def _candidates(names: list[str], target: str) -> list[str]:
    """Documented names matching the longest suffix of ``target`` that matches any."""
    parts = target.split(".")
    for start in range(len(parts)):
        suffix = ".".join(parts[start:])
        found = [name for name in names if name == suffix or name.endswith("." + suffix)]
        if found:
            return found
    return []


def resolve(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.Element
) -> nodes.Element | None:
    """Link a missing ``py`` reference to the single documented object its name ends with."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    if not target.startswith("elephant_fit") and "." in target and not target[0].isupper():
        # Another package's dotted name (numpy.x, torch.y): intersphinx's business.
        return None
    domain: Any = env.get_domain("py")
    # Aliased entries (an object's defining path) point at their public entry: skip them.
    types = ROLE_TYPES.get(node.get("reftype", ""))
    names = [
        name
        for name, entry in domain.objects.items()
        if name.startswith("elephant_fit")
        and not entry.aliased
        and (types is None or entry.objtype in types)
    ]
    found = _candidates(names, target)
    module = node.get("py:module") or ""
    if len(found) > 1 and module:
        # Several objects of that name: the one of the referring module's own package wins.
        package = module.rsplit(".", 1)[0] if module.count(".") > 1 else module
        found = [name for name in found if name.startswith(package + ".")] or found
    if len(found) != 1:
        return None
    if target.startswith("elephant_fit.") and not _same_object(target, found[0]):
        # A full path must name the documented object itself: a wrong module path is an error.
        return None
    entry = domain.objects[found[0]]
    return make_refnode(
        app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, found[0]
    )


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the resolver with Sphinx."""
    app.connect("missing-reference", resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
