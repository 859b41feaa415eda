"""The deliberation report: one self-contained HTML file from stored results.

``ronghe report RESULTS_DIR`` reads a single run or a sweep (every run folder under it,
as ``ronghe collect`` does), draws the charts and writes ``RESULTS_DIR/report-<lang>/``:
``report.html`` with every chart embedded (no network needed to open it),
``figures/<name>.png`` and ``.svg`` for each chart and ``scorecard.csv``. The folder
is built under a hidden name and renamed when complete. Nothing here runs the model.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.charts.compare import county_multiples, difference_chart
from sim.charts.fan import fan_chart
from sim.charts.flows import living_chart, pyramid_chart
from sim.charts.scorecard import scorecard, scorecard_cells
from sim.charts.style import (
    UnitNames,
    check_lang,
    cjk_font_subset,
    indicator_label,
    save,
    unit_label,
    word,
)
from sim.config import Targets2035, run_targets
from sim.data import load_region
from sim.deliberation import (
    YUAN_100M,
    costs,
    county_tradeoffs,
    effects,
    reversals,
    target_findings,
)
from sim.errors import ConfigError, ResultsError
from sim.indicators import TARGET_INDICATORS
from sim.levers import LEVERS, LeverDefaults, lever_defaults
from sim.results import check_replaceable, publish_folder, read_draw_inputs, read_provenance
from sim.scenario import ANY_PERIOD
from sim.schedules import describe_counties, plan_from_levers
from sim.sweeps import collect
from sim.uncertainty import decomposition_table

SCORECARD_YEAR = 2027
LATER_YEAR = 2035  # the decision's longer horizon (thresholds: targets_2035)
FAN_CHARTS = (
    *TARGET_INDICATORS,
    ("city", "registered_urbanisation_rate"),
    ("city", "urban_income_per_capita"),
    ("city", "rural_income_per_capita"),
    ("city", "citizenisation"),
    ("city", "land_transfer_rate"),
    ("city", "rural_share_aged_60_plus"),
    ("city", "resident_population"),
)
COUNTY_CHARTS = ("resident_urbanisation_rate", "income_ratio", "rural_income_per_capita")
MAX_DEFINITIONS = 40  # distinct lever packages shown; a goal-seeking sweep has hundreds

TEXT = {
    "title": ("{city}城乡融合发展模拟报告", "{city} urban-rural integration: simulation report"),
    "summary": (
        "{runs} 次模拟（{scenarios} 个情景，每个情景 {seeds} 个随机种子，规模 {scale}），"
        "{start}–{end} 年。",
        "{runs} ({scenarios}, {seeds} each, at scale {scale}), {start}–{end}.",
    ),
    "summary_draws": (
        "{runs} 次模拟（{scenarios} 个情景，每个情景 {draws} 个后验参数抽样，每个抽样 {per} 个"
        "随机种子，规模 {scale}），{start}–{end} 年。区间与概率同时反映参数、基础数据的不确定性"
        "与随机性。",
        "{runs} ({scenarios}, {draws} each, {per} per draw, at scale {scale}), "
        "{start}–{end}. Bands and probabilities carry the uncertainty of the parameters and "
        "the base data as well as chance.",
    ),
    "one_seed": (
        "每个情景只有一个种子：图中没有不确定性区间，概率只能是 0 或 100%。",
        "One seed per scenario: the charts have no uncertainty bands and probabilities are "
        "0 or 100%.",
    ),
    "scorecard": ("目标达成情况", "Target scorecard"),
    "scorecard_note": (
        "各情景在 {y} 年达到目标的概率（各次模拟中达标的比例；集合运行中每个后验抽样为一次模拟）"
        "与首次达标年份（各次模拟的中位数）。",
        "Per scenario: the share of runs meeting each target in {y} (in an ensemble run each "
        "posterior draw is a run), and the first year it is met (median over runs).",
    ),
    "variance_note": (
        "{y} 年各目标指标的不确定性来源：方差中由模型参数、基础数据（模型起点 2023 年的"
        "记录水平，本身不确定）和随机种子各自解释的份额。种子份额为同一后验抽样内各种子之间的"
        "方差；其余按稀疏线性回归（lasso，10 折交叉验证）对抽样均值的解释力以 Shapley 值在"
        "参数与基础数据之间分配，线性拟合未解释的部分（R² 之外）按同一比例分配；R² 低于 0.5 时"
        "这一划分不可靠（抽样太少）。",
        "Where each target's uncertainty in {y} comes from: the shares of its variance due "
        "to the model's parameters, to the base data (the 2023 levels of the record the "
        "model starts from, uncertain themselves) and to the seeds. The seeds' share is the "
        "variance between the seeds of one posterior draw; the rest is split between "
        "parameters and base data by the Shapley values of a sparse linear regression "
        "(lasso) of the draw means (10-fold cross-validated R²), and what no linear fit "
        "explains (beyond R²) is divided in the same proportion; below an R² of 0.5 the "
        "split is unreliable (too few draws).",
    ),
    "variance_one_seed": (
        "每个后验抽样只有一个种子，随机种子的份额无法分离，已计入另两项（draw_seeds=2 可分离）。",
        "One seed per posterior draw: the seeds' share is not separated and is carried by "
        "the other two (draw_seeds=2 separates it).",
    ),
    "no_scorecard": ("结果未覆盖 {y} 年，无法计算目标达成情况。", "The results do not reach {y}."),
    "fans": ("指标轨迹", "Trajectories"),
    "fans_note": (
        "中位数及 50%、90% 区间（跨随机种子）；虚线为目标，黑点为历史记录。",
        "Median with 50% and 90% bands across seeds; dashed lines are targets, black points "
        "the historical record.",
    ),
    "differences": ("与基准情景的配对差异", "Paired differences from the baseline"),
    "differences_note": (
        "同一随机种子下各情景减去基准情景。",
        "Each scenario minus the baseline on the same seed.",
    ),
    "no_differences": (
        "没有可与基准情景配对的情景（需要名为 baseline 的情景和相同的种子）。",
        "No scenario can be paired with the baseline (a scenario named baseline and shared "
        "seeds are needed).",
    ),
    "counties": ("区县比较", "Counties"),
    "flows": ("人口流动与年龄结构", "Where people live, and their ages"),
    "flows_note": (
        "户籍人口按居住地的分布（行百分比）及其变化；城乡常住人口年龄金字塔。",
        "Registered persons of each home county by where they live (row percent) and the "
        "change; age pyramids of rural and urban residents.",
    ),
    "spending": ("政策杠杆支出与区县预算", "Lever spending and county budgets"),
    "spending_note": (
        "各区县预算每年为政策杠杆支付的金额（以工代赈工资及项目费用、集体分红中的杠杆部分、"
        "农村道路和公共服务设施资金、新落户人口的公共成本、按目录单价计价的其他杠杆），"
        "单位亿元/年；杠杆支出先挤占其他（可调剂）支出，不足部分在债务上限内举债，"
        "超过上限则削减公共服务、道路和农业的计划支出。",
        "What each county budget pays a year for the levers (work-relief wages and "
        "programme costs, the lever part of collective dividends, road and service money, "
        "the public cost of new urban hukou holders, other levers at catalogue prices), in "
        "100 million yuan (亿元) a year. Spending crowds out other (discretionary) spending "
        "first, is then borrowed up to the debt limit, and beyond it cuts the planned "
        "spending on services, roads and agriculture.",
    ),
    "spending_table": (
        "{y} 年各情景的政策杠杆支出（亿元/年，各种子平均）、较基准情景增加的支出、"
        "其他（可调剂）支出和年末财政结余（亿元）。",
        "{y}, mean over seeds: lever spending (100 million yuan a year), the extra over "
        "the baseline scenario, other (discretionary) spending, and the year-end budget "
        "balance (100 million yuan).",
    ),
    "no_spending": (
        "结果中没有政策杠杆支出指标（较早版本的运行）。",
        "The results hold no lever spending (runs of an earlier version).",
    ),
    "definitions": ("情景定义", "Scenario definitions"),
    "definitions_note": (
        "各情景相对于 2023 年政策改变的政策杠杆，及其对应的《决定》条款。",
        "The levers each scenario changes from the 2023 policy, with the clause of the "
        "decision each implements.",
    ),
    "english_only": ("（该情景文件只有英文说明）", ""),
    "unchanged": ("所有政策杠杆保持 2023 年水平。", "Every lever stays at its 2023 value."),
    "more_definitions": ("另有 {n} 个政策组合未列出。", "{n} more lever packages not shown."),
    "provenance": ("运行记录与复现", "Provenance: reproduce any line"),
    "provenance_note": (
        "在对应的 git 提交下运行“复现命令”即可得到完全相同的结果。",
        "Check out the run's git commit and run its command to get identical results.",
    ),
    "failed": ("失败或未完成的运行", "Failed or incomplete runs"),
    "chart_missing": ("未绘制：{why}", "Not drawn: {why}"),
}
COLUMNS = {
    "clause": ("条款", "Clause"),
    "lever": ("政策杠杆", "Lever"),
    "unit": ("单位", "Unit"),
    "default": ("2023 年值", "2023 value"),
    "schedule": ("安排", "Schedule"),
    "run": ("运行", "Run"),
    "scenario": ("情景", "Scenario"),
    "seed": ("种子", "Seed"),
    "scale": ("比例", "Scale"),
    "commit": ("git 提交", "Git commit"),
    "hashes": ("配置 / 数据 / 情景哈希", "Config / data / scenario hash"),
    "time": ("耗时（秒）", "Wall time (s)"),
    "finished": ("完成时间（UTC）", "Finished (UTC)"),
    "command": ("复现命令", "Command"),
    "status": ("状态", "Status"),
    "error": ("错误", "Error"),
    "measure": ("项目", "Measure"),
    "lever_spending": ("政策杠杆支出", "Lever spending"),
    "extra_spending": ("较基准情景增加", "Extra over the baseline"),
    "other_spending": ("其他（可调剂）支出", "Other spending"),
    "county_balance": ("年末财政结余", "Year-end balance"),
    "target": ("目标指标", "Target indicator"),
    "parameters": ("模型参数", "Parameters"),
    "base_data": ("基础数据", "Base data"),
    "seeds": ("随机种子", "Seeds"),
    "explained": ("线性拟合 R²", "Linear fit R²"),
    "draws": ("后验抽样 × 种子", "Draws × seeds"),
}
SPENDING_CHARTS = (("city", "lever_spending"), ("city", "county_balance"))
SPENDING_ROWS = ("lever_spending", "extra_spending", "other_spending", "county_balance")


@dataclass
class Chart:
    """One chart of the report: its file stem, section, caption and drawn files."""

    name: str
    section: str
    caption: str
    files: list[Path] = field(default_factory=list)
    missing: str | None = None


def _t(key: str, lang: str, **values) -> str:
    return TEXT[key][check_lang(lang)].format(**values)


def _c(key: str, lang: str) -> str:
    return COLUMNS[key][check_lang(lang)]


def _scenario_order(runs: pd.DataFrame) -> list[str]:
    names = list(dict.fromkeys(runs["scenario"]))
    return sorted(names, key=lambda n: (n != "baseline", n != "stalled", names.index(n)))


def _titles(runs: pd.DataFrame, provenance: dict[str, dict], lang: str) -> dict[str, str]:
    """Scenario id to its title in ``lang``, baseline first."""
    titles = {}
    for run in runs.itertuples():
        prov = provenance[run.run_id]
        title = prov.get(f"scenario_title_{lang}") or prov.get("scenario_title_en")
        titles.setdefault(run.scenario, title or run.scenario)
    return {s: titles[s] for s in _scenario_order(runs)}


def run_provenance(results_dir: Path, runs: pd.DataFrame) -> dict[str, dict]:
    """The provenance of every complete run, by run id (checked by ``collect``)."""
    return {
        run_id: read_provenance(results_dir / run_id)
        for run_id in runs.loc[runs.status == "complete", "run_id"]
    }


def _region_and_targets(provenance: dict):
    """The region a run used and its targets, 2035 thresholds included."""
    settings = provenance.get("settings") or {}
    # Runs written before the region setting name their data folder as data_dir.
    region = load_region(settings.get("region") or settings.get("data_dir"))
    return region, run_targets(region, Targets2035(**(settings.get("targets_2035") or {})))


def shown_card(card: pd.DataFrame | None, titles: dict[str, str]) -> pd.DataFrame | None:
    """The scorecard with scenario titles in place of ids, for display."""
    if card is None:
        return None
    shown = card.assign(scenario=card.scenario.map(titles).astype(str))
    shown.attrs["end_year"] = card.attrs.get("end_year")
    return shown


def draw_charts(
    table: pd.DataFrame,
    folder: Path,
    *,
    lang: str,
    targets: list,
    history,
    titles: dict[str, str],
    names: UnitNames | None = None,
) -> tuple[list[Chart], pd.DataFrame | None]:
    """Every chart of the report, saved as PNG and SVG into ``folder``.

    Returns:
        The charts in report order, and the scorecard table (None when the results end
        before the scorecard year).
    """
    scenarios = list(titles)
    start, end = int(table.year.min()), int(table.year.max())
    wanted: list[tuple[Chart, Callable]] = []
    card = None
    if start < SCORECARD_YEAR <= end:
        card = scorecard(table, targets, SCORECARD_YEAR)
        card.attrs["end_year"] = end
        card["scenario"] = pd.Categorical(card["scenario"], scenarios, ordered=True)
        card = card.sort_values("scenario", kind="stable").reset_index(drop=True)
    for unit, indicator in FAN_CHARTS:
        caption = f"{unit_label(unit, lang, names)} · {indicator_label(indicator, lang)}"
        wanted.append(
            (
                Chart(f"fan_{unit}_{indicator}", "fans", caption),
                lambda u=unit, i=indicator: fan_chart(
                    table,
                    i,
                    unit=u,
                    lang=lang,
                    targets=targets,
                    history=history,
                    scenario_titles=titles,
                    names=names,
                ),
            )
        )
    if "baseline" in scenarios and len(scenarios) > 1:
        for unit, indicator in TARGET_INDICATORS:
            caption = f"{unit_label(unit, lang, names)} · {indicator_label(indicator, lang)}"
            wanted.append(
                (
                    Chart(f"difference_{unit}_{indicator}", "differences", caption),
                    lambda u=unit, i=indicator: difference_chart(
                        table, i, unit=u, lang=lang, scenario_titles=titles, names=names
                    ),
                )
            )
    # Lever spending starts with the first simulated year: the 2023 base year has no
    # settlements or trainees, whose costs are flows, so its total is not comparable.
    simulated = table[table["year"] > table["year"].min()]
    for unit, indicator in SPENDING_CHARTS:
        caption = f"{unit_label(unit, lang, names)} · {indicator_label(indicator, lang)}"
        data = simulated if indicator == "lever_spending" else table
        wanted.append(
            (
                Chart(f"spending_{unit}_{indicator}", "spending", caption),
                lambda u=unit, i=indicator, d=data: fan_chart(
                    d,
                    i,
                    unit=u,
                    lang=lang,
                    targets=[],
                    history=[],
                    scenario_titles=titles,
                    names=names,
                ),
            )
        )
    if "baseline" in scenarios and len(scenarios) > 1:
        caption = (
            f"{unit_label('city', lang, names)} · {indicator_label('lever_spending', lang)}: "
            f"{word('difference', lang)}"
        )
        wanted.append(
            (
                Chart("spending_difference_city_lever_spending", "spending", caption),
                lambda: difference_chart(
                    table,
                    "lever_spending",
                    unit="city",
                    lang=lang,
                    scenario_titles=titles,
                    names=names,
                ),
            )
        )
    for indicator in COUNTY_CHARTS:
        wanted.append(
            (
                Chart(f"counties_{indicator}", "counties", indicator_label(indicator, lang)),
                lambda i=indicator: county_multiples(
                    table, i, lang=lang, scenario_titles=titles, names=names
                ),
            )
        )
    for scenario in scenarios:
        for kind, draw in (("living", living_chart), ("pyramid", pyramid_chart)):
            wanted.append(
                (
                    Chart(f"{kind}_{scenario}", "flows", titles[scenario]),
                    lambda s=scenario, d=draw: d(
                        table, s, start=start, end=end, lang=lang, names=names
                    ),
                )
            )
    charts = []
    for chart, draw in wanted:
        try:
            fig = draw()
        except KeyError as exc:  # the results cannot support this chart: say why
            chart.missing = str(exc.args[0]) if exc.args else str(exc)
        else:
            chart.files = save(fig, folder / chart.name, lang)
        charts.append(chart)
    return charts, card


def spending_table(
    table: pd.DataFrame, titles: dict[str, str], lang: str, names: UnitNames | None = None
) -> tuple[int, list[str], list[list[str]]] | None:
    """Lever spending, the extra over the baseline, other spending and the balance.

    Means over seeds in the scorecard year (or the last year, if earlier), in 亿元, for
    the city and every county; None when the results hold no lever spending.

    Returns:
        The year, the header and the rows.
    """
    counties = [u for u in table["unit"].unique() if u not in ("city", "county_area")]
    spending_units = ["city", *counties]
    rows_all = table[table["indicator"].isin(SPENDING_ROWS) & table["unit"].isin(spending_units)]
    if "lever_spending" not in set(rows_all["indicator"]):
        return None
    year = min(SCORECARD_YEAR, int(table["year"].max()))
    now = rows_all[rows_all["year"] == year]
    means = now.groupby(["scenario", "indicator", "unit"])["value"].mean()
    spend = (
        now[now["indicator"] == "lever_spending"]
        .set_index(["scenario", "seed", "unit"])
        .sort_index()
    )
    base = spend.loc["baseline", "value"] if "baseline" in titles else None
    header = [_c("scenario", lang), _c("measure", lang)]
    header += [unit_label(u, lang, names) for u in spending_units]
    rows = []
    for scenario, title in titles.items():
        for measure in SPENDING_ROWS:
            if measure == "extra_spending":
                if base is None or scenario == "baseline":
                    continue
                own = spend.loc[scenario, "value"]
                diff = (own - base.reindex(own.index)).groupby(level="unit").mean()
                values = [diff.get(u, float("nan")) for u in spending_units]
            else:
                values = [means.get((scenario, measure, u), float("nan")) for u in spending_units]
            cells = [f"{v / 1e8:,.2f}" if v == v else "–" for v in values]
            rows.append([title, _c(measure, lang), *cells])
    return year, header, rows


def variance_table(
    table: pd.DataFrame,
    results_dir: Path,
    run_ids,
    roles: dict[str, str],
    titles: dict[str, str],
    lang: str,
    names: UnitNames | None = None,
) -> tuple[list[str], list[list[str]], bool] | None:
    """The variance decomposition of the targets in the scorecard year, per ensemble run.

    None when no run is an ensemble over posterior draws (no ``draws.csv``).

    Returns:
        The header, the rows and whether any run had one seed per draw.
    """
    inputs = {}
    for run_id in run_ids:
        drawn = read_draw_inputs(results_dir / run_id)
        if drawn is not None:
            inputs[run_id] = drawn
    if not inputs or "draw" not in table.columns:
        return None
    shares = decomposition_table(table, inputs, roles, list(TARGET_INDICATORS), SCORECARD_YEAR)
    if shares.empty:
        return None
    header = [_c(k, lang) for k in ("scenario", "target", "parameters", "base_data", "seeds")]
    header += [_c("explained", lang), _c("draws", lang)]

    def share(value) -> str:
        return "–" if value is None or value != value else f"{value:.0%}"

    rows = []
    for r in shares.itertuples():
        name = f"{unit_label(r.unit, lang, names)} {indicator_label(r.indicator, lang)}"
        rows.append(
            [
                titles.get(r.scenario, r.scenario),
                name,
                share(r.parameters),
                share(r.base_data),
                share(r.seeds),
                "–" if r.explained is None or r.explained != r.explained else f"{r.explained:.2f}",
                f"{r.draws} × {r.seeds_per_draw}",
            ]
        )
    return header, rows, bool((shares.seeds_per_draw < 2).any())


SUMMARY_TEXT = {
    "heading": ("结论摘要", "Summary"),
    "likely": ("很可能达成", "likely met"),
    "uncertain": ("能否达成不确定", "uncertain"),
    "unlikely": ("很可能未达成", "likely missed"),
    "target": (
        "{label}（{year}年目标 {goal}）：{verdict}，{p} 的模拟达标；中位数 {median}"
        "（{margin}；90% 的模拟在 {low}–{high}）；{first}。",
        "{label} ({year} target {goal}): {verdict}, met in {p} of runs; median {median} "
        "({margin}; 90% of runs {low}–{high}); {first}.",
    ),
    "first": ("中位数首次达标年份 {y} 年", "first met in {y} (median over runs)"),
    "never": ("多数模拟到 {y} 年仍未达标", "most runs never meet it by {y}"),
    "short": ("差 {v}", "{v} short"),
    "over": ("超出 {v}", "{v} to spare"),
    "cost": (
        "{y} 年政策杠杆支出 {s} 亿元/年{extra}。",
        "Lever spending in {y}: {s} 亿元 (100 million yuan) a year{extra}.",
    ),
    "extra": ("，比基准情景多 {v} 亿元", ", {v} 亿元 more than the baseline"),
    "extra_less": ("，比基准情景少 {v} 亿元", ", {v} 亿元 less than the baseline"),
    "effects": (
        "与基准情景配对比较（{y} 年，同一抽样与种子的差值中位数）：{parts}。",
        "Against the baseline in {y} (median paired difference, same draws and seeds): {parts}.",
    ),
    "per_100m": (
        "每年每多支出 1 亿元：{parts}。",
        "Per 亿元 a year of extra spending: {parts}.",
    ),
    "reversal": (
        "{label}相对基准情景的优势（{best_year} 年 {best}）在 {after} 年后反转，"
        "{end_year} 年为 {end}。",
        "The {label} advantage over the baseline ({best} in {best_year}) reverses after "
        "{after} and ends at {end} in {end_year}.",
    ),
    "county": (
        "{county}的{label}在 {y} 年比基准情景{worse} {v}（{share} 的配对模拟同向）。",
        "In {county}, the {label} in {y} is {v} {worse} than under the baseline "
        "(in {share} of pairs).",
    ),
    "worse_up": ("高", "higher"),
    "worse_down": ("低", "lower"),
    "caveats": ("注意事项", "Caveats"),
    "caveat_scale": (
        "规模 {scale}：每个智能体代表约 {w:,.0f} 人；{runs} 次模拟。"
        "区县层面的结果比全市更受随机性影响。",
        "Scale {scale}: each agent stands for about {w:,.0f} persons; {runs} runs. County "
        "results are noisier than the city's.",
    ),
    "caveat_ensemble": (
        "区间与概率覆盖校准后参数的不确定性、2023 年基础数据的不确定性和随机性，"
        "不包括模型结构误差；"
        "《决定》未给出数值的政策力度是假设（docs/levers.md）。",
        "Bands and chances cover the calibrated parameters' uncertainty, the 2023 base "
        "data's and chance, not the model's structural error; lever sizes the decision gives "
        "no number for are assumptions (docs/levers.md).",
    ),
    "caveat_seeds": (
        "区间与概率只反映随机种子之间的差异，不含参数不确定性：用 ensemble=posterior 运行可得到"
        "诚实的不确定性。",
        "Bands and chances show seed noise only, not the parameters' uncertainty: run with "
        "ensemble=posterior for honest uncertainty.",
    ),
    "caveat_stale": (
        "后验参数与当前引擎不一致（{why}）：需重新校准后再引用这些数字。",
        "The posterior does not match this engine ({why}): refit before quoting these numbers.",
    ),
    "caveat_county_area": (
        "县域城镇化率在基准情景中 {y} 年即已达标：模型的 2023 年县域城镇化率已接近 2027 年目标，"
        "说明《决定》所指的县域范围或 2023 年基数可能与模型不同（docs/observations.md）。",
        "The county-area target is met by {y} even in the baseline: the model's 2023 "
        "county-area rate is already close to the 2027 target, which suggests the decision "
        "counts another 县域 or lower 2023 rates (docs/observations.md).",
    ),
}


# sim.posterior.stale_reasons in Chinese (the English text is the reason as recorded).
STALE_ZH = (
    (
        r"the engine changed since the posterior was fitted \(commit ([0-9a-f?]*)\)",
        r"拟合后验之后引擎已改变（提交 \1）",
    ),
    (r"the data files changed since the posterior was fitted", "拟合后验之后数据文件已改变"),
    (
        r"the observations or priors changed since the posterior was fitted",
        "拟合后验之后观测值或先验已改变",
    ),
)


def _stale_reason(reason: str, lang: str) -> str:
    if lang != "zh":
        return reason
    for pattern, zh in STALE_ZH:
        if re.fullmatch(pattern, reason):
            return re.sub(pattern, zh, reason)
    return reason


def _st(key: str, lang: str, **values) -> str:
    return SUMMARY_TEXT[key][check_lang(lang)].format(**values)


def _show(indicator: str, value: float) -> str:
    return f"{value:.3f}" if indicator == "income_ratio" else f"{value:.2%}"


def _show_change(indicator: str, value: float, lang: str, digits: int = 2) -> str:
    """A difference: ``+0.39 points`` (``+0.39 个百分点``) for rates, ``-0.041`` for ratios."""
    if indicator == "income_ratio":
        return f"{value:+.{digits + 1}f}"
    return f"{100 * value:+.{digits}f}" + (" 个百分点" if lang == "zh" else " points")


def _target_label(unit: str, indicator: str, lang: str, names: UnitNames | None) -> str:
    separator = "" if lang == "zh" else " · "
    return f"{unit_label(unit, lang, names)}{separator}{indicator_label(indicator, lang)}"


def summary_html(
    table: pd.DataFrame,
    targets,
    titles: dict[str, str],
    lang: str,
    *,
    scale: str,
    weight: float,
    runs: int,
    over_draws: bool,
    stale: list[str],
    names: UnitNames | None = None,
) -> str:
    """The written summary: per scenario its targets, cost, effects and trade-offs.

    Then the caveats. :mod:`sim.deliberation` works out the facts.
    """
    findings = target_findings(table, targets)
    end = int(table.year.max())
    year = min(SCORECARD_YEAR, end)
    cost = {c.scenario: c for c in costs(table, year)}
    effect = effects(table, year)
    turns = reversals(table, targets)
    counties = county_tradeoffs(table, end)
    parts = [f"<h2 id='summary'>{_st('heading', lang)}</h2>", "<div class='summary'>"]
    for scenario, title in titles.items():
        items = []
        for f in (f for f in findings if f.scenario == scenario):
            verdict = "likely" if f.p_met >= 0.8 else "unlikely" if f.p_met <= 0.2 else "uncertain"
            gap = abs(f.margin)
            shown_gap = _show_change(f.indicator, gap, lang).lstrip("+")
            margin = _st("over" if f.margin >= 0 else "short", lang, v=shown_gap)
            first = (
                _st("first", lang, y=int(f.first_year))
                if np.isfinite(f.first_year)
                else _st("never", lang, y=end)
            )
            items.append(
                _st(
                    "target",
                    lang,
                    label=_target_label(f.unit, f.indicator, lang, names),
                    year=f.year,
                    goal=_show(f.indicator, f.target),
                    verdict=_st(verdict, lang),
                    p=f"{f.p_met:.0%}",
                    median=_show(f.indicator, f.median),
                    margin=margin,
                    low=_show(f.indicator, f.low),
                    high=_show(f.indicator, f.high),
                    first=first,
                )
            )
        if scenario in cost:
            c = cost[scenario]
            extra = ""
            if np.isfinite(c.extra) and abs(c.extra) >= 0.005 * YUAN_100M:
                key = "extra" if c.extra > 0 else "extra_less"
                extra = _st(key, lang, v=f"{abs(c.extra) / YUAN_100M:,.2f}")
            items.append(_st("cost", lang, y=year, s=f"{c.spending / YUAN_100M:,.2f}", extra=extra))
        mine = [e for e in effect if e.scenario == scenario]
        if mine:
            shown = [
                f"{_target_label(e.unit, e.indicator, lang, names)} "
                f"{_show_change(e.indicator, e.median, lang)}"
                for e in mine
            ]
            sep = "；" if lang == "zh" else "; "
            items.append(_st("effects", lang, y=year, parts=sep.join(shown)))
            per = [
                f"{_target_label(e.unit, e.indicator, lang, names)} "
                f"{_show_change(e.indicator, e.per_100m, lang, digits=4)}"
                for e in mine
                if np.isfinite(e.per_100m)
            ]
            if per:
                items.append(_st("per_100m", lang, parts=sep.join(per)))
        for r in (r for r in turns if r.scenario == scenario):
            items.append(
                _st(
                    "reversal",
                    lang,
                    label=_target_label(r.unit, r.indicator, lang, names),
                    best_year=r.best_year,
                    best=_show_change(r.indicator, r.best, lang),
                    after=r.turns_after,
                    end_year=r.end_year,
                    end=_show_change(r.indicator, r.end, lang),
                )
            )
        for t in (t for t in counties if t.scenario == scenario):
            worse = "worse_up" if t.indicator == "income_ratio" else "worse_down"
            items.append(
                _st(
                    "county",
                    lang,
                    county=unit_label(t.county, lang, names),
                    label=indicator_label(t.indicator, lang),
                    y=t.year,
                    worse=_st(worse, lang),
                    v=_show_change(t.indicator, abs(t.median), lang).lstrip("+"),
                    share=f"{t.agreement:.0%}",
                )
            )
        if items:
            parts.append(f"<h3>{html.escape(title)}</h3><ul>")
            parts += [f"<li>{html.escape(item)}</li>" for item in items]
            parts.append("</ul>")
    caveats = [_st("caveat_scale", lang, scale=scale, w=weight, runs=runs)]
    caveats.append(_st("caveat_ensemble" if over_draws else "caveat_seeds", lang))
    caveats += [_st("caveat_stale", lang, why=_stale_reason(why, lang)) for why in stale]
    early = [
        f
        for f in findings
        if f.scenario == "baseline"
        and f.unit == "county_area"
        and f.year == SCORECARD_YEAR
        and np.isfinite(f.first_year)
        and f.first_year <= int(table.year.min()) + 1
    ]
    if early:
        caveats.append(_st("caveat_county_area", lang, y=int(early[0].first_year)))
    parts.append(f"<h3>{_st('caveats', lang)}</h3><ul>")
    parts += [
        f"<li>{html.escape(c).replace('ensemble=posterior', '<code>ensemble=posterior</code>')}"
        "</li>"
        for c in caveats
    ]
    parts.append("</ul></div>")
    return "\n".join(parts)


def _years_as_numbers(node):
    """Undo JSON's string keys in ``per_year`` tables of a stored lever mapping."""
    if not isinstance(node, dict):
        return node
    return {
        k: (
            {int(y): v for y, v in value.items()}
            if k == "per_year" and isinstance(value, dict)
            else _years_as_numbers(value)
        )
        for k, value in node.items()
    }


def lever_rows(
    levers: dict,
    lang: str,
    names: UnitNames | None = None,
    defaults: LeverDefaults | None = None,
) -> list[list[str]]:
    """Rows (clause, lever, unit, 2023 value, schedule) of the levers a package changes.

    ``defaults`` are the region's 2023 values (the default region's by default).
    """
    k = check_lang(lang)
    plan = plan_from_levers("provenance", _years_as_numbers(levers), ANY_PERIOD, defaults=defaults)
    rows = []
    for lever_id, per_county in plan.changed().items():
        lever = LEVERS[lever_id]
        each = ("各区县", "each county")[k] if lever.per_county else ""
        schedule = describe_counties(
            per_county, lambda c: unit_label(c, lang, names), each=each, lang=lang
        )
        name = (lever.name_zh, lever.name_en)[k]
        rows.append(
            [
                lever.clause,
                f"{name} ({lever_id})",
                lever.unit_in(lang),
                f"{plan.defaults.value(lever_id):g}",
                schedule,
            ]
        )
    return rows


def _table_html(
    header: list[str], rows: list[list[str]], code_columns=(), nowrap_columns=()
) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for j, cell in enumerate(row):
            text = html.escape(str(cell))
            if j in code_columns:
                text = f"<code>{text}</code>"
            attrs = " class='nowrap'" if j in nowrap_columns else ""
            cells.append(f"<td{attrs}>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _definitions_html(
    runs: pd.DataFrame,
    provenance: dict[str, dict],
    titles: dict,
    lang: str,
    names: UnitNames | None = None,
    defaults: LeverDefaults | None = None,
) -> str:
    """One block per distinct (scenario, lever package), with the clause of every lever."""
    packages: dict[tuple[str, str], dict] = {}
    for run in runs[runs.status == "complete"].itertuples():
        prov = provenance[run.run_id]
        levers = prov.get("levers") or {}
        key = (run.scenario, json.dumps(levers, sort_keys=True))
        packages.setdefault(key, {"prov": prov, "levers": levers, "runs": 0})
        packages[key]["runs"] += 1
    order = {name: k for k, name in enumerate(titles)}
    keys = sorted(packages, key=lambda key: (order.get(key[0], len(order)), key[1]))
    parts = []
    for scenario, lever_json in keys[:MAX_DEFINITIONS]:
        entry = packages[(scenario, lever_json)]
        prov = entry["prov"]
        files = " → ".join(prov.get("scenario_files") or [scenario])
        parts.append(
            f"<h3>{html.escape(titles.get(scenario, scenario))} <code>{scenario}</code></h3>"
        )
        parts.append(f"<p class='meta'><code>{html.escape(files)}</code></p>")
        own = prov.get("scenario_description_zh") if lang == "zh" else None
        description = own or prov.get("scenario_description")
        if description:
            note = _t("english_only", lang) if lang == "zh" and not own else ""
            parts.append(f"<p>{html.escape(description)}{note}</p>")
        rows = lever_rows(entry["levers"], lang, names, defaults)
        if rows:
            header = [_c(k, lang) for k in ("clause", "lever", "unit", "default", "schedule")]
            parts.append(_table_html(header, rows, nowrap_columns=(0,)))
        else:
            parts.append(f"<p>{_t('unchanged', lang)}</p>")
    if len(keys) > MAX_DEFINITIONS:
        parts.append(f"<p>{_t('more_definitions', lang, n=len(keys) - MAX_DEFINITIONS)}</p>")
    return "\n".join(parts)


def _command(overrides: str) -> str:
    return f"ronghe run {overrides}".strip()


def _provenance_html(runs: pd.DataFrame, provenance: dict[str, dict], lang: str) -> str:
    rows = []
    for run in runs[runs.status == "complete"].itertuples():
        prov = provenance[run.run_id]
        hashes = " / ".join(
            str(prov.get(k) or "-")[:12] for k in ("config_hash", "data_hash", "scenario_sha256")
        )
        rows.append(
            [
                run.run_id,
                run.scenario,
                run.seed,
                f"{run.scale:g}",
                str(prov.get("git_commit") or "-"),
                hashes,
                f"{run.wall_time_s:.1f}",
                run.finished_utc,
                _command(run.overrides),
            ]
        )
    keys = ("run", "scenario", "seed", "scale", "commit", "hashes", "time", "finished", "command")
    out = [_table_html([_c(k, lang) for k in keys], rows, code_columns=(0, 1, 4, 5, 8))]
    bad = runs[runs.status != "complete"]
    if len(bad):
        out.append(f"<h3>{_t('failed', lang)}</h3>")
        rows = [[r.run_id, r.status, r.error or "-"] for r in bad.itertuples()]
        out.append(
            _table_html([_c(k, lang) for k in ("run", "status", "error")], rows, code_columns=(0,))
        )
    return "\n".join(out)


def _figure_html(chart: Chart, folder_name: str, lang: str) -> str:
    caption = html.escape(chart.caption)
    if chart.missing:
        why = html.escape(_t("chart_missing", lang, why=chart.missing))
        return f"<figure class='missing'><figcaption>{caption}: {why}</figcaption></figure>"
    png, svg = chart.files
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    links = (
        f"<a href='{folder_name}/{png.name}'>PNG</a> · <a href='{folder_name}/{svg.name}'>SVG</a>"
    )
    return (
        f"<figure id='{chart.name}'><img alt='{caption}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{caption} <span class='files'>{links}</span></figcaption></figure>"
    )


STYLE = """
body { font-family: "Ronghe CJK", sans-serif; margin: 2em auto; max-width: 1150px; color: #222;
       line-height: 1.5; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
figure { margin: 1.5em 0; } img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; } .files { margin-left: 1em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } code { font-size: 0.95em; word-break: break-all; }
.meta, .note { color: #555; } .missing { color: #a33; } .nowrap { white-space: nowrap; }
nav a { margin-right: 1em; }
.summary { background: #f7f7f2; border-left: 4px solid #1b6ca8; padding: 0.6em 1em; }
.summary li { margin: 0.3em 0; }
"""


def render_html(
    *,
    lang: str,
    charts: list[Chart],
    summary: str,
    definitions: str,
    provenance: str,
    notes: list[str],
    folder_name: str,
    card: pd.DataFrame | None = None,
    spending: tuple[int, list[str], list[list[str]]] | None = None,
    variance: tuple[list[str], list[list[str]], bool] | None = None,
    written: str = "",
    later_card: pd.DataFrame | None = None,
    city: str = "",
) -> str:
    """The report page: the written summary, then sections in order, charts embedded.

    ``city`` is the region's name in ``lang``, for the title.
    """
    sections = [
        ("scorecard", _t("scorecard", lang), _t("scorecard_note", lang, y=SCORECARD_YEAR)),
        ("fans", _t("fans", lang), _t("fans_note", lang)),
        ("differences", _t("differences", lang), _t("differences_note", lang)),
        ("spending", _t("spending", lang), _t("spending_note", lang)),
        ("counties", _t("counties", lang), ""),
        ("flows", _t("flows", lang), _t("flows_note", lang)),
    ]
    body = [f"<h1>{_t('title', lang, city=city)}</h1>", f"<p>{html.escape(summary)}</p>"]
    body += [f"<p class='note'>{html.escape(n)}</p>" for n in notes]
    nav = [f"<a href='#summary'>{_st('heading', lang)}</a>"] if written else []
    nav += [f"<a href='#{key}'>{html.escape(title)}</a>" for key, title, _ in sections]
    nav += [f"<a href='#definitions'>{_t('definitions', lang)}</a>"]
    nav += [f"<a href='#provenance'>{_t('provenance', lang)}</a>"]
    body.append(f"<nav>{''.join(nav)}</nav>")
    if written:
        body.append(written)
    for key, title, note in sections:
        body.append(f"<h2 id='{key}'>{html.escape(title)}</h2>")
        if note:
            body.append(f"<p class='note'>{html.escape(note)}</p>")
        mine = [c for c in charts if c.section == key]
        if key == "scorecard" and not mine:
            body.append(f"<p>{_t('no_scorecard', lang, y=SCORECARD_YEAR)}</p>")
        if key == "differences" and not mine:
            body.append(f"<p>{_t('no_differences', lang)}</p>")
        body += [_figure_html(c, folder_name, lang) for c in mine]
        if key == "spending":
            if spending is None:
                body.append(f"<p>{_t('no_spending', lang)}</p>")
            else:
                year, header, rows = spending
                body.append(f"<p class='note'>{_t('spending_table', lang, y=year)}</p>")
                body.append(_table_html(header, rows))
        if key == "scorecard" and card is not None:
            header, rows = scorecard_cells(card, lang=lang, year=SCORECARD_YEAR)
            body.append(_table_html([h.replace("\n", " ") for h in header], rows))
        if key == "scorecard" and later_card is not None:
            body.append(f"<p class='note'>{_t('scorecard_note', lang, y=LATER_YEAR)}</p>")
            header, rows = scorecard_cells(later_card, lang=lang, year=LATER_YEAR)
            body.append(_table_html([h.replace("\n", " ") for h in header], rows))
        if key == "scorecard" and variance is not None:
            v_header, v_rows, one_seed = variance
            body.append(f"<p class='note'>{_t('variance_note', lang, y=SCORECARD_YEAR)}</p>")
            if one_seed:
                body.append(f"<p class='note'>{_t('variance_one_seed', lang)}</p>")
            body.append(_table_html(v_header, v_rows))
    body.append(f"<h2 id='definitions'>{_t('definitions', lang)}</h2>")
    body.append(f"<p class='note'>{_t('definitions_note', lang)}</p>")
    body.append(definitions)
    body.append(f"<h2 id='provenance'>{_t('provenance', lang)}</h2>")
    body.append(f"<p class='note'>{_t('provenance_note', lang)}</p>")
    body.append(provenance)
    html_lang = "zh-CN" if lang == "zh" else "en"
    text = "\n".join(body)
    # The page carries its own font (the characters it uses), so Chinese shows on
    # machines without a CJK font and nothing is fetched.
    visible = re.sub(r"data:image/png;base64,[^']+", "", text)
    font = base64.b64encode(cjk_font_subset(visible + _t("title", lang, city=city))).decode("ascii")
    face = (
        "@font-face { font-family: 'Ronghe CJK'; "
        f"src: url(data:font/otf;base64,{font}) format('opentype'); }}"
    )
    return (
        f"<!DOCTYPE html>\n<html lang='{html_lang}'>\n<head>\n<meta charset='utf-8'>\n"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{_t('title', lang, city=city)}</title>\n<style>{face}\n{STYLE}</style>\n</head>\n"
        f"<body>\n{text}\n</body>\n</html>\n"
    )


def _count(n, singular: str, plural: str) -> str:
    """``1 seed``, ``3 seeds`` or ``2–4 seeds`` (``n`` a number or a span)."""
    return f"{n} {singular if str(n) == '1' else plural}"


def _span(counts: pd.Series) -> str:
    """``n`` when every scenario has ``n``, else ``min–max``."""
    low, high = int(counts.min()), int(counts.max())
    return str(low) if low == high else f"{low}–{high}"


def build_report(results_dir: Path, *, lang: str = "zh", out: Path | None = None) -> Path:
    """Write the report of the runs under ``results_dir``; return the HTML file's path.

    Args:
        results_dir: A run folder or a sweep folder.
        lang: ``zh`` or ``en``.
        out: Report folder (default ``results_dir/report-<lang>``): a new or empty
            folder, or an earlier report (replaced whole; Ronghe's manifest in it says
            what it wrote, and a folder holding anything else is never replaced).

    Raises:
        ConfigError: ``lang`` is not allowed, the folder holds no complete run, or
            ``out`` is something other than a new or empty folder or an earlier report.
        ResultsError: The report could not be written.
    """
    check_lang(lang)
    results_dir = Path(results_dir)
    table, runs = collect(results_dir)
    done = runs[runs.status == "complete"]
    if done.empty:
        raise ConfigError(f"report: no complete run under {results_dir}")
    target = Path(out) if out is not None else results_dir / f"report-{lang}"
    check_replaceable(target, "report", "--out")
    staging = target.with_name(f".{target.name}-{uuid.uuid4().hex}")
    figures = staging / "figures"
    try:
        figures.mkdir(parents=True)
        provenance = run_provenance(results_dir, runs)
        region, targets = _region_and_targets(provenance[done.run_id.iloc[0]])
        names = region.unit_names()
        titles = _titles(done, provenance, lang)
        order = {s: k for k, s in enumerate(titles)}
        table = table.sort_values(
            ["scenario", "seed", "year"], key=lambda c: c.map(order) if c.name == "scenario" else c
        )
        charts, card = draw_charts(
            table,
            figures,
            lang=lang,
            targets=targets,
            history=region.history,
            titles=titles,
            names=names,
        )
        if card is not None:
            card.to_csv(staging / "scorecard.csv", index=False)
        later_card = None
        if table.year.min() < LATER_YEAR <= table.year.max():
            later_card = scorecard(table, targets, LATER_YEAR)
            later_card.attrs["end_year"] = int(table.year.max())
            later_card.to_csv(staging / f"scorecard_{LATER_YEAR}.csv", index=False)
        stale = sorted(
            {
                why
                for prov in provenance.values()
                for why in ((prov.get("ensemble") or {}).get("stale") or [])
            }
        )
        weights = [p.get("agent_weight") for p in provenance.values() if p.get("agent_weight")]
        written = summary_html(
            table,
            targets,
            titles,
            lang,
            scale=", ".join(f"{s:g}" for s in sorted(done["scale"].dropna().unique())),
            weight=float(np.median(weights)) if weights else float("nan"),
            runs=int(table.groupby(["scenario", "seed"]).ngroups),
            over_draws="draw" in table.columns and bool((table["draw"] >= 0).all()),
            stale=stale,
            names=names,
        )
        seeds = table.groupby("scenario")["seed"].nunique()
        over_draws = "draw" in table.columns and bool((table["draw"] >= 0).all())
        draws = table.groupby("scenario")["draw"].nunique() if over_draws else seeds
        english = lang == "en"
        members = int(table.groupby(["scenario", "seed"]).ngroups)
        summary = _t(
            "summary_draws" if over_draws else "summary",
            lang,
            runs=_count(members, "run", "runs") if english else members,
            scenarios=_count(len(titles), "scenario", "scenarios") if english else len(titles),
            seeds=_count(_span(seeds), "seed", "seeds") if english else _span(seeds),
            draws=_count(_span(draws), "posterior draw", "posterior draws")
            if english
            else _span(draws),
            per=_count(_span(seeds // draws), "seed", "seeds")
            if english
            else _span(seeds // draws),
            scale=", ".join(f"{s:g}" for s in sorted(done["scale"].dropna().unique())),
            start=int(table.year.min()),
            end=int(table.year.max()),
        )
        notes = [_t("one_seed", lang)] if seeds.max() == 1 else []
        page = render_html(
            lang=lang,
            charts=charts,
            summary=summary,
            definitions=_definitions_html(
                done, provenance, titles, lang, names, lever_defaults(region)
            ),
            provenance=_provenance_html(runs, provenance, lang),
            notes=notes,
            folder_name="figures",
            card=shown_card(card, titles),
            spending=spending_table(table, titles, lang, names),
            written=written,
            later_card=shown_card(later_card, titles),
            city=names["city"][check_lang(lang)],
            variance=variance_table(
                table,
                results_dir,
                done.run_id,
                {name: spec.role for name, spec in region.priors.items()},
                titles,
                lang,
                names,
            ),
        )
        (staging / "report.html").write_text(page, encoding="utf-8")
        publish_folder(staging, target, "report", "--out")
    except OSError as exc:
        raise ResultsError(
            f"cannot write the report into {target}: {exc.strerror or type(exc).__name__}"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / "report.html"
