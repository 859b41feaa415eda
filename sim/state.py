"""Person and household state as a struct of arrays.

Arrays are allocated with spare capacity for births; ``n`` is the number of person slots
in use (dead persons keep their slot, so ids never change). The same arrays are the state
of ``backend=numba`` and the export format of ``backend=agents``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from sim.world import World

# Work status of a person.
WORK_NONE = 0  # child, student, retired or not working
WORK_FARM = 1  # farms the household's land
WORK_WAGE = 2  # employed in a wage job
WORK_SEEKING = 3  # looking for a wage job

PERSON_FIELDS = {
    "alive": np.int8,
    "age": np.int16,
    "birth_quarter": np.int8,
    "female": np.int8,
    "skill": np.int8,
    "hukou_place": np.int32,
    "hukou_urban": np.int8,
    "residence": np.int32,
    "household": np.int32,
    "mother": np.int32,
    "work": np.int8,
    "sector": np.int8,
    "stay_months": np.int16,
    "income": np.float64,
}

# Persons per partial sum of a float over persons: fixed, so sums do not depend on the
# number of threads (both backends add the chunks in chunk order).
CHUNK = 1 << 12


def n_chunks(n: int) -> int:
    """Number of fixed-size chunks covering ``n`` persons."""
    return (n + CHUNK - 1) // CHUNK


HOUSEHOLD_FIELDS = {
    "village": np.int32,  # home village place id, -1 for urban households
    "land": np.int32,  # contracted land, tenths of a mu
    "rented_out": np.int32,
    "abandoned": np.int32,
    "homestead": np.int8,
}


# The person and household arrays as one kernel argument each (numba types a named tuple
# of arrays): ``n`` slots in use, then the arrays in field order.
PersonArrays = NamedTuple(
    "PersonArrays", [("n", int)] + [(name, np.ndarray) for name in PERSON_FIELDS]
)
HouseholdArrays = NamedTuple(
    "HouseholdArrays", [("n", int)] + [(name, np.ndarray) for name in HOUSEHOLD_FIELDS]
)


class PlaceTables(NamedTuple):
    """The world's tables and sizes that the rules read, as one compiled argument."""

    kind: np.ndarray
    county: np.ndarray
    town_of: np.ndarray
    urban: np.ndarray
    market: np.ndarray
    n_places: int
    n_counties: int
    n_markets: int
    n_slots: int
    n_home_units: int


def place_tables(world: World) -> PlaceTables:
    """The :class:`PlaceTables` of ``world``."""
    return PlaceTables(
        kind=world.kind,
        county=world.county,
        town_of=world.town_of,
        urban=world.urban,
        market=world.market,
        n_places=int(world.n_places),
        n_counties=int(world.n_counties),
        n_markets=int(world.n_markets),
        n_slots=int(world.n_slots),
        n_home_units=int(world.n_home_units),
    )


@dataclass
class Persons:
    """Person arrays; index = person id."""

    n: int
    alive: np.ndarray
    age: np.ndarray
    birth_quarter: np.ndarray
    female: np.ndarray
    skill: np.ndarray
    hukou_place: np.ndarray
    hukou_urban: np.ndarray
    residence: np.ndarray
    household: np.ndarray
    mother: np.ndarray
    work: np.ndarray
    sector: np.ndarray
    stay_months: np.ndarray
    income: np.ndarray

    @classmethod
    def empty(cls, capacity: int) -> Persons:
        """Allocate zeroed arrays (``mother`` and ``household`` at -1)."""
        arrays = {name: np.zeros(capacity, dtype) for name, dtype in PERSON_FIELDS.items()}
        arrays["mother"][:] = -1
        arrays["household"][:] = -1
        return cls(n=0, **arrays)

    @property
    def capacity(self) -> int:
        """Number of allocated person slots."""
        return len(self.alive)

    def arrays(self) -> dict[str, np.ndarray]:
        """Views of the used part of every array."""
        return {f.name: getattr(self, f.name)[: self.n] for f in fields(self) if f.name != "n"}

    def grow(self, capacity: int) -> None:
        """Enlarge the arrays to ``capacity`` slots, keeping the content."""
        for name, dtype in PERSON_FIELDS.items():
            old = getattr(self, name)
            new = np.zeros(capacity, dtype)
            if name in ("mother", "household"):
                new[:] = -1
            new[: len(old)] = old
            setattr(self, name, new)

    def view(self) -> PersonArrays:
        """The arrays (not copies) as a :class:`PersonArrays` for the kernels."""
        return PersonArrays(self.n, *(getattr(self, name) for name in PERSON_FIELDS))

    def copy(self) -> Persons:
        """Deep copy of the state."""
        return Persons(n=self.n, **{k: getattr(self, k).copy() for k in PERSON_FIELDS})


@dataclass
class Households:
    """Household arrays; index = household id."""

    n: int
    village: np.ndarray
    land: np.ndarray
    rented_out: np.ndarray
    abandoned: np.ndarray
    homestead: np.ndarray

    @classmethod
    def empty(cls, n: int) -> Households:
        """Allocate zeroed arrays for ``n`` households."""
        arrays = {name: np.zeros(n, dtype) for name, dtype in HOUSEHOLD_FIELDS.items()}
        arrays["village"][:] = -1
        return cls(n=n, **arrays)

    def arrays(self) -> dict[str, np.ndarray]:
        """All household arrays."""
        return {name: getattr(self, name) for name in HOUSEHOLD_FIELDS}

    def view(self) -> HouseholdArrays:
        """The arrays (not copies) as a :class:`HouseholdArrays` for the kernels."""
        return HouseholdArrays(self.n, *(getattr(self, name) for name in HOUSEHOLD_FIELDS))

    def copy(self) -> Households:
        """Deep copy of the state."""
        return Households(n=self.n, **{k: getattr(self, k).copy() for k in HOUSEHOLD_FIELDS})


@dataclass(frozen=True)
class PersonCensus:
    """Counts over persons that a step's incomes and budgets read (agent units).

    Both backends take it once a step, after the hukou phase, in one pass over persons.
    """

    employed: np.ndarray  # [market, skill] persons in wage work
    residents: np.ndarray  # [place] living persons
    collective: np.ndarray  # [place] rural-hukou members of each village collective
    village_adults: np.ndarray  # [county] aged 16 to the farm-work age at their village
    seat_non_local: np.ndarray  # [county] seat residents with a hukou from elsewhere
    kids_non_local: np.ndarray  # [county] such children under 16 in towns and the seat
