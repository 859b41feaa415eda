import base64
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ARTIFACTS, headless_chromium, ronghe, ronghe_here
from matplotlib.image import AxesImage
from matplotlib.patches import StepPatch

from sim.charts.flows import living_chart, living_matrix, pyramid_chart, pyramid_table
from sim.data import load_region

COUNTY_KEYS, OUTSIDE_KEYS = load_region().county_keys, load_region().outside_keys


SECTIONS = (
    "summary",
    "scorecard",
    "fans",
    "differences",
    "spending",
    "counties",
    "flows",
    "definitions",
    "provenance",
)


def one_seed(table, seed_rank=0):
    seed = sorted(table.seed.unique())[seed_rank]
    return table[table.seed == seed]


def test_where_registered_persons_live_from_stored_results(stored_table):
    table = one_seed(stored_table)
    v = table.set_index(["scenario", "year", "unit", "indicator"]).value
    matrix = living_matrix(table, "baseline", 2035)
    assert list(matrix.index) == list(COUNTY_KEYS)
    assert list(matrix.columns) == list(COUNTY_KEYS + OUTSIDE_KEYS)
    for county in COUNTY_KEYS:
        registered = v[("baseline", 2035, county, "registered_population")]
        assert matrix.loc[county].sum() == pytest.approx(registered)
    fig = living_chart(
        table,
        "decision_package",
        start=2023,
        end=2035,
        lang="en",
        names=load_region().unit_names(),
    )
    shares, change = fig.axes[0], fig.axes[1]
    grids = [ax.get_images()[0].get_array() for ax in (shares, change)]
    assert all(isinstance(ax.get_images()[0], AxesImage) for ax in (shares, change))
    assert grids[0].shape == grids[1].shape == (5, 9)
    assert np.allclose(np.asarray(grids[0]).sum(axis=1), 100.0)  # row percent
    assert np.allclose(np.asarray(grids[1]).sum(axis=1), 0.0, atol=1e-9)  # shares move
    assert len(shares.texts) == 45 and shares.texts[0].get_text() == f"{grids[0][0, 0]:.1f}%"
    assert change.texts[0].get_text() == f"{grids[1][0, 0]:+.1f}"  # percentage points
    later = living_matrix(table, "decision_package", 2035).loc["anju"]
    earlier = living_matrix(table, "decision_package", 2023).loc["anju"]
    expected = 100 * (later["chengdu"] / later.sum() - earlier["chengdu"] / earlier.sum())
    assert grids[1][1, 5] == pytest.approx(expected)  # Anju natives in Chengdu
    assert shares.get_yticklabels()[0].get_text() == "Chuanshan District"
    assert "2035" in shares.get_title() and "2023" in change.get_title()
    with pytest.raises(KeyError, match="no results of scenario 'nope'"):
        living_matrix(table, "nope", 2035)


def test_age_pyramid_from_stored_results(stored_table):
    table = one_seed(stored_table)
    v = table.set_index(["scenario", "year", "unit", "indicator"]).value
    pyramid = pyramid_table(table, "baseline", 2035)
    assert len(pyramid) == 18 and pyramid.index[-1] == "85+" and pyramid.index[0] == "0-4"
    rural = pyramid[["rural_male", "rural_female"]].to_numpy().sum()
    assert rural == pytest.approx(v[("baseline", 2035, "city", "rural_resident_population")])
    fig = pyramid_chart(table, "baseline", start=2023, end=2035, lang="zh")
    rural_ax, urban_ax = fig.axes
    assert [rural_ax.get_title(), urban_ax.get_title()] == ["乡村", "城镇"]
    for ax, area in ((rural_ax, "rural"), (urban_ax, "urban")):
        men, women = ax.containers  # 2035 bars: men to the left, women to the right
        assert len(men) == len(women) == 18
        assert all(bar.get_width() <= 0 for bar in men)
        assert all(bar.get_width() >= 0 for bar in women)
        assert -men[13].get_width() == pytest.approx(pyramid[f"{area}_male"].iloc[13])
        outlines = [p for p in ax.patches if isinstance(p, StepPatch)]
        assert len(outlines) == 2  # the 2023 outline of each sex
        assert outlines[1].get_data().values[13] == pytest.approx(
            pyramid_table(table, "baseline", 2023)[f"{area}_female"].iloc[13]
        )
    earlier = pyramid_table(table, "baseline", 2023)
    old_share = lambda p: p.iloc[12:].to_numpy().sum() / p.to_numpy().sum()  # noqa: E731
    assert old_share(pyramid[["rural_male", "rural_female"]]) > old_share(
        earlier[["rural_male", "rural_female"]]
    )  # the countryside ages


@pytest.fixture(scope="module")
def report_zh(stored_sweep):
    result = ronghe("report", str(stored_sweep), "--lang", "zh")
    assert result.returncode == 0, result.stderr
    return stored_sweep / "report-zh"


def test_report_of_a_sweep(report_zh, stored_sweep):
    page = (report_zh / "report.html").read_text(encoding="utf-8")
    positions = [page.index(f"id='{key}'") for key in SECTIONS]
    assert positions == sorted(positions)  # the scorecard first, provenance last
    assert "<html lang='zh-CN'>" in page and "目标达成情况" in page
    images = re.findall(r"<img alt='([^']*)' src='data:image/png;base64,([^']+)'>", page)
    pngs = sorted((report_zh / "figures").glob("*.png"))
    # 10 fans + 3 differences + 3 spending + 3 counties + 2 x 2; the scorecard is a table
    assert len(images) == len(pngs) == 23
    ids = re.findall(r"id='([^']+)'", page)
    assert len(ids) == len(set(ids)), "an id used twice"
    # The written summary: every target of both scenarios in 2027 and 2035, the cost, the
    # paired effects and the caveats.
    summary = page[page.index("id='summary'") : page.index("id='scorecard'")]
    assert len(re.findall(r"（20(27|35)年目标", summary)) == 2 * 3 * 2
    assert "政策杠杆支出" in summary and "比基准情景多" in summary
    assert "与基准情景配对比较" in summary and "每年每多支出 1 亿元" in summary
    assert "注意事项" in summary and "只反映随机种子之间的差异" in summary
    # The 2027 and the 2035 scorecards.
    scorecards = page[page.index("id='scorecard'") : page.index("id='fans'")]
    assert "2027年达标概率" in scorecards and "2035年达标概率" in scorecards
    assert (report_zh / "scorecard_2035.csv").is_file()
    for png in pngs:
        assert png.with_suffix(".svg").is_file()
        assert f"src='data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}'" in page
    assert not re.search(r"(src|href)=['\"]https?:", page)  # nothing from the network
    assert "<script" not in page
    card = pd.read_csv(report_zh / "scorecard.csv")
    assert len(card) == 6 and set(card.scenario) == {"baseline", "decision_package"}
    assert card.runs.eq(3).all() and card.p_met.between(0, 1).all()
    # Lever spending: charts and a table per scenario, city and counties, in 亿元.
    spending = page[page.index("id='spending'") : page.index("id='counties'")]
    assert "政策杠杆支出与区县预算" in spending and "亿元" in spending
    assert "较基准情景增加" in spending and "其他（可调剂）支出" in spending
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>((?:<td>[^<]*</td>){6})</tr>", spending)
    assert len(rows) == 4 + 3  # the baseline has no extra-spending row
    extra = [r for r in rows if r[1] == "较基准情景增加"]
    assert len(extra) == 1 and float(re.findall(r"<td>([^<]*)</td>", extra[0][2])[0]) > 0
    # Scenario definitions: every lever of the package with its clause.
    definitions = page[page.index("id='definitions'") : page.index("id='provenance'")]
    for text in ("(十四)", "settlement_ease", "(十六)", "land_transfer_friction", "rural_roads"):
        assert text in definitions, text
    assert "stalled → baseline" in definitions
    # Provenance: one reproducible command per run.
    provenance = page[page.index("id='provenance'") :]
    commands = re.findall(r"<code>(ronghe run [^<]*)</code>", provenance)
    assert len(commands) == 6 and all("seed=" in c and "scale=0.001" in c for c in commands)
    assert "-dirty" in provenance or re.search(r"<code>[0-9a-f]{40}</code>", provenance)


def test_the_report_carries_every_glyph_it_shows(report_zh):
    import io

    from fontTools.ttLib import TTFont

    page = (report_zh / "report.html").read_text(encoding="utf-8")
    font = re.search(r"url\(data:font/otf;base64,([^)]+)\) format\('opentype'\)", page)
    assert font, "no embedded font"
    data = base64.b64decode(font.group(1))
    assert len(data) < 200_000  # a cut of the 16 MB font
    cmap = TTFont(io.BytesIO(data)).getBestCmap()
    body = page[page.index("<body>") :]
    visible = re.sub(r"<[^>]*>", "", re.sub(r"data:image/png;base64,[^']+", "", body))
    missing = {ch for ch in visible if not ch.isspace() and ord(ch) not in cmap}
    assert not missing, sorted(missing)
    assert {ord("遂"), ord("宁"), ord("%")} <= set(cmap)


def test_the_same_results_give_the_same_report(report_zh, stored_sweep, tmp_path):
    again = ronghe_here(
        "report", str(stored_sweep), "--lang", "zh", "--out", str(tmp_path / "again")
    )
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "report.html").read_bytes() == (
        report_zh / "report.html"
    ).read_bytes()
    assert not list(stored_sweep.glob(".report-*"))  # the staging folder is gone


def test_report_never_replaces_what_is_not_a_report(stored_sweep, tmp_path):
    keep = tmp_path / "notes"
    keep.mkdir()
    (keep / "todo.txt").write_text("mine")
    result = ronghe_here("report", str(stored_sweep), "--out", str(keep))
    assert result.returncode == 2 and "holds files Ronghe did not write there" in result.stderr
    assert (keep / "todo.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["notes"]  # no staging folder left


def test_report_out_never_deletes_files_it_did_not_write(report_zh, stored_sweep, tmp_path):
    """Issue 10.2: a report.html of the user's own let --out delete the whole folder."""
    x = tmp_path / "x"
    x.mkdir()
    (x / "report.html").write_text("a")
    (x / "thesis.docx").write_text("b")
    result = ronghe_here("report", str(stored_sweep), "--out", str(x))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no report manifest" in result.stderr
    assert {p.name: p.read_text() for p in x.iterdir()} == {"report.html": "a", "thesis.docx": "b"}
    # An earlier report of Ronghe's (the zh report, moved) is replaced whole, until a file
    # of the user's is added.
    out = tmp_path / "ours"
    shutil.copytree(report_zh, out)
    replaced = ronghe_here("report", str(stored_sweep), "--out", str(out), "--lang=en")
    assert replaced.returncode == 0, replaced.stderr
    assert "<html lang='en'>" in (out / "report.html").read_text(encoding="utf-8")
    (out / "figures" / "my_edit.png").write_bytes(b"mine")
    again = ronghe_here("report", str(stored_sweep), "--out", str(out), "--lang=en")
    assert again.returncode == 2 and "figures/my_edit.png" in again.stderr
    assert (out / "figures" / "my_edit.png").read_bytes() == b"mine"


def test_report_of_a_single_run_in_english(stored_sweep, tmp_path):
    run = next(p.parent for p in sorted(stored_sweep.rglob("provenance.json")))
    single = tmp_path / "single"
    shutil.copytree(run, single)
    result = ronghe_here("report", str(single), "--lang=en")
    assert result.returncode == 0, result.stderr
    page = (single / "report-en" / "report.html").read_text(encoding="utf-8")
    assert "<html lang='en'>" in page
    assert "1 run (1 scenario, 1 seed each, at scale 0.001)" in page
    assert "One seed per scenario" in page
    assert "No scenario can be paired with the baseline" in page
    assert len(re.findall(r"<img ", page)) == 10 + 2 + 3 + 2  # no differences, no card image
    spending = page[page.index("id='spending'") : page.index("id='counties'")]
    assert "Lever spending and county budgets" in spending and "100 million yuan" in spending
    assert "Extra over the baseline" not in spending  # no baseline to compare with
    assert page.count("<code>ronghe run ") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report"], "ronghe report: the following arguments are required: RESULTS_DIR"),
        (["report", "/nonexistent/results"], "/nonexistent/results is not a folder"),
        (["report", "{dir}", "--lang", "fr"], "lang='fr': allowed zh or en"),
        (["report", "{dir}", "--colour"], "unrecognized arguments: --colour"),
        (["report", "{dir}"], "no runs under"),
    ],
)
def test_bad_report_input_fails_in_one_line(args, message, tmp_path):
    result = ronghe_here(*[a.format(dir=tmp_path) for a in args])
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing written


def test_the_report_opens_in_a_headless_browser(report_zh, artifact_dir):
    driver = headless_chromium()
    try:
        driver.get((report_zh / "report.html").as_uri())
        state = driver.execute_script("return document.readyState")
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])"
        )
        fonts = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "document.fonts.ready.then(() =>"
            " done(Array.from(document.fonts).map(f => [f.family, f.status])));"
        )
        console = driver.get_log("browser")
        screenshot = Path(artifact_dir) / "report_zh_screenshot.png"
        assert driver.save_screenshot(str(screenshot))
    finally:
        driver.quit()
    assert state == "complete"
    assert len(images) == 23
    broken = [alt for alt, complete, width in images if not complete or width == 0]
    assert not broken, broken
    errors = [entry for entry in console if entry.get("level") in ("SEVERE", "ERROR")]
    assert not errors, errors
    assert fonts == [["Ronghe CJK", "loaded"]]  # the embedded font, not a fallback
    assert screenshot.stat().st_size > 10_000
    ARTIFACTS.append(f"screenshot of the zh report in headless chromium: {screenshot}")


def test_the_chinese_report_is_in_chinese(report_zh):
    """Issue 14.5: descriptions, units and schedules of the zh report were in English."""
    page = (report_zh / "report.html").read_text(encoding="utf-8")
    body = page[page.index("<body>") :]
    body = re.sub(r"<code>.*?</code>", "", body, flags=re.S)  # commands, ids, paths
    text = re.sub(r"<[^>]+>", " ", body)
    text = re.sub(r"\(([a-z0-9]+_)*[a-z0-9]+\)", "", text)  # a lever's id after its name
    text = re.sub(r"\b[\w/]+\.(md|csv|yaml)\b", "", text)  # file names
    words = set(re.findall(r"[A-Za-z]{3,}", text))
    assert words <= {"PNG", "SVG", "git", "UTC", "Shapley"}, sorted(words)
