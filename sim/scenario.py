"""Scenario files: ``scenarios/NAME.yaml`` with titles, a description and lever schedules.

A scenario is data, never code::

    defaults:            # scenarios this one extends, in Hydra's defaults-list form
      - baseline
      - _self_           # where this file's own levers go (last when omitted)
    title_zh: 户籍与公共服务改革
    title_en: Hukou and public-service reform
    description: What the scenario assumes.
    description_zh: 情景的假设（中文报告用；缺省时用 description）。
    levers:
      settlement_ease: {step: 2024, to: 1.0}     # (十四)

Scenarios are looked up along a search path: the user's folder (``scenarios_dir``) and
then the library, so a user's scenario may extend ``baseline`` or any library scenario,
and a user's file of a library name takes its place.

Composition follows the defaults list depth first; a scenario reached twice (two parents
that both extend ``baseline``) is applied once, at its first place. Later entries replace
a lever's whole schedule, except that two county mappings of one lever merge county by
county. A lever value may refer to another lever value, written as the whole value in
OmegaConf's form, ``${levers.park_investment.COUNTY}``; through any chain of references
in the composed levers it must lead to one value. Errors name the file, the key, the
value and what is allowed, in one line.

Refused, because a scenario folder may come from anyone and reading it must not hang,
leak or run code (:func:`sim.safe_yaml.load_yaml_file` reads the files):

- YAML anchors, aliases and tags (nested aliases expand exponentially), nesting deeper
  than 64 levels, files over :data:`MAX_FILE_BYTES` (64 KiB; the shipped files have 927
  to 2,147 bytes), anything but a regular file, and a file whose real path (links
  followed) lies outside the scenarios folder, also when reached through ``defaults``;
- ``_target_`` and other ``_`` keys, and any ``${`` but a whole-value reference into
  ``levers``: resolver calls (``${oc.env:HOME}``), several references in one string,
  references to a mapping or list (they too can expand exponentially), and cycles;
- names over :data:`MAX_NAME_CHARS` characters, titles over :data:`MAX_TITLE_CHARS`,
  descriptions over :data:`MAX_DESCRIPTION_CHARS` (both are copied into every run's
  provenance) and ``defaults`` more than :data:`MAX_EXTENDS_DEPTH` levels deep.

Errors echo at most 60 characters of a file's keys and values
(:func:`sim.safe_yaml.clip`), never a whole line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sim.data import region_county_keys
from sim.errors import ECHO_CHARS, ScenarioError, clip
from sim.levers import LeverDefaults, region_defaults
from sim.safe_yaml import is_regular_file_within, load_yaml_file
from sim.schedules import LeverPlan, plan_from_levers

ALLOWED_KEYS = {"defaults", "title_zh", "title_en", "description", "description_zh", "levers"}
SELF = "_self_"
ANY_PERIOD = (2023, 2050)
MAX_FILE_BYTES = 64 * 1024  # 30 times the largest shipped file (decision_package: 2,147 bytes)
MAX_NAME_CHARS = 100  # with ".yaml", well within the 255 bytes a file name may have
MAX_TITLE_CHARS = 200  # shipped titles: at most 52 characters
MAX_DESCRIPTION_CHARS = 4000  # shipped descriptions: 334 to 487 characters
MAX_EXTENDS_DEPTH = 16  # shipped: 4 (decision_package, hukou_services, baseline, stalled)
TEXT_CAPS = {
    "title_zh": MAX_TITLE_CHARS,
    "title_en": MAX_TITLE_CHARS,
    "description": MAX_DESCRIPTION_CHARS,
    "description_zh": MAX_DESCRIPTION_CHARS,
}
LISTED_NAMES = 20  # scenario names an error lists before "… (N more)"
NAME = re.compile(r"[A-Za-z0-9_\-]+")
REFERENCE = re.compile(r"\$\{levers((?:\.[A-Za-z0-9_]+)+)\}")
RESOLVER_CALL = re.compile(r"\$\{\s*[\w.\-]+\s*:")
REFERENCES_ALLOWED = (
    "allowed: a plain value, or as the whole value one reference to a lever value such as "
    "${levers.settlement_ease}"
)
_MISSING = object()


@dataclass(frozen=True)
class Scenario:
    """A validated, composed scenario.

    Attributes:
        name: File stem.
        title_zh: Chinese title.
        title_en: English title.
        description: Its assumptions in a few sentences.
        description_zh: The same in Chinese ("" when the file has none).
        levers: The composed ``levers`` mapping (references resolved), as plain data.
        chain: The files applied, in order (the last is this one).
        digest: SHA-256 over the applied files' bytes, in order.
        plan: The lever schedules for each county.
    """

    name: str
    title_zh: str
    title_en: str
    description: str
    description_zh: str = ""
    levers: dict = field(default_factory=dict)
    chain: tuple[str, ...] = ()
    digest: str = ""
    plan: LeverPlan | None = None
    path: Path | None = None


Folders = Path | Sequence[Path]


def search_path(scenarios_dir: Folders) -> tuple[Path, ...]:
    """The folders a scenario is looked up in, first match winning."""
    if isinstance(scenarios_dir, str | Path):
        return (Path(scenarios_dir),)
    return tuple(Path(folder) for folder in scenarios_dir)


def available(scenarios_dir: Folders) -> list[str]:
    """Names of the scenarios a folder (or a search path of folders) offers.

    Only regular files ``NAME.yaml`` inside a folder count: a link leading out of it, a
    folder or FIFO named ``x.yaml``, or a name :func:`load_scenario` would refuse is left
    out (and refused with its reason when asked for by name).
    """
    names = set()
    for folder in search_path(scenarios_dir):
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        names |= {
            p.stem
            for p in entries
            if p.suffix == ".yaml"
            and len(p.stem) <= MAX_NAME_CHARS
            and NAME.fullmatch(p.stem)
            and is_regular_file_within(p, folder)
        }
    return sorted(names)


def _find(name: str, folders: tuple[Path, ...]) -> tuple[Path, Path] | None:
    """``(file, its folder)`` of the first folder holding ``NAME.yaml``, else None."""
    for folder in folders:
        path = folder / f"{name}.yaml"
        try:
            path.lstat()
        except FileNotFoundError:
            continue
        except OSError:
            pass  # load_yaml_file names the reason
        return path, folder
    return None


def _listing(scenarios_dir: Folders) -> str:
    names = available(scenarios_dir)
    if len(names) > LISTED_NAMES:
        return f"{', '.join(names[:LISTED_NAMES])}, … ({len(names) - LISTED_NAMES} more)"
    return ", ".join(names) or "(none)"


def _shown(value: object) -> str:
    """A value as error messages show it: its ``repr``, clipped."""
    return clip(repr(value))


def _reference_problem(text: str, where: str) -> str | None:
    """Why a string holding ``${`` is refused, or None for a whole-value lever reference."""
    if RESOLVER_CALL.search(text):
        return "calls a resolver"
    if not where.startswith("levers."):
        return "a reference outside levers"
    if not REFERENCE.fullmatch(text):
        return "not a single whole-value reference"
    return None


def _refuse_code(source: str, node: object, where: str) -> None:
    """Refuse ``_`` keys and any ``${`` but a whole-value reference to a lever value."""
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).startswith("_"):
                raise ScenarioError(
                    f"{source}: key '{clip(where + str(key))}' is not allowed in a scenario "
                    f"(scenarios hold lever values only)"
                )
            _refuse_code(source, value, f"{where}{key}.")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _refuse_code(source, value, f"{where}{i}.")
    elif isinstance(node, str) and "${" in node and (problem := _reference_problem(node, where)):
        raise ScenarioError(
            f"{source}: {clip(where.rstrip('.'))}={_shown(node)}: {problem}; {REFERENCES_ALLOWED}"
        )


def _check_name(name: object, scenarios_dir: Folders) -> None:
    if isinstance(name, str) and len(name) > MAX_NAME_CHARS:
        raise ScenarioError(
            f"scenario={_shown(name)}: {len(name):,} characters; a scenario name has at most "
            f"{MAX_NAME_CHARS}"
        )
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ScenarioError(
            f"scenario={_shown(name)}: not a scenario name; allowed: {_listing(scenarios_dir)}"
        )


def _unknown_keys(keys: list[str]) -> str:
    """``unknown key(s) a, b``; keys that are not names are counted, not shown.

    A file that is not a scenario at all (``/etc/shadow`` read as YAML is a mapping whose
    keys are whole lines) would otherwise show the start of every line.
    """
    names = [key for key in keys if len(key) <= ECHO_CHARS and NAME.fullmatch(key)]
    others = len(keys) - len(names)
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    if not others:
        return f"unknown key(s) {shown}"
    if not names:
        return f"{others:,} unknown key(s) that are not names (not shown)"
    return f"unknown key(s) {shown} and {others:,} that are not names (not shown)"


def _read(name: str, folders: tuple[Path, ...]) -> tuple[Path, dict, bytes]:
    """Read one scenario file as raw data (references unresolved) after safety checks."""
    _check_name(name, folders)
    found = _find(name, folders)
    if found is None:
        raise ScenarioError(f"scenario={name!r}: unknown scenario; allowed: {_listing(folders)}")
    path, folder = found
    data, raw = load_yaml_file(
        path, max_bytes=MAX_FILE_BYTES, what="a scenario", error=ScenarioError, within=folder
    )
    if data is None:  # an empty file: an empty scenario
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: top level must be a mapping with a 'levers' key")
    _refuse_code(str(path), data, "")
    unknown = sorted(set(map(str, data)) - ALLOWED_KEYS)
    if unknown:
        raise ScenarioError(
            f"{path}: {_unknown_keys(unknown)}; allowed: {', '.join(sorted(ALLOWED_KEYS))}"
        )
    levers = data.get("levers")
    if levers is not None and not isinstance(levers, dict):
        raise ScenarioError(
            f"{path}: levers={_shown(levers)}: allowed a mapping from lever id to value"
        )
    defaults = data.get("defaults", [])
    if not isinstance(defaults, list) or not all(isinstance(d, str) for d in defaults):
        raise ScenarioError(
            f"{path}: defaults={_shown(defaults)}: allowed a list of scenario names and '_self_'"
        )
    for key, cap in TEXT_CAPS.items():
        text = data.get(key, "")
        if not isinstance(text, str) or len(text) > cap:
            size = f"{len(text):,} characters" if isinstance(text, str) else "not text"
            raise ScenarioError(
                f"{path}: {key}={_shown(text)}: {size}; allowed text of at most {cap:,} characters"
            )
    return path, data, raw


def _order(
    name: str,
    scenarios_dir: tuple[Path, ...],
    chain: tuple[str, ...],
    seen: dict[str, tuple[Path, dict, bytes]],
    orders: dict[str, tuple[list[str], int]],
) -> list[str]:
    """Depth-first application order of ``name``'s defaults list, each scenario once.

    Each scenario's order is worked out once (``orders``, with the depth of its defaults):
    a defaults list naming the same parent many times, over several levels, would
    otherwise take exponential time.
    """
    if name in chain:
        found = _find(name, scenarios_dir)
        raise ScenarioError(
            f"{found[0] if found else name + '.yaml'}: extends itself through "
            f"{' -> '.join((*chain, name))}"
        )
    if name not in orders:
        if len(chain) >= MAX_EXTENDS_DEPTH:  # before reading further: bounds the recursion
            raise _too_deep(seen[chain[-1]][0])
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
                order.extend(_order(entry, scenarios_dir, (*chain, name), seen, orders))
            except ScenarioError as exc:
                if str(exc).startswith("scenario="):
                    raise ScenarioError(f"{path}: defaults: {exc}") from None
                raise
        depth = 1 + max((orders[e][1] for e in defaults if e != SELF), default=0)
        orders[name] = (list(dict.fromkeys(order)), depth)
    order, depth = orders[name]
    if len(chain) + depth > MAX_EXTENDS_DEPTH:
        raise _too_deep(seen[chain[-1]][0])
    return order


def _too_deep(path: Path) -> ScenarioError:
    return ScenarioError(
        f"{path}: defaults: scenarios extend scenarios more than {MAX_EXTENDS_DEPTH} levels "
        f"deep; allowed at most {MAX_EXTENDS_DEPTH}"
    )


def _is_county_map(value: object, counties: tuple[str, ...]) -> bool:
    return isinstance(value, Mapping) and bool(value) and set(map(str, value)) <= set(counties)


def compose_levers(layers: list[Mapping], counties: tuple[str, ...] | None = None) -> dict:
    """Merge lever mappings in order, the way :func:`load_scenario` applies them.

    A later value replaces a lever's schedule; a later county mapping replaces only the
    counties it names (an earlier city-wide value is kept for the others). ``counties``
    are the region's county keys (the default region's by default).
    """
    counties = counties if counties is not None else region_county_keys()
    merged: dict = {}
    for levers in layers:
        for key, value in levers.items():
            if _is_county_map(value, counties) and key in merged:
                earlier = merged[key]
                if not _is_county_map(earlier, counties):
                    earlier = dict.fromkeys(counties, earlier)
                merged[key] = {**earlier, **value}
            else:
                merged[key] = value
    return merged


def _plain(value: object) -> object:
    """Mappings and sequences (e.g. OmegaConf's) as dicts and lists."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(item) for item in value]
    return value


def _lookup(levers: dict, parts: list[str]) -> object:
    """The value at ``levers.PART.PART...``, or ``_MISSING``."""
    node: object = levers
    for part in parts:
        key = int(part) if part.isdigit() else part  # a year in per_year, an index in a list
        if isinstance(node, dict):
            node = node.get(part, node.get(key, _MISSING))
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            return _MISSING
    return node


def _resolve_references(sources: list[str], layers: list[dict]) -> list[dict]:
    """The layers with each reference replaced by the one value it leads to.

    References are looked up in the composed levers, as OmegaConf would resolve them, and
    followed from reference to reference; each is followed once (``done``), so the work
    grows with the number of references, never faster.
    """
    composed = compose_levers(layers)
    done: dict[str, object] = {}

    def follow(source: str, where: str, text: str) -> object:
        trail: list[str] = []
        current = text
        while True:
            path = REFERENCE.fullmatch(current).group(1)[1:]
            if path in done:
                value = done[path]
                break
            if path in trail:
                steps = [clip(f"levers.{p}") for p in (*trail, path)]
                cycle = " -> ".join(steps[:5]) + (" -> …" if len(steps) > 5 else "")
                raise refused(source, where, text, f"a reference cycle ({cycle})")
            trail.append(path)
            target = _lookup(composed, path.split("."))
            if target is _MISSING:
                raise refused(source, where, text, f"levers.{clip(path)} is not set")
            if isinstance(target, dict | list):
                raise refused(source, where, text, f"levers.{clip(path)} is a mapping or list")
            if not (isinstance(target, str) and "${" in target):
                value = target
                break
            current = target
        done.update(dict.fromkeys(trail, value))
        return value

    def refused(source: str, where: str, text: str, problem: str) -> ScenarioError:
        return ScenarioError(
            f"{source}: {clip(where)}={_shown(text)}: {problem}; {REFERENCES_ALLOWED}"
        )

    def substitute(source: str, node: object, where: str) -> object:
        if isinstance(node, dict):
            return {k: substitute(source, v, f"{where}.{k}") for k, v in node.items()}
        if isinstance(node, list):
            return [substitute(source, v, f"{where}.{i}") for i, v in enumerate(node)]
        if isinstance(node, str) and "${" in node:
            return follow(source, where, node)
        return node

    return [
        substitute(source, layer, "levers") for source, layer in zip(sources, layers, strict=True)
    ]


def load_scenario(
    name: str,
    scenarios_dir: Folders,
    *,
    period: tuple[int, int] = ANY_PERIOD,
    lever_overrides: Mapping | None = None,
    defaults: LeverDefaults | None = None,
) -> Scenario:
    """Read, compose and validate ``scenarios_dir/NAME.yaml``.

    Args:
        name: Scenario name (file stem).
        scenarios_dir: Folder of scenario files, or a search path of folders (the
            user's first, then the library), the first holding a name winning.
        period: First and last year of the run; schedule years must lie within it.
        lever_overrides: Lever values from the command line, applied last.
        defaults: The region's counties, which per-county values name, and 2023 lever
            values (the default region's by default).

    Raises:
        ScenarioError: Unknown scenario, a file refused by :mod:`sim.safe_yaml` (too
            large, anchors, not a regular file, outside the folder...), executable content,
            a reference that is not one whole-value reference to a lever value, unknown
            key, lever or county, a value outside its range, or a schedule year outside
            ``period``.
    """
    seen: dict[str, tuple[Path, dict, bytes]] = {}
    order = _order(name, search_path(scenarios_dir), (), seen, {})
    path, data, _ = seen[name]
    sources = [str(seen[n][0]) for n in order]
    layers = [seen[n][1].get("levers") or {} for n in order]
    if lever_overrides:
        overrides = _plain(dict(lever_overrides))
        _refuse_code("command line", {"levers": overrides}, "")
        sources.append("command line")
        layers.append(overrides)
    layers = _resolve_references(sources, layers)
    plan = None
    for source, layer in zip(sources, layers, strict=True):
        plan = plan_from_levers(source, layer, period, plan, defaults)
    digest = hashlib.sha256(b"".join(seen[n][2] for n in order)).hexdigest()
    return Scenario(
        name=name,
        title_zh=data.get("title_zh", name),
        title_en=data.get("title_en", name),
        description=data.get("description", "").strip(),
        description_zh=data.get("description_zh", "").strip(),
        levers=compose_levers(layers, (defaults or region_defaults()).counties),
        chain=tuple(order),
        digest=digest,
        plan=plan,
        path=path,
    )
