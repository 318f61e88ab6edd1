"""berth's layers, read from the code: a package imports only the packages below it.

Every import in berth/ counts, also one inside a function (a function-level import hides a cycle, it
does not remove it). The table is the rule of docs/architecture.md; packages the roadmap adds (build,
distribution, registry) are in it already, so their first import is checked too.
"""
from __future__ import annotations

import ast
from pathlib import Path

BERTH = Path(__file__).resolve().parent.parent / "berth"

# Modules any layer may use: they import nothing of berth's but each other.
LEAVES = {"berth", "berth.errdefs", "berth.atomicfile", "berth.threadpipe", "berth.paths", "berth.timestamps",
          "berth.durations", "berth.strconv", "berth.detachkeys"}

# package -> the packages it may import (besides itself and the leaves)
MAY_IMPORT: dict[str, set[str]] = {
    "linux": set(),
    "store": {"linux"},
    "layer": {"linux", "store"},
    "image": {"linux", "store", "layer"},
    "runtime": {"linux"},
    "monitor": {"linux", "runtime"},
    "network": {"linux"},
    "volume": {"linux"},
    "build": {"linux", "store", "layer", "image"},
    "distribution": {"store", "layer", "image"},
    "registry": {"store"},
    "daemon": {"linux", "store", "layer", "image", "runtime", "monitor", "network", "volume", "build",
               "distribution"},
    "api": {"daemon"},  # routes translate HTTP into service calls, nothing else
    "cli": set(),  # a client of the Engine API only
}

# The composition root: the program that builds the daemon's services and serves them over HTTP.
ENTRY_POINTS = {"berth.daemon.main": {"api"}}


def module_name(path: Path) -> str:
    parts = path.relative_to(BERTH.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every berth module `path` imports, wherever the import stands."""
    found = []
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
    return [(line, name) for line, name in found if name == "berth" or name.startswith("berth.")]


def top_package(module: str) -> str | None:
    """`store` for berth.store.blobs; None for a leaf module."""
    if module in LEAVES:
        return None
    return module.split(".")[1]


def test_every_package_is_in_the_layer_table() -> None:
    packages = {path.name for path in BERTH.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    assert packages <= MAY_IMPORT.keys(), f"add {packages - MAY_IMPORT.keys()} to MAY_IMPORT in {__file__}"
    modules = {module_name(path) for path in BERTH.glob("*.py")}
    assert modules <= LEAVES, f"{modules - LEAVES}: a module at berth/'s top is a leaf; list it in LEAVES"


def test_leaf_modules_import_only_leaf_modules() -> None:
    wrong = [f"{module_name(path)}:{line} imports {name}" for path in BERTH.glob("*.py")
             for line, name in imported_modules(path) if name not in LEAVES]
    assert not wrong, "a leaf module must stay a leaf:\n" + "\n".join(wrong)


def test_each_package_imports_only_packages_below_it() -> None:
    wrong = []
    for path in sorted(BERTH.glob("*/**/*.py")):
        importer = module_name(path)
        package = importer.split(".")[1]
        allowed = MAY_IMPORT[package] | ENTRY_POINTS.get(importer, set()) | {package}
        for line, name in imported_modules(path):
            target = top_package(name)
            if target is not None and target not in allowed:
                wrong.append(f"{path.relative_to(BERTH.parent)}:{line}: berth.{package} imports {name}")
    assert not wrong, ("an import against the layers (move the code to the lower layer, or pass what the lower "
                       "layer needs in as an argument or a Protocol):\n" + "\n".join(wrong))
