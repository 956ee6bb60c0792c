"""Issue 11 item 7: no import cycles inside bot/, counting the imports inside functions (lazy imports) too.

The graph has one node per module of bot/ (a package's __init__.py is the package) and an edge A -> B when A imports
B anywhere in its source: `import bot.x`, `from bot.x import y` (an edge to bot.x, and to bot.x.y when that is a
module), and relative imports resolved against A's package. A lazy import inside a function hides a cycle from
Python's import machinery but not the dependency, so it counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

BOT_DIR = Path(__file__).resolve().parents[1] / "bot"


def _modules(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under package_dir (named from the package's own name)."""
    out: dict[str, Path] = {}
    for path in package_dir.rglob("*.py"):
        parts = (package_dir.name, *path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imported(name: str, path: Path, node: ast.AST) -> list[str]:
    """The dotted names an import statement of module `name` (file `path`) may refer to."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:  # relative: from the package of this module, `level - 1` packages up
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([base] if base else []))
    return [base] + [f"{base}.{a.name}" for a in node.names]


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports, at module level or inside any function or class."""
    modules = _modules(package_dir)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            for target in _imported(name, path, node):
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Cycles as lists of modules (the first repeated at the end), one per back edge of an iterative depth-first
    search (no recursion limit); [] exactly when the graph has no cycle."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in sorted(graph):
        if root in state:
            continue
        path: list[str] = [root]
        stack = [iter(sorted(graph[root]))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                found.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return found


def test_bot_has_no_import_cycle() -> None:
    graph = import_graph(BOT_DIR)
    assert len(graph) > 100 and graph["bot.chat.assistant"], "the graph of bot/ was not built"
    found = cycles(graph)
    assert not found, "import cycles in bot/:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_layers_named_in_issue_11_point_one_way() -> None:
    """The dependencies the fix made one-way, asserted directly (a cycle through them would fail above too)."""
    graph = import_graph(BOT_DIR)
    assert "bot.suggestions.flow" in graph["bot.campaigns.answers"]
    for piece in (
        "flow",
        "views",
        "support",
        "state",
        "kinds",
        "service",
    ):  # the flow never imports campaigns
        assert not any(m.startswith("bot.campaigns") for m in graph[f"bot.suggestions.{piece}"]), piece
    assert "bot.staff.sessions" in graph["bot.staff.accounts"]
    assert "bot.staff.accounts" not in graph["bot.staff.sessions"]
    pages = graph["bot.channels.web.staff.pages"]
    assert not any(m.startswith("bot.channels.web.staff.") for m in pages), pages
    assert "bot.channels.web.staff.pages" in graph["bot.channels.web.staff.items"]


def test_a_lazy_import_cycle_is_found(tmp_path: Path) -> None:
    """The checker itself: a cycle closed by an import inside a function, or by a relative import, is reported."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from pkg import a\n    return a\n")
    (pkg / "c.py").write_text("from .sub.b import f\n")
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.sub", "pkg.sub.b"} and graph["pkg.c"] == {"pkg.sub.b"}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b", "pkg.a"]]
    (pkg / "sub" / "b.py").write_text("def f():\n    return 1\n")
    assert cycles(import_graph(pkg)) == []
