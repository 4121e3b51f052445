"""Write the intersphinx inventories the docs link to, from the installed packages.

CI machines reach package registries only, so the build cannot download ``objects.inv`` from
docs.python.org, numpy.org, pytorch.org or readthedocs. This script lists the public names of the
installed packages and writes, per package, an inventory (Sphinx's format, version 2) whose
addresses follow each site's page scheme. Run it after upgrading one of them::

    python docs/_inventories/make_inventories.py

Names a site does not document on the page the scheme gives still link to that site (the page
may then be missing); the cross-references themselves are checked by the build (``nitpicky``).
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: One inventory line: (name, role, relative address).
Entry = tuple[str, str, str]


def _role(obj: object) -> str:
    """The Python-domain role of an object: class, exception, function or data."""
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if inspect.ismodule(obj):
        return "py:module"
    if callable(obj):
        return "py:function"
    return "py:data"


def _public(module_name: str) -> Iterable[tuple[str, object]]:
    """Public attributes of a module: its ``__all__`` (or all names) and what it defines."""
    module = importlib.import_module(module_name)
    defined_here = [
        n
        for n in dir(module)
        if not n.startswith("_") and getattr(getattr(module, n), "__module__", "") == module_name
    ]
    listed = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    names = list(dict.fromkeys([*listed, *defined_here]))
    for name in names:
        if hasattr(module, name):
            yield name, getattr(module, name)


def _entries(modules: Iterable[str], address: Callable[[str, str, object], str]) -> list[Entry]:
    """Inventory lines for the public names of ``modules``, addressed by ``address``."""
    out: list[Entry] = []
    for module_name in modules:
        out.append((module_name, "py:module", address(module_name, "", None)))
        for name, obj in _public(module_name):
            full = f"{module_name}.{name}"
            out.append((full, _role(obj), address(module_name, name, obj)))
            defined = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
            if inspect.isclass(obj) and defined != full:
                # Sphinx names base classes by their defining path (torch.nn.modules.module.Module).
                out.append((defined, _role(obj), address(module_name, name, obj)))
    return out


def python_entries() -> list[Entry]:
    """The builtins and the standard-library modules our docstrings name."""
    out: list[Entry] = []
    for name in dir(builtins):
        obj = getattr(builtins, name)
        if name.startswith("_"):
            continue
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            out.append((name, "py:exception", f"library/exceptions.html#{name}"))
        elif inspect.isclass(obj) or callable(obj):
            out.append((name, _role(obj), f"library/functions.html#{name}"))
    for constant in ("None", "True", "False", "Ellipsis", "NotImplemented"):
        out.append((constant, "py:data", f"library/constants.html#{constant}"))
    stdlib = ["typing", "collections.abc", "pathlib", "os", "contextlib", "pickle", "argparse",
              "dataclasses", "warnings", "tempfile", "datetime", "enum", "io", "math"]  # fmt: skip
    out += _entries(
        stdlib, lambda m, n, o: f"library/{m}.html" + (f"#{m}.{n}" if n else f"#module-{m}")
    )
    return out


def numpy_entries() -> list[Entry]:
    """Numpy's top-level names and numpy.random."""
    return _entries(
        ["numpy", "numpy.random"],
        lambda m, n, o: f"reference/generated/{m}.{n}.html" if n else "reference/index.html",
    )


def torch_entries() -> list[Entry]:
    """Torch's tensor, modules, generators, distributed and autograd names."""
    special = {
        "Tensor": "tensors.html#torch.Tensor",
        "dtype": "tensor_attributes.html#torch.dtype",
        "device": "tensor_attributes.html#torch.device",
    }

    def address(m: str, n: str, o: object) -> str:
        if m == "torch" and n in special:
            return special[n]
        if m == "torch.distributed":
            return "distributed.html" + (f"#torch.distributed.{n}" if n else "")
        return f"generated/{m}.{n}.html" if n else f"{m.replace('torch.', '') or 'torch'}.html"

    out = _entries(["torch", "torch.nn", "torch.distributed", "torch.autograd"], address)
    out.append(("torch.Tensor", "py:class", special["Tensor"]))
    return out


def neo_entries() -> list[Entry]:
    """neo.core classes (also under their ``neo.`` aliases), neo.io and neo.utils."""
    out = _entries(["neo.core"], lambda m, n, o: "api_reference.html" + (f"#{m}.{n}" if n else ""))
    out += [
        (f"neo.{name}", role, address)
        for name, role, address in out
        if name.startswith("neo.core.") and "." not in name[len("neo.core.") :]
    ]
    out += _entries(["neo", "neo.io", "neo.utils"], lambda m, n, o: "api_reference.html")
    return out


def elephant_entries() -> list[Entry]:
    """The Elephant modules whose functions elephant-fit twins or calls."""
    modules = ["statistics", "spike_train_correlation", "spike_train_dissimilarity", "kernels",
               "conversion", "trials", "utils"]  # fmt: skip

    def address(m: str, n: str, o: object) -> str:
        short = m.split(".", 1)[1]
        return f"reference/_toctree/{short}/{m}.{n}.html" if n else f"reference/{short}.html"

    return _entries([f"elephant.{m}" for m in modules], address)


def quantities_entries() -> list[Entry]:
    """Quantities' classes and unit registry (its site has one page per topic)."""
    return _entries(["quantities"], lambda m, n, o: "user/tutorial.html")


PACKAGES: dict[str, Callable[[], list[Entry]]] = {
    "python": python_entries,
    "numpy": numpy_entries,
    "torch": torch_entries,
    "neo": neo_entries,
    "elephant": elephant_entries,
    "quantities": quantities_entries,
}


def write(project: str, entries: list[Entry]) -> Path:
    """Write one inventory file (Sphinx's version 2 format) and return its path."""
    version = "" if project == "python" else importlib.import_module(project).__version__
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    unique = {(name, role): address for name, role, address in entries}
    lines = "".join(
        f"{name} {role} 1 {address} -\n" for (name, role), address in sorted(unique.items())
    )
    path = HERE / f"{project}.inv"
    path.write_bytes(header.encode() + zlib.compress(lines.encode()))
    return path


def main() -> None:
    """Write every inventory and say how many names each holds."""
    for project, entries in PACKAGES.items():
        listed = entries()
        print(f"{write(project, listed).name}: {len(listed)} names")


if __name__ == "__main__":
    main()
