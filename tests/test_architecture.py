"""Issue 15.6: the layers of docs/architecture.md, checked by import-linter.

The contracts live in pyproject.toml (``[tool.importlinter]``); ``lint-imports`` runs them
by hand. They read the source, so imports inside functions count too. What actually
loads at run time is checked by a fresh interpreter in tests/test_indicators.py.
"""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import sim

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"

LINT = (
    "from importlinter.cli import lint_imports_command\n"
    "lint_imports_command(['--no-cache', '--no-logo'], prog_name='lint-imports')\n"
)


def _layers_contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["type"] == "layers")


def _layer(line: str) -> str:
    """A layer line without its optional ``(module)``s, spaced one way."""
    sep = "|" if "|" in line else ":"
    names = [name.strip() for name in line.split(sep)]
    return f" {sep} ".join(name for name in names if name and not name.startswith("("))


def test_the_import_contracts_hold():
    # No cache: nothing is written into the working tree, and the graph takes 0.2 s.
    done = subprocess.run(
        [sys.executable, "-c", LINT],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "120"},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_architecture_doc_lists_the_contracts_layers():
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"^## Layers\n.*?^```\n(.*?)^```", text, re.S | re.M)
    assert block, "docs/architecture.md has no code block under '## Layers'"
    doc = [_layer(line.split("#")[0]) for line in block.group(1).splitlines()]
    contract = [_layer(line) for line in _layers_contract()["layers"]]
    assert [x for x in doc if x] == [x for x in contract if x]


def test_the_architecture_doc_names_every_module_and_only_modules_that_exist():
    text = DOC.read_text(encoding="utf-8")
    package = ROOT / "sim"
    modules = sorted(
        path.stem if path.is_file() else path.name
        for path in package.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    )
    unnamed = [m for m in modules if not re.search(rf"sim[./]{re.escape(m)}\b", text)]
    assert not unnamed, f"docs/architecture.md never names sim/{unnamed[0]}"
    for named in re.findall(r"\bsim/[\w./-]*\w", text):
        assert (ROOT / named).exists(), f"docs/architecture.md names {named}, which does not exist"
    for name in set(re.findall(r"\bsim\.(\w+)", text)):
        exists = name in sim.__all__ or any(package.glob(f"{name}.py")) or (package / name).is_dir()
        assert exists, f"docs/architecture.md names sim.{name}, which does not exist"
