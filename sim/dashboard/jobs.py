"""What the dashboard runs and shows: paired runs, the scorecard, charts and the report.

A run of the dashboard is the picked scenario with the lever edits and the ``baseline``
on the same seed (or the same posterior draws and their seeds), run together through
:func:`sim.ensemble.run_ensemble`, which reports progress as runs finish. The
baseline's tables are kept for the next run with the same settings, so moving a lever
and running again runs the edited scenario only. Nothing here imports solara.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.api import configure
from sim.charts.compare import difference_chart
from sim.charts.fan import fan_chart
from sim.charts.scorecard import scorecard, target_text
from sim.charts.style import chart_style, indicator_label, unit_label
from sim.config import Targets2035, ValidConfig, run_targets
from sim.dashboard.texts import unit_names
from sim.data import load_region
from sim.ensemble import compose_scenario, process_inputs, run_ensemble
from sim.indicators import TARGET_INDICATORS
from sim.params import resolve_params
from sim.population import fit_report
from sim.report import SCORECARD_YEAR, build_report
from sim.results import DRAWS_FILE, RESULT_FILES, config_hash, write_run
from sim.runfolder import RunKey, claim
from sim.runner import posterior_members, provenance_record
from sim.scenario import Scenario

CUSTOM = "dashboard"  # the scenario column of the edited scenario's rows
BASELINE = "baseline"
MAX_WORKERS = 2  # the development machine has two cores
KEPT_BASELINES = 4
YEARS = (2027, 2035)  # end years offered: the scorecard needs 2027
CHART_INDICATORS = (*TARGET_INDICATORS, ("city", "lever_spending"))

# One run at a time in this server (the machine has two cores); matplotlib's rcParams
# are global, so charts are drawn one at a time too.
RUN_LOCK = threading.Lock()
CHART_LOCK = threading.Lock()
_baselines: OrderedDict[tuple, ScenarioRun] = OrderedDict()  # kept under RUN_LOCK


@dataclass(frozen=True)
class RunRequest:
    """What to run: the picked scenario with lever edits, and how.

    Attributes:
        scenario: A library scenario.
        levers: Lever id to value or schedule, over the scenario's (``levers=``).
        scale: Agents per registered person.
        end_year: Last simulated year (at least 2027, the scorecard's year).
        draws: Posterior draws, each with its own seed; 0 = one plain run on ``seed``.
        seed: The run's seed (with draws: the seed the draws' seeds derive from).
        workers: Worker processes for an ensemble (1 runs in this process).
    """

    scenario: str
    levers: Mapping[str, object] = field(default_factory=dict)
    scale: float = 0.005
    end_year: int = 2027
    draws: int = 0
    seed: int = 1
    workers: int = 1

    def config(self, scenario: str, levers: Mapping[str, object]) -> ValidConfig:
        """A validated configuration of ``scenario`` with ``levers`` on these settings."""
        return configure(
            scenario,
            levers=dict(levers),
            seed=self.seed,
            scale=self.scale,
            end_year=self.end_year,
            ensemble="posterior" if self.draws else "none",
            draws=self.draws,
            draw_seeds=1,
        )

    def overrides(self, scenario: str, levers: Mapping[str, object]) -> list[str]:
        """The ``ronghe run`` overrides that run the same configuration."""
        out = [
            f"scenario={scenario}",
            f"seed={self.seed}",
            f"scale={self.scale!r}",
            f"end_year={self.end_year}",
        ]
        if self.draws:
            out += ["ensemble=posterior", f"draws={self.draws}"]
        out += [f"levers.{key}={override_value(value)}" for key, value in levers.items()]
        return out


def override_value(value: object) -> str:
    """A lever value in Hydra's override grammar: ``0.5``, ``{ramp:[2024,2027],to:0.9}``."""
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{override_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(override_value(v) for v in value) + "]"
    return repr(value)


@dataclass
class ScenarioRun:
    """The runs of one scenario: its configuration, composed scenario and table."""

    key: str
    config: ValidConfig
    scenario: Scenario
    table: pd.DataFrame
    draw_inputs: pd.DataFrame | None
    overrides: list[str]
    titles: tuple[str, str]
    wall_time_s: float
    finished_utc: str


@dataclass
class Comparison:
    """A dashboard run: the edited scenario and the baseline on the same seeds."""

    request: RunRequest
    runs: dict[str, ScenarioRun]
    number: int = 0

    @property
    def table(self) -> pd.DataFrame:
        """Both scenarios' indicator tables, the baseline first."""
        return pd.concat([self.runs[BASELINE].table, self.runs[CUSTOM].table], ignore_index=True)

    def titles(self, lang: str) -> dict[str, str]:
        """Scenario key to its title in ``lang``, the baseline first."""
        k = 0 if lang == "zh" else 1
        return {key: self.runs[key].titles[k] for key in (BASELINE, CUSTOM)}

    @property
    def run_count(self) -> int:
        """Runs per scenario (posterior draws, or 1)."""
        return int(self.runs[CUSTOM].table["seed"].nunique())


@dataclass
class _Planned:
    key: str
    config: ValidConfig
    scenario: Scenario
    members: list[ValidConfig]
    draw_of: list[int] | None
    inputs: pd.DataFrame | None
    overrides: list[str]
    titles: tuple[str, str]


def custom_titles(scenario: Scenario, changes: int) -> tuple[str, str]:
    """The edited scenario's titles: the picked one's, with the number of changes."""
    if not changes:
        return scenario.title_zh, scenario.title_en
    return (
        f"{scenario.title_zh} + 工作台调整 {changes} 项",
        f"{scenario.title_en} + {changes} workbench change(s)",
    )


def _plan(request: RunRequest, key: str, region) -> _Planned:
    name, levers = (request.scenario, request.levers) if key == CUSTOM else (BASELINE, {})
    cfg = request.config(name, levers)
    scenario = compose_scenario(cfg, region)
    if cfg.settings.ensemble == "posterior":
        ensemble = posterior_members(cfg, region)
        members, draw_of, inputs = ensemble.members, ensemble.draw_of, ensemble.inputs
    else:
        members, draw_of, inputs = [cfg], None, None
    titles = (
        custom_titles(scenario, len(levers))
        if key == CUSTOM
        else (scenario.title_zh, scenario.title_en)
    )
    return _Planned(
        key, cfg, scenario, members, draw_of, inputs, request.overrides(name, levers), titles
    )


def _baseline_key(request: RunRequest, planned: _Planned, region) -> tuple:
    return (
        request.seed,
        request.scale,
        request.end_year,
        request.draws,
        region.data_hash,
        planned.scenario.digest,
    )


def run_comparison(
    request: RunRequest,
    *,
    progress: Callable[[int, int], None] | None = None,
    number: int = 0,
) -> Comparison:
    """Run the edited scenario and the baseline on the same seeds (or draws).

    Args:
        request: What to run.
        progress: Called with (runs done, runs in all) as runs finish.
        number: A serial number of the run in this session (shown, and a test hook).

    Raises:
        ConfigError: A setting is out of its range.
        ScenarioError: A lever edit the scenario rules refuse (composed before any run).
    """
    with RUN_LOCK:  # one run at a time: the machine has two cores
        return _run_comparison(request, progress, number)


def _run_comparison(request: RunRequest, progress, number: int) -> Comparison:
    started = time.time()
    region = load_region()
    custom = _plan(request, CUSTOM, region)
    base = _plan(request, BASELINE, region)
    key = _baseline_key(request, base, region)
    kept = _baselines.get(key)
    members = custom.members + ([] if kept else base.members)
    workers = max(1, min(int(request.workers), MAX_WORKERS, len(members)))
    if len(members) <= 2:
        workers = 1  # two short runs: forking workers costs more than it saves
    tables = run_ensemble(members, workers=workers, progress=progress)
    wall = time.time() - started
    finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    runs = {CUSTOM: _finish(custom, tables[: len(custom.members)], wall, finished)}
    if kept is None:
        kept = _finish(base, tables[len(custom.members) :], wall, finished)
        _baselines[key] = kept
        while len(_baselines) > KEPT_BASELINES:
            _baselines.popitem(last=False)
    runs[BASELINE] = kept
    return Comparison(request, runs, number)


def _finish(planned: _Planned, tables: list[pd.DataFrame], wall: float, finished: str):
    if planned.draw_of is not None:
        for k, table in zip(planned.draw_of, tables, strict=True):
            table["draw"] = np.int64(k)
    table = pd.concat(tables, ignore_index=True)
    table["scenario"] = planned.key
    return ScenarioRun(
        key=planned.key,
        config=planned.config,
        scenario=planned.scenario,
        table=table,
        draw_inputs=planned.inputs,
        overrides=planned.overrides,
        titles=planned.titles,
        wall_time_s=round(wall, 3),
        finished_utc=finished,
    )


@dataclass(frozen=True)
class ScoreRow:
    """One scenario's line of the scorecard.

    Attributes:
        key: ``baseline`` or ``dashboard``.
        title: The scenario's title.
        p_met: (unit, indicator) to the share of runs meeting the target in 2027.
        median: (unit, indicator) to the median over runs of its 2027 value.
        spending: The city's lever spending in 2027, yuan a year (mean over runs).
        extra: The paired difference of ``spending`` from the baseline (None for it).
    """

    key: str
    title: str
    p_met: dict
    median: dict
    spending: float
    extra: float | None


def targets_of(region=None) -> tuple:
    """The decision's targets with the default 2035 thresholds."""
    region = region or load_region()
    return run_targets(region, Targets2035())


def score_rows(comparison: Comparison, lang: str, targets=None) -> list[ScoreRow]:
    """The scorecard: each target's chance and median in 2027, and the lever cost."""
    table = comparison.table
    card = scorecard(table, targets or targets_of(), SCORECARD_YEAR)
    now = table[table["year"] == SCORECARD_YEAR]
    spending = now[(now.unit == "city") & (now.indicator == "lever_spending")]
    by_seed = spending.set_index(["scenario", "seed"])["value"]
    titles = comparison.titles(lang)
    rows = []
    for key in (BASELINE, CUSTOM):
        part = card[card.scenario == key].set_index(["unit", "indicator"])
        median = {
            target: float(
                now[(now.scenario == key) & (now.unit == target[0]) & (now.indicator == target[1])][
                    "value"
                ].median()
            )
            for target in TARGET_INDICATORS
        }
        own = by_seed.loc[key]
        extra = None
        if key != BASELINE:
            base = by_seed.loc[BASELINE]
            extra = float((own - base.reindex(own.index)).mean())
        rows.append(
            ScoreRow(
                key=key,
                title=titles[key],
                p_met={t: float(part.loc[t, "p_met"]) for t in TARGET_INDICATORS},
                median=median,
                spending=float(own.mean()),
                extra=extra,
            )
        )
    return rows


def target_labels(lang: str, targets=None) -> dict:
    """(unit, indicator) to its label with the target: ``CITY · … ≥ 63.0%``."""
    card = pd.DataFrame(
        [
            {"unit": t.unit, "indicator": t.indicator, "target": t.value, "direction": t.direction}
            for t in (targets or targets_of())
            if t.year == SCORECARD_YEAR
        ]
    ).set_index(["unit", "indicator"])
    out = {}
    for unit, indicator in TARGET_INDICATORS:
        row = card.loc[(unit, indicator)]
        shown = pd.Series({**row.to_dict(), "indicator": indicator})
        out[(unit, indicator)] = (
            f"{unit_label(unit, lang, unit_names())} · {indicator_label(indicator, lang)} "
            f"{target_text(shown)}"
        )
    return out


def value_text(indicator: str, value: float) -> str:
    """A target indicator's value: a rate in percent, a ratio to three decimals."""
    if value != value:
        return "–"
    return f"{value:.2%}" if indicator.endswith("_rate") else f"{value:.3f}"


def yuan_100m(value: float | None, signed: bool = False) -> str:
    """Yuan shown in 100 million yuan (亿元) with two decimals."""
    if value is None or value != value:
        return "–"
    return f"{value / 1e8:+,.2f}" if signed else f"{value / 1e8:,.2f}"


@dataclass(frozen=True)
class ChartImage:
    """One chart as PNG bytes, with its section (``fans`` or ``differences``)."""

    section: str
    name: str
    caption: str
    png: bytes


def chart_images(comparison: Comparison, lang: str, region=None) -> list[ChartImage]:
    """Fan charts and paired differences from the baseline of the targets and the cost."""
    region = region or load_region()
    targets = targets_of(region)
    table = comparison.table
    simulated = table[table["year"] > table["year"].min()]
    titles = comparison.titles(lang)
    images = []
    with CHART_LOCK:
        for unit, indicator in CHART_INDICATORS:
            caption = f"{unit_label(unit, lang, unit_names())} · {indicator_label(indicator, lang)}"
            spending = indicator == "lever_spending"
            fan = fan_chart(
                simulated if spending else table,
                indicator,
                unit=unit,
                lang=lang,
                targets=[] if spending else targets,
                history=[] if spending else region.history,
                scenario_titles=titles,
                names=unit_names(),
            )
            images.append(ChartImage("fans", f"fan_{unit}_{indicator}", caption, _png(fan, lang)))
            difference = difference_chart(
                simulated if spending else table,
                indicator,
                unit=unit,
                lang=lang,
                scenario_titles=titles,
                names=unit_names(),
            )
            images.append(
                ChartImage(
                    "differences", f"difference_{unit}_{indicator}", caption, _png(difference, lang)
                )
            )
    return images


def _png(fig, lang: str) -> bytes:
    out = io.BytesIO()
    with chart_style(lang):
        fig.savefig(out, format="png", dpi=80, metadata={"Software": None})
    return out.getvalue()


def write_run_folders(comparison: Comparison, folder: Path) -> list[Path]:
    """Write each scenario's runs as a run folder ``FOLDER/KEY`` (as ``ronghe run`` does).

    The indicator table, ``config.yaml``, the population fit of its first run,
    ``draws.csv`` for an ensemble and a provenance whose overrides rerun it with
    ``ronghe run`` (the scenario column then reads the picked scenario's name).
    """
    region = load_region()
    paths = []
    for run in comparison.runs.values():
        run_dir = folder / run.key
        with claim(run_dir, (*RESULT_FILES, DRAWS_FILE), "dashboard outputs"):
            write_run(run_dir, **_run_files(run, region))
        paths.append(run_dir)
    return paths


def _run_files(run: ScenarioRun, region) -> dict:
    from sim.paths import code_digest

    cfg = run.config
    s = cfg.settings
    resolved = {**dataclasses.asdict(s), "levers": dict(cfg.levers), "params": dict(cfg.params)}
    first = run.table["seed"].iloc[0]
    inputs = process_inputs(region, s.region)
    params = dict(cfg.params)
    if run.draw_inputs is not None:
        row = run.draw_inputs[run.draw_inputs["seed"] == first].iloc[0]
        params = {k: float(v) for k, v in row.items() if k not in ("draw", "seed")}
    population = inputs.population(int(first), s.scale, resolve_params(region, params))
    key = RunKey(config_hash(resolved), region.data_hash, run.scenario.digest, code_digest())
    seeds = [int(x) for x in run.table["seed"].unique()]
    provenance = provenance_record(
        s,
        run.scenario,
        key,
        run.overrides,
        agent_weight=population.weight,
        wall_time_s=run.wall_time_s,
        finished_utc=run.finished_utc,
        written_by="ronghe dashboard",
        scenario=run.key,
        scenario_title_zh=run.titles[0],
        scenario_title_en=run.titles[1],
    )
    extra = {}
    if run.draw_inputs is not None:
        extra[DRAWS_FILE] = run.draw_inputs.to_csv(index=False, float_format=None)
        provenance["ensemble"] = {
            "kind": "posterior",
            "draws": int(run.table["draw"].nunique()),
            "draw_seeds": 1,
            "seeds": seeds,
        }
    return {
        "indicators": run.table,
        "config": resolved,
        "provenance": provenance,
        "population_fit": fit_report(population, inputs.world, region),
        "extra_files": extra,
    }


def report_folder_name() -> str:
    """A new folder name for one report: the time and a random token."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"


def write_report(comparison: Comparison, outputs: Path, lang: str) -> Path:
    """Write the run folders of ``comparison`` and the full report; return report.html."""
    folder = Path(outputs) / report_folder_name()
    with RUN_LOCK:  # synthesizes a population through the process's shared inputs
        write_run_folders(comparison, folder)
    with CHART_LOCK:
        return build_report(folder, lang=lang)


__all__ = [
    "BASELINE",
    "CUSTOM",
    "ChartImage",
    "Comparison",
    "RunRequest",
    "ScoreRow",
    "chart_images",
    "override_value",
    "run_comparison",
    "score_rows",
    "target_labels",
    "value_text",
    "write_report",
    "write_run_folders",
    "yuan_100m",
]
