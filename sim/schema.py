"""The Hydra schema of ``ronghe run``.

Run settings plus one optional field per parameter and per lever, so that
``params.NAME=...`` and ``levers.NAME=...`` need no ``+``. The classes are built from the
parameter table on first use (module ``__getattr__``), not at import, and live in this
module under their names, so pickles of the Hydra state refer to them by name: launchers
that ship jobs to other processes (joblib, submitit) then send a few bytes instead of the
classes themselves.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

from sim.config import RunSettings, params_schema

SCHEMA_CLASSES = ("RunConfig", "ParamsOverrides", "LeverOverrides")


@cache
def _build() -> dict[str, type]:
    from sim.data import load_region
    from sim.levers import CATALOGUE

    region = load_region()
    params = dataclasses.make_dataclass(
        "ParamsOverrides",
        [
            (f.name, float | None, dataclasses.field(default=None))
            for f in dataclasses.fields(params_schema(region))
        ],
        module=__name__,
    )
    levers = dataclasses.make_dataclass(
        "LeverOverrides",
        [(lever.id, Any, dataclasses.field(default=None)) for lever in CATALOGUE],
        module=__name__,
    )
    run = dataclasses.make_dataclass(
        "RunConfig",
        [
            ("params", params, dataclasses.field(default_factory=params)),
            ("levers", levers, dataclasses.field(default_factory=levers)),
        ],
        bases=(RunSettings,),
        module=__name__,
    )
    return {"RunConfig": run, "ParamsOverrides": params, "LeverOverrides": levers}


def __getattr__(name: str) -> type:
    if name in SCHEMA_CLASSES:
        return _build()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
