import dataclasses

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.errors import ConfigError
from sim.paths import engine_digest
from sim.posterior import POSTERIOR_FILE, load_posterior, stale_reasons, write_posterior


def fitted_on(region, **changes):
    meta = {
        "commit": "abc123",
        "engine_digest": engine_digest(),
        "data_hash": region.data_hash,
        "calibration_hash": region.calibration_hash,
        "scale": "0.02",
    }
    return {**meta, **changes}


DRAWS = pd.DataFrame({"draw": [0, 1], "asc_home": [1.1, 1.3], "seed": [11, 12]})


def test_draws_and_what_they_were_fitted_on_round_trip(region, tmp_path):
    path = tmp_path / "posterior.parquet"
    write_posterior(DRAWS, fitted_on(region), path)
    posterior = load_posterior(path)
    pd.testing.assert_frame_equal(posterior.draws, DRAWS)
    assert posterior.parameters == ["asc_home"]
    assert posterior.params_of(1) == {"asc_home": 1.3}
    assert posterior.meta["commit"] == "abc123"
    assert stale_reasons(posterior, region) == []
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_changed_engine_or_record_makes_the_posterior_stale(region, tmp_path):
    path = tmp_path / "posterior.parquet"
    write_posterior(DRAWS, fitted_on(region, engine_digest="old", data_hash="old"), path)
    reasons = stale_reasons(load_posterior(path), region)
    assert reasons == [
        "the engine changed since the posterior was fitted (commit abc123)",
        "the data files changed since the posterior was fitted",
    ]
    edited = dataclasses.replace(region, calibration_hash="new")
    write_posterior(DRAWS, fitted_on(region), path)
    assert stale_reasons(load_posterior(path), edited) == [
        "the observations or priors changed since the posterior was fitted"
    ]


def test_a_missing_or_unlabelled_posterior_says_how_to_fit_one(tmp_path):
    with pytest.raises(ConfigError, match=r"no posterior at .*history_match.py --write"):
        load_posterior(tmp_path / "none.parquet")
    bare = tmp_path / "bare.parquet"
    pq.write_table(pa.Table.from_pandas(DRAWS), bare)
    with pytest.raises(ConfigError, match="no record of what it was fitted on"):
        load_posterior(bare)


def test_the_shipped_posterior_has_enough_draws_and_its_provenance(region):
    posterior = load_posterior(POSTERIOR_FILE)
    assert len(posterior.draws) >= 200
    assert posterior.draws.seed.is_unique
    assert {"commit", "engine_digest", "data_hash", "calibration_hash", "scale"} <= set(
        posterior.meta
    )
    priors = {name: spec for name, spec in region.priors.items()}
    for name in posterior.parameters:
        values = posterior.draws[name]
        assert values.between(priors[name].low, priors[name].high).all(), name
