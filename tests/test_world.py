import numpy as np

from sim.world import KIND_CORE, KIND_OUTSIDE, KIND_TOWN, KIND_VILLAGE


def test_place_layout(world, region):
    assert (world.kind[:5] == KIND_CORE).all()
    assert (world.n_counties, world.n_outside) == (5, 4)  # Suining's units.csv
    assert (world.kind[world.first_outside : world.first_town] == KIND_OUTSIDE).all()
    towns = np.flatnonzero(world.kind == KIND_TOWN)
    villages = np.flatnonzero(world.kind == KIND_VILLAGE)
    assert len(towns) == sum(u.towns for u in region.counties) == 75
    assert len(villages) == world.n_villages
    # Every village belongs to a town of its own county; every town has villages.
    assert (world.county[villages] == world.county[world.town_of[villages]]).all()
    assert set(world.town_of[villages]) == set(towns)
    assert (world.urban[towns] == 1).all() and (world.urban[villages] == 0).all()
    assert (world.town_seat[towns] == 1).all()  # every Suining town has an urban seat


def test_slot_tables(world):
    units = world.n_home_units
    assert world.slot_distance_km.shape == (units, world.n_slots) == (units, 11)
    assert (world.slot_distance_km >= 0).all()
    # From the central city to Chengdu and Chongqing: about 150-200 road km.
    assert 150 < world.slot_distance_km[0, 2 + 5] < 220
    assert 150 < world.slot_distance_km[0, 2 + 6] < 220
    # Chongqing and other provinces are outside Sichuan.
    assert world.slot_out_of_province[0].tolist() == [0] * 8 + [1, 0, 1]
