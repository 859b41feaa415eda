"""The places of the model and the tables that describe them.

Place ids are laid out so that the ids of the places a person can call home are also the
ids of the migration-choice "home units":

* ``0 .. C-1`` the urban cores of the region's C counties, the central city first;
* ``C .. C+O-1`` its O outside destinations;
* then the towns (镇区, urban), county by county;
* then the villages (rural), town by town.

A county with villages but no town or township in units.csv gets one *seatless township*
in the towns block: the home unit of its villages, whose seat is not an urban place
(nobody lives there, its town slot is closed; :attr:`World.town_seat` is 0). It is how
a region holds one rural and one urban place only.

A migrant chooses among ``2 + C + O`` *slots* relative to the home unit: the home
village, the home town, the C cores and the O outside destinations. The counts come
from the region's units.csv (:attr:`World.n_counties`, :attr:`World.n_outside`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.data import RegionData

SLOT_VILLAGE = 0
SLOT_TOWN = 1
SLOT_CORE = 2
CENTRAL_COUNTY = 0  # the central city is the first county (units.csv checks it)

KIND_VILLAGE = 0
KIND_TOWN = 1
KIND_CORE = 2
KIND_OUTSIDE = 3


@dataclass(frozen=True)
class World:
    """Static geography as arrays, indexed by place id."""

    n_places: int
    n_towns: int
    n_villages: int
    kind: np.ndarray  # int8
    county: np.ndarray  # int8, -1 outside
    town_of: np.ndarray  # int32: a village's town place id, a town's own id, else -1
    town_seat: np.ndarray  # int8: 1 for a town with an urban seat (0 for a seatless one)
    urban: np.ndarray  # int8: 1 for towns and cores
    market: np.ndarray  # int16: labour market of a resident (villagers commute to towns)
    market_zone: np.ndarray  # int64 per market: the market it clears with (commuting)
    in_province: np.ndarray  # int8 per place
    slot_distance_km: np.ndarray  # float64 [home unit, slot]
    slot_out_of_province: np.ndarray  # int8 [home unit, slot]
    town_weight: np.ndarray  # float64 per town: relative size within its county
    village_weight: np.ndarray  # float64 per village: relative size within its town
    county_village_start: np.ndarray  # first village id per county
    county_village_stop: np.ndarray
    county_town_start: np.ndarray
    county_town_stop: np.ndarray
    n_counties: int
    n_outside: int

    @property
    def first_outside(self) -> int:
        """Place id of the first outside destination (the cores come before)."""
        return self.n_counties

    @property
    def first_town(self) -> int:
        """Place id of the first town."""
        return self.n_counties + self.n_outside

    @property
    def n_slots(self) -> int:
        """Size of the migration choice set: home village, home town, cores, outside."""
        return 2 + self.n_counties + self.n_outside

    @property
    def slot_outside(self) -> int:
        """Slot of the first outside destination."""
        return SLOT_CORE + self.n_counties

    @property
    def n_markets(self) -> int:
        """Labour markets: a core and a towns market per county, one per outside place."""
        return 2 * self.n_counties + self.n_outside

    @property
    def market_towns(self) -> int:
        """Market id of the first county's towns market."""
        return self.n_counties

    @property
    def market_outside(self) -> int:
        """Market id of the first outside destination."""
        return 2 * self.n_counties

    @property
    def n_home_units(self) -> int:
        """Number of home units (cores, outside places and towns)."""
        return self.first_town + self.n_towns

    def village_range(self, county: int) -> range:
        """Place ids of a county's villages."""
        return range(int(self.county_village_start[county]), int(self.county_village_stop[county]))

    def town_range(self, county: int) -> range:
        """Place ids of a county's towns."""
        return range(int(self.county_town_start[county]), int(self.county_town_stop[county]))


def _haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _zipf_weights(n: int) -> np.ndarray:
    """Relative sizes of n places by rank (rank-size rule, exponent 1)."""
    w = 1.0 / np.arange(1, n + 1, dtype=np.float64)
    return w / w.sum()


def village_counts(region: RegionData) -> np.ndarray:
    """Villages per county: the sourced count, else rural-hukou persons per village."""
    per_village = region.value("city", "persons_per_village", 2020)
    counts = []
    for unit in region.counties:
        if unit.villages is not None:
            counts.append(unit.villages)
            continue
        registered = region.value(unit.key, "registered_population", 2023)
        urban_share = region.value(unit.key, "registered_urbanisation_rate", 2023)
        counts.append(max(unit.towns, round(registered * (1 - urban_share) / per_village)))
    return np.array(counts, dtype=np.int64)


def build_world(region: RegionData) -> World:
    """Lay out places and compute the distance tables from the data."""
    counties = region.counties
    n_counties, n_outside = len(counties), len(region.outside)
    first_outside, first_town = n_counties, n_counties + n_outside
    n_villages_c = village_counts(region)
    seated = np.array([u.towns for u in counties], dtype=np.int64)
    # A county with villages and no town gets one seatless township as their home unit.
    n_towns_c = np.where((seated == 0) & (n_villages_c > 0), 1, seated)
    n_towns = int(n_towns_c.sum())
    n_villages = int(n_villages_c.sum())
    n_places = first_town + n_towns + n_villages

    kind = np.empty(n_places, np.int8)
    county = np.full(n_places, -1, np.int8)
    town_of = np.full(n_places, -1, np.int32)
    town_seat = np.zeros(n_places, np.int8)
    kind[:n_counties] = KIND_CORE
    county[:n_counties] = np.arange(n_counties)
    kind[first_outside:first_town] = KIND_OUTSIDE

    town_weight = np.zeros(n_places)
    village_weight = np.zeros(n_places)
    ct_start = np.zeros(n_counties, np.int64)
    ct_stop = np.zeros(n_counties, np.int64)
    cv_start = np.zeros(n_counties, np.int64)
    cv_stop = np.zeros(n_counties, np.int64)
    next_town = first_town
    next_village = first_town + n_towns
    for c in range(n_counties):
        ct_start[c] = next_town
        cv_start[c] = next_village
        towns = np.arange(next_town, next_town + n_towns_c[c])
        kind[towns] = KIND_TOWN
        county[towns] = c
        town_of[towns] = towns
        town_seat[towns] = int(seated[c] > 0)
        town_weight[towns] = _zipf_weights(len(towns))
        # Villages are dealt to towns in proportion to the towns' sizes (at least one each).
        share = _zipf_weights(len(towns))
        per_town = np.maximum(1, np.floor(share * n_villages_c[c]).astype(np.int64))
        per_town[0] += n_villages_c[c] - per_town.sum()
        for t, n_v in zip(towns, per_town, strict=True):
            villages = np.arange(next_village, next_village + n_v)
            kind[villages] = KIND_VILLAGE
            county[villages] = c
            town_of[villages] = t
            village_weight[villages] = 1.0 / n_v
            next_village += n_v
        next_town += n_towns_c[c]
        ct_stop[c] = next_town
        cv_stop[c] = next_village

    urban = (((kind == KIND_TOWN) & (town_seat == 1)) | (kind == KIND_CORE)).astype(np.int8)
    market = np.empty(n_places, np.int16)
    market[:n_counties] = np.arange(n_counties)
    # Markets: a core market per county, a towns market per county, one per outside place.
    market[first_outside:first_town] = 2 * n_counties + np.arange(n_outside)
    rest = np.arange(first_town, n_places)
    market[rest] = n_counties + county[rest]
    # A county seat whose market another seat joins clears with it (units.csv).
    market_zone = np.arange(2 * n_counties + n_outside)
    keys = [u.key for u in counties]
    for c, unit in enumerate(counties):
        if unit.seat_labour_market is not None:
            market_zone[c] = keys.index(unit.seat_labour_market)
    in_province = np.ones(n_places, np.int8)
    in_province[first_outside:first_town] = [u.in_province for u in region.outside]

    dist, out_prov = _slot_tables(region, n_towns, county)
    return World(
        n_places=n_places,
        n_towns=n_towns,
        n_villages=n_villages,
        kind=kind,
        county=county,
        town_of=town_of,
        town_seat=town_seat,
        urban=urban,
        market=market,
        market_zone=market_zone,
        in_province=in_province,
        slot_distance_km=dist,
        slot_out_of_province=out_prov,
        town_weight=town_weight,
        village_weight=village_weight,
        county_village_start=cv_start,
        county_village_stop=cv_stop,
        county_town_start=ct_start,
        county_town_stop=ct_stop,
        n_counties=n_counties,
        n_outside=n_outside,
    )


def _slot_tables(
    region: RegionData, n_towns: int, county: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distance (km) and province-crossing flag from each home unit to each slot."""
    circuity = region.value("city", "road_circuity")
    local = region.value("city", "local_distance_km")
    town_to_seat = region.value("city", "town_to_seat_distance_km")
    units = region.counties + region.outside
    fixed = {u.key: region.value(u.key, "distance_km") for u in region.outside if u.lon is None}
    seat_lonlat = [(u.lon, u.lat) for u in units]

    def between(i: int, j: int) -> float:
        """Road km between unit i and unit j (counties first, then outside places)."""
        if i == j:
            return 0.0
        ki, kj = units[i].key, units[j].key
        if seat_lonlat[i][0] is not None and seat_lonlat[j][0] is not None:
            return circuity * _haversine_km(*seat_lonlat[i], *seat_lonlat[j])
        far = [fixed[k] for k in (ki, kj) if k in fixed]
        return max(far)

    n_counties, n_outside = len(region.counties), len(region.outside)
    first_town = n_counties + n_outside
    n_units = first_town + n_towns
    n_slots = 2 + n_counties + n_outside
    dist = np.zeros((n_units, n_slots))
    out_prov = np.zeros((n_units, n_slots), np.int8)
    in_province = np.array([1] * n_counties + [u.in_province for u in region.outside], np.int8)
    for h in range(n_units):
        if h < first_town:
            base, extra, own_slot_town = h, 0.0, False
        else:
            base, extra, own_slot_town = int(county[h]), town_to_seat, True
        dist[h, SLOT_VILLAGE] = local if own_slot_town else 0.0
        dist[h, SLOT_TOWN] = 0.0 if own_slot_town else local
        for k in range(n_counties + n_outside):
            dist[h, SLOT_CORE + k] = between(base, k) + extra
            out_prov[h, SLOT_CORE + k] = int(in_province[base] != in_province[k])
    return dist, out_prov
