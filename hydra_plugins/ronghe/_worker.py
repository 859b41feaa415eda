"""The part of the ``ronghe_cores`` launcher that runs inside a worker process.

Every job carries the same pickled Hydra state (configuration loader, configuration,
task function, plugin registry) as bytes; a worker unpickles it once and keeps it for
the jobs that follow, so a job costs what it costs in the basic launcher. This module
is imported by name in the workers, so the kept state survives from job to job.
"""

import functools
from collections.abc import Sequence

import cloudpickle
from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, run_job, setup_globals
from omegaconf import open_dict


def pack(hydra_context, config, task_function) -> bytes:
    """The Hydra state a worker needs, as bytes (pickled once, in the launching process)."""
    return cloudpickle.dumps((hydra_context, config, task_function, Singleton.get_state()))


@functools.lru_cache(maxsize=1)
def _unpacked(payload: bytes) -> tuple:
    return cloudpickle.loads(payload)


def run_one(payload: bytes, idx: int, overrides: Sequence[str]) -> JobReturn:
    """Run job ``idx`` with ``overrides``, as Hydra's basic launcher would."""
    hydra_context, config, task_function, singleton_state = _unpacked(payload)
    setup_globals()
    Singleton.set_state(singleton_state)
    sweep_config = hydra_context.config_loader.load_sweep_config(config, list(overrides))
    with open_dict(sweep_config):
        sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{idx}"
        sweep_config.hydra.job.num = idx
    HydraConfig.instance().set_config(sweep_config)
    return run_job(
        hydra_context=hydra_context,
        config=sweep_config,
        task_function=task_function,
        job_dir_key="hydra.sweep.dir",
        job_subdir_key="hydra.sweep.subdir",
    )
