"""The house rules of the package, held against its code: imports flow one way, from the
command line down to the vocabulary, with no circle (type-only imports included); no module
grows past about 400 lines unless its docstring says why.

docs/architecture.md tells the same layering in words.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parents[1] / "sdk"
PACKAGE = SDK / "skilldeck"

#: Top to bottom. A module may import from its own layer or any layer below, never above.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"cli"}),
    frozenset({"eval", "estimate", "interop", "batch"}),
    frozenset({"testing"}),
    frozenset({"project"}),
    frozenset({"run"}),
    frozenset({"host"}),
    frozenset({"hookspecs"}),
    frozenset({"dispatch"}),
    frozenset({"skill", "catalog"}),
    frozenset({"schema"}),
    frozenset({"tiers", "config", "problems", "tokens"}),
    frozenset({"errors", "plain", "events"}),
)
MAX_LINES = 400
#: What a module's docstring says when it is longer than MAX_LINES.
LONG_REASON = "longer than 400 lines"


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(SDK).with_suffix("").parts).removesuffix(".__init__")


def imports_of(path: Path) -> set[str]:
    """Every skilldeck module `path` imports, anywhere in it (functions and TYPE_CHECKING too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("skilldeck"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "skilldeck":  # `from skilldeck import hookspecs`: a module
                found.update(f"skilldeck.{alias.name}" for alias in node.names)
            elif node.module.startswith("skilldeck."):
                found.add(node.module)
    return found


def import_graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def home(module: str) -> str | None:
    """The part of the package a module belongs to (`skilldeck.run.call` -> `run`); None for
    the package's face, `skilldeck/__init__.py`, which may gather names from every layer."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def layer_of(part: str) -> int:
    for index, layer in enumerate(LAYERS):
        if part in layer:
            return index
    raise AssertionError(f"skilldeck.{part} is in no layer: add it to LAYERS (and the docs)")


def upward_imports(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Each import that runs against the layering, as `importer -> imported`."""
    wrong = []
    for importer, imported in graph.items():
        source = home(importer)
        if source is None:
            continue
        for target in imported:
            part = home(target)
            if part is not None and layer_of(part) < layer_of(source):
                wrong.append(f"{importer} -> {target}")
    return sorted(wrong)


def circles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The import circles among modules (strongly connected components of two or more, or a
    module importing itself), each sorted; Tarjan's algorithm, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    edges = {node: sorted(t for t in targets if t in graph) for node, targets in graph.items()}
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = edges[node]
            if child < len(targets):
                work.append((node, child + 1))
                target = targets[child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(found)


def test_imports_flow_one_way_from_the_command_line_down_to_the_vocabulary() -> None:
    assert upward_imports(import_graph()) == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert circles(import_graph()) == []


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {home(module) for module in import_graph()} - {None}
    for part in parts:
        assert part is not None
        layer_of(part)


def test_the_checks_catch_an_upward_import_and_a_circle() -> None:
    graph = {
        "skilldeck.schema.strict": {"skilldeck.run.runner", "skilldeck.errors"},
        "skilldeck.run.runner": {"skilldeck.run.call"},
        "skilldeck.run.call": {"skilldeck.run.runner"},
        "skilldeck.errors": set(),
    }
    assert upward_imports(graph) == ["skilldeck.schema.strict -> skilldeck.run.runner"]
    assert circles(graph) == [["skilldeck.run.call", "skilldeck.run.runner"]]
    with pytest.raises(AssertionError, match=r"skilldeck\.lab is in no layer"):
        upward_imports({"skilldeck.lab.x": {"skilldeck.errors"}})


def long_modules(paths: Iterable[Path]) -> list[str]:
    """Modules over MAX_LINES whose docstring does not say why they are that long."""
    found = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if lines > MAX_LINES and LONG_REASON not in docstring:
            found.append(f"{path.relative_to(path.parents[1])}: {lines} lines")
    return sorted(found)


def test_no_module_is_longer_than_400_lines_without_saying_why() -> None:
    assert long_modules(PACKAGE.rglob("*.py")) == []


def test_the_length_check_catches_a_long_module(tmp_path: Path) -> None:
    long = tmp_path / "lab" / "long.py"
    long.parent.mkdir()
    long.write_text('"""A module."""\n' + "x = 1\n" * 500, encoding="utf-8")
    assert long_modules([long]) == ["lab/long.py: 501 lines"]
    long.write_text(f'"""A module {LONG_REASON}: a table."""\n' + "x = 1\n" * 500)
    assert long_modules([long]) == []


#: The package faces, whose `__all__` gathers names from their homes on purpose.
FACES = frozenset({"skilldeck", "skilldeck.testing"})


def reexports(paths: Iterable[Path]) -> list[str]:
    """Names a module's `__all__` lists but the module does not define: a second import path
    for a name that has its home elsewhere."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined: set[str] = set()
        exported: list[str] = []
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                defined.add(node.name)
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    defined.add(target.id)
                    if target.id == "__all__" and isinstance(node.value, ast.List | ast.Tuple):
                        exported = [str(ast.literal_eval(item)) for item in node.value.elts]
        found.extend(f"{path.stem}.{name}" for name in exported if name not in defined)
    return sorted(found)


def test_a_public_name_has_one_import_path_its_home_or_a_package_face() -> None:
    modules = [path for path in PACKAGE.rglob("*.py") if module_name(path) not in FACES]
    assert reexports(modules) == []


def test_the_reexport_check_catches_a_name_handed_on(tmp_path: Path) -> None:
    module = tmp_path / "policy.py"
    module.write_text(
        'from skilldeck.run.budget import RunBudget\n__all__ = ["Policy", "RunBudget"]\n'
        "class Policy: ...\n",
        encoding="utf-8",
    )
    assert reexports([module]) == ["policy.RunBudget"]
