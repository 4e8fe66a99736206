"""The import rules of DESIGN.md, checked on the source (every import, at any depth,
inside functions too) and at run time (what importing the light modules drags in).

    bots -> assistant -> tools -> models; bots, assistant, tools may use storage;
    storage and models import nothing of the others;
    only models/ imports torch, diffusers, transformers or pretty_midi.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "museforge"
HEAVY = ("torch", "diffusers", "transformers", "pretty_midi")

# subpackage -> the subpackages it must never import
FORBIDDEN = {
    "storage": ("assistant", "tools", "bots", "models"),
    "models": ("assistant", "tools", "bots", "storage"),
    "tools": ("bots", "assistant"),
    "assistant": ("bots",),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> Iterator[tuple[str, int]]:
    """(absolute module name, line) for every import in the file: ``import a.b``,
    ``from a import b`` (both ``a`` and ``a.b``), relative imports, and
    ``importlib.import_module("x")`` / ``__import__("x")`` with a literal name."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            arg = node.args[0]
            if name in ("import_module", "__import__") and isinstance(arg, ast.Constant) \
                    and isinstance(arg.value, str):
                yield arg.value, node.lineno


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_has_sources():
    assert (PACKAGE / "storage" / "store.py") in sources()


def test_the_direction_of_imports():
    violations = []
    for path in sources():
        here = module_name(path)
        for room, forbidden in FORBIDDEN.items():
            if not within(here, f"museforge.{room}"):
                continue
            for module, line in imported_modules(path):
                for other in forbidden:
                    if within(module, f"museforge.{other}"):
                        violations.append(f"{path.relative_to(ROOT)}:{line}: museforge.{room} "
                                          f"imports {module}")
    assert violations == []


def test_only_models_import_the_heavy_libraries():
    violations = []
    for path in sources():
        if within(module_name(path), "museforge.models"):
            continue
        for module, line in imported_modules(path):
            if any(within(module, heavy) for heavy in HEAVY):
                violations.append(f"{path.relative_to(ROOT)}:{line}: imports {module}")
    assert violations == []


def test_the_checker_sees_every_kind_of_import(tmp_path, monkeypatch):
    """The rules above are only as good as ``imported_modules``."""
    fake = tmp_path / "museforge" / "tools"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("from . import bots\n")
    (fake / "x.py").write_text(
        "import os\n"
        "def run():\n"
        "    import torch.nn\n"
        "    from ..assistant import planning\n"
        "    from .. import models\n"
        "    return importlib.import_module('pretty_midi'), __import__('diffusers')\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)

    found = {m for m, _ in imported_modules(fake / "x.py")}
    assert {"os", "torch.nn", "museforge.assistant", "museforge.assistant.planning",
            "museforge.models", "pretty_midi", "diffusers"} <= found
    assert "museforge.tools.bots" in {m for m, _ in imported_modules(fake / "__init__.py")}


LIGHT = ["museforge.storage.store", "museforge.config", "museforge.cli"]


@pytest.mark.parametrize("module", LIGHT)
def test_light_modules_start_without_the_heavy_libraries(module):
    """``museforge --help``, the store and the settings start fast: importing them loads
    no torch (and no diffusers, transformers, pretty_midi)."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} does not exist yet")
    code = (f"import json, sys, {module}; "
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
