"""Hydra's basic sweeper, composing one job of a batch instead of all of them up front.

Hydra's basic sweeper composes the configuration of every job in the submitting process
before launching them, to catch bad overrides early; that costs about 0.1 s per job and
is serial, which caps the speed-up of parallel launchers on short runs. ``ronghe run``
validates every override value before Hydra starts (``sim.cli.check_overrides``), so
this sweeper composes only the first job of each batch (which checks the structure) and
leaves the rest to the launcher. It also starts the sweep's progress count
(:mod:`sim.sweep_progress`: "12/100 runs done, about 4 min left" after each run).
Everything else is the basic sweeper.
"""

# No `from __future__ import annotations`: Hydra loads plugins in a way that leaves the
# module out of sys.modules while it runs, and OmegaConf needs the real types.
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore


@dataclass
class RongheSweeperConf:
    """Configuration node of the sweeper (``hydra.sweeper``)."""

    _target_: str = "hydra_plugins.ronghe.sweeper.RongheSweeper"
    max_batch_size: Optional[int] = None  # noqa: UP045 (OmegaConf needs Optional)
    params: Optional[dict[str, str]] = None  # noqa: UP045


ConfigStore.instance().store(
    group="hydra/sweeper", name="ronghe", node=RongheSweeperConf, provider="ronghe"
)


class RongheSweeper(BasicSweeper):
    """The basic sweeper with a cheaper early check of each batch."""

    def split_arguments(self, overrides, max_batch_size):
        """The basic sweeper's batches; their job count starts the progress count."""
        from sim import sweep_progress

        batches = BasicSweeper.split_arguments(overrides, max_batch_size)
        sweep_progress.start(Path(str(self.config.hydra.sweep.dir)), sum(map(len, batches)))
        return batches

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Compose the first job of ``batch`` (the values were checked before Hydra ran)."""
        super().validate_batch_is_legal(list(batch)[:1])
