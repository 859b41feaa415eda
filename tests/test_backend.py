"""Both backends provide the phases the model calls, as sim.backend.Backend states them."""

import inspect
import re
from pathlib import Path

import pytest

from sim.agent_backend import AgentBackend
from sim.backend import Backend
from sim.numba_backend import NumbaBackend

PHASES = [name for name, _ in inspect.getmembers(Backend, inspect.isfunction) if name[0] != "_"]


def _parameters(func) -> list[tuple[str, object]]:
    return [(p.name, p.kind) for p in inspect.signature(func).parameters.values()]


def test_the_protocol_states_every_phase_the_model_calls():
    model = (Path(__file__).resolve().parents[1] / "sim" / "model.py").read_text()
    called = set(re.findall(r"self\.backend\.(\w+)\(", model))
    assert called and called <= set(PHASES)


@pytest.mark.parametrize("backend", [NumbaBackend, AgentBackend])
def test_a_backend_provides_every_phase_with_the_protocol_s_parameters(backend):
    for name in PHASES:
        assert _parameters(getattr(backend, name)) == _parameters(getattr(Backend, name)), name
