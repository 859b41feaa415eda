"""Command line: ``ronghe run`` (a Hydra app) and the ``levers``, ``scenarios``, ``params`` lists.

Command-line overrides are checked before Hydra starts, so an unknown key or an
out-of-range value (in any value of a sweep) fails with a one-line error and a non-zero
exit code, before any run directory or job exists.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import uuid
from pathlib import Path

from sim.errors import ConfigError, RongheError

USAGE = """usage: ronghe <command> [arguments]

commands:
  run [OVERRIDES]   run the model (a Hydra app: -m for multirun, key=value overrides),
                    e.g. ronghe run scenario=baseline seed=3 scale=0.01 end_year=2035
  collect SWEEP_DIR gather a sweep's runs into SWEEP_DIR/collected/{indicators,runs}.parquet
  report RESULTS_DIR [--lang zh|en] [--out DIR]
                    charts and a self-contained HTML report of a run or a sweep, written to
                    RESULTS_DIR/report-<lang>/ (report.html, figures/*.png|svg, scorecard.csv)
  levers            the policy levers: id, clause, Chinese and English names, range
  scenarios [NAME]  the scenario files with their titles; with NAME, its lever schedules
  params            the behavioural parameters with value, unit and source
"""


def _print_error(exc: BaseException) -> None:
    print(f"ronghe: error: {exc}", file=sys.stderr)


def check_overrides(overrides: list[str]) -> None:
    """Validate command-line overrides (every value of a sweep) before Hydra starts.

    Raises:
        ConfigError: Unknown key, malformed override or value outside its range.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    from sim.config import RANGES, check_key
    from sim.data import load_region
    from sim.paths import project_dir, scenarios_folder
    from sim.scenario import load_scenario

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as exc:
        raise ConfigError(f"malformed override: {str(exc).splitlines()[0]}") from None
    from sim.config import RunSettings

    settings = RunSettings()
    start_year, end_year = settings.start_year, settings.end_year
    scenarios = [settings.scenario]
    folder = None
    levers: dict[str, list] = {}
    data_dirs: list = [None]
    for o in parsed:
        if o.key_or_group == "start_year" and not o.is_sweep_override():
            start_year = o.value()
        if o.key_or_group == "end_year" and not o.is_sweep_override():
            end_year = o.value()
        if o.key_or_group == "scenarios_dir" and not o.is_sweep_override():
            folder = o.value()
        if o.key_or_group == "data_dir":
            data_dirs = _values(o)
    for value in data_dirs:
        check_key("data_dir", value)
    # Every data folder of the sweep is read and checked whole before any run starts.
    regions = [load_region(value) for value in dict.fromkeys(data_dirs)]
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
        elif key in RANGES:
            for value in values:
                check_key(key, value, start_year=start_year)
            if key == "scenario":
                scenarios = values
        else:
            allowed = ", ".join(sorted(RANGES))
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
    from sim.goals import GOAL_FILE, read_goal
    from sim.paths import code_digest
    from sim.posterior import posterior_digest
    from sim.results import RESULT_FILES, config_hash, read_draw_inputs
    from sim.runfolder import RunKey, claim, is_complete, record_failure, retire
    from sim.runner import load_run_scenario, run_to_directory, target_summary
    from sim.sweeps import read_indicators

    hydra_cfg = HydraConfig.get()
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    overrides = [str(o) for o in hydra_cfg.overrides.task]
    what = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    writes = (*RESULT_FILES, GOAL_FILE)
    run_dir, recorded = None, False
    try:
        run_dir = _run_folder(hydra_cfg, multirun)
        with claim(run_dir, writes, what):
            try:
                resolved = OmegaConf.to_container(cfg, resolve=True)
                valid = validate(resolved)
                valid = dataclasses.replace(
                    valid, params={k: v for k, v in valid.params.items() if v is not None}
                )
                region = load_region(valid.settings.data_dir)
                scenario = load_run_scenario(valid)
                keyed = resolved
                if valid.settings.ensemble == "posterior":  # its draws are an input too
                    keyed = {**resolved, "posterior_sha256": posterior_digest()}
                key = RunKey(config_hash(keyed), region.data_hash, scenario.digest, code_digest())
                if multirun and is_complete(run_dir, key):
                    print(f"skipped (complete results of this run exist): {run_dir}")
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
            where = f"recorded in {run_dir / 'failed.json'}" if recorded else "nothing written"
            _print_error(f"run failed ({' '.join(overrides)[:200]}), {where}: {exc}")
            # The other runs go on; Hydra re-raises this at the end of the sweep.
            raise RunFailedError(f"{run_dir}: {exc}") from None
        if not isinstance(exc, RongheError):
            raise
        _print_error(exc)
        sys.exit(exc.exit_code)
    print(f"results: {run_dir}")
    if goal is not None:
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


def _run_hydra(args: list[str]) -> int:
    import os

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
    try:
        app()
    except RunFailedError:
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
        sys.argv = saved_argv
        if saved_env is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved_env
    return 0


def _collect(args: list[str]) -> int:
    from sim.sweeps import write_collected

    if len(args) != 1 or args[0].startswith("-"):
        raise ConfigError("usage: ronghe collect SWEEP_DIR")
    out, runs = write_collected(Path(args[0]))
    counts = runs["status"].value_counts()
    print(
        f"collected {counts.get('complete', 0)} complete runs into {out}/indicators.parquet; "
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
    usage = "usage: ronghe report RESULTS_DIR [--lang zh|en] [--out DIR]"
    options = {"--lang": "zh", "--out": None}
    positional = []
    rest = iter(args)
    for arg in rest:
        key, eq, value = arg.partition("=")
        if key in options:
            value = value if eq else next(rest, None)
            if value is None:
                raise ConfigError(f"{key} needs a value; {usage}")
            options[key] = value
        elif arg.startswith("-"):
            raise ConfigError(f"unknown option {arg!r}; {usage}")
        else:
            positional.append(arg)
    if len(positional) != 1:
        raise ConfigError(usage)
    results_dir = Path(positional[0])
    if not results_dir.is_dir():
        raise ConfigError(f"report: {results_dir} is not a folder")
    from sim.charts.style import check_lang

    check_lang(options["--lang"])
    from sim.report import build_report

    out = options["--out"]
    page = build_report(results_dir, lang=options["--lang"], out=Path(out) if out else None)
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


def _levers() -> int:
    from sim.levers import CATALOGUE

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
                f"{lv.default:g}",
                "yes" if lv.per_county else "no",
            ]
        )
    print(_table(rows))
    print("\nMechanisms, sources and tested effects: docs/levers.md")
    return 0


def _scenarios(names: list[str]) -> int:
    from sim.data import COUNTY_KEYS
    from sim.levers import LEVERS
    from sim.paths import project_dir
    from sim.scenario import available, load_scenario

    folder = project_dir("scenarios")
    if not names:
        for name in available(folder):
            sc = load_scenario(name, folder)
            extends = " <- ".join(reversed(sc.chain[:-1])) or "-"
            print(f"{name:<18} {sc.title_zh}  |  {sc.title_en}")
            print(f"{'':<18} extends: {extends}; levers changed: {len(sc.plan.changed())}")
        print("\n`ronghe scenarios NAME` shows a scenario's lever schedules.")
        return 0
    for name in names:
        sc = load_scenario(name, folder)
        print(f"{sc.title_zh}  |  {sc.title_en}")
        print(f"files: {' -> '.join(sc.chain)}")
        print(sc.description)
        for lever_id, per_county in sc.plan.changed().items():
            lv = LEVERS[lever_id]
            print(f"  {lv.clause:<12} {lever_id:<26} {lv.name_zh} / {lv.name_en} ({lv.unit})")
            if len(set(per_county)) == 1:
                print(f"  {'':<12} all counties: {per_county[0].describe()}")
            else:
                for county, schedule in zip(COUNTY_KEYS, per_county, strict=True):
                    print(f"  {'':<12} {county:<10} {schedule.describe()}")
    return 0


def _params() -> int:
    from sim.data import load_region

    region = load_region()
    for spec in region.parameters.values():
        print(
            f"{spec.name:<36} {spec.value:>12g} {spec.unit:<26} [{spec.low:g}, {spec.high:g}] "
            f"{spec.basis}"
        )
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
        "levers": _levers,
        "scenarios": lambda: _scenarios(rest),
        "collect": lambda: _collect(rest),
        "report": lambda: _report(rest),
        "params": _params,
    }
    if command not in commands:
        allowed = ", ".join(c for c in commands if c != "help")
        _print_error(ConfigError(f"unknown command {command!r}; allowed: {allowed}"))
        return 2
    try:
        return commands[command]()
    except RongheError as exc:
        _print_error(exc)
        return exc.exit_code
    except BrokenPipeError:  # output piped into `head` and closed early
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
