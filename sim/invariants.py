"""Conservation checks: persons, land and money balance in every step.

:func:`snapshot` records the totals at the start of a step and :func:`check_step`
compares them with the state at its end. The money check recomputes every person's
income from the exported state with vectorised arithmetic, independently of the income
rule, and requires the totals to agree: household pools are fully shared, remittances
sent equal remittances received, and nothing is created or lost. The work-relief wages
and lever dividends persons got must equal what the county budgets paid for them, and
each county's balance must move by its revenue minus its spending. Enabled with
``check_invariants=true`` (and always in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.errors import InvariantError
from sim.rules import INCOME_SCALARS
from sim.state import WORK_WAGE
from sim.world import KIND_OUTSIDE, KIND_VILLAGE


@dataclass(frozen=True)
class Snapshot:
    """Totals at the start of a step."""

    alive: int
    slots: int
    land: int
    balances: np.ndarray


def _land_total(model, households) -> int:
    return int(households.land.astype(np.int64).sum() + model.collective.sum())


def snapshot(model) -> Snapshot:
    """Record the totals a step must conserve."""
    persons, households = model.backend.export()
    return Snapshot(
        alive=int(persons.alive[: persons.n].sum()),
        slots=persons.n,
        land=_land_total(model, households),
        balances=np.array([c.balance for c in model.counties]),
    )


def check_step(model, before: Snapshot | None) -> None:
    """Raise :class:`InvariantError` if persons, land or money do not balance."""
    persons, households = model.backend.export()
    n = persons.n
    if before is not None:
        born = n - before.slots
        alive = int(persons.alive[:n].sum())
        died = before.alive + born - alive
        if died < 0 or (persons.alive[before.slots : n] != 1).any():
            raise InvariantError(
                f"persons: {before.alive} alive + {born} births - {died} deaths != {alive}"
            )
        land = _land_total(model, households)
        if land != before.land:
            raise InvariantError(
                f"land: {before.land} tenths of a mu before the step, {land} after"
            )
        balances = np.array([c.balance for c in model.counties])
        flows = np.array([c.revenue - c.spending for c in model.counties])
        if not np.allclose(balances, before.balances + flows, rtol=1e-9, atol=1e-3):
            raise InvariantError(
                "money: a county balance moved by more than its revenue minus spending"
            )
    _check_places(model, persons)
    _check_land(households, model)
    _check_incomes(model, persons, households)


def _check_places(model, persons) -> None:
    from sim.rules import current_slot

    w = model.world
    n = persons.n
    alive = np.flatnonzero(persons.alive[:n])
    res, hp = persons.residence[alive], persons.hukou_place[alive]
    if ((res < 0) | (res >= w.n_places) | (hp < 0) | (hp >= w.n_places)).any():
        raise InvariantError("persons: a residence or hukou place outside the place table")
    for i in alive[:: max(1, len(alive) // 2000)]:
        if current_slot(persons.residence[i], persons.hukou_place[i], w.kind, w.town_of) < 0:
            raise InvariantError(f"persons: person {i} lives where no choice slot leads")


def _check_land(households, model) -> None:
    h = households
    own = h.land - h.rented_out - h.abandoned
    if (h.rented_out < 0).any() or (h.abandoned < 0).any() or (own < 0).any():
        raise InvariantError("land: a household lets or abandons more land than it holds")
    if (model.collective_let > model.collective).any():
        raise InvariantError("land: a village collective lets more land than it holds")


def _check_incomes(model, persons, households) -> None:
    economy, dividend, scalars = model.last_income_inputs
    s = dict(zip(INCOME_SCALARS, scalars, strict=True))
    w, p, h = model.world, persons, households
    n = p.n
    alive = p.alive[:n] == 1
    res = p.residence[:n]
    hh = p.household[:n]
    village = h.village[hh]
    has_village = village >= 0
    vil = np.maximum(village, 0)
    home = has_village & ((res == village) | (res == w.town_of[vil]))
    in_village = has_village & (res == village)
    age = p.age[:n]
    spy = s["spy"]

    employed = alive & (p.work[:n] == WORK_WAGE)
    wages = economy.wages[w.market[res], p.skill[:n]] * s["net_factor"] / spy
    total = wages[employed].sum()
    adult_home = alive & in_village & (age >= 16) & (age <= s["farm_max"])
    total += adult_home.sum() * (s["business"] + s["work_relief"] * s["relief_wage"]) / spy
    total += (alive & in_village).sum() * s["rural_transfers"] / spy
    urbanish = alive & ~in_village & ((w.urban[res] == 1) | (w.kind[res] == KIND_OUTSIDE))
    factor = np.where(p.hukou_urban[:n] == 1, 1.0, s["migrant_other_factor"])
    total += ((s["urban_other"] * factor + s["urban_transfers"]) / spy)[urbanish].sum()
    members = alive & (p.hukou_urban[:n] == 0) & (w.kind[p.hukou_place[:n]] == KIND_VILLAGE)
    total += (dividend[p.hukou_place[:n]] / spy)[members].sum()
    female = p.female[:n] == 1
    retire = np.where(female, s["retire_women"], s["retire_men"])
    urban_hukou = p.hukou_urban[:n] == 1
    pension = np.where(
        urban_hukou,
        np.where(age >= retire, s["pension_urban"], 0.0),
        np.where(age >= 60, s["pension_rural"], 0.0),
    )
    total += (pension / spy)[alive].sum()
    # Household pools go to somebody whenever the household has a living member.
    living = np.bincount(hh[alive], minlength=h.n)
    at_home = np.bincount(hh[alive & home], minlength=h.n)
    rural = (h.village >= 0) & (living > 0)
    crop = economy.crop_per_tenth[w.county[np.maximum(h.village, 0)]]
    own = (h.land - h.rented_out - h.abandoned).astype(np.float64)
    pool = own * crop + h.rented_out * s["rent_per_tenth"] + h.land * s["subsidy_per_tenth"]
    pool += np.where((at_home == 0) & (h.homestead == 1), s["homestead_income"], 0.0)
    total += pool[rural].sum()
    _check_budget_payments(model, p, adult_home, members, village, s)
    paid = float(p.income[:n][alive].sum())
    if not np.isclose(paid, total, rtol=1e-9, atol=1e-3):
        raise InvariantError(
            f"money: persons received {paid:.2f} yuan this step but the sources paid "
            f"{total:.2f} (difference {paid - total:.2f})"
        )


def _check_budget_payments(model, persons, adult_home, members, village, s) -> None:
    """Work-relief wages and lever dividends persons got equal what the budgets paid."""
    from sim.levers import SPENDING_CATEGORIES

    w, n = model.world, persons.n
    n_counties = w.n_counties
    weight = model.weight / s["spy"]
    adults = np.bincount(w.county[village[adult_home]], minlength=n_counties)
    relief = adults * s["work_relief"] * s["relief_wage"] * weight
    hukou_county = w.county[persons.hukou_place[:n]]
    dividend = model.policy.collective_dividends[np.maximum(hukou_county, 0)]
    dividends = np.bincount(hukou_county[members], weights=dividend[members], minlength=n_counties)
    received = {"work_relief": relief, "collective_dividends": dividends * weight}
    spent = dict(zip(SPENDING_CATEGORIES, model.last_lever_spending.T, strict=True))
    paid = {
        "work_relief": spent["work_relief"] * model.params.work_relief_labour_share,
        "collective_dividends": spent["collective_dividends"],
    }
    for name, got in received.items():
        if not np.allclose(got, paid[name], rtol=1e-9, atol=1e-3):
            raise InvariantError(
                f"money: persons received {got.sum():.2f} yuan of {name} this step but the "
                f"county budgets paid {paid[name].sum():.2f}"
            )
    totals = np.array([c.lever_spending for c in model.counties])
    if not np.allclose(totals, model.last_lever_spending.sum(axis=1), rtol=1e-9, atol=1e-3):
        raise InvariantError("money: a county's lever spending differs from its categories")
