"""Fonts, labels and number formats shared by every chart, in Chinese or English.

The CJK font (Noto Sans CJK SC, SIL Open Font License) comes with the ``mplfonts``
package, so a fresh install draws Chinese without system fonts. It is registered with
matplotlib when a chart is drawn, never at import.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from contextlib import contextmanager
from functools import cache

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, FuncFormatter

from sim.errors import ConfigError

LANGS = ("zh", "en")
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"

# Indicator: (中文, English, kind); kind sets the number format.
INDICATORS = {
    "resident_urbanisation_rate": ("常住人口城镇化率", "Resident urbanisation", "percent"),
    "registered_urbanisation_rate": ("户籍人口城镇化率", "Registered urbanisation", "percent"),
    "income_ratio": ("城乡居民收入比", "Urban-rural income ratio", "ratio"),
    "expected_income_gap": (
        "城镇预期收入与农村收入之差（比例）",
        "Expected urban over rural income, minus one (Harris-Todaro gap)",
        "ratio",
    ),
    "expected_urban_income": ("城镇预期收入（工资×就业概率）", "Expected urban income", "yuan"),
    "expected_rural_income": ("农村预期收入", "Expected rural income", "yuan"),
    "urban_income_per_capita": ("城镇居民人均可支配收入", "Urban income per capita", "yuan"),
    "rural_income_per_capita": ("农村居民人均可支配收入", "Rural income per capita", "yuan"),
    "resident_population": ("常住人口", "Resident population", "persons"),
    "registered_population": ("户籍人口", "Registered population", "persons"),
    "citizenisation": ("农业转移人口落户", "Citizenisation (persons a year)", "persons"),
    "land_transfer_rate": ("土地流转率", "Land transfer rate", "percent"),
    "rural_share_aged_60_plus": ("农村常住人口60岁以上占比", "Rural residents aged 60+", "percent"),
    "lever_spending": (
        "政策杠杆支出（亿元/年）",
        "Lever spending (100 million yuan a year)",
        "yuan_100m",
    ),
    "other_spending": (
        "其他（可调剂）支出（亿元/年）",
        "Other (discretionary) spending (100 million yuan a year)",
        "yuan_100m",
    ),
    "county_balance": (
        "区县财政累计结余（亿元，年末）",
        "County budget balance (100 million yuan, year end)",
        "yuan_100m",
    ),
}
# The aggregate areas every region has; its own units' names come from its units.csv
# (RegionData.unit_names), passed to the charts as ``names``.
UNITS = {
    "city": ("全市", "City"),
    "county_area": ("县域", "County area"),
}
# A unit key to its (Chinese, English) name.
UnitNames = Mapping[str, tuple[str, str]]
WORDS = {
    "year": ("年份", "Year"),
    "median": ("中位数", "median"),
    "band50": ("50%区间", "50% band"),
    "band90": ("90%区间", "90% band"),
    "record": ("历史记录", "record"),
    "target": ("目标", "target"),
    "difference": ("与基准情景之差", "difference from the baseline"),
    "home": ("户籍地", "Home county (hukou)"),
    "destination": ("居住地", "Where they live"),
    "living_share": ("户籍人口居住地分布", "Where each county's registered residents live"),
    "change_pp": ("较{y}年变化（百分点）", "change since {y} (percentage points)"),
    "pyramid": ("城乡常住人口年龄结构", "Age pyramid of rural and urban residents"),
    "rural": ("乡村", "Rural"),
    "urban": ("城镇", "Urban"),
    "male": ("男", "men"),
    "female": ("女", "women"),
    "age": ("年龄", "Age"),
    "persons": ("人", "persons"),
}


def check_lang(lang: str) -> int:
    """Index of ``lang`` in label tuples (0 Chinese, 1 English).

    Raises:
        ConfigError: ``lang`` is not ``zh`` or ``en``.
    """
    if lang not in LANGS:
        raise ConfigError(f"lang={lang!r}: allowed zh or en")
    return LANGS.index(lang)


def word(key: str, lang: str) -> str:
    """A chart word in ``lang``."""
    return WORDS[key][check_lang(lang)]


def indicator_label(indicator: str, lang: str) -> str:
    """An indicator's name in ``lang`` (its id if it has no label)."""
    names = INDICATORS.get(indicator)
    return names[check_lang(lang)] if names else indicator


def unit_label(unit: str, lang: str, names: UnitNames | None = None) -> str:
    """A unit's name in ``lang``: from ``names`` (the region's), else generic, else its key."""
    known = (names or {}).get(unit) or UNITS.get(unit)
    return known[check_lang(lang)] if known else unit


# What an axis measures, by indicator kind: (中文, English) for levels and for differences.
MEASURES = {
    "percent": (("%", "%"), ("百分点", "percentage points")),
    "yuan": (("元/人·年", "yuan per person a year"), ("元/人·年", "yuan per person a year")),
    "persons": (("人", "persons"), ("人", "persons")),
    "yuan_100m": (("亿元", "100 million yuan"), ("亿元", "100 million yuan")),
    "ratio": (("城镇/农村", "urban / rural"), ("城镇/农村", "urban / rural")),
}


def axis_label(indicator: str, lang: str, *, difference: bool = False) -> str:
    """The unit an axis of ``indicator`` is in (percentage points for a difference of rates)."""
    kind = INDICATORS.get(indicator, ("", "", "number"))[2]
    pair = MEASURES.get(kind)
    return pair[difference][check_lang(lang)] if pair else ""


class PercentFormatter(Formatter):
    """Percent with as many decimals as the ticks' spacing needs.

    Whole percent from 10% up and one decimal below, as before; more when the ticks need
    them to be exact (0.25-point steps get two decimals), so no two ticks read the same.
    """

    def __init__(self) -> None:
        self.needed = 0

    def set_locs(self, locs) -> None:
        """Note the decimals the tick spacing needs (matplotlib calls this per draw)."""
        super().set_locs(locs)
        percents = [100 * v for v in locs]
        self.needed = next(
            (d for d in range(4) if all(abs(round(p, d) - p) < 1e-6 for p in percents)), 3
        )

    def __call__(self, value: float, pos=None) -> str:
        """The tick label of ``value`` (a fraction)."""
        decimals = max(self.needed, 0 if abs(value) >= 0.1 else 1)
        return f"{100 * value:.{decimals}f}%"


def value_formatter(indicator: str, *, difference: bool = False) -> Formatter:
    """Axis formatter: percent for rates, yuan and persons with thousands separators.

    Budget amounts (kind ``yuan_100m``) are stored in yuan and shown in 亿元. A
    difference of rates is shown in signed percentage points (``+0.4``), not in percent.
    """
    kind = INDICATORS.get(indicator, ("", "", "number"))[2]
    if kind == "percent" and difference:
        return FuncFormatter(lambda v, _: f"{100 * v:+.2f}" if v else "0")
    if kind == "percent":
        return PercentFormatter()
    if kind in ("yuan", "persons"):
        return FuncFormatter(lambda v, _: f"{v:,.0f}")
    if kind == "yuan_100m":  # yuan shown in 亿元 (100 million yuan)
        return FuncFormatter(lambda v, _: f"{v / 1e8:,.1f}")
    return FuncFormatter(lambda v, _: f"{v:.2f}")


def cjk_font_path() -> str:
    """Path of the packaged CJK font file."""
    return str(importlib.resources.files("mplfonts") / "fonts" / CJK_FONT_FILE)


@cache
def cjk_font_name() -> str:
    """Register the packaged CJK font with matplotlib; return its family name."""
    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def cjk_font_subset(text: str) -> bytes:
    """The packaged CJK font cut down to the characters of ``text`` (OpenType bytes).

    A web page that embeds it shows Chinese on machines without a CJK font; the cut
    keeps it small (tens of kB instead of 16 MB). Same text, same bytes.
    """
    import io

    from fontTools import subset

    options = subset.Options()
    options.recalc_timestamp = False
    font = subset.load_font(cjk_font_path(), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, options)
    return out.getvalue()


@contextmanager
def chart_style(lang: str):
    """Matplotlib settings for one chart: the CJK font first, reproducible files."""
    check_lang(lang)
    rc = {
        "font.family": "sans-serif",
        "font.sans-serif": [cjk_font_name(), "DejaVu Sans"],
        "axes.unicode_minus": False,
        "svg.hashsalt": "ronghe",  # stable ids inside SVG files
        "figure.dpi": 100,
        "savefig.dpi": 130,
    }
    with matplotlib.rc_context(rc):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure that is not attached to pyplot (no display, no global figure list)."""
    return Figure(figsize=(width, height))


def save(fig, path_stem, lang: str) -> list:
    """Write ``fig`` as PNG and SVG with fixed metadata (same data, same bytes).

    Fonts are looked up when the file is drawn, so this runs in the chart's style too.
    """
    from pathlib import Path

    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    with chart_style(lang):
        fig.savefig(png, metadata={"Software": None})
        fig.savefig(svg, metadata={"Date": None, "Creator": None})
    return [png, svg]
