import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate
from test_data import assert_refused, one_line_error

from sim.errors import ConfigError
from sim.levers import CATALOGUE, region_defaults
from sim.priors import Prior, draw, priors_of


def prior(family, loc=None, scale=None, low=0.5, high=2.0) -> Prior:
    return Prior("p", family, loc, scale, low, high, 1.0, "judgement", "parameter", "r")


FAMILIES = [
    prior("uniform"),
    prior("normal", 1.0, 0.3),
    prior("lognormal", 1.0, 0.4),
    prior("normal", 1.9, 2.0),  # a truncation far from the centre
]


def test_every_parameter_that_is_not_sourced_has_a_prior(region):
    priors = priors_of(region)
    for name, spec in region.parameters.items():
        if spec.basis != "sourced":
            assert name in priors, name
    # Each lever interval has one: its parameter's own, or a lever row for a default.
    for e in region.lever_evidence:
        own = e.parameter if e.parameter in region.parameters else f"lever:{e.lever}.{e.parameter}"
        assert own in priors, own


def test_every_free_prior_holds_the_value_in_use_well_inside(region):
    """The value in use lies between the prior's 1% and 99% quantiles (not at an edge)."""
    defaults = {lever.id: region_defaults().value(lever.id) for lever in CATALOGUE}
    for p in priors_of(region).values():
        if not p.free:
            continue
        value = p.value
        if value is None:  # a lever default: the catalogue's 2023 value
            value = defaults[p.name.removeprefix("lever:").split(".")[0]]
        q01, q99 = p.quantiles((0.01, 0.99))
        assert q01 <= value <= q99, (p.name, value, q01, q99)


@pytest.mark.parametrize("p", FAMILIES, ids=lambda p: f"{p.family}-{p.loc}")
def test_each_density_integrates_to_one_on_its_support(p):
    area, _ = integrate.quad(lambda x: math.exp(p.logpdf(x)), p.low, p.high)
    assert area == pytest.approx(1.0, abs=1e-6)
    assert p.logpdf(p.low - 0.01) == -np.inf and p.logpdf(p.high + 0.01) == -np.inf


@pytest.mark.parametrize("p", FAMILIES, ids=lambda p: f"{p.family}-{p.loc}")
@given(u=st.lists(st.floats(0, 1, exclude_max=True), min_size=2, max_size=20))
def test_quantiles_stay_in_the_support_and_keep_order(p, u):
    u = np.sort(np.array(u))
    x = p.ppf(u)
    assert np.all((x >= p.low - 1e-12) & (x <= p.high + 1e-12))
    assert np.all(np.diff(x) >= -1e-12)


def test_draws_match_their_distribution_and_do_not_depend_on_the_others():
    a = prior("lognormal", 1.0, 0.4)
    b = Prior("q", "uniform", None, None, 0.0, 1.0, 0.5, "judgement", "parameter", "r")
    both = draw({"p": a, "q": b}, 4000, seed=7)
    alone = draw({"p": a}, 4000, seed=7)
    assert both["p"].equals(alone["p"])  # adding a prior changes nobody's draws
    assert not both["p"].equals(draw({"p": a}, 4000, seed=8)["p"])
    # The draws' quantiles are the prior's (Kolmogorov-Smirnov distance small).
    x = np.sort(both["p"].to_numpy())
    cdf = np.interp(x, a.ppf(np.linspace(0, 1, 2001)[:-1]), np.linspace(0, 1, 2001)[:-1])
    assert np.max(np.abs(cdf - (np.arange(1, x.size + 1) / x.size))) < 0.03


def test_draws_of_parameters_with_a_common_prefix_are_independent(region):
    """Streams keyed by the whole name: wage_factor_chengdu and wage_factor_chongqing
    share their first eight characters and must not move together."""
    priors = priors_of(region)
    drawn = draw(priors, 2000, seed=1)
    ranks = drawn.rank().to_numpy()
    corr = np.corrcoef(ranks.T)
    np.fill_diagonal(corr, 0.0)
    # Independent uniforms: |rank correlation| about 1/sqrt(2000) = 0.022; 0.15 is 7 sd.
    assert np.abs(corr).max() < 0.15, np.abs(corr).max()


def test_fixed_priors_are_not_drawn(region):
    priors = priors_of(region)
    fixed = [name for name, p in priors.items() if not p.free]
    assert "training_age_max" in fixed
    drawn = draw(priors, 3, seed=1)
    assert not set(fixed) & set(drawn.columns)
    assert len(drawn.columns) == len(priors) - len(fixed)
    with pytest.raises(ConfigError, match="draws=-1"):
        draw(priors, -1, seed=1)


LINE = "asc_home,normal,1.2,0.4,0.4,2.0,judgement,parameter,"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            LINE,
            "asc_home,normal,1.2,,0.4,2.0,judgement,parameter,",
            ["column 'scale'", "a normal prior needs loc and scale"],
            id="normal_without_its_spread",
        ),
        pytest.param(
            LINE,
            "asc_home,normal,2.5,0.4,0.4,2.0,judgement,parameter,",
            ["column 'loc'", "lies outside [0.4, 2]"],
            id="centre_outside_the_support",
        ),
        pytest.param(
            LINE,
            "asc_home,lognormal,1.2,0.4,-0.5,2.0,judgement,parameter,",
            ["column 'low'", "lognormal prior lives on positive values"],
            id="lognormal_reaching_below_zero",
        ),
        pytest.param(
            LINE,
            "asc_home,fixed,,,0.4,2.0,judgement,parameter,",
            ["column 'low'", "must be empty for a fixed parameter"],
            id="fixed_with_a_support",
        ),
        pytest.param(
            LINE,
            "asc_home,uniform,,,1.5,2.0,judgement,parameter,",
            ["asc_home = 1.2 lies outside its prior [1.5, 2]"],
            id="prior_without_the_value_in_use",
        ),
        pytest.param(
            LINE,
            "asc_home,uniform,,,-20,2.0,judgement,parameter,",
            ["asc_home prior [-20, 2] reaches outside [-10, 10]"],
            id="prior_outside_the_allowed_range",
        ),
        pytest.param(
            LINE,
            "lever:rental_housing.beta_housing,uniform,,,0.5,1.5,judgement,lever,",
            ["beta_housing is a parameter, whose own row is its prior"],
            id="a_second_prior_for_a_parameter",
        ),
        pytest.param(
            LINE,
            "lever:teleport.default,uniform,,,0.5,1.5,judgement,lever,",
            ["lever:teleport.default names no row of lever_evidence.csv"],
            id="unknown_lever",
        ),
        pytest.param(
            LINE,
            "asc_home,normal,1.2,0.4,0.4,2.0,belief,parameter,",
            ["column 'basis' value 'belief'", "calibrated, evidence, judgement"],
            id="unknown_basis",
        ),
        pytest.param(
            LINE,
            "asc_home,normal,1.2,0.4,0.4,2.0,judgement,lever,",
            ["column 'role'", "allowed for asc_home: base_data or parameter"],
            id="a_parameter_labelled_a_lever",
        ),
    ],
)
def test_broken_priors_fail_in_one_line(calibration_copy, old, new, expected):
    assert_refused(calibration_copy, "priors.csv", old, new, expected)


def test_a_parameter_without_a_prior_is_named(calibration_copy):
    text = (calibration_copy / "priors.csv").read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if not line.startswith("stay_bonus,")]
    (calibration_copy / "priors.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    message = one_line_error(calibration_copy)
    assert "no prior for stay_bonus" in message and "family 'fixed' to hold it" in message
