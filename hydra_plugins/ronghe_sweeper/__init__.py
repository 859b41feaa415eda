"""Hydra sweeper plugin of Ronghe (``hydra/sweeper=ronghe``, the default of ``ronghe run``)."""
