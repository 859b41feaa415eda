"""Hydra plugins of Ronghe: the ``ronghe`` sweeper and the ``ronghe_cores`` launcher."""
