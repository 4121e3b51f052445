"""The package's shape: no import circle, and no file, class or function too long to hold in mind.

Both walk the source with ``ast`` (nothing is imported). Every import counts, including those
under ``if TYPE_CHECKING:`` and inside functions: a circle hidden in a function body is still a
circle of dependencies.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "elephant_fit"

#: Limits of docs/explanations/architecture.md: lines of code of a file, a class and a function;
#: docstrings do not count (they carry the API reference's shapes, units and examples).
MAX_FILE_LINES, MAX_CLASS_LINES, MAX_FUNCTION_LINES = 600, 200, 80


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imported(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules ``module`` imports anywhere in its file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([node.module] if node.module else []))
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                name = f"{base}.{alias.name}"
                found.add(name if name in modules else base)
    return {name for name in found if name in modules and name != module}


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    modules = _modules()
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_circle():
    graph = import_graph()
    assert "elephant_fit.fitting.loop" in graph["elephant_fit.fitting.fitter"]  # the walk works
    assert circles(graph) == []


def test_the_circle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def _docstring_lines(node: ast.AST) -> int:
    """Lines of the docstrings of a module, class or function and of everything inside it."""
    lines = 0
    for inner in ast.walk(node):
        body = getattr(inner, "body", None)
        if not isinstance(
            inner, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        ):
            continue
        first = body[0] if body else None
        if isinstance(first, ast.Expr) and isinstance(getattr(first.value, "value", None), str):
            lines += first.end_lineno - first.lineno + 1
    return lines


def _length(node: ast.AST) -> int:
    """Lines of a function or class, without its docstrings (its methods' included)."""
    return node.end_lineno - node.lineno + 1 - _docstring_lines(node)


def _too_long() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        name = path.relative_to(PACKAGE.parent)
        tree = ast.parse(text)
        code_lines = len(text.splitlines()) - _docstring_lines(tree)
        if code_lines > MAX_FILE_LINES:
            found.append(f"{name}: {code_lines} lines without docstrings")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and _length(node) > MAX_CLASS_LINES:
                found.append(f"{name}: class {node.name}, {_length(node)} lines")
            function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if function and _length(node) > MAX_FUNCTION_LINES:
                found.append(f"{name}: {node.name}(), {_length(node)} lines")
    return found


def test_no_file_class_or_function_is_too_long():
    assert _too_long() == []


#: The rooms in the order of the data flow (docs/explanations/architecture.md): a room imports only rooms
#: before it (the top-level package, which re-exports, is outside the order).
ROOMS = (
    ("errors", "_validation", "_quantities", "_memory", "_io", "_progress", "_version"),
    ("statistics",),
    ("data",),
    ("compat", "network"),
    ("distributed",),
    ("fitting",),
    ("evaluation",),
    ("cli",),
)


def _rank(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) == 1:
        return None
    return next(rank for rank, rooms in enumerate(ROOMS) if parts[1] in rooms)


def test_imports_point_back_along_the_data_flow():
    wrong = []
    for module, imported in import_graph().items():
        for target in imported:
            here, there = _rank(module), _rank(target)
            same_room = module.split(".")[:2] == target.split(".")[:2]
            floor = here == 0 and there == 0  # the floor's modules may import each other
            ranked = here is not None and there is not None
            if ranked and not same_room and not floor and there >= here:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_importing_the_package_does_not_import_numba():
    """numba (about a second to import) loads on the first compiled loop, not with the package."""
    code = "import sys, elephant_fit, elephant_fit.cli; print('numba' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_importing_the_package_does_not_import_elephant():
    """Elephant (1.3 s: its package loads scikit-learn and scipy.stats) loads with the report."""
    code = "import sys, elephant_fit; print('elephant' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
