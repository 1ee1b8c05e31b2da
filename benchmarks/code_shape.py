"""How the code is shaped (issue 27's figures): edition-specific lines and import circles.

    python benchmarks/code_shape.py

Prints the lines of code each front end owns (the Gradio edition: ``explorer/gradio_ui/``, or
before it existed ``explorer/tabs/``, ``explorer/app.py`` and ``explorer/tempfiles.py``; the
Streamlit edition: ``explorer/streamlit_ui/``) and every circle among the project's own modules,
counting an import wherever it stands (a function-level import closes a circle too), and the
string literals of 50 or more characters that both editions write (each should be the core's).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("trainers", "explorer", "pretrained")
GRADIO_PARTS = ("explorer/gradio_ui", "explorer/tabs", "explorer/app.py", "explorer/tempfiles.py")
STREAMLIT_PARTS = ("explorer/streamlit_ui",)


def python_files(part: str) -> list[Path]:
    path = ROOT / part
    if path.is_file():
        return [path]
    return sorted(path.rglob("*.py")) if path.is_dir() else []


def line_count(parts: tuple[str, ...]) -> int:
    return sum(len(p.read_text().splitlines()) for part in parts for p in python_files(part))


def long_strings(parts: tuple[str, ...], least: int = 50) -> set[str]:
    """The string literals of at least ``least`` characters in these files (docstrings
    left out: they describe the file, they are not shown)."""
    found = set()
    for part in parts:
        for path in python_files(part):
            tree = ast.parse(path.read_text())
            docstrings = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                and node.body
                and isinstance(node.body[0], ast.Expr)
                and isinstance(node.body[0].value, ast.Constant)
            }
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                    and len(node.value.strip()) >= least
                ):
                    found.add(" ".join(node.value.split()))
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_files() -> dict[str, Path]:
    """The project's modules by dotted name."""
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (``from a import b`` counts a.b when it is a
    module, else a)."""
    modules = module_files()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def main() -> None:
    gradio_lines = line_count(GRADIO_PARTS)
    streamlit_lines = line_count(STREAMLIT_PARTS)
    found = circles(import_graph())
    for component in found:
        print("circle:", " <-> ".join(component))
    twice = sorted(long_strings(GRADIO_PARTS) & long_strings(STREAMLIT_PARTS))
    for text in twice:
        print("written in both editions:", text[:100])
    print(
        f"code shape: edition-specific lines {gradio_lines + streamlit_lines} "
        f"(gradio {gradio_lines}, streamlit {streamlit_lines}), import circles {len(found)}, "
        f"sentences of 50+ characters in both editions {len(twice)}"
    )


if __name__ == "__main__":
    main()
