"""Paired differences from the baseline, and county small multiples."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.charts.fan import PALETTE, draw_fan, fan_legend, quantiles
from sim.charts.style import (
    UnitNames,
    axis_label,
    chart_style,
    check_lang,
    indicator_label,
    new_figure,
    unit_label,
    value_formatter,
    word,
)
from sim.deliberation import paired


def paired_differences(
    table: pd.DataFrame, indicator: str, unit: str = "city", baseline: str = "baseline"
) -> pd.DataFrame:
    """Scenario minus baseline on the same seed, for every other scenario, seed and year.

    Raises:
        KeyError: No baseline runs, several runs of a scenario on one seed, or no seed that
            a scenario shares with the baseline.
    """
    rows = table[(table["indicator"] == indicator) & (table["unit"] == unit)]
    base = rows[rows["scenario"] == baseline].set_index(["seed", "year"])["value"]
    if base.empty:
        raise KeyError(f"no {baseline!r} runs of {indicator!r} for unit {unit!r}")
    if rows.duplicated(["scenario", "seed", "year"]).any():
        raise KeyError(
            "several runs of one scenario share a seed (a parameter sweep): "
            "pairs with the baseline are ambiguous"
        )
    result = paired(table, unit, indicator, baseline)
    paired_scenarios = set(result["scenario"]) if not result.empty else set()
    for scenario in rows.loc[rows["scenario"] != baseline, "scenario"].unique():
        if scenario not in paired_scenarios:
            raise KeyError(f"{scenario!r} shares no seed with {baseline!r}: differences need pairs")
    result["unit"], result["indicator"] = unit, indicator
    return result


def difference_chart(
    table: pd.DataFrame,
    indicator: str,
    *,
    unit: str = "city",
    lang: str = "en",
    baseline: str = "baseline",
    scenario_titles: dict[str, str] | None = None,
    names: UnitNames | None = None,
):
    """Median paired difference from the baseline with 50% and 90% bands; a zero line."""
    check_lang(lang)
    diff = paired_differences(table, indicator, unit, baseline)
    q = quantiles(diff, indicator, unit)
    titles = scenario_titles or {}
    with chart_style(lang):
        fig = new_figure(10, 4.8)
        ax = fig.subplots()
        ax.axhline(0.0, color="#444444", lw=1)
        entries = []
        for k, (scenario, part) in enumerate(q.groupby("scenario", sort=False)):
            name = titles.get(scenario, scenario)
            entries.append((draw_fan(ax, part, PALETTE[(k + 1) % len(PALETTE)], name, lang), name))
        ax.set_title(
            f"{unit_label(unit, lang, names)} · {indicator_label(indicator, lang)}: "
            f"{word('difference', lang)}"
        )
        ax.set_xlabel(word("year", lang))
        ax.set_ylabel(axis_label(indicator, lang, difference=True))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.yaxis.set_major_formatter(value_formatter(indicator, difference=True))
        ax.grid(alpha=0.3)
        fan_legend(ax, entries, lang)
        fig.tight_layout()
    return fig


def county_multiples(
    table: pd.DataFrame,
    indicator: str,
    *,
    lang: str = "en",
    scenario_titles: dict[str, str] | None = None,
    names: UnitNames | None = None,
):
    """The counties and the county area side by side on shared axes (median, 90%).

    The counties are the table's units other than ``city`` and ``county_area``, in the
    table's order.
    """
    check_lang(lang)
    titles = scenario_titles or {}
    counties = [u for u in table["unit"].unique() if u not in ("city", "county_area")]
    panels = [*counties, "county_area"]
    rows = -(-len(panels) // 3)
    with chart_style(lang):
        fig = new_figure(11, 3.2 * rows)
        axes = np.atleast_1d(fig.subplots(rows, 3, sharex=True, sharey=True)).ravel()
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        for ax, unit in zip(axes, panels, strict=False):
            q = quantiles(table, indicator, unit)
            for k, (scenario, part) in enumerate(q.groupby("scenario", sort=False)):
                colour = PALETTE[k % len(PALETTE)]
                ax.fill_between(part.year, part.q05, part.q95, color=colour, alpha=0.2, lw=0)
                ax.plot(
                    part.year, part.q50, color=colour, lw=1.8, label=titles.get(scenario, scenario)
                )
            ax.set_title(unit_label(unit, lang, names), fontsize=10)
            ax.grid(alpha=0.3)
            ax.yaxis.set_major_formatter(value_formatter(indicator))
        axes[0].legend(fontsize=7, frameon=False)
        fig.suptitle(indicator_label(indicator, lang))
        fig.supxlabel(word("year", lang))
        fig.supylabel(axis_label(indicator, lang))
        fig.tight_layout()
    return fig
