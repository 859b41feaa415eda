"""The target scorecard: per scenario, the chance of meeting each target and when."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.charts.style import chart_style, check_lang, indicator_label, new_figure, unit_label

TARGET_KEYS = (
    ("city", "resident_urbanisation_rate"),
    ("county_area", "resident_urbanisation_rate"),
    ("city", "income_ratio"),
)
HEADERS = {
    "scenario": ("情景", "Scenario"),
    "p": ("{y}年达标概率", "P(met in {y})"),
    "first": ("首次达标年份（中位数）", "First year met (median)"),
    "never": ("{y}年前未达标", "not by {y}"),
}


def _met(values: pd.Series, target) -> pd.Series:
    return values <= target.value if target.direction == "at_most" else values >= target.value


def scorecard(table: pd.DataFrame, targets, year: int = 2027) -> pd.DataFrame:
    """One row per scenario and target: probability met in ``year`` and first year met.

    The probability is the share of seeds meeting the target in ``year``; the first year
    is the median over seeds of the first simulated year in which the target is met
    (``NaN`` when most seeds never meet it within the run).
    """
    by_key = {(t.unit, t.indicator): t for t in targets if t.year == year}
    rows = []
    for scenario, runs in table.groupby("scenario", sort=False):
        for unit, indicator in TARGET_KEYS:
            target = by_key[(unit, indicator)]
            part = runs[(runs.unit == unit) & (runs.indicator == indicator)]
            part = part[part.year > part.year.min()]  # simulated years, not the base year
            met = part.assign(met=_met(part.value, target))
            in_year = met[met.year == year].groupby("seed")["met"].any()
            first = met[met.met].groupby("seed")["year"].min().reindex(in_year.index)
            rows.append(
                {
                    "scenario": scenario,
                    "unit": unit,
                    "indicator": indicator,
                    "target": target.value,
                    "direction": target.direction,
                    "seeds": len(in_year),
                    "p_met": float(in_year.mean()) if len(in_year) else float("nan"),
                    "first_year_median": float(np.nanmedian(first.fillna(np.inf))),
                }
            )
    out = pd.DataFrame(rows)
    out.loc[np.isinf(out.first_year_median), "first_year_median"] = np.nan
    return out


def scorecard_figure(card: pd.DataFrame, *, lang: str = "en", year: int = 2027):
    """The scorecard as a table image: one row per scenario, two cells per target."""
    k = check_lang(lang)
    header = [HEADERS["scenario"][k]]
    for unit, indicator in TARGET_KEYS:
        name = f"{unit_label(unit, lang)} {indicator_label(indicator, lang)}"
        header += [f"{name}\n{HEADERS['p'][k].format(y=year)}", HEADERS["first"][k]]
    cells = []
    for scenario, part in card.groupby("scenario", sort=False):
        row = [scenario]
        for unit, indicator in TARGET_KEYS:
            r = part[(part.unit == unit) & (part.indicator == indicator)].iloc[0]
            first = r.first_year_median
            never = HEADERS["never"][k].format(y=int(card.attrs.get("end_year", year)))
            row += [f"{r.p_met:.0%}", never if np.isnan(first) else f"{first:.0f}"]
        cells.append(row)
    with chart_style(lang):
        fig = new_figure(12, 0.9 + 0.45 * len(cells))
        ax = fig.subplots()
        ax.axis("off")
        tab = ax.table(cellText=cells, colLabels=header, loc="center", cellLoc="center")
        tab.auto_set_font_size(False)
        tab.set_fontsize(8)
        tab.scale(1, 1.6)
        fig.tight_layout()
    return fig
