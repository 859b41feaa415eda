"""The economy's per-step tables: wages, employment, farm incomes, rents and growth.

:func:`economy_tables` turns the labour markets' wages and employment probabilities,
the counties' capacity indices, the farm enterprises' park scales and the policy in
force into the :class:`Economy` that both backends and the model's incomes read. The
2023 wages of the markets (:func:`base_wage`) and the region's wage trend
(:func:`wage_trend`) anchor the labour markets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.data import RegionData
    from sim.levers import Policy
    from sim.params import Params
    from sim.world import World


@dataclass
class Economy:
    """Per-step tables shared by both backends."""

    wages: np.ndarray  # [market, skill] gross yuan per year
    p_employed: np.ndarray  # [market]
    industry_share: np.ndarray  # [market]
    commute_access: np.ndarray  # [county]
    crop_per_tenth: np.ndarray  # [county] yuan per tenth-mu per step
    rent_per_tenth: float
    subsidy_per_tenth: float
    price: float  # nominal growth factor since 2023 (wages)
    urban_other: float  # growth factor of urban operating, property and other transfers
    rural_other: float  # growth factor of rural business income and other transfers
    pension_rural: float
    pension_urban: float


def base_wage(params: Params, world: World, region: RegionData, market: int) -> float:
    """The 2023 low-skill wage of a market: the core's, a town's or an outside place's."""
    p = params
    if market < world.market_towns:
        return p.wage_core_2023
    if market < world.market_outside:
        return p.wage_core_2023 * p.wage_town_factor
    return p.wage_core_2023 * getattr(
        p, f"wage_factor_{region.outside_keys[market - world.market_outside]}"
    )


def base_wages(params: Params, world: World, region: RegionData, n: int) -> np.ndarray:
    """The 2023 wages of the first ``n`` markets (:func:`base_wage`)."""
    return np.array([base_wage(params, world, region, m) for m in range(n)])


def wage_trend(params: Params, years: float) -> float:
    """Growth factor of the region's wages ``years`` after 2023."""
    return (1 + params.wage_growth) ** years


def skill_multiplier(params: Params) -> np.ndarray:
    """Wage of each skill level relative to the low-skill wage."""
    return np.array([1.0, params.skill_premium_mid, params.skill_premium_high])


def economy_tables(
    params: Params,
    world: World,
    region: RegionData,
    spy: int,
    *,
    years: float,
    policy: Policy,
    market_wage: np.ndarray,
    p_employed: np.ndarray,
    road_index: np.ndarray,
    agri_index: np.ndarray,
    park_scale: np.ndarray,
) -> Economy:
    """The economy of the step ``years`` after 2023.

    Args:
        params: Behavioural parameters.
        world: Place layout.
        region: Region data (the 2023 land rent).
        spy: Steps per year.
        years: Years since 2023 at the start of the step.
        policy: The policy in force (land consolidation).
        market_wage: Low-skill wage of every market (copied into the table by skill).
        p_employed: Employment probability of every market (copied).
        road_index: The counties' road capacity indices.
        agri_index: The counties' agricultural capacity indices.
        park_scale: The counties' growth of land demand due to the agricultural parks.
    """
    p = params
    price = wage_trend(p, years)
    wages = market_wage[:, None] * skill_multiplier(p)[None, :]
    industry = np.where(
        np.arange(world.n_markets) < world.market_towns,
        p.industry_share_core,
        p.industry_share_towns,
    )
    commute = np.minimum(
        p.commute_access_max, p.commute_access_2023 * road_index**p.road_commute_elasticity
    )
    productivity = (
        (1 + p.consolidation_productivity_gain * policy.land_consolidation)
        * agri_index**p.agri_investment_elasticity
        * park_scale**p.agri_park_productivity_share
    )
    farm_growth = (1 + p.farm_income_growth) ** years
    crop = p.crop_income_per_mu_2023 * farm_growth * productivity / 10.0 / spy
    rent = region.value("city", "land_rent", 2023) * (1 + p.land_rent_growth) ** years
    return Economy(
        wages=wages,
        p_employed=p_employed.copy(),
        industry_share=industry,
        commute_access=commute,
        crop_per_tenth=crop,
        rent_per_tenth=rent / 10.0 / spy,
        subsidy_per_tenth=p.farm_subsidy_per_mu / 10.0 / spy,
        price=price,
        urban_other=(1 + p.urban_other_growth) ** years,
        rural_other=(1 + p.rural_other_growth) ** years,
        pension_rural=(1 + p.pension_growth_rural) ** years,
        pension_urban=(1 + p.pension_growth_urban) ** years,
    )
