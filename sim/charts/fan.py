"""Fan charts: the median across seeds with nested 50% and 90% bands, per scenario.

Input is the long indicator table (``indicators.parquet`` of one run, or the collected
table of a sweep): columns ``scenario``, ``seed``, ``year``, ``unit``, ``indicator``,
``value``. Targets and the historical record come from the project's data.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.legend_handler import HandlerTuple

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

PALETTE = ("#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#7b4fa0", "#00798c", "#8d6a4f")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def quantiles(table: pd.DataFrame, indicator: str, unit: str) -> pd.DataFrame:
    """Per scenario and year: the 5, 25, 50, 75 and 95% quantiles across seeds."""
    rows = table[(table["indicator"] == indicator) & (table["unit"] == unit)]
    if rows.empty:
        raise KeyError(f"no {indicator!r} for unit {unit!r} in the results")
    q = rows.groupby(["scenario", "year"])["value"].quantile(list(QUANTILES)).unstack()
    q.columns = [f"q{round(100 * c):02d}" for c in q.columns]
    return q.reset_index()


def draw_fan(
    ax, part: pd.DataFrame, colour: str, name: str, lang: str, *, zorder=2, linestyle="-"
) -> tuple:
    """One scenario's 90% band, 50% band (drawn over it) and median on ``ax``.

    ``part`` holds the quantile columns of :func:`quantiles` for one scenario. Returns
    the three artists, to show as one legend entry.
    """
    drawn = []
    for low, high, alpha, band in (("q05", "q95", 0.15, "band90"), ("q25", "q75", 0.35, "band50")):
        drawn.append(
            ax.fill_between(
                part.year,
                part[low],
                part[high],
                color=colour,
                alpha=alpha,
                lw=0,
                label=f"{name} {word(band, lang)}",
                zorder=zorder - 1,
            )
        )
    (median,) = ax.plot(
        part.year,
        part.q50,
        color=colour,
        lw=2,
        linestyle=linestyle,
        label=f"{name} {word('median', lang)}",
        zorder=zorder,
    )
    return (*drawn, median)


def fan_legend(ax, entries: list[tuple[object, str]], lang: str) -> None:
    """Legend right of the plot: one entry per scenario (bands and median together)."""
    handles = [handle for handle, _ in entries]
    labels = [label for _, label in entries]
    ax.legend(
        handles,
        labels,
        handler_map={tuple: HandlerTuple(ndivide=None, pad=0)},
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
        title=f"{word('median', lang)} · {word('band50', lang)} · {word('band90', lang)}",
        title_fontsize=7,
    )


def _style(scenario: str) -> dict:
    """The baseline on top of every other line; the stalled counterfactual dotted.

    The stalled and baseline paths coincide for the first years, and the baseline is the
    one every comparison refers to.
    """
    if scenario == "baseline":
        return {"zorder": 4}
    if scenario == "stalled":
        return {"zorder": 2, "linestyle": ":"}
    return {"zorder": 3}


def fan_chart(
    table: pd.DataFrame,
    indicator: str,
    *,
    unit: str = "city",
    lang: str = "en",
    targets=(),
    history=(),
    scenario_titles: dict[str, str] | None = None,
    names: UnitNames | None = None,
):
    """Draw one indicator's fan chart; return the figure.

    Args:
        table: Long indicator table of one or more runs.
        indicator: Indicator to draw.
        unit: ``city``, ``county_area`` or a county.
        lang: ``zh`` or ``en``.
        targets: :class:`~sim.data.Target` objects; those of this unit and indicator are
            drawn as dashed lines from the start year to their year, marked at the year.
        history: Rows of the historical record (dicts with unit, indicator, year, value).
        scenario_titles: Display name per scenario (defaults to the id).
        names: The region's unit names (``RegionData.unit_names``); keys without them.
    """
    check_lang(lang)
    q = quantiles(table, indicator, unit)
    titles = scenario_titles or {}
    with chart_style(lang):
        fig = new_figure(10, 4.8)
        ax = fig.subplots()
        entries = []
        for k, (scenario, part) in enumerate(q.groupby("scenario", sort=False)):
            name = titles.get(scenario, scenario)
            fan = draw_fan(ax, part, PALETTE[k % len(PALETTE)], name, lang, **_style(scenario))
            entries.append((fan, name))
        record = [h for h in history if h["unit"] == unit and h["indicator"] == indicator]
        if record:
            (points,) = ax.plot(
                [h["year"] for h in record],
                [h["value"] for h in record],
                "o",
                color="black",
                ms=4,
                label=word("record", lang),
                zorder=5,
            )
            entries.append((points, word("record", lang)))
        start = int(q.year.min())
        for t in targets:
            if t.unit != unit or t.indicator != indicator:
                continue
            line = ax.hlines(
                t.value,
                start,
                t.year,
                colors="#444444",
                linestyles="--",
                lw=1.2,
                label=f"{word('target', lang)} {t.year}",
            )
            (mark,) = ax.plot([t.year], [t.value], marker="D", color="#444444", ms=6)
            entries.append(((line, mark), f"{word('target', lang)} {t.year}"))
            # Left of the marker: a target in the last year sits on the axis' right edge.
            ax.annotate(
                f"{t.year}",
                (t.year, t.value),
                textcoords="offset points",
                xytext=(-5, 6),
                ha="right",
                fontsize=9,
                color="#444444",
            )
        ax.set_title(f"{unit_label(unit, lang, names)} · {indicator_label(indicator, lang)}")
        ax.set_xlabel(word("year", lang))
        ax.set_ylabel(axis_label(indicator, lang))
        ax.yaxis.set_major_formatter(value_formatter(indicator))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        fan_legend(ax, entries, lang)
        fig.tight_layout()
    return fig
