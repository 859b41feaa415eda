"""numba's threading layer and thread count for Ronghe's parallel kernels.

numba runs ``prange`` loops on one of three layers: ``omp`` (OpenMP), ``tbb`` or
``workqueue``. GNU OpenMP, which numba's wheels pick first on Linux, is not fork-safe: a
process that ran a parallel kernel and then forks (``multiprocessing``'s default on
Linux, as EMA Workbench and joblib's ``multiprocessing`` backend use) leaves the child
waiting forever for threads that were not copied. Ronghe therefore asks numba for its
``forksafe`` layer (TBB where installed, else ``workqueue``) before the first kernel
runs, unless ``NUMBA_THREADING_LAYER`` chose one. Measured at scale 0.3 on this 2-core
machine (docs/architecture.md): workqueue with 2 threads is about a tenth slower than
OpenMP on idle cores and does not collapse when another process takes a core, where
OpenMP's spinning threads made 2 threads slower than one.

If the layer was started as OpenMP anyway (the user chose it, or other code ran a numba
kernel first), a forked child stops with a one-line error at its first run instead of
hanging.
"""

from __future__ import annotations

import os

import numba

from sim.errors import RongheError

FORK_SAFE = "forksafe"


class ForkedThreadsError(RongheError):
    """A forked process cannot use the OpenMP threads its parent started."""


def _layer() -> str | None:
    try:
        return numba.threading_layer()
    except ValueError:  # not started yet
        return None


# The process that started numba's threads; a fork of it must not run an OpenMP kernel.
# Process state by nature: the threads belong to that process.
_omp_owner: list[int] = []


def prepare() -> None:
    """Make numba safe to use in this process; call before any kernel runs.

    Drops cached kernels compiled from sources that have changed
    (:func:`sim.kernel_cache.ensure_fresh`) and selects a fork-safe threading layer.

    Raises:
        ForkedThreadsError: This process was forked from one whose OpenMP threads had
            started, where a kernel would hang.
    """
    from sim.kernel_cache import ensure_fresh

    ensure_fresh()
    layer = _layer()
    if layer is None:  # this process will start the threads
        _omp_owner[:] = [os.getpid()]
        if "NUMBA_THREADING_LAYER" not in os.environ:
            numba.config.THREADING_LAYER = FORK_SAFE
        return
    if layer == "omp":
        if not _omp_owner:  # started by other code before Ronghe's first run
            _omp_owner.append(os.getpid())
        elif _omp_owner[0] != os.getpid():
            raise ForkedThreadsError(
                "this process was forked from one that had started numba's OpenMP threads, "
                "which a forked process cannot use (it would hang); start workers with "
                "multiprocessing's 'spawn' or 'forkserver' method, or leave "
                "NUMBA_THREADING_LAYER unset so that Ronghe uses a fork-safe layer"
            )


def fork_is_safe() -> bool:
    """Whether a process forked from this one can run kernels.

    False once numba's OpenMP threads run here: a forked child would hang on them.
    """
    return _layer() != "omp"


# Below this many agents per thread a second thread buys nothing and loses under
# contention. Measured with the workqueue layer on the 2-core machine, 2 threads over 1
# (person-steps per second, quiet / one core busy elsewhere): 18,000 agents (1:200)
# 1.02 / 0.79; 182,000 (1:20) 0.98 / 1.03; 730,000 (1:5) 1.08 / 1.00 (docs/architecture.md).
AGENTS_PER_THREAD = 500_000


def automatic_threads(agents: int, available: int) -> int:
    """Threads for ``agents`` persons: one per :data:`AGENTS_PER_THREAD`, 1 to ``available``."""
    return max(1, min(available, agents // AGENTS_PER_THREAD))


def slurm_cpus() -> int | None:
    """Slurm's CPUs per task for this job, or None outside a Slurm job."""
    value = os.environ.get("SLURM_CPUS_PER_TASK", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def available_cores() -> int:
    """CPUs this process may use: Slurm's CPUs per task, else the affinity mask."""
    return slurm_cpus() or len(os.sched_getaffinity(0))


def configure(requested: int, agents: int | None = None) -> int:
    """Set numba's thread count.

    The request if positive, else Slurm's CPUs per task, else (``threads=0``) one thread
    per :data:`AGENTS_PER_THREAD` agents up to the cores when the population size is
    known, else numba's default.

    Returns:
        The number of threads kernels will use.
    """
    prepare()
    n = requested
    if n == 0:
        n = slurm_cpus() or 0
    if n == 0 and agents is not None:
        n = automatic_threads(agents, numba.config.NUMBA_NUM_THREADS)
    if n > 0:
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    return numba.get_num_threads()
