import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from sim.charts.compare import county_multiples, difference_chart, paired_differences
from sim.charts.fan import fan_chart, quantiles
from sim.charts.scorecard import scorecard, scorecard_figure
from sim.charts.style import cjk_font_name, save, value_formatter
from sim.data import load_region
from sim.errors import ConfigError


@pytest.fixture(scope="module")
def results():
    """A small stored result: two scenarios, 21 seeds, 2023-2030, known spreads."""
    rows = []
    for scenario, shift in (("baseline", 0.0), ("decision_package", 0.01)):
        for seed in range(21):
            for year in range(2023, 2031):
                value = 0.60 + 0.008 * (year - 2023) + shift + 0.001 * (seed - 10)
                rows.append((scenario, seed, year, "city", "resident_urbanisation_rate", value))
    return pd.DataFrame(rows, columns=["scenario", "seed", "year", "unit", "indicator", "value"])


def test_quantiles_across_seeds(results):
    q = quantiles(results, "resident_urbanisation_rate", "city")
    row = q[(q.scenario == "baseline") & (q.year == 2027)].iloc[0]
    assert row.q50 == pytest.approx(0.632)
    assert row.q05 == pytest.approx(0.632 - 0.009) and row.q95 == pytest.approx(0.632 + 0.009)
    assert row.q25 == pytest.approx(0.627) and row.q75 == pytest.approx(0.637)
    with pytest.raises(KeyError, match="no 'income_ratio'"):
        quantiles(results, "income_ratio", "city")


def test_fan_chart_draws_bands_medians_targets_and_record(results, region):
    fig = fan_chart(
        results,
        "resident_urbanisation_rate",
        targets=region.targets,
        history=region.history,
        lang="en",
        names=region.unit_names(),
    )
    ax = fig.axes[0]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 4  # 90% then 50% band for each of two scenarios
    widths = [np.ptp(b.get_paths()[0].vertices[:, 1]) for b in bands]
    assert widths[0] > widths[1] and widths[2] > widths[3]  # the 90% band is drawn first
    medians = [ln for ln in ax.lines if ln.get_label().endswith("median")]
    assert len(medians) == 2
    assert medians[1].get_ydata()[4] == pytest.approx(0.642)  # decision_package, 2027
    targets = [c for c in ax.collections if c.get_label().startswith("target")]
    levels = sorted(float(seg[0][1]) for c in targets for seg in c.get_segments())
    assert levels == [0.63, 0.70]  # 2027 and 2035 targets from targets.csv
    record = [ln for ln in ax.lines if ln.get_label() == "record"]
    assert len(record) == 1 and 2015 in record[0].get_xdata()
    assert "Suining" in ax.get_title()


def test_chinese_labels_have_every_glyph(results, region, tmp_path):
    assert cjk_font_name() == "Noto Sans CJK SC"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = fan_chart(results, "resident_urbanisation_rate", targets=region.targets, lang="zh")
        save(fig, tmp_path / "fan", "zh")
    missing = [w for w in caught if "missing from font" in str(w.message)]
    assert not missing, [str(w.message) for w in missing]
    assert "常住人口城镇化率" in fig.axes[0].get_title()


def test_same_data_gives_byte_identical_files(results, tmp_path):
    paths = []
    for name in ("a", "b"):
        fig = fan_chart(results, "resident_urbanisation_rate", lang="en")
        paths.append(save(fig, tmp_path / name, "en"))
    for first, second in zip(paths[0], paths[1], strict=True):
        assert first.read_bytes() == second.read_bytes(), first.suffix


def test_formats_and_language_check():
    assert value_formatter("resident_urbanisation_rate")(0.6312, 0) == "63%"
    close = value_formatter("resident_urbanisation_rate")
    close.set_locs([0.389, 0.3895, 0.39, 0.3905])  # ticks 0.05 points apart
    assert [close(v) for v in (0.389, 0.3895)] == ["38.90%", "38.95%"]
    assert value_formatter("urban_income_per_capita")(50008.4, 0) == "50,008"
    with pytest.raises(ConfigError, match="lang='fr': allowed zh or en"):
        fan_chart(pd.DataFrame(), "x", lang="fr")


def test_paired_differences_use_the_same_seeds(results):
    diff = paired_differences(results, "resident_urbanisation_rate")
    assert set(diff.scenario) == {"decision_package"}
    assert np.allclose(diff["value"], 0.01)  # the fixture's shift, identical on every seed
    lonely = results.assign(seed=results.seed + 100 * (results.scenario != "baseline"))
    with pytest.raises(KeyError, match="shares no seed"):
        paired_differences(lonely, "resident_urbanisation_rate")
    swept = pd.concat([results, results[results.scenario == "baseline"]], ignore_index=True)
    with pytest.raises(KeyError, match=r"share a seed \(a parameter sweep\)"):
        paired_differences(swept, "resident_urbanisation_rate")


def test_difference_chart_draws_zero_line_and_bands(results):
    fig = difference_chart(results, "resident_urbanisation_rate", lang="zh")
    ax = fig.axes[0]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    medians = [ln for ln in ax.lines if ln.get_label().endswith("中位数")]
    assert len(medians) == 1 and np.allclose(medians[0].get_ydata(), 0.01)
    zero = [ln for ln in ax.lines if list(ln.get_ydata()) == [0.0, 0.0]]
    assert len(zero) == 1
    assert "与基准情景之差" in ax.get_title()


def test_county_multiples_share_axes(results):
    counties = [
        results.assign(unit=u) for u in ("chuanshan", "anju", "shehong", "pengxi", "daying")
    ]
    table = pd.concat([*counties, results.assign(unit="county_area")], ignore_index=True)
    fig = county_multiples(
        table, "resident_urbanisation_rate", lang="en", names=load_region().unit_names()
    )
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == [
        "Chuanshan District", "Anju District", "Shehong City", "Pengxi County", "Daying County",
        "County area",
    ]  # fmt: skip
    assert all(ax.get_ylim() == axes[0].get_ylim() for ax in axes)
    assert all(len(ax.lines) == 2 for ax in axes)  # a median per scenario in every panel


@pytest.fixture(scope="module")
def target_results():
    """Urbanisation crosses 63% in 2027 on seeds 0-2 and in 2028 on seed 3; the ratio
    reaches 1.94 in 2028 on every seed; the county area is always above 48.5%."""
    rows = []
    for seed in range(4):
        for year in range(2023, 2031):
            late = 1 if (seed == 3 and year == 2027) else 0
            urb = 0.60 + 0.0075 * (year - 2023) - 0.002 * late
            ratio = 2.04 - 0.02 * (year - 2023)
            rows += [
                ("baseline", seed, year, "city", "resident_urbanisation_rate", urb),
                ("baseline", seed, year, "county_area", "resident_urbanisation_rate", 0.50),
                ("baseline", seed, year, "city", "income_ratio", ratio),
            ]
    return pd.DataFrame(rows, columns=["scenario", "seed", "year", "unit", "indicator", "value"])


def test_scorecard_probabilities_and_first_years(target_results, region, tmp_path):
    card = scorecard(target_results, region.targets, 2027).set_index(["unit", "indicator"])
    urb = card.loc[("city", "resident_urbanisation_rate")]
    assert urb.p_met == 0.75 and urb.first_year_median == 2027
    area = card.loc[("county_area", "resident_urbanisation_rate")]
    assert area.p_met == 1.0 and area.first_year_median == 2024  # the base year is not counted
    ratio = card.loc[("city", "income_ratio")]
    assert ratio.p_met == 0.0 and ratio.first_year_median == 2028  # 2.04 - 0.10 = 1.94
    runs = target_results.assign(run_id="r" + target_results.seed.astype(str), seed=1)
    by_run = scorecard(runs, region.targets, 2027).set_index(["unit", "indicator"])
    assert by_run.loc[("city", "resident_urbanisation_rate")].p_met == 0.75  # runs, not seeds
    assert (by_run.runs == 4).all()
    fig = scorecard_figure(scorecard(target_results, region.targets), lang="zh")
    texts = [c.get_text().get_text() for c in fig.axes[0].tables[0].get_celld().values()]
    assert "75%" in texts and "2027" in texts and "情景" in texts
    save(fig, tmp_path / "scorecard", "zh")


def test_charts_from_results_stored_by_the_model(stored_table, region):
    """Fan, difference and county charts of a real sweep (2 scenarios x 3 seeds)."""
    fig = fan_chart(
        stored_table,
        "income_ratio",
        targets=region.targets,
        history=region.history,
        lang="en",
        scenario_titles={"baseline": "Baseline", "decision_package": "Decision"},
    )
    ax = fig.axes[0]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert [b.get_label() for b in bands] == [
        "Baseline 90% band", "Baseline 50% band", "Decision 90% band", "Decision 50% band",
    ]  # fmt: skip
    for outer, inner in ((bands[0], bands[1]), (bands[2], bands[3])):
        lo_out, hi_out = outer.get_paths()[0].get_extents().intervaly
        lo_in, hi_in = inner.get_paths()[0].get_extents().intervaly
        assert lo_out <= lo_in and hi_in <= hi_out  # the 50% band lies inside the 90% band
    q = quantiles(stored_table, "income_ratio", "city")
    median = next(ln for ln in ax.lines if ln.get_label() == "Decision median")
    expected = q[q.scenario == "decision_package"].q50.to_numpy()
    assert np.allclose(median.get_ydata(), expected)
    assert list(median.get_xdata()) == list(range(2023, 2036))
    targets = [c for c in ax.collections if c.get_label().startswith("target")]
    assert sorted(float(c.get_segments()[0][0][1]) for c in targets) == [1.80, 1.94]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Baseline", "Decision", "record", "target 2027", "target 2035",
    ]  # fmt: skip

    diff = difference_chart(stored_table, "resident_urbanisation_rate", lang="en")
    pairs = paired_differences(stored_table, "resident_urbanisation_rate")
    assert len(pairs) == 3 * 13  # three shared seeds, 2023-2035
    line = next(ln for ln in diff.axes[0].lines if ln.get_label().endswith("median"))
    expected = pairs.groupby("year").value.median().to_numpy()
    assert np.allclose(line.get_ydata(), expected)
    assert line.get_ydata()[0] == 0.0  # 2023 is the same population and policy

    counties = county_multiples(
        stored_table, "rural_income_per_capita", lang="zh", names=load_region().unit_names()
    )
    assert len(counties.axes) == 6 and all(len(a.lines) == 2 for a in counties.axes)
    assert counties.axes[0].get_title() == "船山区"
    formatted = counties.axes[0].yaxis.get_major_formatter()(25000.0, 0)
    assert formatted == "25,000"
