"""Command line: ``ronghe run`` (a Hydra app) and the ``levers``, ``scenarios``, ``params`` lists.

Command-line overrides are checked before Hydra starts, so an unknown key or an
out-of-range value (in any value of a sweep) fails with a one-line error and a non-zero
exit code, before any run directory or job exists.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import uuid
from pathlib import Path

from sim.errors import ConfigError, RongheError

USAGE = """usage: ronghe <command> [arguments]    (ronghe <command> --help for each)

commands:
  run [OVERRIDES]   run the model (a Hydra app: -m for multirun, key=value overrides),
                    e.g. ronghe run scenario=baseline seed=3 scale=0.01 end_year=2035
  collect SWEEP_DIR gather a sweep's runs into SWEEP_DIR/collected/
                    (all_indicators.parquet, runs.parquet)
  report RESULTS_DIR [--lang zh|en] [--out DIR]
                    charts and a self-contained HTML report of a run or a sweep, written to
                    RESULTS_DIR/report-<lang>/ (report.html, figures/*.png|svg, scorecard.csv)
  levers            the policy levers: id, clause, Chinese and English names, range
  scenarios [NAME|FILE.yaml ...] [--dir FOLDER]
                    the scenarios with their titles; with a name or a file, its schedules
  params [--region R]
                    the behavioural parameters with value, unit and source
  regions           the library's regions: name, counties, outside places, targets
  dashboard [--lang zh|en] [--port N]
                    the workbench in your browser: levers, runs, charts, scorecard
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: a :class:`ConfigError` instead of usage and exit."""

    def error(self, message: str):
        raise ConfigError(f"{self.prog}: {message}; see `{self.prog} --help`")


def _parser(command: str, description: str) -> _Parser:
    return _Parser(prog=f"ronghe {command}", description=description)


def _print_error(exc: BaseException) -> None:
    print(f"ronghe: error: {exc}", file=sys.stderr)


def check_overrides(overrides: list[str]) -> None:
    """Validate command-line overrides (every value of a sweep) before Hydra starts.

    Raises:
        ConfigError: Unknown key, malformed override or value outside its range.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    from sim.config import SETTINGS, RunSettings, check_key, resolve_county_area
    from sim.data import load_region
    from sim.paths import project_dir, scenarios_folder
    from sim.scenario import load_scenario

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as exc:
        raise ConfigError(f"malformed override: {str(exc).splitlines()[0]}") from None
    settings = RunSettings()
    start_year, end_year = settings.start_year, settings.end_year
    scenarios = [settings.scenario]
    folder = None
    levers: dict[str, list] = {}
    region_values: list = [settings.region]
    for o in parsed:
        if o.key_or_group == "start_year" and not o.is_sweep_override():
            start_year = o.value()
        if o.key_or_group == "end_year" and not o.is_sweep_override():
            end_year = o.value()
        if o.key_or_group == "scenarios_dir" and not o.is_sweep_override():
            folder = o.value()
        if o.key_or_group == "region":
            region_values = _values(o)
    for value in region_values:
        check_key("region", value)
    # Every region of the sweep is read and checked whole before any run starts.
    regions = [load_region(value) for value in dict.fromkeys(region_values)]
    for o in parsed:
        key = o.key_or_group
        if key == "hydra.sweep.subdir" and not o.is_sweep_override():
            subdir = Path(str(o.value()))
            if subdir.is_absolute() or ".." in subdir.parts:
                raise ConfigError(
                    f"hydra.sweep.subdir={str(o.value())[:80]!r}: allowed a relative path "
                    "inside the sweep folder (no '..')"
                )
        if key.startswith(("hydra.", "hydra/")) or key == "hydra":
            continue
        if o.is_delete():
            raise ConfigError(f"~{key}: removing keys is not supported")
        values = _values(o)
        if key.startswith("params."):
            name = key.split(".", 1)[1]
            from sim.params import resolve_params

            for value in values:
                for region in regions:
                    resolve_params(region, {name: value})
        elif key.startswith("levers."):
            levers[key.split(".", 1)[1]] = values
        elif key == "experiment":
            known = sorted(p.stem for p in (project_dir("conf") / "experiment").glob("*.yaml"))
            for value in values:
                if value not in known:
                    raise ConfigError(
                        f"+experiment={value}: unknown experiment; allowed: {', '.join(known)}"
                    )
        elif key in SETTINGS:
            for value in values:
                check_key(key, value, start_year=start_year)
                if key == "county_area":  # the names of every data folder's counties
                    for region in regions:
                        resolve_county_area(_plain(value), region)
            if key == "scenario":
                scenarios = values
        else:
            allowed = ", ".join(sorted(SETTINGS))
            raise ConfigError(
                f"unknown override key {key!r}; allowed: {allowed}, params.NAME, levers.NAME, "
                f"+experiment=NAME"
            )
    period = (start_year, end_year) if isinstance(end_year, int) else (start_year, 2050)
    folder = scenarios_folder(folder if isinstance(folder, str) else None)
    for name in scenarios:
        load_scenario(name, folder, period=period)
        for lever, values in levers.items():
            for value in values:
                load_scenario(name, folder, period=period, lever_overrides={lever: _plain(value)})


def _values(override) -> list:
    """The values of one parsed override (each value of a sweep)."""
    from hydra.errors import HydraException

    if not override.is_sweep_override():
        return [override.value()]
    try:
        return list(override.sweep_iterator())
    except HydraException:
        return []  # interval sweeps (Optuna) are checked when composed


def _plain(value):
    """A parsed override value as plain Python data (Hydra returns its own containers)."""
    from omegaconf import OmegaConf

    if isinstance(value, dict | list):
        return OmegaConf.to_container(OmegaConf.create({"v": value}), resolve=False)["v"]
    return value


def _register_schema() -> None:
    from hydra.core.config_store import ConfigStore

    from sim import schema

    ConfigStore.instance().store(name="ronghe_schema", node=schema.RunConfig)


class RunFailedError(RongheError):
    """A run of a sweep failed; its error is in its folder's ``failed.json``."""

    exit_code = 1


def _run_folder(hydra_cfg, multirun: bool) -> Path:
    """The folder a job writes into: Hydra's run folder, or its folder in the sweep.

    In a sweep with an empty ``hydra.sweep.subdir`` (the default), a run's folder is
    named by its overrides (:func:`sim.paths.run_folder_name`); a folder named by the user
    must lie inside the sweep folder.

    Raises:
        ConfigError: The run folder would lie outside the sweep folder.
    """
    from sim.paths import run_folder_name

    if not multirun:
        return Path(hydra_cfg.runtime.output_dir)
    sweep = Path(str(hydra_cfg.sweep.dir)).absolute()
    if not str(hydra_cfg.sweep.subdir or ""):
        return sweep / run_folder_name(str(hydra_cfg.job.override_dirname))
    run_dir = Path(hydra_cfg.runtime.output_dir)
    if not run_dir.resolve().is_relative_to(sweep.resolve()):
        raise ConfigError(
            f"hydra.sweep.subdir={str(hydra_cfg.sweep.subdir)[:80]!r}: the run folder "
            f"{run_dir} lies outside the sweep folder {sweep}"
        )
    return run_dir


def _task(cfg) -> float | None:
    """One run of ``ronghe run``.

    The run holds its folder while it works (:func:`sim.runfolder.claim`). In a sweep,
    complete results of the same run are kept (resume). A failure is recorded in
    ``failed.json``; in a sweep it is re-raised, so Hydra reports it after the others.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from sim.config import validate
    from sim.data import load_region
    from sim.ensemble import compose_scenario
    from sim.goals import GOAL_FILE, read_goal
    from sim.paths import code_digest
    from sim.posterior import POSTERIOR_NAME, posterior_digest
    from sim.results import RESULT_FILES, config_hash, read_draw_inputs
    from sim.runfolder import RunKey, claim, is_complete, record_failure, retire
    from sim.runner import run_to_directory, target_summary
    from sim.sweeps import read_indicators

    hydra_cfg = HydraConfig.get()
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    overrides = [str(o) for o in hydra_cfg.overrides.task]
    what = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    writes = (*RESULT_FILES, GOAL_FILE)
    run_dir, recorded = None, False
    try:
        run_dir = _run_folder(hydra_cfg, multirun)
        # The log is replaced by each attempt as it starts, not retired with the results.
        with claim(run_dir, (*writes, RUN_LOG), what), _run_log(run_dir):
            try:
                resolved = OmegaConf.to_container(cfg, resolve=True)
                valid = validate(resolved)
                valid = dataclasses.replace(
                    valid, params={k: v for k, v in valid.params.items() if v is not None}
                )
                region = load_region(valid.settings.region)
                scenario = compose_scenario(valid, region)
                keyed = resolved
                if valid.settings.ensemble == "posterior":  # its draws are an input too
                    own = region.data_dir / POSTERIOR_NAME
                    keyed = {**resolved, "posterior_sha256": posterior_digest(own)}
                key = RunKey(config_hash(keyed), region.data_hash, scenario.digest, code_digest())
                if multirun and is_complete(run_dir, key):
                    print(f"skipped (complete results of this run exist): {run_dir}")
                    _progress("skipped", run_dir)
                    stored = read_goal(run_dir)
                    if stored:
                        return stored["objective"]
                    if valid.settings.start_year <= 2027 <= valid.settings.end_year:
                        table = read_indicators(run_dir / "indicators.parquet")
                        inputs = read_draw_inputs(run_dir)
                        print(target_summary(table, region, 2027, valid.settings.scale, inputs))
                    return None
                retire(run_dir, writes)
                table, goal = run_to_directory(
                    valid,
                    resolved,
                    run_dir,
                    region=region,
                    scenario=scenario,
                    key=key,
                    overrides=overrides,
                )
            except Exception as exc:
                with contextlib.suppress(OSError):  # earlier results never stand for it
                    retire(run_dir, writes)
                recorded = record_failure(run_dir, exc, overrides)
                raise
    except Exception as exc:
        if multirun:
            _progress("failed", run_dir)
            where = f"recorded in {run_dir / 'failed.json'}" if recorded else "nothing written"
            _print_error(f"run failed ({' '.join(overrides)[:200]}), {where}: {exc}")
            # The other runs go on; Hydra re-raises this at the end of the sweep.
            raise RunFailedError(f"{run_dir}: {exc}") from None
        if not isinstance(exc, RongheError):
            raise
        _print_error(exc)
        sys.exit(exc.exit_code)
    print(f"results: {run_dir}")
    if multirun:
        _progress("complete", run_dir)
    if goal is not None:
        os.environ[GOAL_SWEEP_ENV] = str(Path(str(hydra_cfg.sweep.dir)).absolute())
        chances = ", ".join(f"{k} {v:.0%}" for k, v in goal.probability.items())
        print(f"package cost {goal.cost:,.0f} million yuan a year; targets met: {chances}")
        return goal.objective
    if valid.settings.start_year <= 2027 <= valid.settings.end_year:
        inputs = read_draw_inputs(run_dir)
        print(target_summary(table, region, 2027, valid.settings.scale, inputs))
    return None


# Hydra's flags that take a value, and those that make Hydra show something and not run.
_HYDRA_VALUE_FLAGS = {
    "cfg": "--cfg",
    "package": "--package",
    "info": "--info",
    "config_path": "--config-path",
    "config_name": "--config-name",
    "config_dir": "--config-dir",
}
_HYDRA_SWITCHES = {
    "multirun": "--multirun",
    "resolve": "--resolve",
    "run": "--run",
    "help": "--help",
    "hydra_help": "--hydra-help",
}


RUN_LOG = "ronghe.log"
GOAL_SWEEP_ENV = "RONGHE_GOAL_SWEEP"


def goal_summary(sweep_dir: Path) -> str | None:
    """The best package of a goal-seeking sweep in a few lines (values to 3 digits)."""
    import yaml

    path = sweep_dir / "optimization_results.yaml"
    if not path.is_file():
        return None
    best = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    params = best.get("best_params") or {}
    levers = ", ".join(f"{k.removeprefix('levers.')} {v:.3g}" for k, v in params.items())
    return (
        f"goal seeking: best objective {best.get('best_value', float('nan')):,.0f} million "
        f"yuan a year (cost plus any shortfall penalty) with {levers}\n"
        f"every package, feasible ones first: .venv/bin/python "
        f"experiments/goal_seek/best_packages.py {sweep_dir}"
    )


@contextlib.contextmanager
def _run_log(run_dir: Path):
    """Write the run's INFO records (logger ``ronghe``) to ``run_dir/ronghe.log``.

    The console stays quiet (warnings only); the log file says what the run did, how
    long each part took and where its results went.
    """
    import logging

    logger = logging.getLogger("ronghe")
    # Opened at the first record: a run skipped as complete logs nothing and keeps the
    # log of the attempt that made its results.
    handler = logging.FileHandler(run_dir / RUN_LOG, mode="w", encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    # Warnings on the console however the host configured logging (a sweeper may have
    # set the root logger to INFO); everything in the file.
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("ronghe: %(levelname)s: %(message)s"))
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.addHandler(console)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.removeHandler(console)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        handler.close()


def _progress(status: str, run_dir) -> None:
    """Count a finished run of a sweep and say how far the sweep is (on stderr)."""
    from sim import sweep_progress

    line = sweep_progress.record(status, run_dir)
    if line:
        print(f"[sweep] {line}", file=sys.stderr, flush=True)


def _parse_hydra_args(args: list[str]) -> tuple[list[str], list[str], bool, bool]:
    """Split ``ronghe run`` arguments with Hydra's own parser.

    Returns:
        ``(flags, overrides, multirun, runs)``: Hydra's flags as arguments, the
        overrides, whether it is a multirun, and whether any job will run (not ``--cfg``,
        ``--info``, ``--help``...).

    Raises:
        ConfigError: An argument Hydra does not know.
    """
    from hydra._internal.utils import get_args_parser

    parser = get_args_parser()

    def refuse(message: str):
        raise ConfigError(f"run: {message}; see `ronghe run --hydra-help`")

    parser.error = refuse  # one line instead of argparse's usage text and exit
    ns = parser.parse_args(args)  # --version prints Hydra's version and exits here
    if ns.shell_completion:
        raise ConfigError("run: --shell-completion is not supported by ronghe")
    if ns.experimental_rerun:
        raise ConfigError(
            "run: --experimental-rerun is not supported (runs keep no Hydra pickle); "
            "rerun with the command recorded in the run's provenance.json"
        )
    modes = [
        f
        for f, on in (
            ("--run", ns.run),
            ("--multirun", ns.multirun),
            ("--cfg", ns.cfg),
            ("--info", ns.info),
        )
        if on
    ]
    if len(modes) > 1:
        raise ConfigError(f"run: {' and '.join(modes)} exclude each other; give one of them")
    flags = []
    for name, flag in _HYDRA_SWITCHES.items():
        if getattr(ns, name):
            flags.append(flag)
    for name, flag in _HYDRA_VALUE_FLAGS.items():
        value = getattr(ns, name)
        if value is not None:
            flags.append(f"{flag}={value}")
    shows = ns.cfg or ns.info or ns.help or ns.hydra_help
    return flags, list(ns.overrides), bool(ns.multirun), not shows


def _output_folders(overrides: list[str], multirun: bool) -> dict[str, str]:
    """The folders a command will write into, as far as they are known before Hydra runs.

    The value of ``hydra.run.dir`` or ``hydra.sweep.dir`` (an override, else the
    project's configuration) up to its first interpolation.
    """
    import yaml

    from sim.paths import project_dir

    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    given = [o.split("=", 1)[1] for o in overrides if o.startswith(f"{key}=")]
    if given:
        pattern = given[-1]
    else:
        conf = yaml.safe_load((project_dir("conf") / "config.yaml").read_text("utf-8"))
        pattern = str(conf["hydra"]["sweep" if multirun else "run"]["dir"])
    static = pattern.split("${", 1)[0]
    folder = static if "${" not in pattern or static.endswith("/") else str(Path(static).parent)
    return {key: folder or "."}


# Keys of ``ronghe run`` besides the run settings, with what they do.
OTHER_KEYS = (
    ("params.NAME=VALUE", "a behavioural parameter over the data's value (`ronghe params`)"),
    (
        "levers.NAME=VALUE",
        "a lever over the scenario's: a number, a per-county mapping or a schedule such as "
        "'{ramp: [2024, 2027], to: 0.9}' (`ronghe levers`, docs/scenarios.md)",
    ),
    ("seeds=N", "with -m: N replicate seeds derived from seed, one run each"),
    (
        "+experiment=goal_seek",
        "with -m: goal seeking over lever intensities (conf/experiment/goal_seek.yaml)",
    ),
    ("hydra.run.dir=DIR, hydra.sweep.dir=DIR", "where a run's or a sweep's folders go"),
)


def run_help() -> str:
    """``ronghe run --help``: every key with its default, meaning and allowed values.

    All from the settings' declarations (:data:`sim.config.SETTINGS`).
    """
    import textwrap

    from sim.config import SETTINGS

    lines = [
        "usage: ronghe run [-m] [KEY=VALUE ...]",
        "",
        "Runs the model and writes indicators.parquet, config.yaml and provenance.json to a",
        "run folder (hydra.run.dir). -m (--multirun) runs a sweep: every combination of",
        "comma-separated values, each in its own folder of hydra.sweep.dir; run it again to",
        "resume (complete runs are skipped).",
        "",
        "keys (KEY=DEFAULT, its meaning and allowed values):",
    ]
    notes = [
        (f"{key}={s.shown_default()}", [s.help, f"allowed: {s.allowed()}"])
        for key, s in SETTINGS.items()
    ]
    for key, texts in [*notes, *((key, [text]) for key, text in OTHER_KEYS)]:
        lines.append(f"  {key}")
        for text in texts:
            lines += textwrap.wrap(text, 88, initial_indent=" " * 6, subsequent_indent=" " * 6)
    lines += [
        "",
        "examples:",
        "  ronghe run scenario=decision_package scale=0.01",
        "  ronghe run -m scenario=baseline,my_plan scenarios_dir=my_scenarios seeds=5",
        "  ronghe run ensemble=posterior draws=100 draw_seeds=2 scale=0.02",
        "",
        "Hydra's own flags (--cfg job, --info, ...): ronghe run --hydra-help",
    ]
    return "\n".join(lines)


def _run_hydra(args: list[str]) -> int:
    if "--help" in args or "-h" in args:
        print(run_help())
        return 0

    import hydra
    from omegaconf import OmegaConf

    from sim.paths import check_output_folder, project_dir
    from sim.sweeps import expand_replicates

    try:
        flags, overrides, multirun, runs = _parse_hydra_args(args)
        expanded = expand_replicates(overrides, multirun)
        # The derived seeds are valid by construction: check what the user typed (a list
        # of 100,000 seeds costs Hydra's parser seconds, and Hydra parses it again).
        check_overrides([o for o in overrides if not o.startswith("seeds=")])
        if runs:
            for key, folder in _output_folders(expanded, multirun).items():
                check_output_folder(key, folder)
        _register_schema()
    except RongheError as exc:
        _print_error(exc)
        return exc.exit_code
    if multirun and not any(
        a.lstrip("+").startswith(("hydra/sweeper=", "experiment=")) for a in expanded
    ):
        # Hydra's basic sweeper, composing one job per batch up front (hydra_plugins/).
        expanded.append("hydra/sweeper=ronghe")
    token = uuid.uuid4().hex[:8]
    OmegaConf.register_new_resolver("ronghe.unique", lambda: token, replace=True)
    app = hydra.main(
        version_base="1.3", config_path=str(project_dir("conf")), config_name="config"
    )(_task)
    saved_argv, saved_env = sys.argv, os.environ.get("HYDRA_FULL_ERROR")
    sys.argv = ["ronghe", *flags, *expanded]
    # Errors reach ronghe instead of Hydra's printer, to be told in one line.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    from sim import sweep_progress

    if any(a.lstrip("+").startswith("experiment=") for a in expanded):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # no per-trial chatter
    try:
        app()
        if multirun and (line := sweep_progress.summary()):
            print(line)
        if folder := os.environ.pop(GOAL_SWEEP_ENV, None):
            print(goal_summary(Path(folder)) or f"goal seeking: no results in {folder}")
    except RunFailedError:
        if line := sweep_progress.summary():
            print(line)
        _print_error(
            "some runs failed; each is recorded in its folder's failed.json "
            "(`ronghe collect SWEEP_DIR` lists them)"
        )
        return RunFailedError.exit_code
    except RongheError as exc:
        _print_error(exc)
        return exc.exit_code
    except OSError as exc:  # a folder Hydra could not create
        where = exc.filename if exc.filename is not None else "a run folder"
        _print_error(f"cannot create {where}: {exc.strerror or type(exc).__name__}")
        return 2
    finally:
        sweep_progress.finish()
        os.environ.pop(GOAL_SWEEP_ENV, None)
        sys.argv = saved_argv
        if saved_env is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved_env
    return 0


def _collect(args: list[str]) -> int:
    from sim.sweeps import COLLECTED_INDICATORS, write_collected

    parser = _parser(
        "collect",
        "Gather the runs of a sweep (or one run folder) into SWEEP_DIR/collected/: "
        f"{COLLECTED_INDICATORS} (every complete run's indicators, with run_id and the "
        "overridden keys) and runs.parquet (every run's status, error and provenance).",
    )
    parser.add_argument("sweep_dir", metavar="SWEEP_DIR", help="a sweep folder or a run folder")
    ns = parser.parse_args(args)
    out, runs = write_collected(Path(ns.sweep_dir))
    counts = runs["status"].value_counts()
    print(
        f"collected {counts.get('complete', 0)} complete runs into {out}/{COLLECTED_INDICATORS}; "
        f"runs table {out}/runs.parquet"
    )
    for status in ("failed", "incomplete"):
        bad = runs[runs["status"] == status]
        if len(bad):
            print(f"{len(bad)} {status} run(s):")
            for _, row in bad.iterrows():
                error = row.error if isinstance(row.error, str) else None
                print(f"  {row.run_id}: {error or 'no results (killed or still running)'}")
    return 0


def _report(args: list[str]) -> int:
    parser = _parser(
        "report",
        "Charts and a self-contained HTML report (scorecard, trajectories, paired "
        "differences, spending, counties, flows, scenario definitions, provenance) of a run "
        "or a sweep, written to RESULTS_DIR/report-<lang>/.",
    )
    parser.add_argument("results_dir", metavar="RESULTS_DIR", help="a run folder or a sweep")
    parser.add_argument("--lang", default="zh", help="zh (default) or en")
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="report folder (default RESULTS_DIR/report-<lang>): new, empty, or an earlier "
        "report, which is replaced whole",
    )
    ns = parser.parse_args(args)
    results_dir = Path(ns.results_dir)
    if not results_dir.is_dir():
        raise ConfigError(f"report: {results_dir} is not a folder")
    from sim.charts.style import check_lang

    check_lang(ns.lang)
    from sim.report import build_report

    page = build_report(results_dir, lang=ns.lang, out=Path(ns.out) if ns.out else None)
    print(f"report written to {page} (charts as PNG and SVG in {page.parent / 'figures'})")
    return 0


def _width(text: str) -> int:
    """Columns a string takes on a terminal (CJK characters take two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(rows: list[list[str]]) -> str:
    """Rows as left-aligned columns, padded by display width."""
    widths = [max(_width(row[k]) for row in rows) for k in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    )


def _levers(args: list[str]) -> int:
    _parser(
        "levers",
        "The policy levers: id, clause of the decision, names, unit, range, 2023 value, and "
        "whether it is set per county. Mechanisms and evidence: docs/levers.md.",
    ).parse_args(args)
    from sim.levers import CATALOGUE, region_defaults

    defaults = region_defaults()
    rows = [["id", "clause", "中文", "English", "unit", "range", "2023", "per county"]]
    for lv in CATALOGUE:
        rows.append(
            [
                lv.id,
                lv.clause,
                lv.name_zh,
                lv.name_en,
                lv.unit,
                f"[{lv.low:g}, {lv.high:g}]",
                f"{defaults.value(lv.id):g}",
                "yes" if lv.per_county else "no",
            ]
        )
    print(_table(rows))
    print("\nMechanisms, sources and tested effects: docs/levers.md")
    return 0


def _scenarios(args: list[str]) -> int:
    from sim.data import region_county_keys
    from sim.levers import LEVERS
    from sim.paths import scenarios_folder
    from sim.scenario import available, load_scenario

    parser = _parser(
        "scenarios",
        "The scenarios with their titles; with names or files, their lever schedules. "
        "Scenarios are looked up in --dir (your folder) and then in the library, which "
        "your scenarios may extend.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME|FILE.yaml",
        help="a scenario name, or a scenario file anywhere (previewed with the library "
        "beside it, so it may extend baseline)",
    )
    parser.add_argument("--dir", metavar="FOLDER", help="your scenarios folder (scenarios_dir)")
    ns = parser.parse_args(args)
    folders = scenarios_folder(ns.dir)
    names = []
    for given in ns.names:
        if given.endswith((".yaml", ".yml")) or "/" in given:
            path = Path(given)
            if not path.is_file():
                raise ConfigError(f"scenarios: {given}: no such scenario file")
            if path.suffix != ".yaml":
                raise ConfigError(f"scenarios: {given}: allowed a file named NAME.yaml")
            names.append((path.stem, (path.parent, *folders)))
        else:
            names.append((given, folders))
    if not names:
        for name in available(folders):
            sc = load_scenario(name, folders)
            extends = " <- ".join(reversed(sc.chain[:-1])) or "-"
            print(f"{name:<18} {sc.title_zh}  |  {sc.title_en}")
            print(f"{'':<18} extends: {extends}; levers changed: {len(sc.plan.changed())}")
        print("\n`ronghe scenarios NAME` shows a scenario's lever schedules.")
        return 0
    for name, search in names:
        sc = load_scenario(name, search)
        print(f"{sc.title_zh}  |  {sc.title_en}")
        print(f"files: {' -> '.join(sc.chain)}")
        print(sc.description)
        for lever_id, per_county in sc.plan.changed().items():
            lv = LEVERS[lever_id]
            print(f"  {lv.clause:<12} {lever_id:<26} {lv.name_zh} / {lv.name_en} ({lv.unit})")
            if len(set(per_county)) == 1:
                print(f"  {'':<12} all counties: {per_county[0].describe()}")
            else:
                for county, schedule in zip(region_county_keys(), per_county, strict=True):
                    print(f"  {'':<12} {county:<10} {schedule.describe()}")
    return 0


def _dashboard(args: list[str]) -> int:
    """``ronghe dashboard``: the web workbench (sim/dashboard/, the ``dashboard`` extra)."""
    try:
        from sim.dashboard import main as serve
    except ImportError as exc:
        raise ConfigError(
            f'dashboard: {exc.name or "solara"} is not installed; pip install "ronghe[dashboard]"'
        ) from None
    return serve(args)


def _params(args: list[str]) -> int:
    parser = _parser(
        "params",
        "The behavioural parameters: name, value, unit, allowed range and basis (sourced, "
        "calibrated, assumption...). Override one in a run with params.NAME=VALUE; "
        "sources: docs/parameters.md, priors: docs/priors.md.",
    )
    parser.add_argument("--region", default=None, help="a library region or a folder")
    options = parser.parse_args(args)
    from sim.data import load_region

    region = load_region(options.region)
    for spec in region.parameters.values():
        print(
            f"{spec.name:<36} {spec.value:>12g} {spec.unit:<26} [{spec.low:g}, {spec.high:g}] "
            f"{spec.basis}"
        )
    return 0


def _regions(args: list[str]) -> int:
    _parser(
        "regions",
        "The library's regions (sim/regions/NAME/, one folder of data files each): name, "
        "counties (the central city first, * the 县域), outside destinations, the 2027 "
        "targets and whether a fitted posterior ships with it. Run one with region=NAME; "
        "a folder of your own works the same (region=PATH). Format: docs/regions.md.",
    ).parse_args(args)
    from sim.data import library_regions, load_region
    from sim.posterior import POSTERIOR_NAME

    rows = [["region", "名称", "counties", "outside", "2027 targets", "posterior"]]
    for name, folder in library_regions().items():
        region = load_region(folder)
        city = region.unit_names()["city"][0]
        area = set(region.county_area_keys)
        counties = " ".join(k + ("*" if k in area else "") for k in region.county_keys)
        targets = ", ".join(
            f"{t.unit}.{t.indicator} {'≤' if t.direction == 'at_most' else '≥'} {t.value:g}"
            for t in region.targets
            if t.year == 2027
        )
        posterior = "yes" if (folder / POSTERIOR_NAME).is_file() else "no"
        rows.append([name, city, counties, " ".join(region.outside_keys), targets, posterior])
    print(_table(rows))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ronghe`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        args = ["help"]
    command, rest = args[0], args[1:]
    commands = {
        "help": lambda: print(USAGE) or 0,
        "run": lambda: _run_hydra(rest),
        "levers": lambda: _levers(rest),
        "scenarios": lambda: _scenarios(rest),
        "collect": lambda: _collect(rest),
        "report": lambda: _report(rest),
        "params": lambda: _params(rest),
        "regions": lambda: _regions(rest),
        "dashboard": lambda: _dashboard(rest),
    }
    if command not in commands:
        allowed = ", ".join(c for c in commands if c != "help")
        _print_error(ConfigError(f"unknown command {command!r}; allowed: {allowed}"))
        return 2
    try:
        return commands[command]()
    except SystemExit as exc:  # argparse's --help
        return exc.code if isinstance(exc.code, int) else 0
    except RongheError as exc:
        _print_error(exc)
        return exc.exit_code
    except BrokenPipeError:  # output piped into `head` and closed early
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
