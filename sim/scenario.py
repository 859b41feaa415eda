"""Scenario files: ``scenarios/NAME.yaml`` with titles, a description and ``levers``.

A scenario file holds data only. Anything executable (a ``_target_`` key, or an
interpolation that calls a resolver) is refused, as are unknown keys, unknown levers and
values outside a lever's range; errors name the file, the key, the value and the range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sim.errors import ScenarioError
from sim.levers import Policy, policy_from_levers

ALLOWED_KEYS = {"title_zh", "title_en", "description", "levers", "extends"}
_INTERPOLATION = re.compile(r"\$\{")


@dataclass(frozen=True)
class Scenario:
    """A validated scenario."""

    name: str
    title_zh: str
    title_en: str
    description: str
    levers: dict = field(default_factory=dict)
    path: Path | None = None

    def policy(self) -> Policy:
        """The constant policy this scenario sets (per-year schedules come later)."""
        return policy_from_levers(str(self.path or self.name), self.levers)


def available(scenarios_dir: Path) -> list[str]:
    """Names of the scenario files in a folder."""
    return sorted(p.stem for p in scenarios_dir.glob("*.yaml"))


def _refuse_code(source: str, node: object, where: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key) == "_target_" or str(key).startswith("_"):
                raise ScenarioError(
                    f"{source}: key '{where}{key}' is not allowed in a scenario "
                    f"(scenarios hold lever values only)"
                )
            _refuse_code(source, value, f"{where}{key}.")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _refuse_code(source, value, f"{where}{i}.")
    elif isinstance(node, str) and _INTERPOLATION.search(node):
        raise ScenarioError(
            f"{source}: value {node!r} at {where.rstrip('.')} is an "
            f"interpolation; scenarios hold plain values only"
        )


def load_scenario(name: str, scenarios_dir: Path) -> Scenario:
    """Read and validate ``scenarios_dir/NAME.yaml`` (following ``extends``).

    Raises:
        ScenarioError: Unknown scenario, malformed YAML, executable content, unknown key,
            unknown lever or county, or a value outside the allowed range.
    """
    return _load(name, scenarios_dir, ())


def _load(name: str, scenarios_dir: Path, chain: tuple[str, ...]) -> Scenario:
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", name or ""):
        raise ScenarioError(
            f"scenario={name!r}: not a scenario name; allowed: "
            f"{', '.join(available(scenarios_dir))}"
        )
    path = scenarios_dir / f"{name}.yaml"
    if not path.is_file():
        raise ScenarioError(
            f"scenario={name!r}: unknown scenario; allowed: {', '.join(available(scenarios_dir))}"
        )
    if name in chain:
        raise ScenarioError(f"{path}: extends itself through {' -> '.join((*chain, name))}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ScenarioError(
            f"{path}{where}: malformed YAML ({getattr(exc, 'problem', None) or exc})"
        ) from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: top level must be a mapping with a 'levers' key")
    _refuse_code(str(path), data, "")
    unknown = set(data) - ALLOWED_KEYS
    if unknown:
        raise ScenarioError(
            f"{path}: unknown key(s) {', '.join(sorted(unknown))}; allowed: "
            f"{', '.join(sorted(ALLOWED_KEYS))}"
        )
    levers = data.get("levers") or {}
    if not isinstance(levers, dict):
        raise ScenarioError(f"{path}: 'levers' must be a mapping from lever id to a value")
    parent = data.get("extends")
    merged: dict = {}
    if parent:
        merged.update(_load(str(parent), scenarios_dir, (*chain, name)).levers)
    merged.update(levers)
    scenario = Scenario(
        name=name,
        title_zh=str(data.get("title_zh", name)),
        title_en=str(data.get("title_en", name)),
        description=str(data.get("description", "")),
        levers=merged,
        path=path,
    )
    scenario.policy()  # validates levers, counties and ranges
    return scenario
