import pytest

from sim.errors import ConfigError
from sim.params import resolve_params


def test_overrides_apply_and_defaults_stay(region):
    p = resolve_params(region, {"beta_income": 0.5})
    assert p.beta_income == 0.5
    assert p.beta_distance == region.parameters["beta_distance"].value


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"beta_incom": 1.0}, r"params\.beta_incom: unknown parameter"),
        ({"beta_income": 11.0}, r"params\.beta_income=11\.0: outside the allowed range \[0, 10\]"),
        ({"beta_income": "high"}, r"params\.beta_income='high': not a number"),
    ],
)
def test_bad_overrides(region, overrides, message):
    with pytest.raises(ConfigError, match=message):
        resolve_params(region, overrides)


def test_params_are_read_only(params):
    with pytest.raises(AttributeError):
        params.beta_income = 3.0
