"""The target scorecard: per scenario, the chance of meeting each target and when."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from sim.charts.style import (
    UnitNames,
    chart_style,
    check_lang,
    indicator_label,
    new_figure,
    unit_label,
)
from sim.indicators import TARGET_INDICATORS

HEADERS = {
    "scenario": ("情景", "Scenario"),
    "p": ("{y}年达标概率", "P(met in {y})"),
    "first": ("首次达标年份（中位数）", "First year met (median)"),
    "never": ("{y}年前未达标", "not by {y}"),
}


def scorecard(table: pd.DataFrame, targets, year: int = 2027) -> pd.DataFrame:
    """One row per scenario and target: probability met in ``year`` and first year met.

    The probability is the share of runs (seeds) meeting the target in ``year``; the
    first year is the median over runs of the first simulated year in which the target
    is met (``NaN`` when most runs never meet it within the run). Runs are told apart by
    ``run_id`` and ``seed`` (a sweep may hold several runs per seed, and an ensemble run
    or a goal run several seeds): in an ensemble run (``ensemble=posterior``), each
    posterior draw is a run, so the probability is over draws.
    """
    by_key = {(t.unit, t.indicator): t for t in targets if t.year == year}
    run = [c for c in ("run_id", "seed") if c in table.columns]
    rows = []
    for scenario, runs in table.groupby("scenario", sort=False):
        for unit, indicator in TARGET_INDICATORS:
            target = by_key[(unit, indicator)]
            part = runs[(runs.unit == unit) & (runs.indicator == indicator)]
            part = part[part.year > part.year.min()]  # simulated years, not the base year
            met = part.assign(met=target.met(part.value))
            in_year = met[met.year == year].groupby(run)["met"].any()
            first = met[met.met].groupby(run)["year"].min().reindex(in_year.index)
            rows.append(
                {
                    "scenario": scenario,
                    "unit": unit,
                    "indicator": indicator,
                    "target": target.value,
                    "direction": target.direction,
                    "runs": len(in_year),
                    "p_met": float(in_year.mean()) if len(in_year) else float("nan"),
                    "first_year_median": float(np.nanmedian(first.fillna(np.inf))),
                }
            )
    out = pd.DataFrame(rows)
    out.loc[np.isinf(out.first_year_median), "first_year_median"] = np.nan
    return out


def target_text(row) -> str:
    """A target as ``≥ 63.0%`` or ``≤ 1.94``."""
    sign = "≤" if row.direction == "at_most" else "≥"
    value = f"{row.target:.1%}" if row.indicator.endswith("_rate") else f"{row.target:.2f}"
    return f"{sign} {value}"


def scorecard_cells(
    card: pd.DataFrame, *, lang: str, year: int, names: UnitNames | None = None
) -> tuple[list, list]:
    """Header and rows of the scorecard table: a scenario, then two cells per target."""
    k = check_lang(lang)
    header = [HEADERS["scenario"][k]]
    for unit, indicator in TARGET_INDICATORS:
        rows = card[(card.unit == unit) & (card.indicator == indicator)]
        first = rows.iloc[0]
        label = f"{unit_label(unit, lang, names)}\n{indicator_label(indicator, lang)}"
        name = f"{label} {target_text(first)}"
        header += [f"{name}\n{HEADERS['p'][k].format(y=year)}", HEADERS["first"][k]]
    never = HEADERS["never"][k].format(y=int(card.attrs.get("end_year", year)))
    cells = []
    for scenario, part in card.groupby("scenario", sort=False, observed=True):
        row = [str(scenario)]
        for unit, indicator in TARGET_INDICATORS:
            r = part[(part.unit == unit) & (part.indicator == indicator)].iloc[0]
            met = r.first_year_median
            row += [f"{r.p_met:.0%}", never if np.isnan(met) else f"{met:.0f}"]
        cells.append(row)
    return header, cells


def scorecard_figure(
    card: pd.DataFrame, *, lang: str = "en", year: int = 2027, names: UnitNames | None = None
):
    """The scorecard as a table image: one row per scenario, two cells per target."""
    header, cells = scorecard_cells(card, lang=lang, year=year, names=names)
    width = 12 if lang == "zh" else 22
    cells = [[textwrap.fill(row[0], width), *row[1:]] for row in cells]
    header = [textwrap.fill(h, 30, replace_whitespace=False) for h in header]
    header_lines = max(h.count("\n") + 1 for h in header)
    row_lines = [max(c.count("\n") + 1 for c in row) for row in cells]
    line = 0.16  # inches per text line
    height = line * (header_lines + 1) + sum(line * (n + 1) for n in row_lines)
    with chart_style(lang):
        fig = new_figure(13, height + 0.2)
        ax = fig.subplots()
        ax.axis("off")
        ax.set_position([0.01, 0.0, 0.98, 1.0])
        widths = [0.16] + [0.14, 0.14] * len(TARGET_INDICATORS)
        tab = ax.table(
            cellText=cells, colLabels=header, loc="upper center", cellLoc="center", colWidths=widths
        )
        tab.auto_set_font_size(False)
        tab.set_fontsize(8)
        total = height + 0.2
        for (r, _), cell in tab.get_celld().items():
            lines = header_lines if r == 0 else row_lines[r - 1]
            cell.set_height(line * (lines + 1) / total)
            if r == 0:
                cell.set_facecolor("#f0f0f0")
    return fig
