"""Counter-based random numbers.

A draw is a pure function of ``(seed, step, agent id, purpose)``: a SplitMix64-style
hash of the four integers, mapped to a float in [0, 1). No generator state exists, so a
draw does not depend on the order in which agents are visited, on the number of threads,
or on the backend (numba kernels and Mesa agents call the same compiled function).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV_2_53 = 1.0 / 9007199254740992.0

# Purposes: one constant per kind of decision, so that two decisions of the same agent in
# the same step are independent. Never renumber: results of stored runs depend on them.
POP_AGE = 1
POP_SEX = 2
POP_SKILL = 3
POP_HOUSEHOLD = 4
POP_PARTNER = 5
POP_MOTHER = 6
POP_RESIDENCE = 7
POP_PLACE = 8
POP_LAND = 9
POP_BIRTHQ = 10
POP_DESTINATION = 11
POP_HUKOU = 12
POP_ELDER = 13
DEATH = 20
BIRTH = 21
NEWBORN_SEX = 22
NEWBORN_SKILL = 23
JOB_SEARCH = 30
JOB_SECTOR = 31
COMMUTE = 32
PARTICIPATE = 33
MOVE_HAZARD = 40
MOVE_CHOICE = 41
CHILD_FOLLOW = 42
HUKOU_APPLY = 50
HUKOU_ACCEPT = 51
LAND_MATCH = 60
LAND_TAKEBACK = 61
SKILL_UPGRADE = 70
REPLICATE_SEED = 90
PRIOR_DRAW = 91
BIRTHQ_NEWBORN = 24


@njit(inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def hash4(seed, step, agent, purpose):
    """Hash four non-negative integers into a 64-bit unsigned integer.

    Args:
        seed: Run seed.
        step: Simulation step (or a phase counter for the synthetic population).
        agent: Agent id (person, household or place index).
        purpose: One of the purpose constants of this module.

    Returns:
        A well-mixed ``uint64``.
    """
    h = _mix(np.uint64(seed) + _GOLDEN)
    h = _mix(h ^ (np.uint64(step) + _GOLDEN))
    h = _mix(h ^ (np.uint64(agent) + _GOLDEN))
    h = _mix(h ^ (np.uint64(purpose) + _GOLDEN))
    return h


@njit(cache=True)
def uniform(seed, step, agent, purpose):
    """Return a float in [0, 1) determined by ``(seed, step, agent, purpose)``."""
    return np.float64(hash4(seed, step, agent, purpose) >> _S11) * _INV_2_53


@njit(cache=True)
def _fill_uniforms(seed, step, ids, purpose, out):
    for i in range(ids.shape[0]):
        out[i] = uniform(seed, step, ids[i], purpose)


def uniforms(seed: int, step: int, ids: np.ndarray, purpose: int) -> np.ndarray:
    """Vector of :func:`uniform` draws, one per id."""
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    out = np.empty(ids.shape[0], dtype=np.float64)
    _fill_uniforms(np.int64(seed), np.int64(step), ids, np.int64(purpose), out)
    return out
