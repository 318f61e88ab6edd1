"""berth's layers, read from the code: a package imports only the packages below it.

Every import in berth/ counts, also one inside a function (a function-level import hides a cycle, it
does not remove it). The table is the rule of docs/architecture.md; packages the roadmap adds (build,
distribution, registry) are in it already, so their first import is checked too.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

BERTH = Path(__file__).resolve().parent.parent / "berth"

# Modules any layer may use: they import nothing of berth's but each other.
LEAVES = {"berth", "berth.errdefs", "berth.atomicfile", "berth.threadpipe", "berth.paths", "berth.timestamps",
          "berth.durations", "berth.strconv", "berth.detachkeys", "berth.dockerignore", "berth.trash"}

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
    # the builder runs RUN steps in containers of its own, on networks of its own
    "build": {"linux", "store", "layer", "image", "runtime", "monitor", "network", "volume"},
    # the registry client: it pulls into and pushes from the stores, and knows no container
    "distribution": {"linux", "store", "layer", "image"},
    # the registry server shares the content store and the manifest formats, never the daemon
    "registry": {"linux", "store", "layer", "image"},
    "daemon": {"linux", "store", "layer", "image", "runtime", "monitor", "network", "volume", "build",
               "distribution"},
    "api": {"daemon"},  # routes translate HTTP into service calls, nothing else
    "cli": set(),  # a client of the Engine API only
}

# "berth.package.module:attribute", a module imported when the attribute is first wanted
LAZY_TARGET = re.compile(r"berth(\.[a-z_][a-z0-9_]*)+:[A-Za-z_][A-Za-z0-9_]*")

# The composition root: the program that builds the daemon's services and serves them over HTTP.
ENTRY_POINTS = {"berth.daemon.main": {"api"}}


def module_name(path: Path) -> str:
    parts = path.relative_to(BERTH.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every berth module `path` imports (see `imports_in`)."""
    return imports_in(path.read_text(), module_name(path), path.name == "__init__.py", str(path))


def imports_in(source: str, module: str, is_package: bool = False, filename: str = "<source>") -> list[tuple[int, str]]:
    """(line, module) for every berth module `source` (the module `module`) imports, wherever the
    import stands; also one named by a string: `__import__("berth.x")`, `importlib.import_module(...)`,
    or a lazy "berth.x.y:attribute" target (the CLI's command table), spelled out or joined with `+`."""
    found = []
    package = module if is_package else module.rpartition(".")[0]
    tree = ast.parse(source, filename)
    strings = {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
               and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
               for target in node.targets if isinstance(target, ast.Name)}

    def text(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return strings.get(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = text(node.left), text(node.right)
            return left + right if left is not None and right is not None else None
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _callee(node.func) in ("__import__", "import_module") and node.args:
            name = text(node.args[0])
            if name is not None:
                found.append((node.lineno, name))
        elif isinstance(node, (ast.Constant, ast.BinOp)):
            value = text(node)
            if value is not None and LAZY_TARGET.fullmatch(value):
                found.append((node.lineno, value.partition(":")[0]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
    return [(line, name) for line, name in found if name == "berth" or name.startswith("berth.")]


def _callee(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


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


def test_every_way_of_importing_is_seen() -> None:
    source = """
import berth.api
from berth.api import app
from ..api import http
from . import engine
import importlib
PREFIX = "berth.api."

def later():
    from berth.api.routes import images
    __import__("berth.api.streaming")
    importlib.import_module(PREFIX + "app")
    return "berth.api.app:build_server", PREFIX + "http:Router"
"""
    assert sorted(name for _, name in imports_in(source, "berth.daemon.example")) == sorted([
        "berth.api", "berth.api", "berth.api", "berth.daemon", "berth.api.routes", "berth.api.streaming",
        "berth.api.app", "berth.api.app", "berth.api.http"])


def test_the_clis_lazy_command_targets_are_checked() -> None:
    names = {name for _, name in imported_modules(BERTH / "cli" / "registry.py")}
    assert "berth.cli.commands.containers" in names and "berth.cli.commands.images" in names
