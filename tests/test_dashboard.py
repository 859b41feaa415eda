"""The dashboard (sim/dashboard/): lever edits, scenario files, paired runs, the web page.

The browser test starts ``ronghe dashboard``'s server in a subprocess, moves a lever
slider in headless Chromium, runs, and checks that the scorecard's lever cost moved by
what the lever costs while the paired baseline stayed put.
"""

from __future__ import annotations

import ast
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ARTIFACTS, headless_chromium

pytest.importorskip("solara")

from sim.dashboard.jobs import (
    BASELINE,
    CUSTOM,
    RunRequest,
    override_value,
    run_comparison,
    score_rows,
    write_report,
)
from sim.dashboard.plan import (
    LeverEdit,
    ScenarioExistsError,
    levers_mapping,
    save_scenario,
    slider_factor,
    slider_step,
)
from sim.dashboard.server import main, parse_arguments
from sim.errors import ConfigError, ScenarioError
from sim.levers import LEVERS
from sim.paths import PACKAGE_DIR, scenarios_folder
from sim.scenario import load_scenario

TINY = {"scale": 0.002, "end_year": 2027}


def test_edits_become_the_schedules_a_scenario_file_writes():
    edits = {
        "rural_roads": LeverEdit("rural_roads", 5e8, kind="step", start=2025),
        "settlement_ease": LeverEdit("settlement_ease", 1.0),
        "park_investment": LeverEdit("park_investment", 0.01, kind="ramp").with_county(
            "shehong", 0.02
        ),
    }
    mapping = levers_mapping(edits)
    assert list(mapping) == ["settlement_ease", "park_investment", "rural_roads"]  # catalogue
    assert mapping["settlement_ease"] == 1.0
    assert mapping["rural_roads"] == {"step": 2025, "to": 5e8}
    assert mapping["park_investment"]["shehong"] == {"ramp": [2024, 2027], "to": 0.02}
    assert mapping["park_investment"]["anju"] == {"ramp": [2024, 2027], "to": 0.01}
    assert (
        LeverEdit("settlement_ease", 0.5).with_value(0.1 + 0.2).value == 0.3
    )  # no float noise in files
    # Money levers move in million yuan, others by about a hundredth of their range.
    assert slider_factor(LEVERS["rural_roads"]) == 1e6 and slider_step(LEVERS["rural_roads"]) == 10
    assert slider_step(LEVERS["settlement_ease"]) == 0.01


def test_a_saved_scenario_extends_the_picked_one_and_is_never_overwritten_unasked(tmp_path):
    edits = {"rural_roads": LeverEdit("rural_roads", 5e8, kind="ramp", start=2024, end=2026)}
    texts = {"title_zh": "我的情景", "title_en": "Mine: roads", "description": "More roads."}
    path = save_scenario(tmp_path, "mine", parent="decision_package", edits=edits, **texts)
    assert path == tmp_path / "mine.yaml"
    mine = load_scenario("mine", scenarios_folder(str(tmp_path)))
    assert mine.chain[-2:] == ("decision_package", "mine")
    assert (mine.title_zh, mine.title_en) == ("我的情景", "Mine: roads")
    assert mine.levers["rural_roads"] == {"ramp": [2024, 2026], "to": 5e8}
    assert (
        mine.levers["settlement_ease"]
        == load_scenario("decision_package", scenarios_folder(None)).levers["settlement_ease"]
    )  # the rest comes from the picked scenario
    written = path.read_bytes()
    with pytest.raises(ScenarioExistsError):
        save_scenario(tmp_path, "mine", parent="baseline", edits={}, **texts)
    assert path.read_bytes() == written
    save_scenario(tmp_path, "mine", parent="baseline", edits={}, overwrite=True, **texts)
    assert load_scenario("mine", scenarios_folder(str(tmp_path))).chain[-2:] == ("baseline", "mine")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.yaml"]  # no temporary left
    with pytest.raises(ScenarioError, match="library scenario"):
        save_scenario(tmp_path, "baseline", parent="baseline", edits={}, **texts)
    with pytest.raises(ScenarioError, match="letters, digits"):
        save_scenario(tmp_path, "../evil", parent="baseline", edits={}, **texts)
    late = {"rural_roads": LeverEdit("rural_roads", 5e8, kind="step", start=2051)}
    with pytest.raises(ScenarioError, match="year outside"):
        save_scenario(tmp_path, "late", parent="baseline", edits=late, **texts)
    assert not (tmp_path / "late.yaml").exists()


def test_a_paired_run_shows_the_lever_cost_and_writes_the_full_report(tmp_path):
    levers = {"rural_roads": 1e9}
    result = run_comparison(RunRequest("baseline", levers, **TINY))
    base, mine = score_rows(result, "en")
    assert (base.key, mine.key) == (BASELINE, CUSTOM)
    assert base.extra is None
    # One billion yuan a year in each of the five counties, at wages grown since 2023.
    assert 50e8 < mine.extra < 70e8
    assert mine.spending - base.spending == pytest.approx(mine.extra)
    again = run_comparison(RunRequest("baseline", {}, **TINY))
    assert again.runs[BASELINE] is result.runs[BASELINE]  # the baseline is kept, not rerun
    assert score_rows(again, "en")[1].extra == 0.0
    report = write_report(result, tmp_path, "zh")
    assert report.name == "report.html" and report.stat().st_size > 100_000
    folder = report.parent.parent
    assert sorted(p.name for p in folder.iterdir()) == [BASELINE, CUSTOM, "report-zh"]
    page = report.read_text(encoding="utf-8")
    assert "ronghe run scenario=baseline seed=1 scale=0.002 end_year=2027 levers.rural_roads=" in (
        page
    )
    # The run folders carry what `ronghe run` records: the report's caveat knows the scale.
    assert "每个智能体代表约 500 人" in page


def test_bad_settings_and_edits_fail_in_one_line_before_any_run():
    late = {"rural_roads": {"step": 2030, "to": 1e8}}
    with pytest.raises(ScenarioError, match="year outside the simulated period"):
        run_comparison(RunRequest("baseline", late, **TINY))
    with pytest.raises(ConfigError, match="scale=2"):
        run_comparison(RunRequest("baseline", {}, scale=2, end_year=2027))
    with pytest.raises(ScenarioError, match="unknown lever"):
        run_comparison(RunRequest("baseline", {"roads": 1.0}, **TINY))


def test_recorded_overrides_parse_as_hydra_overrides():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    value = {"shehong": {"ramp": [2024, 2027], "to": 0.02}, "anju": 0.01}
    request = RunRequest("decision_package", {"park_investment": value}, draws=2)
    overrides = request.overrides(request.scenario, request.levers)
    parsed = OverridesParser.create().parse_overrides(overrides)
    assert parsed[-1].value() == value
    assert override_value(5e8) == "500000000.0"


def test_options_fail_in_one_line_and_help_answers():
    assert parse_arguments(["--help"]) is None
    assert main(["--help"]) == 0
    args = parse_arguments(["--port", "9000", "--lang", "en"])
    assert (args.host, args.port, args.lang) == ("127.0.0.1", 9000, "en")
    for bad, message in (
        (["--port", "0"], "allowed 1 to 65535"),
        (["--lang", "fr"], "invalid choice"),
        (["--colour"], "unrecognized arguments"),
    ):
        with pytest.raises(ConfigError, match=message) as raised:
            parse_arguments(bad)
        assert "\n" not in str(raised.value)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConfigError, match=r"cannot listen on 127\.0\.0\.1"):
            main(["--port", str(taken.getsockname()[1])])


def test_nothing_in_sim_imports_the_dashboard_but_the_command():
    importers = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if "dashboard" in path.relative_to(PACKAGE_DIR).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            if any(n == "sim.dashboard" or n.startswith("sim.dashboard.") for n in names):
                importers.append(path.relative_to(PACKAGE_DIR).as_posix())
    assert set(importers) <= {"cli.py"}  # `ronghe dashboard`, inside its function


# ---------------------------------------------------------------------------- browser


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dashboard_url(tmp_path):
    """``ronghe dashboard`` serving in a subprocess; stopped by its pid afterwards."""
    port = free_port()
    code = (
        "import sys; from sim.dashboard import main; "
        f"sys.exit(main(['--port', '{port}', '--lang', 'zh', '--outputs', 'outputs']))"
    )
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-c", code], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"the server stopped: {(tmp_path / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the server did not answer within 60 s")
            time.sleep(0.3)
        yield url
    finally:
        if server.poll() is None:
            os.kill(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(server.pid, signal.SIGKILL)
                server.wait()
        log.close()


def scorecard_cells(driver, run: int) -> dict[str, dict[str, str]]:
    """The scorecard of the ``run``-th run: scenario key to data-cell to text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    table = WebDriverWait(driver, 180).until(
        ec.presence_of_element_located(
            (By.CSS_SELECTOR, f"table.ronghe-scorecard[data-run='{run}']")
        )
    )
    return {
        row.get_attribute("data-scenario"): {
            cell.get_attribute("data-cell"): cell.text
            for cell in row.find_elements(By.CSS_SELECTOR, "td")
        }
        for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    }


def test_moving_a_lever_and_running_changes_the_scorecard_in_a_browser(dashboard_url, artifact_dir):
    driver = headless_chromium(1400, 1600)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 60)
    screenshot = Path(artifact_dir) / "dashboard_screenshot.png"
    try:
        driver.get(dashboard_url)
        run = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".ronghe-run")))
        scale = driver.find_element(By.CSS_SELECTOR, ".ronghe-scale input")
        scale.send_keys(Keys.CONTROL, "a")
        scale.send_keys("0.002", Keys.ENTER)
        wait.until(lambda d: scale.get_attribute("value") == "0.002")
        run.click()
        before = scorecard_cells(driver, 1)

        thumb = driver.find_element(By.CSS_SELECTOR, ".ronghe-lever-rural_roads [role='slider']")
        driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", thumb
        )
        thumb.send_keys(Keys.END)  # 1,000 million yuan a year in every county
        wait.until(
            ec.presence_of_element_located(
                (By.CSS_SELECTOR, ".ronghe-lever-rural_roads.ronghe-edited")
            )
        )
        # The edit re-renders the lever, so the slider is found again (the old one is stale).
        thumb = driver.find_element(By.CSS_SELECTOR, ".ronghe-lever-rural_roads [role='slider']")
        assert thumb.get_attribute("aria-valuenow") == "1000"
        driver.find_element(By.CSS_SELECTOR, ".ronghe-run").click()
        after = scorecard_cells(driver, 2)

        for button in driver.find_elements(By.CSS_SELECTOR, ".ronghe-lang button"):
            if button.text.strip().lower() == "english":
                button.click()
        wait.until(
            lambda d: (
                "P(met in 2027)" in d.find_element(By.CSS_SELECTOR, "table.ronghe-scorecard").text
            )
        )
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".ronghe-fans img")) == 4)
        top = driver.find_element(By.CSS_SELECTOR, ".ronghe-run")
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", top)
        time.sleep(0.5)
        assert driver.save_screenshot(str(screenshot))
        console = driver.get_log("browser")
    finally:
        driver.quit()

    def yi(text: str) -> float:  # 亿元 as shown
        return float(text.replace(",", "").replace("+", ""))

    # Before the move: the picked scenario is the baseline, so no extra cost.
    assert before[CUSTOM]["spending"] == before[BASELINE]["spending"]
    assert before[CUSTOM]["extra"] == "+0.00"
    # After: the baseline (same seed) is unchanged; the edited scenario pays for the roads.
    assert after[BASELINE] == before[BASELINE]
    extra = yi(after[CUSTOM]["extra"])
    assert 50 < extra < 70  # 5 counties x 10 亿元, at wages grown since 2023
    assert yi(after[CUSTOM]["spending"]) - yi(before[CUSTOM]["spending"]) == pytest.approx(
        extra, abs=0.02
    )
    assert "1" in after[CUSTOM]["title"] and after[CUSTOM]["title"] != before[CUSTOM]["title"]
    errors = [e for e in console if e.get("level") == "SEVERE"]
    assert not errors, errors
    assert screenshot.stat().st_size > 20_000
    print(f"dashboard screenshot: {screenshot}")
    ARTIFACTS.append(f"screenshot of the dashboard in headless chromium: {screenshot}")
