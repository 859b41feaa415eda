"""Joblib launcher that ships jobs to the workers in a few chunks.

Hydra's joblib launcher sends every job on its own, each time with the whole Hydra state
(configuration loader, configuration, plugin registry), and each worker restores that
state for every job: about 0.2 s per job that the basic launcher does not pay, which
eats the gain of a second core when runs take a second or two. This launcher sends the
jobs in ``chunks_per_worker`` contiguous chunks per worker, restores the state once per
chunk and runs the chunk's jobs one after another; results come back in job order.
Everything else is Hydra's joblib launcher (``hydra/launcher=joblib``).
"""

# No `from __future__ import annotations`: Hydra loads plugins in a way that leaves the
# module out of sys.modules while it runs, and OmegaConf needs the real types.
import itertools
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg
from hydra_plugins.hydra_joblib_launcher.config import JobLibLauncherConf
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher
from joblib import Parallel, delayed
from omegaconf import open_dict

log = logging.getLogger(__name__)


@dataclass
class RongheCoresConf(JobLibLauncherConf):
    """Hydra's joblib launcher settings plus the number of chunks per worker."""

    _target_: str = "hydra_plugins.ronghe.launcher.RongheCoresLauncher"
    chunks_per_worker: int = 4


ConfigStore.instance().store(
    group="hydra/launcher", name="ronghe_cores", node=RongheCoresConf, provider="ronghe"
)


def run_chunk(jobs, hydra_context, config, task_function, singleton_state) -> list[JobReturn]:
    """Run ``jobs`` (``(index, overrides)`` pairs) in this worker, one after another."""
    setup_globals()
    Singleton.set_state(singleton_state)
    results = []
    for idx, overrides in jobs:
        sweep_config = hydra_context.config_loader.load_sweep_config(config, list(overrides))
        with open_dict(sweep_config):
            sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{idx}"
            sweep_config.hydra.job.num = idx
        HydraConfig.instance().set_config(sweep_config)
        results.append(
            run_job(
                hydra_context=hydra_context,
                config=sweep_config,
                task_function=task_function,
                job_dir_key="hydra.sweep.dir",
                job_subdir_key="hydra.sweep.subdir",
            )
        )
    return results


class RongheCoresLauncher(JoblibLauncher):
    """Hydra's joblib launcher, sending jobs to the workers in chunks."""

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Run the jobs on local worker processes; return their results in job order."""
        setup_globals()
        assert self.config is not None and self.hydra_context is not None
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        joblib_cfg = dict(self.joblib)
        per_worker = int(joblib_cfg.pop("chunks_per_worker", 4))
        joblib_cfg["backend"] = "loky"
        process_joblib_cfg(joblib_cfg)
        workers = int(joblib_cfg.get("n_jobs") or 1)
        if workers < 0:
            workers = os.cpu_count() or 1
        jobs = list(enumerate(job_overrides, start=initial_job_idx))
        n_chunks = max(1, min(len(jobs), workers * max(1, per_worker)))
        bounds = [round(k * len(jobs) / n_chunks) for k in range(n_chunks + 1)]
        chunks = [jobs[a:b] for a, b in itertools.pairwise(bounds) if b > a]
        log.info(f"Launching {len(jobs)} jobs in {len(chunks)} chunks on {workers} workers")
        for idx, overrides in jobs:
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
        state = Singleton.get_state()
        results = Parallel(**joblib_cfg)(
            delayed(run_chunk)(chunk, self.hydra_context, self.config, self.task_function, state)
            for chunk in chunks
        )
        return [r for chunk in results for r in chunk]
