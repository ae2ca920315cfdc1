"""The project's rooms and the imports between its files, read from the source with `ast`.

Used by tests/test_layout.py, and runnable to see the figures docs/architecture.md gives:

    python -m tests.layout                  # this tree
    python -m tests.layout --root <dir> --kernel config   # another checkout (config was the kernel before core/)

Every import counts, wherever it is written: one hidden inside a function still ties its file to the
module it names, and a cycle through it is still a cycle.
"""

import argparse
import ast
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DOMAIN_APPS", "KERNEL", "WIRING", "Project", "scan"]

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "core"
OPERATIONS = "operations"
WIRING = "config"
DOMAIN_APPS = ("catalog", "tenancy", "identity", "audit", "outbox", "branding", "usage", "integrations", "exports")
# The Django project's wiring, and nothing else (docs/architecture.md).
WIRING_FILES = frozenset({"__init__.py", "apps.py", "asgi.py", "celery.py", "gunicorn.py", "settings.py", "urls.py",
                          "wsgi.py"})
# Folders of the tree that hold no importable project code of their own, or only tools around it.
NOT_SOURCE = frozenset({"tests", "bench", "docs", "fixtures", "bin"})
MAX_LINES = 400


@dataclass
class Project:
    root: Path
    modules: dict[str, Path] = field(default_factory=dict)  # dotted name -> file
    imports: dict[str, set[str]] = field(default_factory=dict)  # module -> project modules it imports

    def room(self, module: str) -> str:
        return module.split(".", 1)[0]

    def cycles(self) -> list[list[str]]:
        """Every group of files that import each other in a circle (strongly connected components)."""
        index, low, on_stack, stack, found = {}, {}, set(), [], []

        def visit(node):
            index[node] = low[node] = len(index)
            stack.append(node)
            on_stack.add(node)
            for target in sorted(self.imports[node]):
                if target not in index:
                    visit(target)
                    low[node] = min(low[node], low[target])
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
            if low[node] == index[node]:
                component = []
                while not component or component[-1] != node:
                    component.append(stack.pop())
                    on_stack.discard(component[-1])
                if len(component) > 1:
                    found.append(sorted(component))

        for module in sorted(self.modules):
            if module not in index:
                visit(module)
        return sorted(found)

    def imports_between(self, source_rooms, target_rooms) -> list[tuple[str, str]]:
        return sorted((module, target) for module, targets in self.imports.items() if self.room(module) in source_rooms
                      for target in targets if self.room(target) in target_rooms)

    def files_in(self, room: str) -> list[Path]:
        return sorted(path for path in (self.root / room).rglob("*")
                      if path.is_file() and "__pycache__" not in path.parts)


def _module_name(relative: Path) -> str:
    parts = relative.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(project: Project, name: str) -> str | None:
    """The project module `name` is, or the package it lies in (an attribute of a package)."""
    while name and name not in project.modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported(project: Project, module: str, tree: ast.AST) -> set[str]:
    package = module if project.modules[module].name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a import b` imports the module a.b when there is one, else the name b of a.
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(target for name in names if (target := _resolve(project, name)))
    found.discard(module)
    return found


def source_packages(root: Path) -> list[str]:
    return sorted(init.parent.name for init in root.glob("*/__init__.py") if init.parent.name not in NOT_SOURCE)


def scan(root: Path = ROOT) -> Project:
    """Every .py file of the project's source packages (migrations aside) and what each imports."""
    project = Project(root=root)
    for package in source_packages(root):
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" not in path.parts:
                project.modules[_module_name(path.relative_to(root))] = path
    for module, path in project.modules.items():
        project.imports[module] = _imported(project, module, ast.parse(path.read_text(), filename=str(path)))
    return project


def long_files(root: Path = ROOT) -> list[tuple[int, str]]:
    """Python files over MAX_LINES lines anywhere in the tree (tests and benchmarks too), migrations aside."""
    found = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        if relative.parts[0].startswith(".") or "migrations" in relative.parts:
            continue
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            found.append((lines, str(relative)))
    return sorted(found, reverse=True)


def _report(root: Path, kernel: str) -> None:
    project = scan(root)
    wiring = project.files_in(WIRING)
    python = [path for path in wiring if path.suffix == ".py"]
    lines = sum(len(path.read_text().splitlines()) for path in python)
    everything = sum(len(path.read_text().splitlines()) for path in project.modules.values())
    print(f"{WIRING}/: {len(wiring)} files ({len(python)} Python), {lines} lines of Python "
          f"({lines / everything:.0%} of the {everything} in the source packages, migrations aside)")
    strays = [path for path in wiring if path.relative_to(root / WIRING).parts[0] not in WIRING_FILES]
    print(f"  files that are not wiring: {len(strays)}")
    kernel_out = project.imports_between({kernel}, set(DOMAIN_APPS) | {OPERATIONS} | ({WIRING} - {kernel}))
    print(f"{kernel} -> domain, operations or {WIRING} imports: {len(kernel_out)}")
    for source, target in kernel_out:
        print(f"  {source} -> {target}")
    cycles = project.cycles()
    print(f"import cycles between files: {len(cycles)}")
    for cycle in cycles:
        print(f"  {' <-> '.join(cycle)}")
    long = long_files(root)
    print(f"files over {MAX_LINES} lines: {len(long)}")
    for count, name in long:
        print(f"  {name}: {count}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--kernel", default=KERNEL)
    arguments = parser.parse_args()
    _report(arguments.root.resolve(), arguments.kernel)
