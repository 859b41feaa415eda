"""Run folders: what a run writes, what it never touches, and what a failure leaves.

Each test reproduces one of the losses of issue 10 as a user would meet it, through the
command line.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ronghe, ronghe_here

from sim.errors import ConfigError
from sim.paths import run_folder_name, source_digest
from sim.report import build_report
from sim.runfolder import FAILED, LOCK, RunFolderBusyError, claim, retire
from sim.sweeps import collect

SMALL = ["scale=0.0005", "end_year=2024", "progress=off"]


def start(*args, cwd=None):
    return subprocess.Popen(
        [sys.executable, "-m", "sim.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )


def one_line_error(result, *fragments):
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ronghe: error: "), result.stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_a_failed_run_keeps_every_file_it_did_not_write(tmp_path):
    """Issue 10.1: a failed run used to delete every *.log and .hydra/ in its folder."""
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "server.log").write_text("precious")
    (folder / ".hydra").mkdir()
    (folder / ".hydra" / "notes.yaml").write_text("mine")
    bad_data = ronghe_here("run", f"hydra.run.dir={folder}", "region=/nonexistent", *SMALL)
    assert bad_data.returncode == 2
    one_line_error(
        bad_data,
        "region '/nonexistent': neither a library region (suining, two_place, ziyang) nor a "
        "directory",
    )
    assert sorted(p.name for p in folder.iterdir()) == [".hydra", "server.log"]
    # A failure inside the run (goal.year outside the run's years is checked there).
    inside = ronghe_here(
        "run",
        f"hydra.run.dir={folder}",
        "goal.replicates=1",
        "goal.year=2035",
        *SMALL,
    )
    assert inside.returncode == 2
    one_line_error(inside, "goal.year=2035: allowed a year within start_year..end_year")
    assert (folder / "server.log").read_text() == "precious"
    assert (folder / ".hydra" / "notes.yaml").read_text() == "mine"
    assert json.loads((folder / FAILED).read_text())["type"] == "ConfigError"
    assert not (folder / "indicators.parquet").exists()


def test_resume_reruns_a_run_whose_scenario_file_changed(tmp_path):
    """Issue 10.3: the run key now covers the composed scenario, not only its name."""
    scenarios = tmp_path / "scenarios"
    shutil.copytree(Path(__file__).parent.parent / "scenarios", scenarios)
    (scenarios / "mine.yaml").write_text(
        "defaults: [baseline, _self_]\ntitle_zh: 我的\ntitle_en: Mine\ndescription: x\n"
        "levers:\n  work_relief: 0.05\n",
        encoding="utf-8",
    )
    sweep = tmp_path / "sweep"
    command = [
        "run",
        "-m",
        "scenario=mine",
        "seed=1,2",
        f"scenarios_dir={scenarios}",
        *SMALL,
        f"hydra.sweep.dir={sweep}",
    ]
    first = ronghe_here(*command)
    assert first.returncode == 0, first.stderr[-2000:]
    again = ronghe_here(*command)
    assert again.stdout.count("skipped (complete results of this run exist)") == 2
    (scenarios / "mine.yaml").write_text(
        (scenarios / "mine.yaml").read_text().replace("0.05", "0.15"), encoding="utf-8"
    )
    edited = ronghe_here(*command)
    assert edited.returncode == 0, edited.stderr[-2000:]
    assert "skipped" not in edited.stdout
    _, runs = collect(sweep)
    assert len(runs) == 2 and (runs.status == "complete").all()
    for run_id in runs.run_id:
        prov = json.loads((sweep / run_id / "provenance.json").read_text())
        assert prov["levers"]["work_relief"] == 0.15


def test_the_code_digest_follows_every_source_edit(tmp_path):
    """Issue 10.3: a dirty checkout used to keep one key (<sha>-dirty) however edited."""
    package = tmp_path / "sim"
    shutil.copytree(
        Path(__file__).parent.parent / "sim", package, ignore=shutil.ignore_patterns("*.pyc")
    )
    before = source_digest(package)
    assert source_digest(package) == before
    (package / "rules.py").write_text((package / "rules.py").read_text() + "\n# edited\n")
    assert source_digest(package) != before
    (package / "data" / "parameters.csv").write_text("data is hashed on its own")
    after_data = source_digest(package)
    assert after_data == source_digest(package)  # only Python source counts here


def test_a_rerun_into_a_folder_with_results_never_relabels_them(tmp_path):
    """Issue 10.4: old results stayed beside the new config of a failed or killed rerun."""
    folder = tmp_path / "run"
    first = ronghe_here("run", f"hydra.run.dir={folder}", "seed=1", *SMALL)
    assert first.returncode == 0, first.stderr[-2000:]
    _, runs = collect(folder)
    assert runs.status.tolist() == ["complete"]
    assert runs.overrides[0] == "seed=1 scale=0.0005 end_year=2024 progress=off"
    # The rerun fails inside the run: the seed=1 results are gone, not relabelled seed=7.
    failed = ronghe_here(
        "run",
        f"hydra.run.dir={folder}",
        "seed=7",
        "goal.replicates=1",
        "goal.year=2035",
        *SMALL,
    )
    assert failed.returncode == 2
    indicators, runs = collect(folder)
    assert runs.status.tolist() == ["failed"] and indicators.empty
    assert "seed=7" in json.loads((folder / FAILED).read_text())["overrides"]
    assert not (folder / "indicators.parquet").exists()
    report = ronghe_here("report", str(folder))
    assert report.returncode == 2
    one_line_error(report, "no complete run under")
    # A rerun killed while it works leaves an incomplete folder, never the old results.
    assert ronghe_here("run", f"hydra.run.dir={folder}", "seed=1", *SMALL).returncode == 0
    proc = start("run", f"hydra.run.dir={folder}", "seed=9", "scale=0.05", "progress=off")
    try:
        deadline = time.time() + 120
        while (folder / "provenance.json").exists() and time.time() < deadline:
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not (folder / "provenance.json").exists()
    indicators, runs = collect(folder)
    assert runs.status.tolist() == ["incomplete"] and indicators.empty, [
        p.read_text()[:3000] for p in folder.glob("*.json")
    ]


def test_runs_started_together_get_their_own_folders(tmp_path):
    """Issue 10.5: default run folders had one-second resolution; one run was lost."""
    procs = [
        start(
            "run",
            "scale=0.001",
            "end_year=2024",
            "progress=off",
            f"params.beta_income={b}",
            cwd=tmp_path,
        )
        for b in (0.8, 1.2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outs]
    folders = sorted((tmp_path / "outputs" / "runs" / "baseline").iterdir())
    assert len(folders) == 2
    recorded = sorted(
        json.loads((f / "provenance.json").read_text())["overrides"][-1] for f in folders
    )
    assert recorded == ["params.beta_income=0.8", "params.beta_income=1.2"]
    printed = sorted(line for out, _ in outs for line in out.splitlines() if "results:" in line)
    assert printed == sorted(f"results: {f}" for f in folders)


def test_two_runs_into_one_folder_never_both_succeed(tmp_path):
    """Issue 10.5: the second run into a folder in use stops and touches nothing."""
    folder = tmp_path / "shared"
    # Long enough (about 4 s) to outlive the second run, made in this process, on a busy
    # machine; still_running below checks that it did.
    first = start("run", f"hydra.run.dir={folder}", "scale=0.1", "seed=1", "progress=off")
    try:
        deadline = time.time() + 120
        while not (folder / LOCK).exists() and time.time() < deadline:
            time.sleep(0.02)
        second = ronghe_here("run", f"hydra.run.dir={folder}", "scale=0.001", "seed=2", *SMALL[1:])
        still_running = first.poll() is None
        _, err = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    assert still_running, "the first run ended before the second started; make it longer"
    assert first.returncode == 0, err[-2000:]
    assert second.returncode == 2
    one_line_error(second, "another run is writing into this folder")
    prov = json.loads((folder / "provenance.json").read_text())
    assert prov["seed"] == 1 and prov["scale"] == 0.1


def test_claim_refuses_a_busy_folder_and_a_foreign_result(tmp_path):
    writes = ("indicators.parquet", "provenance.json")
    with (
        claim(tmp_path / "a", writes, "hydra.run.dir"),
        pytest.raises(RunFolderBusyError, match="another run is writing"),
        claim(tmp_path / "a", writes, "hydra.run.dir"),
    ):
        pass
    with claim(tmp_path / "a", writes, "hydra.run.dir"):  # free again once released
        (tmp_path / "a" / "indicators.parquet").write_text("ours")
        (tmp_path / "a" / "notes.txt").write_text("the user's")
        retire(tmp_path / "a", writes)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [LOCK, "notes.txt"]
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "provenance.json").write_text("{}")
    with (
        pytest.raises(ConfigError, match=r"holds provenance\.json, which Ronghe did not write"),
        claim(tmp_path / "b", writes, "hydra.run.dir"),
    ):
        pass
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["provenance.json"]


def unshare_available() -> bool:
    probe = (
        subprocess.run(["unshare", "-rm", "true"], capture_output=True)
        if shutil.which("unshare")
        else None
    )
    return probe is not None and probe.returncode == 0


def in_private_mount(tmp_path, mount_options, *args):
    """Run ronghe with a tmpfs of ``mount_options`` at tmp_path/mnt (a private namespace)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = (
        f'mount -t tmpfs -o {mount_options} tmpfs {mnt} && exec "{sys.executable}" -m sim.cli "$@"'
    )
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("file", "is not a folder"),
        ("dev_full", "/dev/full' is not a folder"),
        ("long_name", "is longer than the 255 bytes a filesystem allows"),
        ("long_sweep", "is longer than the 255 bytes a filesystem allows"),
        ("read_only", "(read-only or no permission)"),
        ("disk_full", "cannot write results into"),
    ],
)
def test_bad_output_folders_fail_in_one_line(tmp_path, case, message):
    """Issue 10.8: these died with tracebacks (or Hydra's two-line errors)."""
    if case in ("read_only", "disk_full") and not unshare_available():
        if os.environ.get("RONGHE_REQUIRE_UNSHARE") == "1":
            pytest.fail("unshare -rm is needed for the read-only and disk-full cases")
        pytest.skip("no unshare -rm (user and mount namespaces) on this machine")
    if case == "file":
        (tmp_path / "afile").write_text("x")
        result = ronghe_here("run", f"hydra.run.dir={tmp_path / 'afile'}", *SMALL)
    elif case == "dev_full":
        result = ronghe_here("run", "hydra.run.dir=/dev/full", *SMALL)
    elif case == "long_name":
        result = ronghe_here("run", f"hydra.run.dir={tmp_path / ('x' * 300)}", *SMALL)
    elif case == "long_sweep":
        result = ronghe_here(
            "run", "-m", "seed=1,2", f"hydra.sweep.dir={tmp_path / ('y' * 300)}", *SMALL
        )
    elif case == "read_only":
        result = in_private_mount(tmp_path, "ro", "run", f"hydra.run.dir={tmp_path}/mnt/r", *SMALL)
    else:  # a filesystem that fills up while the results are written
        result = in_private_mount(
            tmp_path, "size=8k", "run", f"hydra.run.dir={tmp_path}/mnt/r", *SMALL
        )
    assert result.returncode == 2, result.stderr[-2000:]
    line = one_line_error(result, message)
    assert "Traceback" not in result.stderr
    if case == "disk_full":
        assert "No space left on device" in line


def test_sweep_run_folders_stay_inside_the_sweep_folder(tmp_path):
    """Issue 10.9: `-m region=../../x` put run folders outside the sweep folder."""
    work = tmp_path / "work" / "a" / "b"
    work.mkdir(parents=True)
    shutil.copytree(
        Path(__file__).parent.parent / "sim" / "regions" / "suining", tmp_path / "work" / "x"
    )
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = ronghe(
        "run", "-m", "region=../../x,suining", *SMALL, "hydra.sweep.dir=sweep", cwd=work
    )
    assert result.returncode == 0, result.stderr[-2000:]
    created = sorted(
        p.relative_to(tmp_path)
        for p in tmp_path.rglob("*")
        if p.relative_to(tmp_path) not in before
    )
    outside = [p for p in created if not str(p).startswith("work/a/b/sweep")]
    assert outside == []
    _, runs = collect(work / "sweep")
    assert sorted(runs.run_id) == sorted(
        run_folder_name(f"end_year=2024,region={d},scale=0.0005") for d in ("../../x", "suining")
    )
    assert "end_year=2024,region=..%2F..%2Fx,scale=0.0005" in set(runs.run_id)
    assert (runs.status == "complete").all()
    escape = ronghe(
        "run",
        "-m",
        "seed=1,2",
        *SMALL,
        f"hydra.sweep.dir={tmp_path / 's'}",
        "hydra.sweep.subdir=../escape",
    )
    assert escape.returncode == 2
    one_line_error(escape, "hydra.sweep.subdir='../escape': allowed a relative path")
    assert not (tmp_path / "escape").exists() and not (tmp_path / "s").exists()


def test_report_refuses_a_run_folder_whose_results_do_not_check_out(tmp_path):
    """Issue 10.8: a garbage parquet made `report` die with a traceback."""
    folder = tmp_path / "run"
    assert ronghe_here("run", f"hydra.run.dir={folder}", *SMALL).returncode == 0
    (folder / "indicators.parquet").write_bytes(b"PAR1 garbage PAR1")
    result = ronghe_here("report", str(folder))
    assert result.returncode == 2
    one_line_error(result, "no complete run under")
    with pytest.raises(ConfigError, match="no complete run"):
        build_report(folder)
