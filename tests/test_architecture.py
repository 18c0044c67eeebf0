"""The package's import graph: no circle between modules, no upward import between layers.

Every ``import`` of an ``autobuild`` module is read from the source (at module level or inside a
function: a deferred import still ties two modules together), so the test needs nothing imported.
Run it alone to see the layers: ``pytest tests/test_architecture.py -q``.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autobuild"

#: Layers from the bottom: a module may import from its own layer and the layers below it only.
LAYERS = (
    ("autobuild._io", "autobuild._paths", "autobuild.stats"),
    ("autobuild.spaces", "autobuild.graphs"),
    ("autobuild.data", "autobuild.predictor"),
    ("autobuild.evaluators", "autobuild.search", "autobuild.executor"),
    ("autobuild.experiments",),
    ("autobuild.book",),
    ("autobuild.cli", "autobuild"),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The ``autobuild`` modules ``path`` imports: ``from a import b`` counts ``a.b`` when that is a
    module (a package's own submodules import it so without running into its ``__init__``'s
    names), else ``a``."""
    found = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("autobuild")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.startswith("autobuild"):
                for a in node.names:
                    found.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {m: {i for i in imports_of(p, set(modules)) if i in modules and i != m} for m, p in modules.items()}


def layer(module: str) -> int:
    best = max((prefix for group in LAYERS for prefix in group
                if module == prefix or module.startswith(prefix + ".")), key=len)
    return next(i for i, group in enumerate(LAYERS) if best in group)


def test_no_module_imports_a_higher_layer():
    upward = sorted(f"{m} (layer {layer(m)}) imports {i} (layer {layer(i)})"
                    for m, deps in graph().items() for i in deps
                    if layer(i) > layer(m) and not i == "autobuild")
    assert not upward, "\n".join(upward)


def test_experiments_never_import_the_book():
    bad = sorted(f"{m} imports {i}" for m, deps in graph().items() if m.startswith("autobuild.experiments")
                 for i in deps if i.startswith("autobuild.book"))
    assert not bad, "\n".join(bad)


def test_no_import_circle_between_modules():
    """Packages' ``__init__`` re-export their modules; a circle through one still counts."""
    g = graph()
    state, stack, circles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for d in sorted(g[m]):
            if state.get(d) == "open":
                circles.append(" -> ".join(stack[stack.index(d):] + [d]))
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = "done"

    for m in sorted(g):
        if m not in state:
            visit(m)
    assert not circles, "\n".join(circles)


@pytest.mark.parametrize("broken", ["upward", "circle"])
def test_the_checks_catch_what_they_look_for(tmp_path, monkeypatch, broken):
    """A tiny package with an upward import, or a circle, fails the checks."""
    pkg = tmp_path / "autobuild"
    (pkg / "predictor").mkdir(parents=True)
    (pkg / "book").mkdir()
    for f in ("__init__.py", "predictor/__init__.py", "book/__init__.py", "book/figs.py"):
        (pkg / f).write_text("")
    if broken == "upward":
        (pkg / "predictor" / "a.py").write_text("from autobuild.book import figs\n")
        monkeypatch.setattr(__import__(__name__), "PACKAGE", pkg)
        with pytest.raises(AssertionError, match="imports autobuild.book.figs"):
            test_no_module_imports_a_higher_layer()
    else:
        (pkg / "predictor" / "a.py").write_text("from autobuild.predictor import b\n")
        (pkg / "predictor" / "b.py").write_text("def f():\n    from . import a\n")
        monkeypatch.setattr(__import__(__name__), "PACKAGE", pkg)
        with pytest.raises(AssertionError, match="autobuild.predictor.a -> autobuild.predictor.b -> autobuild.predictor.a"):
            test_no_import_circle_between_modules()
