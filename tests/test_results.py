import pandas as pd
import pytest

from sim import results


def test_write_run_is_all_or_nothing(tmp_path, monkeypatch):
    table = pd.DataFrame(
        {
            "year": [2023],
            "unit": ["city"],
            "indicator": ["x"],
            "value": [1.0],
            "scenario": ["b"],
            "seed": [1],
        }
    )
    fit = pd.DataFrame({"a": [1]})
    results.write_run(
        tmp_path / "ok",
        indicators=table,
        config={"seed": 1},
        provenance={"seed": 1},
        population_fit=fit,
    )
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == sorted(results.RESULT_FILES)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError):
        results.write_run(
            tmp_path / "bad",
            indicators=table,
            config={"seed": 1},
            provenance={"seed": 1},
            population_fit=fit,
        )
    assert list((tmp_path / "bad").iterdir()) == []


def test_config_hash_ignores_hydra_section():
    a = results.config_hash({"seed": 1, "hydra": {"run": {"dir": "x"}}})
    b = results.config_hash({"seed": 1, "hydra": {"run": {"dir": "y"}}})
    assert a == b != results.config_hash({"seed": 2})
