import os

import pytest
from conftest import ronghe_here
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import ConfigError
from sim.paths import (
    ENGINE_ROOT,
    MAX_RUN_FOLDER_NAME,
    PACKAGE_DIR,
    check_output_folder,
    module_closure,
    run_folder_name,
    scenarios_folder,
)
from sim.sweeps import collect

overrides = st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=600)


@settings(max_examples=300)
@given(text=overrides)
def test_a_run_folder_name_is_one_safe_path_component(text):
    name = run_folder_name(text)
    assert "/" not in name and "\\" not in name and "\0" not in name
    assert name not in (".", "..") and not name.startswith(".")
    assert len(os.fsencode(name)) <= MAX_RUN_FOLDER_NAME
    assert name == "" or name.isprintable()


@given(a=overrides, b=overrides)
def test_different_overrides_give_different_folders(a, b):
    if a != b:
        assert run_folder_name(a) != run_folder_name(b)


def test_readable_names_stay_readable():
    assert run_folder_name("scenario=land_reform,seed=7") == "scenario=land_reform,seed=7"
    assert run_folder_name("region=../../x") == "region=..%2F..%2Fx"
    assert run_folder_name("a=100%") == "a=100%25"
    long = run_folder_name("levers.rural_roads=" + "9" * 400)
    assert long.startswith("levers.rural_roads=999") and "~" in long


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t: t / ("x" * 256), "is longer than the 255 bytes"),
        (lambda t: t / "f" / "run", "is not a folder"),
    ],
)
def test_output_folders_are_checked_before_any_run(tmp_path, make, message):
    (tmp_path / "f").write_text("a file")
    with pytest.raises(ConfigError, match=message):
        check_output_folder("hydra.run.dir", make(tmp_path))
    check_output_folder("hydra.run.dir", tmp_path / "new" / "deeper")  # can be made
    assert not (tmp_path / "new").exists()  # checking makes nothing


def test_a_scenarios_dir_too_long_for_the_filesystem_is_one_line():
    with pytest.raises(ConfigError, match="not a folder"):
        scenarios_folder("/tmp/" + "s" * 300)


def test_a_sweep_over_a_long_value_keeps_its_run_folder_short(tmp_path):
    years = ",".join(f"{y}: {1.0e7 + y}" for y in range(2024, 2036))
    result = ronghe_here(
        "run",
        "-m",
        f"levers.rural_roads={{per_year: {{{years}}}}}",
        "scale=0.0005",
        "end_year=2035",
        "progress=off",
        f"hydra.sweep.dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(os.fsencode(run.name)) <= MAX_RUN_FOLDER_NAME and "~" in run.name
    _, runs = collect(tmp_path)
    assert runs.status.tolist() == ["complete"]


def test_the_engine_is_what_the_calibration_imports_even_inside_functions(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "root.py").write_text("from pkg.sub import leaf\n\ndef f():\n    import pkg.late\n")
    (package / "sub" / "__init__.py").write_text("from . import helper\n")
    (package / "sub" / "leaf.py").write_text("import numpy\n")
    (package / "sub" / "helper.py").write_text("")
    (package / "late.py").write_text("from .sub.leaf import x\n")
    (package / "report.py").write_text("import pkg.root\n")  # imports the engine, not in it
    names = {p.relative_to(package).as_posix() for p in module_closure(package, "pkg.root")}
    assert names == {
        "__init__.py",
        "root.py",
        "late.py",
        "sub/__init__.py",
        "sub/leaf.py",
        "sub/helper.py",
    }


def test_editing_the_report_or_the_command_line_leaves_the_engine_digest():
    names = {p.name for p in module_closure(PACKAGE_DIR, ENGINE_ROOT)}
    assert {"model.py", "kernels.py", "population.py", "indicators.py", "moments.py"} <= names
    assert not {"report.py", "cli.py", "runner.py", "posterior.py"} & names
    assert not any(p.parent.name == "charts" for p in module_closure(PACKAGE_DIR, ENGINE_ROOT))
