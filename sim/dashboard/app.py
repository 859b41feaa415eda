"""The Solara app of ``ronghe dashboard``: levers in, paired runs, scorecard and charts out.

Served by :func:`sim.dashboard.server.main` (``SOLARA_APP=sim.dashboard.app``). Module
level reactive values are per browser session (Solara scopes them to its kernel); the
runs, the charts and the report run in threads (``solara.lab.task``), so the page stays
live and shows progress. Elements a test or a user script looks for carry ``ronghe-*``
CSS classes (and the scorecard ``data-*`` attributes), so they do not depend on layout.
"""

# Solara components are named like classes (Page, LeverControl), as Solara expects.
# ruff: noqa: N802

from __future__ import annotations

import dataclasses
import html
import os
from pathlib import Path

import reacton.ipyvuetify as rv
import solara
import solara.lab

from sim.charts.style import unit_label
from sim.dashboard.jobs import (
    BASELINE,
    YEARS,
    Comparison,
    RunRequest,
    chart_images,
    custom_titles,
    run_comparison,
    score_rows,
    target_labels,
    value_text,
    write_report,
    yuan_100m,
)
from sim.dashboard.plan import (
    KINDS,
    VALUE_YEAR,
    LeverEdit,
    ScenarioExistsError,
    describe_edit,
    levers_mapping,
    library,
    save_scenario,
    scenario_values,
    slider_factor,
    slider_step,
    tidy,
)
from sim.dashboard.texts import LANGS, city_name, text, unit_names, unit_text
from sim.data import region_county_keys
from sim.errors import RongheError
from sim.indicators import TARGET_INDICATORS
from sim.levers import CATALOGUE, Lever

# Set by the server (sim.dashboard.server) before Solara imports this module.
LANG_ENV = "RONGHE_DASHBOARD_LANG"
OUTPUTS_ENV = "RONGHE_DASHBOARD_OUTPUTS"
REPORTS_URL = "/ronghe-files/reports"
FONT_URL = "/ronghe-files/cjk-font.otf"
DEFAULT_LANG = os.environ[LANG_ENV] if os.environ.get(LANG_ENV) in LANGS else "zh"
OUTPUTS = Path(os.environ.get(OUTPUTS_ENV) or Path.cwd() / "outputs" / "dashboard")
DEFAULT_SAVE_FOLDER = Path.home() / "ronghe-scenarios"

CSS = f"""
@font-face {{
  font-family: "Ronghe CJK";
  src: local("Noto Sans CJK SC"), url("{FONT_URL}") format("opentype");
  unicode-range: U+2E80-2FFF, U+3000-303F, U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, U+FF00-FFEF;
}}
.v-application, .v-application [class*="text-"] {{
  font-family: Roboto, "Ronghe CJK", sans-serif !important;
}}
.ronghe-lever {{ border-bottom: 1px solid #e4e4e4; padding: 4px 0 2px; }}
.ronghe-lever.ronghe-edited {{ background: #fff8e6; }}
.ronghe-lever-name {{ font-weight: 600; }}
.ronghe-meta {{ color: #666; font-size: 0.85em; }}
.ronghe-chip {{ background: #f0a202; color: white; border-radius: 8px; padding: 0 6px;
  font-size: 0.8em; margin-left: 6px; }}
table.ronghe-scorecard {{ border-collapse: collapse; font-size: 0.9em; margin: 6px 0; }}
table.ronghe-scorecard th, table.ronghe-scorecard td {{ border: 1px solid #ddd;
  padding: 3px 8px; text-align: center; }}
table.ronghe-scorecard th {{ background: #f3f3f3; }}
table.ronghe-scorecard td.ronghe-title {{ text-align: left; max-width: 18em; }}
.ronghe-charts img {{ width: 100%; }}
"""

lang = solara.reactive(DEFAULT_LANG)
scenario_name = solara.reactive(BASELINE)
edits: solara.Reactive[dict[str, LeverEdit]] = solara.reactive({})
scale = solara.reactive(0.005)
end_year = solara.reactive(YEARS[0])
draws = solara.reactive(0)
seed = solara.reactive(1)
workers = solara.reactive(1)
comparison: solara.Reactive[Comparison | None] = solara.reactive(None)
run_error: solara.Reactive[str | None] = solara.reactive(None)
run_counts = solara.reactive((0, 0))
runs_done = solara.reactive(0)
save_folder = solara.reactive(str(DEFAULT_SAVE_FOLDER))
save_name = solara.reactive("my_scenario")
save_message: solara.Reactive[tuple[str, str] | None] = solara.reactive(None)
pending_overwrite: solara.Reactive[str | None] = solara.reactive(None)
report_link: solara.Reactive[tuple[int, str] | None] = solara.reactive(None)


def t(key: str, **values) -> str:
    """``key`` in the session's language."""
    return text(key, lang.value, **values)


def picked():
    """The picked library scenario."""
    return library()[scenario_name.value]


def lever_name(lever: Lever) -> str:
    """The lever's name in the session's language."""
    return lever.name_zh if lang.value == "zh" else lever.name_en


def current_request() -> RunRequest:
    """What the Run button runs, from the page's settings."""
    return RunRequest(
        scenario=scenario_name.value,
        levers=levers_mapping(edits.value),
        scale=float(scale.value),
        end_year=int(end_year.value),
        draws=int(draws.value or 0),
        seed=int(seed.value or 0),
        workers=int(workers.value),
    )


@solara.lab.task(prefer_threaded=True)
def run_task(request: RunRequest) -> Comparison | None:
    """Run the edited scenario and the baseline in a thread; keep the result."""
    run_error.set(None)
    run_counts.set((0, 0))

    try:
        result = run_comparison(
            request,
            progress=lambda done, total: run_counts.set((done, total)),
            number=runs_done.value + 1,
        )
    except RongheError as exc:
        run_error.set(str(exc))
        return None
    runs_done.set(result.number)
    comparison.set(result)
    return result


@solara.lab.task(prefer_threaded=True)
def report_task(result: Comparison, language: str) -> None:
    """Write the run folders and the full report in a thread; keep its link."""
    try:
        path = write_report(result, OUTPUTS, language)
    except RongheError as exc:
        run_error.set(str(exc))
        return
    report_link.set((result.number, f"{REPORTS_URL}/{path.relative_to(OUTPUTS).as_posix()}"))


def Heading(title: str, level: int = 3):
    """A heading (plain HTML: Solara's Markdown would load its math and diagram scripts)."""
    return solara.HTML(tag=f"h{level}", unsafe_innerHTML=html.escape(title), classes=["ronghe-h"])


def set_edit(lever_id: str, edit: LeverEdit | None) -> None:
    """Replace (or, with None, drop) one lever's edit."""
    new = dict(edits.value)
    if edit is None:
        new.pop(lever_id, None)
    else:
        new[lever_id] = edit
    edits.set(new)


@solara.component
def LeverControl(lever: Lever):
    """One lever: name, clause, unit, slider, and its schedule and county editor."""
    language = lang.value
    scenario = picked()
    base = scenario_values(scenario, lever.id)
    edit = edits.value.get(lever.id)
    shown = edit.value if edit else tidy(sum(base) / len(base))
    factor = slider_factor(lever)
    step = slider_step(lever)
    classes = ["ronghe-lever", f"ronghe-lever-{lever.id}"] + (["ronghe-edited"] if edit else [])

    def move_city(value: float) -> None:
        old = edits.value.get(lever.id)
        if old is None and abs(value - on_grid(shown)) < step / 2:
            return  # the slider snapping the scenario's value to its grid, not a move
        old = old or LeverEdit(lever.id, shown)
        set_edit(lever.id, old.with_value(float(value) * factor))

    def move_county(county: str, value: float) -> None:
        old = edits.value.get(lever.id) or LeverEdit(lever.id, shown, county_values=base)
        current = (old.county_values or base)[region_county_keys().index(county)]
        if abs(value - on_grid(current)) < step / 2:
            return  # a snap to the grid, not a move
        set_edit(lever.id, old.with_county(county, float(value) * factor))

    def on_grid(value: float) -> float:
        """``value`` in slider units, on the slider's grid (where the slider shows it)."""
        return tidy(lever.low / factor + round((value - lever.low) / factor / step) * step)

    def reshape(**changes) -> None:
        old = edits.value.get(lever.id) or LeverEdit(lever.id, shown)
        set_edit(lever.id, _replace(old, **changes))

    def per_county(on: bool) -> None:
        old = edits.value.get(lever.id) or LeverEdit(lever.id, shown)
        set_edit(lever.id, _replace(old, county_values=(old.county_values or base) if on else None))

    with solara.Column(gap="0px", classes=classes):
        with solara.Row(gap="6px", style={"align-items": "baseline"}):
            solara.Text(lever_name(lever), classes=["ronghe-lever-name"])
            solara.Text(f"{lever.clause} · {unit_text(lever, language)}", classes=["ronghe-meta"])
            if edit:
                solara.Text(t("edited"), classes=["ronghe-chip"])
                solara.Button(
                    t("reset"),
                    text=True,
                    small=True,
                    on_click=lambda: set_edit(lever.id, None),
                    classes=["ronghe-reset"],
                )
        varies = "" if len(set(base)) == 1 else t("varies")
        meta = t("scenario_value", y=VALUE_YEAR, v=f"{sum(base) / len(base):,.4g}") + varies
        if factor != 1:
            meta += " · " + t("slider_in_millions")
        solara.Text(meta, classes=["ronghe-meta"])
        # Fixed containers keep the children below at their places (and the schedule
        # panel open) when the lever turns edited or per-county.
        with solara.Column(gap="0px", classes=["ronghe-slider"]):
            if not (edit and edit.county_values is not None):
                solara.SliderFloat(
                    "",
                    value=on_grid(shown),
                    min=lever.low / factor,
                    max=lever.high / factor,
                    step=step,
                    on_value=move_city,
                )
        with solara.Column(gap="0px", classes=["ronghe-schedule-text"]):
            if edit:
                solara.Text(t("schedule_text", text=describe_edit(edit)), classes=["ronghe-meta"])
        with solara.Details(t("schedule")):
            ScheduleEditor(lever, edit or LeverEdit(lever.id, shown), reshape, language)
            if lever.per_county:
                solara.Checkbox(
                    label=t("per_county"),
                    value=bool(edit and edit.county_values is not None),
                    on_value=per_county,
                )
                if edit and edit.county_values is not None:
                    with solara.Column(classes=["ronghe-counties"]):
                        for county, value in zip(
                            region_county_keys(), edit.county_values, strict=True
                        ):
                            solara.SliderFloat(
                                unit_label(county, language, unit_names()),
                                value=on_grid(value),
                                min=lever.low / factor,
                                max=lever.high / factor,
                                step=step,
                                on_value=lambda v, c=county: move_county(c, v),
                            )


def _replace(edit: LeverEdit, **changes) -> LeverEdit:
    return dataclasses.replace(edit, **changes)


@solara.component
def ScheduleEditor(lever: Lever, edit: LeverEdit, reshape, language: str):
    """Constant, step or ramp, its years, and the exact value."""
    labels = {kind: text(f"kind_{kind}", language) for kind in KINDS}
    solara.ToggleButtonsSingle(
        value=edit.kind,
        on_value=lambda kind: reshape(kind=kind),
        children=[solara.Button(labels[kind], value=kind, small=True) for kind in KINDS],
        classes=["ronghe-kind"],
    )
    last = max(end_year.value, VALUE_YEAR)
    if edit.kind == "step":
        solara.SliderInt(
            text("step_year", language),
            value=min(edit.start, last),
            min=2024,
            max=last,
            on_value=lambda year: reshape(start=int(year)),
        )
    elif edit.kind == "ramp":
        solara.SliderRangeInt(
            f"{text('ramp_first', language)} – {text('ramp_last', language)}",
            value=(edit.start, edit.end),
            min=2024,
            max=2035,
            on_value=lambda years: reshape(
                start=int(years[0]), end=int(max(years[1], years[0] + 1))
            ),
        )
    solara.InputFloat(
        text("exact", language, unit=unit_text(lever, language)),
        value=edit.value,
        on_value=lambda value: reshape(value=tidy(value or 0.0), county_values=None),
        classes=["ronghe-exact"],
    )


@solara.component
def ScenarioPicker():
    """The library scenarios by title; the picked one's files and description."""
    language = lang.value
    scenarios = library()
    items = [
        {"text": (s.title_zh if language == "zh" else s.title_en) + f"  ({name})", "value": name}
        for name, s in scenarios.items()
    ]
    rv.Select(
        label=t("scenario"),
        items=items,
        v_model=scenario_name.value,
        on_v_model=lambda name: scenario_name.set(name or BASELINE),
        class_="ronghe-scenario",
        hide_details=True,
    )
    scenario = picked()
    solara.Text(t("scenario_files", files=" → ".join(scenario.chain)), classes=["ronghe-meta"])
    description = scenario.description_zh if language == "zh" else ""
    solara.Text(description or scenario.description, classes=["ronghe-meta", "ronghe-description"])


@solara.component
def RunSettings():
    """Scale, end year, draws, seed and workers."""
    solara.InputFloat(t("scale"), value=scale, classes=["ronghe-scale"])
    solara.Select(
        t("end_year"),
        values=list(range(YEARS[0], YEARS[1] + 1)),
        value=end_year,
        classes=["ronghe-end-year"],
    )
    solara.InputInt(t("draws"), value=draws, classes=["ronghe-draws"])
    with solara.Row():
        solara.InputInt(t("seed"), value=seed, classes=["ronghe-seed"])
        solara.Select(t("workers"), values=[1, 2], value=workers, classes=["ronghe-workers"])
    solara.Text(t("settings_note"), classes=["ronghe-meta"])


@solara.component
def Levers():
    """Every lever of the catalogue, and the count of changes."""
    changed = len(edits.value)
    with solara.Row(style={"align-items": "center"}):
        solara.Text(t("changed_count", n=changed), classes=["ronghe-changed-count"])
        solara.Button(
            t("reset_all"),
            text=True,
            disabled=not changed,
            on_click=lambda: edits.set({}),
            classes=["ronghe-reset-all"],
        )
    solara.Text(t("levers_note", y=VALUE_YEAR), classes=["ronghe-meta"])
    for lever in CATALOGUE:
        LeverControl(lever)


@solara.component
def RunPanel():
    """The Run button, the progress bar and any error."""
    pending = run_task.pending
    with solara.Row(style={"align-items": "center"}):
        solara.Button(
            t("run"),
            color="primary",
            disabled=pending,
            on_click=lambda: run_task(current_request()),
            classes=["ronghe-run"],
        )
        if pending:
            done, total = run_counts.value
            label = t("running", done=done, total=total) if total else t("starting")
            solara.Text(label, classes=["ronghe-progress-text"])
    if pending:
        done, total = run_counts.value
        solara.ProgressLinear(100.0 * done / total if total else True, classes=["ronghe-progress"])
    if run_error.value:
        with solara.Column(classes=["ronghe-error"]):
            solara.Error(t("error", message=run_error.value))
    if run_task.error:
        with solara.Column(classes=["ronghe-error"]):
            solara.Error(t("error", message=repr(run_task.exception)))


def scorecard_html(result: Comparison, language: str) -> str:
    """The scorecard as an HTML table with ``data-*`` hooks on rows and cells."""
    rows = score_rows(result, language)
    labels = target_labels(language)
    year = VALUE_YEAR

    def esc(value: object) -> str:
        return html.escape(str(value))

    head = [f"<th rowspan='2'>{esc(text('col_scenario', language))}</th>"]
    sub = []
    for target in TARGET_INDICATORS:
        head.append(f"<th colspan='2'>{esc(labels[target])}</th>")
        sub += [
            f"<th>{esc(text('col_p', language, y=year))}</th>",
            f"<th>{esc(text('col_median', language))}</th>",
        ]
    head.append(f"<th rowspan='2'>{esc(text('col_cost', language, y=year))}</th>")
    head.append(f"<th rowspan='2'>{esc(text('col_extra', language))}</th>")
    body = []
    for row in rows:
        cells = [f"<td class='ronghe-title' data-cell='title'>{esc(row.title)}</td>"]
        for unit, indicator in TARGET_INDICATORS:
            hook = f"{unit}.{indicator}"
            cells.append(f"<td data-cell='p:{hook}'>{row.p_met[(unit, indicator)]:.0%}</td>")
            cells.append(
                f"<td data-cell='median:{hook}'>"
                f"{esc(value_text(indicator, row.median[(unit, indicator)]))}</td>"
            )
        cells.append(f"<td data-cell='spending'>{esc(yuan_100m(row.spending))}</td>")
        cells.append(f"<td data-cell='extra'>{esc(yuan_100m(row.extra, signed=True))}</td>")
        body.append(f"<tr data-scenario='{row.key}'>{''.join(cells)}</tr>")
    return (
        f"<table class='ronghe-scorecard' data-run='{result.number}'>"
        f"<thead><tr>{''.join(head)}</tr><tr>{''.join(sub)}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


@solara.component
def Scorecard(result: Comparison, language: str):
    """The scorecard of the latest run, and what it is over."""
    table = solara.use_memo(lambda: scorecard_html(result, language), [id(result), language])
    Heading(text("scorecard", language, y=VALUE_YEAR))
    solara.HTML(tag="div", unsafe_innerHTML=table, classes=["ronghe-scorecard-box"])
    request = result.request
    what = (
        text("what_draws", language, n=result.run_count)
        if request.draws
        else text("what_one", language, seed=request.seed)
    )
    solara.Text(
        text("scorecard_note", language, what=what, scale=f"{request.scale:g}", y=VALUE_YEAR),
        classes=["ronghe-meta"],
    )


@solara.component
def Charts(result: Comparison, language: str):
    """Fan charts and paired differences, drawn in a thread."""
    drawn = solara.lab.use_task(
        lambda: chart_images(result, language), dependencies=[id(result), language]
    )
    if drawn.pending or drawn.value is None:
        solara.Text(text("drawing", language), classes=["ronghe-meta"])
        solara.ProgressLinear(True)
        return
    for section in ("fans", "differences"):
        Heading(text(section, language))
        with (
            solara.Column(classes=["ronghe-charts", f"ronghe-{section}"]),
            solara.GridFixed(columns=2),
        ):
            for image in drawn.value:
                if image.section == section:
                    solara.Image(image.png, width="100%", classes=[f"ronghe-chart-{image.name}"])


@solara.component
def SavePanel():
    """Save the edits as a scenario file extending the picked scenario."""
    scenario = picked()
    changes = len(edits.value)
    title_zh, title_en = custom_titles(scenario, changes)

    def save(overwrite: bool = False) -> None:
        folder, name = save_folder.value, save_name.value.strip()
        names = ", ".join(edits.value) or "none"
        try:
            path = save_scenario(
                folder,
                name,
                parent=scenario.name,
                edits=edits.value,
                title_zh=title_zh,
                title_en=title_en,
                description=f"{scenario.name} with the levers changed in the dashboard: {names}.",
                overwrite=overwrite,
            )
        except ScenarioExistsError as exc:
            pending_overwrite.set(str(exc.path))
            save_message.set(None)
            return
        except (RongheError, OSError) as exc:
            pending_overwrite.set(None)
            save_message.set(("error", str(exc)))
            return
        pending_overwrite.set(None)
        command = f"ronghe run scenarios_dir={Path(folder).expanduser()} scenario={name}"
        save_message.set(("ok", t("saved", path=path, command=command)))

    Heading(t("save"))
    solara.Text(t("save_note", parent=scenario.name), classes=["ronghe-meta"])
    solara.InputText(t("save_folder"), value=save_folder, classes=["ronghe-save-folder"])
    solara.InputText(t("save_name"), value=save_name, classes=["ronghe-save-name"])
    solara.Button(t("save_button"), on_click=save, classes=["ronghe-save"])
    if pending_overwrite.value:
        with solara.Column(classes=["ronghe-overwrite"]):
            solara.Warning(t("exists", path=pending_overwrite.value))
            with solara.Row():
                solara.Button(
                    t("overwrite"),
                    color="warning",
                    on_click=lambda: save(overwrite=True),
                    classes=["ronghe-overwrite-confirm"],
                )
                solara.Button(t("cancel"), on_click=lambda: pending_overwrite.set(None))
    if save_message.value:
        kind, message = save_message.value
        with solara.Column(classes=[f"ronghe-save-{kind}"]):
            (solara.Success if kind == "ok" else solara.Error)(message)


@solara.component
def ReportPanel():
    """Write the run folders and the full report of the latest run; link to it."""
    result = comparison.value
    Heading(t("report"))
    solara.Text(t("report_note", folder=OUTPUTS), classes=["ronghe-meta"])
    solara.Button(
        t("report_button"),
        disabled=result is None or report_task.pending or run_task.pending,
        on_click=lambda: report_task(result, lang.value),
        classes=["ronghe-report"],
    )
    if result is None:
        solara.Text(t("report_needs_run"), classes=["ronghe-meta"])
    if report_task.pending:
        solara.Text(t("report_writing"), classes=["ronghe-meta"])
        solara.ProgressLinear(True)
    link = report_link.value
    if link and result is not None and link[0] == result.number:
        solara.HTML(
            tag="a",
            unsafe_innerHTML=html.escape(t("report_open")),
            attributes={"href": link[1], "target": "_blank"},
            classes=["ronghe-report-link"],
        )


@solara.component
def Page():
    """The whole page: controls on the left, results on the right."""
    solara.Style(CSS)
    solara.Title("Ronghe 融合")
    with solara.Column(classes=["ronghe-app"], style={"padding": "8px 16px"}):
        with solara.Row(style={"align-items": "center", "justify-content": "space-between"}):
            with solara.Column(gap="0px"):
                Heading(t("title", city=city_name(lang.value)), level=2)
                solara.Text(t("subtitle"), classes=["ronghe-meta"])
            solara.ToggleButtonsSingle(
                value=lang,
                children=[solara.Button("中文", value="zh"), solara.Button("English", value="en")],
                classes=["ronghe-lang"],
            )
        with solara.Columns([5, 7]):
            with solara.Column():
                ScenarioPicker()
                Heading(t("settings"))
                RunSettings()
                Heading(t("levers"))
                Levers()
            with solara.Column():
                Heading(t("results"))
                RunPanel()
                result = comparison.value
                with solara.Column(classes=["ronghe-results"]):  # keeps the panels below in place
                    if result is None:
                        solara.Info(t("no_results"))
                    else:
                        Scorecard(result, lang.value)
                        Charts(result, lang.value)
                ReportPanel()
                SavePanel()


__all__ = ["Page"]
