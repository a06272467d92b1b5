"""Imports point one way: contract/toolchain <- sw <- hdl <- sim <- boards <- api/flow/cli.

Walks the syntax tree of every module of the package, function-level imports included, and
fails on any import of a higher layer (docs/architecture.md, "Code map"). hdl/ is gateware
only: it must not import torch either.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Folder of each subpackage (pyproject.toml's package-dir) and its rank; a module may import
# only modules of its own rank or lower.
PACKAGES = {"spinaps.sw": ("sw", 1), "spinaps.hdl": ("hdl", 2), "spinaps.sim": ("sim", 3),
            "spinaps.boards": ("boards", 4)}
BOTTOM = {"spinaps.contract", "spinaps.toolchain"}     # rank 0: import no other spinaps module
TOP_RANK = 5                                           # spinaps/*.py: api, flow, cli
# Heavy or layer-foreign third-party imports that a layer must not make.
FORBIDDEN_THIRD_PARTY = {"spinaps.hdl": {"torch"}, "spinaps.contract": {"torch", "amaranth"},
                         "spinaps.toolchain": {"torch"}}


def _modules():
    for package, (folder, rank) in PACKAGES.items():
        for path in sorted((ROOT / folder).glob("*.py")):
            yield f"{package}.{path.stem}", package, rank, path
    for path in sorted((ROOT / "spinaps").glob("*.py")):
        name = f"spinaps.{path.stem}"
        yield name, name if name in BOTTOM else "spinaps", 0 if name in BOTTOM else TOP_RANK, path


def _rank(target):
    """Rank of an imported spinaps module (None for the package itself or unknown names)."""
    for name in BOTTOM:
        if target == name or target.startswith(name + "."):
            return 0
    for package, (_, rank) in PACKAGES.items():
        if target == package or target.startswith(package + "."):
            return rank
    if target.startswith("spinaps."):
        return TOP_RANK
    return None


def _imports(module, path):
    """(line, absolute module name) of every import in the file, at any depth."""
    tree = ast.parse(path.read_text(), filename=str(path))
    parts = module.split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[:-node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            yield node.lineno, name
            for alias in node.names:            # `from spinaps import flow` imports spinaps.flow
                yield node.lineno, f"{name}.{alias.name}"


def test_imports_point_one_way():
    bad = []
    for module, package, rank, path in _modules():
        for line, target in _imports(module, path):
            root = target.split(".")[0]
            if root in FORBIDDEN_THIRD_PARTY.get(package, ()):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {package} imports {target}")
                continue
            if not target.startswith("spinaps"):
                continue
            r = _rank(target)
            if r is not None and r > rank and not (target.endswith(".__version__")):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {module} (layer {rank}) imports "
                           f"{target} (layer {r})")
    assert not bad, "imports against the layer direction:\n" + "\n".join(bad)


def test_walker_sees_function_level_imports(tmp_path):
    """The walker itself: a function-level upward import is found (so the test can fail)."""
    src = tmp_path / "x.py"
    src.write_text("def f():\n    from spinaps.boards import top\n    from ..sim import runner\n")
    found = [t for _, t in _imports("spinaps.sw.x", src)]
    assert "spinaps.boards" in found and "spinaps.sim" in found
    assert _rank("spinaps.boards.top") == 4 and _rank("spinaps.flow") == TOP_RANK


@pytest.mark.parametrize("package", ["spinaps.hdl.accelerator", "spinaps.contract",
                                     "spinaps.sw.artifact"])
def test_light_modules_do_not_load_torch(package):
    """Gateware, the contract and artifact validation run without torch."""
    import subprocess
    import sys

    code = (f"import sys, importlib; importlib.import_module({package!r}); "
            f"sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0, f"{package} loads torch"
