"""Joblib launcher that sends Hydra's state to each worker once, not with every job.

Hydra's joblib launcher pickles the whole Hydra state (configuration loader,
configuration, plugin registry) into every job and each worker unpickles it again: about
0.2 s per job that the basic launcher does not pay, which eats the gain of a second core
when runs take a second or two. This launcher pickles the state once; a worker unpickles
it on its first job and keeps it (``_worker.py``). Jobs are still dispatched one by one,
so the workers stay balanced to the last job. Everything else is Hydra's joblib launcher
(``hydra/launcher=joblib``): the same settings, loky worker processes, results in job
order.
"""

# No `from __future__ import annotations`: Hydra loads plugins in a way that leaves the
# module out of sys.modules while it runs, and OmegaConf needs the real types.
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hydra.core.config_store import ConfigStore
from hydra.core.utils import JobReturn, configure_log, filter_overrides, setup_globals
from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg
from hydra_plugins.hydra_joblib_launcher.config import JobLibLauncherConf
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher
from joblib import Parallel, delayed

from hydra_plugins.ronghe._worker import pack, run_one

log = logging.getLogger(__name__)


@dataclass
class RongheCoresConf(JobLibLauncherConf):
    """Hydra's joblib launcher settings."""

    _target_: str = "hydra_plugins.ronghe.launcher.RongheCoresLauncher"


ConfigStore.instance().store(
    group="hydra/launcher", name="ronghe_cores", node=RongheCoresConf, provider="ronghe"
)


class RongheCoresLauncher(JoblibLauncher):
    """Hydra's joblib launcher, with the Hydra state sent to each worker once."""

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Run the jobs on local worker processes; return their results in job order."""
        setup_globals()
        assert self.config is not None and self.hydra_context is not None
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        joblib_cfg = dict(self.joblib)
        joblib_cfg["backend"] = "loky"
        process_joblib_cfg(joblib_cfg)
        log.info(
            f"Joblib.Parallel({', '.join(f'{k}={v}' for k, v in joblib_cfg.items())}) "
            f"is launching {len(job_overrides)} jobs"
        )
        jobs = list(enumerate(job_overrides, start=initial_job_idx))
        for idx, overrides in jobs:
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
        payload = pack(self.hydra_context, self.config, self.task_function)
        return Parallel(**joblib_cfg)(
            delayed(run_one)(payload, idx, list(overrides)) for idx, overrides in jobs
        )
