"""Shared fixtures: region data, the place layout and a small-model runner."""

from __future__ import annotations

import numpy as np
import pytest

from sim.data import load_region
from sim.model import RongheModel, RunSpec
from sim.params import resolve_params
from sim.population import synthesize
from sim.schedules import default_plan
from sim.world import build_world


def pytest_configure(config):
    """Fill numba's cache once, before pytest-xdist's workers start.

    Every test process loads the compiled kernels from the cache; on a fresh checkout
    each would otherwise compile them itself, at the same time. Only the controlling
    process (or a run without xdist) does this.
    """
    # One BLAS thread per test process (the calibration's Gaussian processes): the
    # processes share the cores, as the numba kernels do with one thread each.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if hasattr(config, "workerinput"):
        return
    import numba

    from sim import threads
    from sim.levers import default_policy

    threads.prepare()
    region = load_region()
    world = build_world(region)
    params = resolve_params(region)
    policy = default_policy()
    before = numba.get_num_threads()
    try:
        for count in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(count)  # one thread: serial forms; more: parallel forms
            population = synthesize(region, world, params, 0.0005, 1)
            spec = RunSpec(seed=1, scale=0.0005, end_year=2024)
            RongheModel(region, world, params, population, spec, lambda t: policy).run()
    finally:
        numba.set_num_threads(before)


@pytest.fixture(scope="session", autouse=True)
def one_numba_thread():
    """Tests run kernels on one thread; the thread tests set their own counts.

    Tiny test populations gain nothing from a second thread and lose much when the
    machine is busy (docs/architecture.md). The layer is chosen first, as in a run.
    """
    import numba

    from sim import threads

    threads.prepare()
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


@pytest.fixture(scope="session")
def region():
    return load_region()


@pytest.fixture(scope="session")
def world(region):
    return build_world(region)


@pytest.fixture(scope="session")
def params(region):
    return resolve_params(region)


@pytest.fixture(scope="session")
def make_model(region, world):
    """Build a model: ``make_model(scale=..., seed=..., backend=..., end_year=..., **params)``."""

    def build(
        *,
        scale=0.001,
        seed=1,
        backend="numba",
        end_year=2025,
        steps_per_year=4,
        check_invariants=True,
        plan=None,
        **overrides,
    ):
        params = resolve_params(region, overrides)
        population = synthesize(region, world, params, scale, seed)
        plan = plan or default_plan()
        spec = RunSpec(
            seed=seed,
            scale=scale,
            backend=backend,
            end_year=end_year,
            steps_per_year=steps_per_year,
            check_invariants=check_invariants,
        )
        return RongheModel(region, world, params, population, spec, plan.policy_at)

    return build


def tallies_equal(a, b) -> bool:
    """True if two lists of year tallies hold identical numbers."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if set(x.arrays) != set(y.arrays):
            return False
        for name in [*(k for k in vars(x) if k != "arrays"), *x.arrays]:
            u, v = getattr(x, name), getattr(y, name)
            if isinstance(u, np.ndarray):
                if not np.array_equal(u, v):
                    return False
            elif u != v:
                return False
    return True


@pytest.fixture(scope="session")
def stored_sweep(tmp_path_factory):
    """Results stored by the model: baseline and decision_package, 3 seeds, 2023-2035.

    Made by ``ronghe run -m`` at scale 0.001 (about 3,600 agents), through the CLI's
    ``main`` in this process.
    """

    folder = tmp_path_factory.mktemp("stored") / "sweep"
    done = ronghe_here(
        "run",
        "-m",
        "scenario=baseline,decision_package",
        "seeds=3",
        "scale=0.001",
        "end_year=2035",
        "progress=off",
        f"hydra.sweep.dir={folder}",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


@pytest.fixture(scope="session")
def stored_table(stored_sweep):
    """The collected indicator table of :func:`stored_sweep`."""
    from sim.sweeps import collect

    table, runs = collect(stored_sweep)
    assert (runs.status == "complete").sum() == 6
    return table


def ronghe(*args, timeout=600, **kwargs):
    """Run the ``ronghe`` command line as a user would; return the finished process."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def ronghe_here(*args):
    """Run ``ronghe`` through the CLI's ``main`` in this process (no interpreter start).

    For the commands whose behaviour a separate process would not change: it returns what
    :func:`ronghe` returns (exit code, standard output and error).
    """
    import contextlib
    import io
    import subprocess

    from sim.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # a run that fails exits from inside Hydra's task
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


ARTIFACTS: list[str] = []


@pytest.fixture(scope="session")
def artifact_dir():
    """Folder for files a reader of the test output should look at (listed at the end).

    ``RONGHE_ARTIFACTS`` if set, else ``outputs/test-artifacts`` in the project.
    """
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    folder = Path(os.environ.get("RONGHE_ARTIFACTS") or root / "outputs" / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pytest_terminal_summary(terminalreporter):
    """List the artifacts the tests saved."""
    if ARTIFACTS:
        terminalreporter.section("artifacts")
        for line in ARTIFACTS:
            terminalreporter.write_line(line)


@pytest.fixture
def data_copy(tmp_path):
    """A copy of the model's data files (without the calibration's) to damage."""
    import shutil

    from sim.data import DATA_FILES, DEFAULT_DATA_DIR

    folder = tmp_path / "data"
    folder.mkdir()
    for name in DATA_FILES:
        shutil.copy(DEFAULT_DATA_DIR / name, folder / name)
    return folder


@pytest.fixture
def calibration_copy(data_copy):
    """:func:`data_copy` with the calibration's files (observations and priors)."""
    import shutil

    from sim.data import CALIBRATION_FILES, DEFAULT_DATA_DIR

    for name in CALIBRATION_FILES:
        shutil.copy(DEFAULT_DATA_DIR / name, data_copy / name)
    return data_copy


def headless_chromium(width: int = 1280, height: int = 1600):
    """A WebDriver on Debian's headless chromium, with the browser's console log kept.

    Skips without chromium and chromedriver, unless ``RONGHE_REQUIRE_BROWSER=1`` (CI),
    which makes their absence a failure. The caller quits the driver.
    """
    import os
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not (chromium and chromedriver):
        if os.environ.get("RONGHE_REQUIRE_BROWSER") == "1":
            pytest.fail("RONGHE_REQUIRE_BROWSER=1 but chromium or chromedriver is missing")
        pytest.skip("no chromium + chromedriver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(chromedriver), options=options)


def assert_marginals_fit(fit) -> None:
    """A synthetic population matches its region's 2023 marginals (``fit_report``).

    Totals are filled by quota: within a few households of the target at 1:100 or 1:200
    (1%); shares within half a point; the household size within 3%.
    """
    counts = fit[
        ~fit.marginal.str.startswith(("registered_share", "registered_household", "sex_ratio"))
    ]
    assert (counts.relative_error.abs() < 0.01).all(), counts.sort_values("relative_error")
    shares = fit[fit.marginal.str.startswith("registered_share")]
    assert ((shares.synthetic - shares.target).abs() < 0.005).all(), shares
    size = fit[fit.marginal == "registered_household_size"].iloc[0]
    assert abs(size.relative_error) < 0.03
