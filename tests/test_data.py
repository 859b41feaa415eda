import shutil

import pytest

from sim.data import DATA_FILES, DEFAULT_DATA_DIR, data_hash, load_region
from sim.errors import DataError


@pytest.fixture
def data_copy(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for name in DATA_FILES:
        shutil.copy(DEFAULT_DATA_DIR / name, folder / name)
    return folder


def test_default_data_loads_with_sources(region):
    assert [u.key for u in region.counties] == ["chuanshan", "anju", "shehong", "pengxi", "daying"]
    assert region.value("city", "resident_population", 2023) == 2748000
    assert region.value("city", "resident_urbanisation_rate", 2023) == pytest.approx(0.5978)
    # Every figure says where it comes from.
    assert all(f.source for f in region.figures.values())
    assert all(spec.source for spec in region.parameters.values())
    # County figures add up to the city's.
    for indicator in ("registered_population", "resident_population"):
        total = sum(region.value(u.key, indicator, 2023) for u in region.counties)
        assert total == pytest.approx(region.value("city", indicator, 2023), abs=1)


def test_targets_of_the_decision(region):
    targets = {(t.unit, t.indicator, t.year): t for t in region.targets}
    assert targets[("city", "resident_urbanisation_rate", 2027)].value == 0.63
    assert targets[("county_area", "resident_urbanisation_rate", 2027)].value == 0.485
    assert targets[("city", "income_ratio", 2027)].value == 1.94
    assert targets[("city", "income_ratio", 2027)].clause == "(十三)"


def test_missing_file_is_named(data_copy):
    (data_copy / "facts.csv").unlink()
    with pytest.raises(DataError, match=r"facts\.csv: missing"):
        load_region(data_copy)


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("facts.csv", "2748000", "lots", r"facts\.csv line \d+: column 'value' value 'lots'"),
        ("assumptions.csv", ",assumption,", ",guess,", r"basis 'guess' not one of"),
        (
            "parameters.csv",
            "beta_distance,0.26,",
            "beta_distance,9.26,",
            r"parameter beta_distance=9.26 outside its range \[0, 5\]",
        ),
        ("units.csv", "anju,county", "anjuu,county", r"units must be chuanshan"),
        ("age_structure.csv", "0,4,0.0483", "0,4,0.9483", r"shares add to"),
    ],
)
def test_malformed_files_give_one_line_errors(data_copy, name, old, new, message):
    path = data_copy / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        load_region(data_copy)
    assert "\n" not in str(info.value)


def test_data_hash_tracks_content(data_copy):
    before = data_hash(data_copy)
    path = data_copy / "facts.csv"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert data_hash(data_copy) != before
