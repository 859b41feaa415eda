"""Where people go: home county by where they live, and rural and urban age pyramids.

Both read the stock rows of the indicator table: ``registered_living_in_<destination>``
per home county, and ``residents_<urban|rural>_<male|female>_<ages>`` for the city.
Values are medians across seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.charts.style import UnitNames, chart_style, check_lang, new_figure, unit_label, word
from sim.indicators import living_in_indicator, pyramid_indicator
from sim.tallies import PYRAMID_BANDS

LIVING_IN = "registered_living_in_"


def _medians(table: pd.DataFrame, scenario: str, year: int) -> pd.Series:
    rows = table[(table["scenario"] == scenario) & (table["year"] == year)]
    if rows.empty:
        raise KeyError(f"no results of scenario {scenario!r} in {year}")
    return rows.groupby(["unit", "indicator"])["value"].median()


def living_matrix(table: pd.DataFrame, scenario: str, year: int) -> pd.DataFrame:
    """Registered persons of each home county (rows) by where they live (columns).

    Raises:
        KeyError: The results hold no such rows (made before the tally existed).
    """
    v = _medians(table, scenario, year)
    rows = table[table["indicator"].str.startswith(LIVING_IN)]
    # Destinations and home counties in the order the indicator table lists them.
    destinations = list(dict.fromkeys(rows["indicator"].str.removeprefix(LIVING_IN)))
    homes = [u for u in dict.fromkeys(rows["unit"]) if u != "city"]
    try:
        cells = [[v[(home, living_in_indicator(d))] for d in destinations] for home in homes]
    except KeyError as exc:
        raise KeyError(f"no 'registered_living_in_*' rows for {scenario!r} in {year}") from exc
    if not cells:
        raise KeyError(f"no 'registered_living_in_*' rows for {scenario!r} in {year}")
    return pd.DataFrame(cells, index=homes, columns=destinations)


def living_chart(
    table: pd.DataFrame,
    scenario: str,
    *,
    start: int,
    end: int,
    lang: str = "en",
    names: UnitNames | None = None,
):
    """Heat maps of where each home county's registered persons live.

    Left: row shares in ``end``; right: their change in percentage points since ``start``.
    """
    check_lang(lang)
    later = living_matrix(table, scenario, end)
    shares = later.div(later.sum(axis=1), axis=0)
    earlier = living_matrix(table, scenario, start)
    change = 100 * (shares - earlier.div(earlier.sum(axis=1), axis=0))
    with chart_style(lang):
        fig = new_figure(12, 4.6)
        axes = fig.subplots(1, 2)
        limit = max(float(np.abs(change.to_numpy()).max()), 0.1)
        panels = (
            (
                axes[0],
                100 * shares,
                "Blues",
                0.0,
                100.0,
                f"{word('living_share', lang)} {end}",
                "{:.1f}%",
                "{x:.0f}%",
            ),
            (
                axes[1],
                change,
                "RdBu_r",
                -limit,
                limit,
                word("change_pp", lang).format(y=start),
                "{:+.1f}",
                "{x:+.0f}",
            ),
        )
        for ax, values, cmap, low, high, title, cell_format, bar_format in panels:
            grid = values.to_numpy()
            image = ax.imshow(grid, cmap=cmap, vmin=low, vmax=high, aspect="auto")
            for (i, j), cell in np.ndenumerate(grid):
                dark = cell > 0.6 * high if low == 0 else abs(cell) > 0.6 * high
                ax.text(
                    j,
                    i,
                    cell_format.format(cell),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
            ax.set_xticks(range(len(later.columns)))
            ax.set_xticklabels(
                [unit_label(d, lang, names) for d in later.columns],
                rotation=40,
                ha="right",
                fontsize=8,
            )
            ax.set_yticks(range(len(later.index)))
            ax.set_yticklabels([unit_label(c, lang, names) for c in later.index], fontsize=8)
            ax.set_xlabel(word("destination", lang))
            ax.set_title(title, fontsize=10)
            fig.colorbar(image, ax=ax, shrink=0.8, format=bar_format)
        axes[0].set_ylabel(word("home", lang))
        fig.tight_layout()
    return fig


def pyramid_table(table: pd.DataFrame, scenario: str, year: int) -> pd.DataFrame:
    """Residents by age band (rows, youngest first) and area × sex (columns)."""
    v = _medians(table, scenario, year)
    columns = {}
    for urban in (False, True):
        for female in (False, True):
            name = f"{'urban' if urban else 'rural'}_{'female' if female else 'male'}"
            try:
                columns[name] = [
                    v[("city", pyramid_indicator(urban, female, b))] for b in range(PYRAMID_BANDS)
                ]
            except KeyError as exc:
                raise KeyError(f"no 'residents_*' age rows for {scenario!r} in {year}") from exc
    labels = [f"{5 * b}-{5 * b + 4}" for b in range(PYRAMID_BANDS - 1)]
    return pd.DataFrame(columns, index=[*labels, f"{5 * (PYRAMID_BANDS - 1)}+"])


def pyramid_chart(
    table: pd.DataFrame,
    scenario: str,
    *,
    start: int,
    end: int,
    lang: str = "en",
    names: UnitNames | None = None,
):
    """Rural and urban age pyramids side by side: bars for ``end``, outlines for ``start``.

    Men are drawn to the left (negative), women to the right, in persons.
    """
    check_lang(lang)
    later = pyramid_table(table, scenario, end)
    earlier = pyramid_table(table, scenario, start)
    y = np.arange(PYRAMID_BANDS)
    with chart_style(lang):
        fig = new_figure(11, 5.2)
        axes = fig.subplots(1, 2, sharex=True, sharey=True)
        for ax, area, colour in zip(axes, ("rural", "urban"), ("#2e933c", "#1b6ca8"), strict=True):
            for sex, sign, alpha in (("male", -1, 0.55), ("female", 1, 0.85)):
                column = f"{area}_{sex}"
                ax.barh(
                    y,
                    sign * later[column].to_numpy(),
                    height=0.85,
                    color=colour,
                    alpha=alpha,
                    label=f"{word(sex, lang)} {end}",
                )
                ax.stairs(
                    sign * earlier[column].to_numpy(),
                    np.arange(PYRAMID_BANDS + 1) - 0.5,
                    orientation="horizontal",
                    color="black",
                    lw=1,
                    label=str(start) if sex == "male" else "_nolegend_",
                )
            ax.axvline(0, color="#444444", lw=0.8)
            ax.set_title(word(area, lang))
            ax.grid(axis="x", alpha=0.3)
            ax.legend(fontsize=7, frameon=False, loc="upper right")
        axes[0].set_yticks(y)
        axes[0].set_yticklabels(later.index, fontsize=7)
        axes[0].set_ylabel(word("age", lang))
        axes[0].xaxis.set_major_formatter(lambda v, _: f"{abs(v):,.0f}")
        fig.suptitle(f"{unit_label('city', lang, names)} · {word('pyramid', lang)}")
        fig.supxlabel(f"{word('male', lang)} ← {word('persons', lang)} → {word('female', lang)}")
        fig.tight_layout()
    return fig
