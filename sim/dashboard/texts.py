"""Every text the dashboard shows, in Chinese and English."""

from __future__ import annotations

from functools import cache

from sim.charts.style import check_lang
from sim.data import load_region

LANGS = ("zh", "en")

# key: (中文, English); ``{name}`` fields are filled by :func:`text`.
TEXTS = {
    "title": ("{city}城乡融合发展模拟 · 工作台", "{city} urban-rural integration · workbench"),
    "subtitle": (
        "选择情景，调整政策杠杆，运行模型，并与基准情景配对比较。",
        "Pick a scenario, set the levers, run the model and compare it, paired, with the baseline.",
    ),
    "language": ("语言", "Language"),
    "scenario": ("情景", "Scenario"),
    "scenario_files": ("继承链：{files}", "Files applied: {files}"),
    "settings": ("运行设置", "Run settings"),
    "scale": ("规模（每名户籍人口的智能体数）", "Scale (agents per registered person)"),
    "end_year": ("结束年份", "End year"),
    "draws": ("后验抽样数（0 = 单次运行）", "Posterior draws (0 = one plain run)"),
    "seed": ("随机种子", "Seed"),
    "workers": ("进程数", "Worker processes"),
    "settings_note": (
        "基准情景用相同的种子和后验抽样运行，差异为配对差异。规模 0.002 约需数秒；"
        "0.01 以上的结果才适合引用。",
        "The baseline runs on the same seeds and posterior draws, so the differences are "
        "paired. Scale 0.002 takes seconds; quote results from 0.01 up.",
    ),
    "run": ("运行", "Run"),
    "running": ("正在运行：已完成 {done}/{total} 次模拟", "Running: {done} of {total} runs done"),
    "starting": ("正在准备运行…", "Preparing the runs…"),
    "levers": ("政策杠杆", "Policy levers"),
    "levers_note": (
        "滑块显示所选情景在 {y} 年的取值；移动滑块即以新值替换该杠杆的安排（默认自模拟开始即为"
        "常数，可在“时间安排”中改为阶跃或线性）。",
        "Each slider shows the picked scenario's value in {y}; moving it replaces the lever's "
        "schedule with the new value (a constant from the start unless you pick a step or a "
        "ramp under “Schedule”).",
    ),
    "changed_count": ("已调整 {n} 项杠杆", "{n} lever(s) changed"),
    "reset_all": ("全部恢复为情景值", "Reset all to the scenario"),
    "reset": ("恢复", "Reset"),
    "edited": ("已调整", "changed"),
    "scenario_value": ("情景 {y} 年值：{v}", "scenario's {y} value: {v}"),
    "varies": ("（各区县不同）", " (varies by county)"),
    "per_county_lever": ("可分区县设置", "settable per county"),
    "schedule": ("时间安排与分区县", "Schedule and counties"),
    "kind_constant": ("常数", "Constant"),
    "kind_step": ("阶跃", "Step"),
    "kind_ramp": ("线性", "Ramp"),
    "step_year": ("自该年起", "From the start of"),
    "ramp_first": ("开始年份", "First year"),
    "ramp_last": ("完成年份", "Complete at the start of"),
    "exact": ("精确值（{unit}）", "Exact value ({unit})"),
    "per_county": ("分区县设置", "Set per county"),
    "slider_in_millions": ("滑块单位：百万元", "slider in million yuan"),
    "schedule_text": ("安排：{text}", "Schedule: {text}"),
    "results": ("结果", "Results"),
    "no_results": (
        "尚未运行：调整杠杆后点击“运行”。",
        "No run yet: set the levers and press Run.",
    ),
    "scorecard": ("目标达成情况（{y} 年）", "Target scorecard ({y})"),
    "scorecard_note": (
        "{what}，规模 {scale}。P 为达标的运行比例（每个后验抽样为一次运行）；中位数为 {y} 年"
        "指标值；杠杆支出为 {y} 年全市政策杠杆支出（亿元/年，各运行平均），“较基准增加”为同一"
        "种子下的配对差。",
        "{what} at scale {scale}. P is the share of runs meeting the target (each posterior "
        "draw is a run); the median is the indicator in {y}; lever spending is the city's "
        "lever spending in {y} (100 million yuan a year, mean over runs), and the extra is "
        "the paired difference from the baseline on the same seeds.",
    ),
    "what_one": (
        "每个情景一次运行（种子 {seed}）：概率只能是 0 或 100%",
        "One run per scenario (seed {seed}): chances are 0 or 100%",
    ),
    "what_draws": ("每个情景 {n} 个后验抽样", "{n} posterior draws per scenario"),
    "col_scenario": ("情景", "Scenario"),
    "col_p": ("P（{y}年达标）", "P(met in {y})"),
    "col_median": ("中位数", "median"),
    "col_cost": ("杠杆支出 {y}（亿元/年）", "Lever spending {y} (100m yuan/yr)"),
    "col_extra": ("较基准增加", "Extra over the baseline"),
    "target": ("目标 {t}", "target {t}"),
    "your_scenario": ("{title} + 工作台调整 {n} 项", "{title} + {n} workbench change(s)"),
    "fans": ("指标轨迹（中位数与 50%、90% 区间）", "Trajectories (median, 50% and 90% bands)"),
    "differences": ("与基准情景的配对差异", "Paired differences from the baseline"),
    "drawing": ("正在绘图…", "Drawing the charts…"),
    "save": ("保存情景为 YAML", "Save the scenario as YAML"),
    "save_note": (
        "写入一个继承“{parent}”的情景文件，只含调整过的杠杆；用 ronghe run "
        "scenarios_dir=文件夹 scenario=名称 运行。",
        "Writes a scenario file that extends “{parent}” with the changed levers only; run "
        "it with ronghe run scenarios_dir=FOLDER scenario=NAME.",
    ),
    "save_folder": ("文件夹", "Folder"),
    "save_name": ("情景名称（字母、数字、_ 和 -）", "Scenario name (letters, digits, _ and -)"),
    "save_title_zh": ("中文标题", "Chinese title"),
    "save_title_en": ("英文标题", "English title"),
    "save_button": ("保存", "Save"),
    "exists": ("{path} 已存在。是否覆盖？", "{path} exists. Overwrite it?"),
    "overwrite": ("覆盖", "Overwrite"),
    "cancel": ("取消", "Cancel"),
    "saved": ("已保存 {path}。运行：{command}", "Saved {path}. Run it: {command}"),
    "report": ("完整报告", "Full report"),
    "report_note": (
        "把最近一次运行写成运行文件夹（{folder}），并生成与 ronghe report 相同的完整报告。",
        "Writes the latest run as run folders ({folder}) and builds the full report, as "
        "ronghe report does.",
    ),
    "report_button": ("生成完整报告", "Write the full report"),
    "report_needs_run": ("请先运行。", "Run first."),
    "report_writing": ("正在写报告（约半分钟）…", "Writing the report (about half a minute)…"),
    "report_open": ("打开报告", "Open the report"),
    "error": ("错误：{message}", "Error: {message}"),
    "busy": ("正在运行，请稍候。", "A run is in progress."),
}


def unit_text(lever, lang: str) -> str:
    """A lever's unit in ``lang`` (the catalogue's, :data:`sim.levers.UNIT_ZH` in Chinese)."""
    return lever.unit_in(("zh", "en")[check_lang(lang)])


def text(key: str, lang: str, **values) -> str:
    """The text ``key`` in ``lang`` (``zh`` or ``en``), with ``values`` filled in."""
    return TEXTS[key][check_lang(lang)].format(**values)


@cache
def unit_names() -> dict[str, tuple[str, str]]:
    """The workbench's region's unit names (it works on the default region)."""
    return load_region().unit_names()


def city_name(lang: str) -> str:
    """The region's name in ``lang``."""
    return unit_names()["city"][check_lang(lang)]


__all__ = ["LANGS", "TEXTS", "city_name", "text", "unit_names", "unit_text"]
