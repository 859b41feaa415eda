import json
import os

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import results
from sim.errors import ConfigError, ResultsError


def table(seed=1):
    return pd.DataFrame(
        {
            "year": [2023],
            "unit": ["city"],
            "indicator": ["x"],
            "value": [1.0],
            "scenario": ["b"],
            "seed": [seed],
        }
    )


def write(folder, seed=1, **extra):
    results.write_run(
        folder,
        indicators=table(seed),
        config={"seed": seed},
        provenance={"package": "ronghe", "seed": seed},
        population_fit=pd.DataFrame({"a": [1]}),
        **extra,
    )


def test_write_run_is_all_or_nothing(tmp_path, monkeypatch):
    write(tmp_path / "ok", extra_files={"goal.json": "{}"})
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == sorted(
        [*results.RESULT_FILES, "goal.json"]
    )
    prov = results.verify_run(tmp_path / "ok")
    assert sorted(prov["files"]) == [
        "config.yaml",
        "goal.json",
        "indicators.parquet",
        "population_fit.csv",
    ]

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(ResultsError, match=r"cannot write results into .*No space left"):
        write(tmp_path / "bad")
    assert list((tmp_path / "bad").iterdir()) == []


def test_a_rewrite_killed_between_renames_never_shows_a_mixture(tmp_path, monkeypatch):
    """Issue 10.4: the provenance goes first and comes back last, listing every file."""
    write(tmp_path, seed=1)
    real_replace = os.replace
    moved = []

    def replace_then_die(src, dst):
        real_replace(src, dst)
        moved.append(os.path.basename(dst))
        if len(moved) == 2:  # the new indicators and config are in, the rest is not
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        write(tmp_path, seed=2)
    monkeypatch.setattr(os, "replace", real_replace)
    assert moved == ["indicators.parquet", "config.yaml"]
    with pytest.raises(ResultsError, match=r"no provenance\.json"):
        results.verify_run(tmp_path)
    write(tmp_path, seed=2)
    assert results.verify_run(tmp_path)["seed"] == 2


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "indicators.parquet").write_bytes(b"PAR1garbage"), "differs from"),
        (
            lambda d: (d / "config.yaml").unlink(),
            "config.yaml' listed in provenance.json is missing",
        ),
        (lambda d: (d / "provenance.json").write_text("{not json"), "unreadable"),
        (lambda d: (d / "provenance.json").write_text("[1, 2]"), "not the provenance of a Ronghe"),
        (
            lambda d: (d / "provenance.json").write_text(json.dumps({"package": "ronghe"})),
            "lists no file digests",
        ),
    ],
)
def test_verify_run_refuses_damaged_results(tmp_path, damage, message):
    write(tmp_path)
    damage(tmp_path)
    with pytest.raises(ResultsError, match=message):
        results.verify_run(tmp_path)


def test_config_hash_ignores_hydra_section():
    a = results.config_hash({"seed": 1, "hydra": {"run": {"dir": "x"}}})
    b = results.config_hash({"seed": 1, "hydra": {"run": {"dir": "y"}}})
    assert a == b != results.config_hash({"seed": 2})


def stage(parent, name, files):
    folder = parent / name
    folder.mkdir()
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


def test_an_earlier_folder_of_ronghe_is_replaced_whole(tmp_path):
    target = tmp_path / "report"
    results.publish_folder(
        stage(tmp_path, ".s1", {"a.html": "1", "f/x.png": "p"}), target, "report", "--out"
    )
    results.publish_folder(stage(tmp_path, ".s2", {"a.html": "2"}), target, "report", "--out")
    assert (target / "a.html").read_text() == "2" and not (target / "f").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        # Issue 10.2: a report.html of the user's own is no licence to replace the folder.
        ({"report.html": "a", "thesis.docx": "b"}, "no report manifest"),
        ({"thesis.docx": "b"}, "no report manifest"),
    ],
)
def test_a_folder_ronghe_did_not_write_is_never_replaced(tmp_path, setup, message):
    target = stage(tmp_path, "x", setup)
    staging = stage(tmp_path, ".s", {"report.html": "new"})
    with pytest.raises(ConfigError, match=message):
        results.publish_folder(staging, target, "report", "--out")
    assert {p.name: p.read_text() for p in target.iterdir()} == setup


def test_a_file_added_to_an_earlier_report_keeps_it_from_being_replaced(tmp_path):
    target = tmp_path / "report"
    results.publish_folder(stage(tmp_path, ".s1", {"report.html": "1"}), target, "report", "o")
    (target / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"holds 1 file\(s\) Ronghe did not write .*notes.txt"):
        results.publish_folder(stage(tmp_path, ".s2", {"report.html": "2"}), target, "report", "o")
    assert (target / "notes.txt").read_text() == "mine"
    assert (target / "report.html").read_text() == "1"
    with pytest.raises(ConfigError, match="no collected manifest"):  # another kind of folder
        results.check_replaceable(target, "collected", "collect")


@settings(max_examples=30, deadline=None)
@given(
    names=st.lists(
        st.text(
            st.characters(codec="utf-8", exclude_characters="/\0"), min_size=1, max_size=12
        ).filter(lambda n: n not in (".", "..")),
        min_size=1,
        max_size=4,
        unique=True,
    )
)
def test_only_manifest_listed_files_count_as_ronghe_s(tmp_path_factory, names):
    parent = tmp_path_factory.mktemp("m")
    target = parent / "t"
    results.publish_folder(stage(parent, ".s1", {"r.html": "1"}), target, "report", "o")
    for name in names:
        if name != "r.html" and name != results.MANIFEST:
            (target / name).write_text("user")
            with pytest.raises(ConfigError):
                results.check_replaceable(target, "report", "o")
            (target / name).unlink()
    results.check_replaceable(target, "report", "o")
