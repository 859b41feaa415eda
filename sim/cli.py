"""Command line: ``ronghe run`` (a Hydra app) and the ``levers``, ``scenarios``, ``params`` lists.

Command-line overrides are checked before Hydra starts, so an unknown key or an
out-of-range value (in any value of a sweep) fails with a one-line error and a non-zero
exit code, before any run directory or job exists.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import sys
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

    region = None
    settings = RunSettings()
    start_year, end_year = settings.start_year, settings.end_year
    scenarios = [settings.scenario]
    folder = None
    levers: dict[str, list] = {}
    for o in parsed:
        if o.key_or_group == "start_year" and not o.is_sweep_override():
            start_year = o.value()
        if o.key_or_group == "end_year" and not o.is_sweep_override():
            end_year = o.value()
        if o.key_or_group == "scenarios_dir" and not o.is_sweep_override():
            folder = o.value()
    for o in parsed:
        key = o.key_or_group
        if key.startswith(("hydra.", "hydra/")) or key == "hydra":
            continue
        if o.is_delete():
            raise ConfigError(f"~{key}: removing keys is not supported")
        if o.is_sweep_override():
            try:
                values = list(o.sweep_iterator())
            except HydraException:
                values = []  # interval sweeps (Optuna) are checked when composed
        else:
            values = [o.value()]
        if key.startswith("params."):
            region = region or load_region()
            name = key.split(".", 1)[1]
            from sim.params import resolve_params

            for value in values:
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


def _cleanup_failed_run(run_dir: Path) -> None:
    """Remove what Hydra wrote for a run that failed before producing results."""
    if (run_dir / "indicators.parquet").exists():
        return
    shutil.rmtree(run_dir / ".hydra", ignore_errors=True)
    for log in run_dir.glob("*.log"):
        log.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        run_dir.rmdir()


def _task(cfg) -> float | None:
    """One run of ``ronghe run``.

    In a multirun, complete results of the same run are kept (resume), and a failure is
    recorded in ``failed.json`` and re-raised, so Hydra reports it after the other runs.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from sim.config import validate
    from sim.data import load_region
    from sim.goals import read_goal
    from sim.paths import PACKAGE_DIR
    from sim.results import config_hash, git_commit
    from sim.runner import run_to_directory, target_summary
    from sim.sweeps import RunKey, clear_failure, is_complete, record_failure

    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        resolved = OmegaConf.to_container(cfg, resolve=True)
        valid = validate(resolved)
        valid = dataclasses.replace(
            valid, params={k: v for k, v in valid.params.items() if v is not None}
        )
        region = load_region(valid.settings.data_dir)
        key = RunKey(config_hash(resolved), region.data_hash, git_commit(PACKAGE_DIR))
        if multirun and is_complete(run_dir, key):
            print(f"skipped (complete results of this run exist): {run_dir}")
            stored = read_goal(run_dir)
            return stored["objective"] if stored else None
        clear_failure(run_dir)
        table, goal = run_to_directory(valid, resolved, run_dir, region=region, code=key.code)
    except Exception as exc:
        if multirun:
            record_failure(run_dir, exc, list(hydra_cfg.overrides.task))
            _print_error(f"run failed, recorded in {run_dir / 'failed.json'}: {exc}")
            raise
        if not isinstance(exc, RongheError):
            raise
        _cleanup_failed_run(run_dir)
        _print_error(exc)
        sys.exit(exc.exit_code)
    print(f"results: {run_dir}")
    if goal is not None:
        chances = ", ".join(f"{k} {v:.0%}" for k, v in goal.probability.items())
        print(f"package cost {goal.cost:,.0f} million yuan a year; targets met: {chances}")
        return goal.objective
    if valid.settings.start_year <= 2027 <= valid.settings.end_year:
        print(target_summary(table, region, 2027))
    return None


def _run_hydra(args: list[str]) -> int:
    import hydra

    from sim.paths import project_dir
    from sim.sweeps import expand_replicates

    multirun = "-m" in args or "--multirun" in args
    overrides = [a for a in args if not a.startswith("-")]
    try:
        expanded = expand_replicates(overrides, multirun)
        check_overrides(expanded)
        _register_schema()
    except RongheError as exc:
        _print_error(exc)
        return exc.exit_code
    args = [a for a in args if a.startswith("-")] + expanded
    if multirun and not any(
        a.lstrip("+").startswith(("hydra/sweeper=", "experiment=")) for a in expanded
    ):
        # Hydra's basic sweeper, composing one job per batch up front (hydra_plugins/).
        args.append("hydra/sweeper=ronghe")
    app = hydra.main(
        version_base="1.3", config_path=str(project_dir("conf")), config_name="config"
    )(_task)
    saved = sys.argv
    sys.argv = ["ronghe", *args]
    try:
        app()
    finally:
        sys.argv = saved
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
        print(USAGE)
        return 0
    command, rest = args[0], args[1:]
    commands = {
        "run": lambda: _run_hydra(rest),
        "levers": _levers,
        "scenarios": lambda: _scenarios(rest),
        "collect": lambda: _collect(rest),
        "report": lambda: _report(rest),
        "params": _params,
    }
    if command not in commands:
        _print_error(ConfigError(f"unknown command {command!r}; allowed: {', '.join(commands)}"))
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
