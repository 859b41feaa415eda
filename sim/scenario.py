"""Scenario files: ``scenarios/NAME.yaml`` with titles, a description and lever schedules.

A scenario is data, never code::

    defaults:            # scenarios this one extends, in Hydra's defaults-list form
      - baseline
      - _self_           # where this file's own levers go (last when omitted)
    title_zh: 户籍与公共服务改革
    title_en: Hukou and public-service reform
    description: What the scenario assumes.
    levers:
      settlement_ease: {step: 2024, to: 1.0}     # (十四)

Composition follows the defaults list depth first; a scenario reached twice (two parents
that both extend ``baseline``) is applied once, at its first place. Later entries replace
a lever's whole schedule, except that two county mappings of one lever merge county by
county. Values may refer to other values with plain OmegaConf references
(``${levers.park_investment.shehong}``); ``_target_`` keys, other ``_``-keys and resolver
calls (``${oc.env:HOME}``, ``${now:...}``) are refused. Errors name the file, the key, the
value and what is allowed, in one line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf
from omegaconf.errors import GrammarParseError, OmegaConfBaseException

from sim.data import COUNTY_KEYS
from sim.errors import ScenarioError
from sim.schedules import LeverPlan, plan_from_levers

ALLOWED_KEYS = {"defaults", "title_zh", "title_en", "description", "levers"}
SELF = "_self_"
ANY_PERIOD = (2023, 2050)


@dataclass(frozen=True)
class Scenario:
    """A validated, composed scenario.

    Attributes:
        name: File stem.
        title_zh: Chinese title.
        title_en: English title.
        description: Its assumptions in a few sentences.
        levers: The composed ``levers`` mapping (references resolved), as plain data.
        chain: The files applied, in order (the last is this one).
        digest: SHA-256 over the applied files' bytes, in order.
        plan: The lever schedules for each county.
    """

    name: str
    title_zh: str
    title_en: str
    description: str
    levers: dict = field(default_factory=dict)
    chain: tuple[str, ...] = ()
    digest: str = ""
    plan: LeverPlan | None = None
    path: Path | None = None


def available(scenarios_dir: Path) -> list[str]:
    """Names of the scenario files in a folder."""
    return sorted(p.stem for p in scenarios_dir.glob("*.yaml"))


def _interpolation_problem(text: str) -> str | None:
    """Why an interpolation in ``text`` is refused: a resolver call or bad syntax."""
    from omegaconf import grammar_parser
    from omegaconf.grammar.gen.OmegaConfGrammarParser import OmegaConfGrammarParser

    try:
        tree = grammar_parser.parse(text)
    except OmegaConfBaseException:
        return "malformed interpolation"
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, OmegaConfGrammarParser.InterpolationResolverContext):
            return "calls a resolver"
        stack.extend(getattr(node, "children", None) or [])
    return None


def _refuse_code(source: str, node: object, where: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).startswith("_"):
                raise ScenarioError(
                    f"{source}: key '{where}{key}' is not allowed in a scenario "
                    f"(scenarios hold lever values only)"
                )
            _refuse_code(source, value, f"{where}{key}.")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _refuse_code(source, value, f"{where}{i}.")
    elif isinstance(node, str) and "${" in node and (problem := _interpolation_problem(node)):
        raise ScenarioError(
            f"{source}: {where.rstrip('.')}={node!r}: {problem}; scenarios allow plain "
            f"values and plain references such as ${{levers.settlement_ease}}"
        )


def _read(name: str, scenarios_dir: Path) -> tuple[Path, dict, bytes]:
    """Read one scenario file as raw data (interpolations unresolved) after safety checks."""
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", str(name or "")):
        raise ScenarioError(
            f"scenario={name!r}: not a scenario name; allowed: "
            f"{', '.join(available(scenarios_dir))}"
        )
    path = scenarios_dir / f"{name}.yaml"
    if not path.is_file():
        raise ScenarioError(
            f"scenario={name!r}: unknown scenario; allowed: {', '.join(available(scenarios_dir))}"
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None
    try:
        data = OmegaConf.to_container(OmegaConf.create(text), resolve=False)
    except GrammarParseError as exc:
        problem = str(exc).splitlines()[0]
        raise ScenarioError(f"{path}: malformed interpolation ({problem})") from None
    except Exception as exc:  # yaml errors and OmegaConf's own (e.g. duplicate keys)
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{path}{where}: malformed YAML ({problem})") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: top level must be a mapping with a 'levers' key")
    _refuse_code(str(path), data, "")
    unknown = set(map(str, data)) - ALLOWED_KEYS
    if unknown:
        raise ScenarioError(
            f"{path}: unknown key(s) {', '.join(sorted(unknown))}; allowed: "
            f"{', '.join(sorted(ALLOWED_KEYS))}"
        )
    levers = data.get("levers")
    if levers is not None and not isinstance(levers, dict):
        raise ScenarioError(f"{path}: levers={levers!r}: allowed a mapping from lever id to value")
    defaults = data.get("defaults", [])
    if not isinstance(defaults, list) or not all(isinstance(d, str) for d in defaults):
        raise ScenarioError(
            f"{path}: defaults={defaults!r}: allowed a list of scenario names and '_self_'"
        )
    return path, data, raw


def _order(
    name: str,
    scenarios_dir: Path,
    chain: tuple[str, ...],
    seen: dict[str, tuple[Path, dict, bytes]],
) -> list[str]:
    """Depth-first application order of ``name``'s defaults list."""
    if name in chain:
        raise ScenarioError(
            f"{scenarios_dir / (name + '.yaml')}: extends itself through "
            f"{' -> '.join((*chain, name))}"
        )
    if name not in seen:
        seen[name] = _read(name, scenarios_dir)
    path, data, _ = seen[name]
    defaults = list(data.get("defaults", []))
    if SELF not in defaults:
        defaults.append(SELF)
    order: list[str] = []
    for entry in defaults:
        if entry == SELF:
            order.append(name)
            continue
        try:
            order.extend(_order(entry, scenarios_dir, (*chain, name), seen))
        except ScenarioError as exc:
            if str(exc).startswith("scenario="):
                raise ScenarioError(f"{path}: defaults: {exc}") from None
            raise
    return order


def _is_county_map(value: object) -> bool:
    return isinstance(value, Mapping) and bool(value) and set(map(str, value)) <= set(COUNTY_KEYS)


def compose_levers(layers: list[Mapping]) -> dict:
    """Merge lever mappings in order, the way :func:`load_scenario` applies them.

    A later value replaces a lever's schedule; a later county mapping replaces only the
    counties it names (an earlier city-wide value is kept for the others).
    """
    merged: dict = {}
    for levers in layers:
        for key, value in levers.items():
            if _is_county_map(value) and key in merged:
                earlier = merged[key]
                if not _is_county_map(earlier):
                    earlier = dict.fromkeys(COUNTY_KEYS, earlier)
                merged[key] = {**earlier, **value}
            else:
                merged[key] = value
    return merged


def load_scenario(
    name: str,
    scenarios_dir: Path,
    *,
    period: tuple[int, int] = ANY_PERIOD,
    lever_overrides: Mapping | None = None,
) -> Scenario:
    """Read, compose and validate ``scenarios_dir/NAME.yaml``.

    Args:
        name: Scenario name (file stem).
        scenarios_dir: Folder of scenario files.
        period: First and last year of the run; schedule years must lie within it.
        lever_overrides: Lever values from the command line, applied last.

    Raises:
        ScenarioError: Unknown scenario, malformed YAML, executable content, unknown key,
            lever or county, a value outside its range, or a schedule year outside ``period``.
    """
    seen: dict[str, tuple[Path, dict, bytes]] = {}
    order: list[str] = []
    for entry in _order(name, scenarios_dir, (), seen):
        if entry not in order:
            order.append(entry)
    path, data, _ = seen[name]
    sources = [str(seen[n][0]) for n in order]
    layers = [seen[n][1].get("levers") or {} for n in order]
    if lever_overrides:
        sources.append("command line")
        layers.append(dict(lever_overrides))
    try:
        resolved = OmegaConf.to_container(
            OmegaConf.create({"levers": compose_levers(layers), "layers": layers}), resolve=True
        )
    except OmegaConfBaseException as exc:
        raise ScenarioError(f"{path}: {str(exc).splitlines()[0]}") from None
    plan = None
    for source, layer in zip(sources, resolved["layers"], strict=True):
        plan = plan_from_levers(source, layer, period, plan)
    digest = hashlib.sha256(b"".join(seen[n][2] for n in order)).hexdigest()
    return Scenario(
        name=name,
        title_zh=str(data.get("title_zh", name)),
        title_en=str(data.get("title_en", name)),
        description=str(data.get("description", "")).strip(),
        levers=resolved["levers"],
        chain=tuple(order),
        digest=digest,
        plan=plan,
        path=path,
    )
