"""Bayesian calibration: history matching with Gaussian-process emulators.

The record (``observations.csv``) is compared with the model's moments
(:mod:`sim.moments`) over the free priors of ``priors.csv`` (:mod:`sim.priors`). Runs
are expensive and the parameters many, so the calibration follows the history-matching
practice of Vernon, Goldstein & Bower (2010, Bayesian Analysis 5(4)) and Andrianakis et
al. (2015, PLoS Comput Biol 11(1)):

1. **Waves.** Each wave runs the model at a design of points (one seed each, so the seed
   noise is part of what the emulators learn) through :func:`sim.ensemble.run_ensemble`.
   The first design is a Latin hypercube over the priors' quantiles (the unit cube ``u``,
   where every prior is uniform); later designs sample the space not yet ruled out.
2. **Emulators.** For each fitted moment, a linear regression on every parameter plus a
   Gaussian process (scikit-learn) on the residual over the parameters that matter most
   for that moment (its *active* inputs), with a nugget for the seed noise and the
   inactive parameters.
3. **Implausibility.** ``I_k(u) = |z_k - E f_k(u)| / sqrt(sd_k^2 + Var f_k(u))``, with
   ``sd_k`` the observation and discrepancy error of moment ``k``; points whose largest
   ``I_k`` exceeds :data:`CUTOFF` are ruled out.
4. **Posterior.** Candidates drawn uniformly over the cube and kept where not ruled out
   are weighted by the emulated Gaussian likelihood (the prior is uniform in ``u``) and
   resampled; :func:`posterior_draws` reports the effective sample size. The draws are
   then run with the model itself (:func:`simulate`) to check the emulators and to give
   the posterior predictive.

Every random choice is seeded: the same command gives the same waves, emulators and
draws.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import qmc
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.linear_model import Ridge

from sim.data import DEFAULT_REGION, Observation, RegionData
from sim.errors import ConfigError
from sim.moments import compared, model_years, moments_of
from sim.paths import engine_digest
from sim.priors import Prior, priors_of
from sim.sweeps import replicate_seeds

CUTOFF = 3.0  # Pukelsheim's three-sigma rule: 95% of any unimodal distribution within 3 sd
ACTIVE_INPUTS = 8  # parameters a moment's Gaussian process sees; the rest act as noise
GP_POINTS_MAX = 600  # training points of a Gaussian process (its cost grows as n^3)
# A posterior too peaked for the candidates is retried with 4 and 16 times as many.
CANDIDATES_GROWTH_MAX = 16


def free_parameters(region: RegionData) -> tuple[str, ...]:
    """The parameters the calibration varies: free priors of parameters.csv rows.

    Lever intervals (``lever:`` priors) are left to the projections: the record holds
    no variation of the levers that could inform them.
    """
    return tuple(
        name for name, p in priors_of(region).items() if p.free and not name.startswith("lever:")
    )


def end_year_for(observations: Sequence[Observation], start_year: int) -> int:
    """The last model year any of ``observations`` is compared in."""
    return max(model_years(o, start_year)[1] for o in observations)


def latin_design(n: int, d: int, seed: int) -> np.ndarray:
    """``n`` points of a scrambled Latin hypercube in ``[0, 1)^d`` (seeded)."""
    return qmc.LatinHypercube(d=d, seed=np.random.default_rng(seed)).random(n)


def to_params(u: np.ndarray, names: Sequence[str], priors: dict[str, Prior]) -> pd.DataFrame:
    """Parameter values at the points ``u`` of the unit cube (each column a prior's quantile)."""
    u = np.atleast_2d(u)
    return pd.DataFrame({name: priors[name].ppf(u[:, j]) for j, name in enumerate(names)})


@dataclass(frozen=True)
class Setup:
    """What a calibration's runs are: scale, years, seeds and data.

    Attributes:
        scale: Agents per resident (seed noise must be small against the errors).
        start_year: The model's first year (its start state).
        end_year: The last year a compared moment needs.
        seed: Base of the runs' seeds; point ``k`` of a wave runs with its own seed.
        region: The region (a library region's name or a folder).
        workers: Worker processes of :func:`sim.ensemble.run_ensemble` (0 = one per core).
    """

    scale: float
    start_year: int
    end_year: int
    seed: int = 1
    region: str = DEFAULT_REGION
    workers: int = 0

    def members(self, params: pd.DataFrame, seeds: Sequence[int]) -> list[dict]:
        """One run configuration per row of ``params``."""
        out = []
        for seed, (_, row) in zip(seeds, params.iterrows(), strict=True):
            out.append(
                {
                    "seed": int(seed),
                    "scale": self.scale,
                    "start_year": self.start_year,
                    "end_year": self.end_year,
                    "region": self.region,
                    "params": {k: float(v) for k, v in row.items()},
                }
            )
        return out


Runner = Callable[[list[dict]], list[pd.DataFrame]]


def simulate(
    setup: Setup,
    params: pd.DataFrame,
    observations: Sequence[Observation],
    seeds: Sequence[int],
    runner: Runner | None = None,
) -> pd.DataFrame:
    """The moments of one run per row of ``params`` (row ``k`` with ``seeds[k]``).

    Args:
        setup: Scale, years and data of the runs.
        params: Parameter values, one row per run.
        observations: The moments to compute.
        seeds: One seed per run.
        runner: Runs a list of configurations and returns their indicator tables;
            default :func:`sim.ensemble.run_ensemble` with ``setup.workers``.
    """
    if runner is None:
        from sim.ensemble import run_ensemble

        def runner(members):
            return run_ensemble(members, workers=setup.workers)

    tables = runner(setup.members(params, seeds))
    rows = [moments_of(t, observations, setup.start_year) for t in tables]
    return pd.DataFrame(rows).reset_index(drop=True)


def run_batch(members: list[dict]) -> list[pd.DataFrame]:
    """Run a batch of configurations on the cores of this process (a Slurm task's body)."""
    from sim.ensemble import run_ensemble

    return run_ensemble(members, workers=0)


def slurm_runner(
    folder, tasks: int = 8, cpus_per_task: int = 2, timeout_min: int = 60, partition=None
) -> Runner:
    """A runner that spreads a wave over a Slurm job array (submitit).

    Each of ``tasks`` array tasks runs an equal share of the wave with
    :func:`run_batch` on its ``cpus_per_task`` cores; results come back in member order.
    ``folder`` must be on a filesystem the nodes see at the same path.
    """
    import submitit

    executor = submitit.AutoExecutor(folder=str(folder), cluster="slurm")
    executor.update_parameters(
        timeout_min=timeout_min,
        cpus_per_task=cpus_per_task,
        slurm_partition=partition,
        name="ronghe-calibration",
    )

    def runner(members: list[dict]) -> list[pd.DataFrame]:
        shares = [members[k::tasks] for k in range(tasks) if members[k::tasks]]
        jobs = executor.map_array(run_batch, shares)
        tables: list[pd.DataFrame | None] = [None] * len(members)
        for k, job in enumerate(jobs):
            for j, table in enumerate(job.result()):
                tables[k + j * tasks] = table
        return tables  # type: ignore[return-value]

    return runner


def point_seeds(setup: Setup, wave: int, n: int) -> list[int]:
    """The seeds of a wave's ``n`` points: distinct across waves, fixed by ``setup.seed``."""
    return replicate_seeds(setup.seed * 1000 + wave, n)


@dataclass
class Emulator:
    """A fast stand-in for the model's value of one moment as a function of ``u``.

    A ridge regression on every input carries the broad trends; a Gaussian process on
    the residual over the ``active`` inputs carries the curvature, and its nugget the
    seed noise and the effect of the other inputs.
    """

    moment: str
    active: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    linear: Ridge | None = None
    gp: GaussianProcessRegressor | None = None
    scale: float = 1.0

    inflation: float = 1.0

    def fit(self, u: np.ndarray, y: np.ndarray, seed: int = 0) -> Emulator:
        """Fit to runs at ``u`` (n x d) with values ``y`` (n), checked on held-out runs.

        A fifth of the runs is held out first: where the emulator's errors there exceed
        its stated variance, the variance is inflated by their mean square (emulators
        that claim more certainty than they have would rule out good points). Then the
        emulator is refitted on every run.
        """
        u = np.asarray(u, dtype=float)
        y = np.asarray(y, dtype=float)
        order = np.random.default_rng(seed).permutation(len(y))
        held = order[: len(y) // 5]
        if len(held) >= 10:
            train = np.sort(order[len(y) // 5 :])
            self._fit(u[train], y[train], seed)
            mean, var = self.predict(u[held])
            self.inflation = max(1.0, float(np.mean((y[held] - mean) ** 2 / var)))
        self._fit(u, y, seed)
        return self

    def _fit(self, u: np.ndarray, y: np.ndarray, seed: int) -> None:
        self.scale = float(np.std(y)) or 1.0
        z = y / self.scale
        self.linear = Ridge(alpha=1e-3).fit(u, z)
        residual = z - self.linear.predict(u)
        k = min(ACTIVE_INPUTS, u.shape[1])
        self.active = np.sort(np.argsort(-np.abs(self.linear.coef_))[:k])
        keep = np.arange(max(0, len(z) - GP_POINTS_MAX), len(z))  # the latest waves' runs
        kernel = ConstantKernel(0.1, (1e-4, 1e2)) * RBF(
            np.full(k, 0.5), (0.05, 20.0)
        ) + WhiteKernel(0.1, (1e-6, 1.0))
        gp = GaussianProcessRegressor(
            kernel, normalize_y=False, n_restarts_optimizer=1, random_state=seed
        )
        with warnings.catch_warnings():
            # A length scale at its upper bound says an input hardly matters: expected.
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp = gp.fit(u[keep][:, self.active], residual[keep])

    def predict(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The emulated mean and variance (seed noise included) at the points ``u``."""
        mean_residual, sd = self.gp.predict(u[:, self.active], return_std=True)
        mean = (self.linear.predict(u) + mean_residual) * self.scale
        return mean, self.inflation * (sd * self.scale) ** 2


def fit_emulators(
    u: np.ndarray, moments: pd.DataFrame, observations: Sequence[Observation], seed: int = 0
) -> list[Emulator]:
    """One emulator per observation, fitted to the runs ``u`` and their ``moments``."""
    return [Emulator(o.moment).fit(u, moments[o.moment].to_numpy(), seed) for o in observations]


def implausibility(
    emulators: Sequence[Emulator], observations: Sequence[Observation], u: np.ndarray
) -> np.ndarray:
    """``I_k(u)`` for every point (rows) and moment (columns)."""
    out = np.empty((len(u), len(observations)))
    for k, (em, o) in enumerate(zip(emulators, observations, strict=True)):
        mean, var = em.predict(u)
        out[:, k] = np.abs(o.value - mean) / np.sqrt(o.sd**2 + var)
    return out


def log_likelihoods(
    emulators: Sequence[Emulator], observations: Sequence[Observation], u: np.ndarray
) -> np.ndarray:
    """The emulated Gaussian log-likelihood of the observations at every point."""
    total = np.zeros(len(u))
    for em, o in zip(emulators, observations, strict=True):
        mean, var = em.predict(u)
        v = o.sd**2 + var
        total += -0.5 * ((o.value - mean) ** 2 / v + np.log(2 * np.pi * v))
    return total


def not_ruled_out(
    emulators: Sequence[Emulator],
    observations: Sequence[Observation],
    n_candidates: int,
    d: int,
    seed: int,
    batch: int = 20_000,
) -> np.ndarray:
    """Candidates uniform over the cube whose largest implausibility is at most CUTOFF.

    Moments are checked one after the other on the candidates still standing, so most
    candidates cost only the first few emulators (the same set as checking all at once).
    """
    u = latin_design(n_candidates, d, seed)
    alive = np.arange(n_candidates)
    for em, o in zip(emulators, observations, strict=True):
        keep = np.zeros(len(alive), dtype=bool)
        for start in range(0, len(alive), batch):
            part = u[alive[start : start + batch]]
            mean, var = em.predict(part)
            keep[start : start + batch] = np.abs(o.value - mean) <= CUTOFF * np.sqrt(o.sd**2 + var)
        alive = alive[keep]
        if len(alive) == 0:
            break
    return u[alive]


def thin(u: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` of the points ``u`` chosen at random (all if there are fewer)."""
    if len(u) <= n:
        return u
    return u[np.sort(np.random.default_rng(seed).choice(len(u), n, replace=False))]


@dataclass(frozen=True)
class Posterior:
    """Draws from the emulated posterior, in the unit cube, and how they were weighted."""

    u: np.ndarray
    effective_size: float
    candidates: int


def posterior_draws(
    emulators: Sequence[Emulator],
    observations: Sequence[Observation],
    candidates: np.ndarray,
    n: int,
    seed: int,
) -> Posterior:
    """``n`` draws by importance resampling of ``candidates`` (uniform over the cube).

    Raises:
        ConfigError: No candidate, or fewer effective candidates than draws asked for.
    """
    if len(candidates) == 0:
        raise ConfigError("calibration: every candidate is ruled out; widen priors or errors")
    log_w = log_likelihoods(emulators, observations, candidates)
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    ess = float(1.0 / np.sum(w**2))
    if ess < n:
        raise ConfigError(
            f"calibration: the emulated posterior has an effective sample size of {ess:.0f}, "
            f"below the {n} draws asked for; use more candidates"
        )
    # Systematic resampling: one uniform, evenly spaced pointers (Kitagawa 1996).
    start = np.random.default_rng(seed).random() / n
    pointers = start + np.arange(n) / n
    chosen = np.searchsorted(np.cumsum(w), pointers)
    return Posterior(candidates[np.minimum(chosen, len(w) - 1)], ess, len(candidates))


def informed(
    u_posterior: np.ndarray, names: Sequence[str], priors: dict[str, Prior]
) -> pd.DataFrame:
    """How much the record narrowed each parameter.

    In the unit cube every prior is uniform (sd ``1/sqrt(12)``); ``width_ratio`` is the
    posterior's sd there over that, 1 for a parameter the data leave where the prior had
    it. Quantiles are in the parameter's own units.
    """
    prior_sd = 1.0 / np.sqrt(12.0)
    values = to_params(u_posterior, names, priors)
    rows = []
    for j, name in enumerate(names):
        q05, q50, q95 = np.quantile(values[name], [0.05, 0.5, 0.95])
        p05, p50, p95 = priors[name].quantiles()
        rows.append(
            {
                "parameter": name,
                "width_ratio": float(np.std(u_posterior[:, j]) / prior_sd),
                "prior_q05": p05,
                "prior_q50": p50,
                "prior_q95": p95,
                "posterior_q05": q05,
                "posterior_q50": q50,
                "posterior_q95": q95,
            }
        )
    return pd.DataFrame(rows).sort_values("width_ratio").reset_index(drop=True)


def coverage(
    observations: Sequence[Observation], predictive: pd.DataFrame, level: float = 0.9
) -> pd.DataFrame:
    """Whether each observation lies in the central ``level`` interval of its predictive.

    The predictive of a moment is the simulated value at each posterior draw plus the
    observation and discrepancy error (Gaussian, ``sd``), so an observation that the
    model reproduces up to its stated error is covered.
    """
    rng = np.random.default_rng(0)
    rows = []
    for o in observations:
        sim = predictive[o.moment].to_numpy()
        draws = sim[:, None] + rng.normal(0.0, o.sd, (len(sim), 200))
        low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
        rows.append(
            {
                "moment": o.moment,
                "use": o.use,
                "observed": o.value,
                "predictive_median": float(np.median(draws)),
                "low": float(low),
                "high": float(high),
                "covered": bool(low <= o.value <= high),
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "ACTIVE_INPUTS",
    "CUTOFF",
    "Emulator",
    "Plan",
    "Posterior",
    "Setup",
    "coverage",
    "end_year_for",
    "fit_emulators",
    "free_parameters",
    "history_match",
    "implausibility",
    "informed",
    "latin_design",
    "log_likelihoods",
    "not_ruled_out",
    "point_seeds",
    "posterior_draws",
    "run_batch",
    "simulate",
    "slurm_runner",
    "thin",
    "to_params",
]


# ------------------------------------------------------------------ the whole calibration


@dataclass(frozen=True)
class Plan:
    """A calibration's size: waves, points per wave, candidates and posterior draws."""

    waves: int = 3
    points: int = 512
    candidates: int = 200_000
    draws: int = 256


def _write_parquet(frame: pd.DataFrame, path) -> None:
    """Write to a temporary name and rename, so a stopped run leaves no half file."""
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp)
    tmp.replace(path)


def _runs(folder, waves: int) -> pd.DataFrame:
    return pd.concat(
        [pd.read_parquet(folder / f"wave_{k}.parquet") for k in range(waves)], ignore_index=True
    )


def history_match(
    folder,
    region: RegionData,
    setup: Setup,
    plan: Plan,
    names: Sequence[str] | None = None,
    runner: Runner | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Run (or resume) a calibration in ``folder``; return its results.

    Each wave's runs are stored as ``wave_<k>.parquet`` once complete, the posterior
    draws as ``draws.parquet`` and their runs as ``predictive.parquet``; a rerun with
    the same settings skips what is stored. Emulators are refitted from the stored runs
    (deterministically), never stored.

    Returns:
        ``draws`` (parameter values and seed per draw), ``predictive`` (the moments of
        the draws' runs, fitted and held out), ``informed`` (posterior against prior
        width), ``coverage`` (observations against their 90% predictive intervals),
        ``nroy`` (the share of candidates not ruled out after each wave) and
        ``effective_size`` of the importance resampling.
    """
    import json
    from pathlib import Path

    folder = Path(folder)
    stored = folder / "settings.json"
    if folder.is_dir() and any(folder.iterdir()) and not stored.is_file():
        raise ConfigError(
            f"{folder}: holds files Ronghe did not write there (no settings.json of a "
            f"calibration); choose another folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    priors = priors_of(region)
    names = tuple(names or free_parameters(region))
    fit = [o for o in region.observations if o.use == "fit"]
    checked = compared(region.observations)
    settings = {
        "scale": setup.scale,
        "start_year": setup.start_year,
        "end_year": setup.end_year,
        "seed": setup.seed,
        "plan": plan.__dict__,
        "parameters": list(names),
        "calibration_hash": region.calibration_hash,
        # Waves run by another engine are not this engine's runs: never resumed across an
        # edit of anything that shapes their numbers.
        "engine_digest": engine_digest(),
    }
    if stored.is_file():
        before = json.loads(stored.read_text(encoding="utf-8"))
        if before != settings:
            changed = sorted(k for k in settings if before.get(k) != settings[k])
            raise ConfigError(
                f"{folder}: holds a calibration with other settings ({', '.join(changed)}); "
                f"choose another folder to start a new one"
            )
    else:
        stored.write_text(json.dumps(settings, indent=1), encoding="utf-8")
    d = len(names)
    nroy = []
    emulators: list[Emulator] = []
    for wave in range(plan.waves):
        path = folder / f"wave_{wave}.parquet"
        if not path.is_file():
            if wave == 0:
                u = latin_design(plan.points, d, setup.seed)
            else:
                candidates = not_ruled_out(
                    emulators, fit, plan.candidates, d, setup.seed * 7919 + wave
                )
                if len(candidates) == 0:
                    raise ConfigError(
                        f"calibration: wave {wave} finds every candidate ruled out; the "
                        f"model cannot match the record within its errors"
                    )
                u = thin(candidates, plan.points, setup.seed + wave)
            seeds = point_seeds(setup, wave, len(u))
            log(f"wave {wave}: {len(u)} runs")
            moments = simulate(setup, to_params(u, names, priors), checked, seeds, runner)
            frame = pd.DataFrame(u, columns=[f"u:{n}" for n in names])
            frame["seed"] = seeds
            frame = pd.concat([frame, moments.add_prefix("m:")], axis=1)
            _write_parquet(frame, path)
        runs = _runs(folder, wave + 1)
        u_all = runs[[f"u:{n}" for n in names]].to_numpy()
        moments_all = runs[[f"m:{o.moment}" for o in fit]].set_axis([o.moment for o in fit], axis=1)
        emulators = fit_emulators(u_all, moments_all, fit, seed=setup.seed)
        share = len(not_ruled_out(emulators, fit, 20_000, d, setup.seed * 31 + wave)) / 20_000
        nroy.append(share)
        log(f"wave {wave}: {share:.1%} of the parameter space not ruled out")
    n_candidates = plan.candidates
    while True:
        candidates = not_ruled_out(emulators, fit, n_candidates, d, setup.seed * 104729)
        try:
            posterior = posterior_draws(emulators, fit, candidates, plan.draws, setup.seed)
            break
        except ConfigError:
            if n_candidates >= CANDIDATES_GROWTH_MAX * plan.candidates or len(candidates) == 0:
                raise
            n_candidates *= 4
            log(f"posterior: too few effective candidates; trying {n_candidates}")
    log(
        f"posterior: {plan.draws} draws from {posterior.candidates} candidates not ruled out "
        f"(effective sample size {posterior.effective_size:.0f})"
    )
    draws = to_params(posterior.u, names, priors)
    draws.index.name = "draw"
    draws["seed"] = point_seeds(setup, plan.waves, len(draws))
    predictive_path = folder / "predictive.parquet"
    if not predictive_path.is_file():
        _write_parquet(draws, folder / "draws.parquet")
        log(f"posterior predictive: {len(draws)} runs")
        predictive = simulate(setup, draws[list(names)], checked, draws["seed"].tolist(), runner)
        _write_parquet(predictive, predictive_path)
    predictive = pd.read_parquet(predictive_path)
    return {
        "names": names,
        "draws": draws,
        "u": posterior.u,
        "predictive": predictive,
        "informed": informed(posterior.u, names, priors),
        "coverage": coverage(checked, predictive),
        "nroy": nroy,
        "effective_size": posterior.effective_size,
        "candidates": posterior.candidates,
        "runs": _runs(folder, plan.waves),
    }
