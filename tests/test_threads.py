"""numba's threads and fork: a process that ran the model can fork workers that run it."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import multiprocessing as mp
    import numba
    from sim.config import validate
    from sim.runner import simulate
    from sim.threads import configure

    def run(seed):
        cfg = validate({"scale": 0.001, "seed": seed, "end_year": 2024, "progress": "off"})
        model, *_ = simulate(cfg)
        return model.tallies[-1].residents.tolist()

    if __name__ == "__main__":
        configure(2)
        parent = [run(2), run(3)]
        print("layer", numba.threading_layer(), flush=True)
        with mp.get_context("fork").Pool(2) as pool:
            children = pool.map_async(run, [2, 3]).get(timeout=60)
        print("same" if children == parent else "different", flush=True)
    """
)


def run_script(tmp_path, layer=None):
    """Run SCRIPT in a fresh process, with NUMBA_THREADING_LAYER=layer or unset."""
    script = tmp_path / "fork_workers.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    if layer:
        env["NUMBA_THREADING_LAYER"] = layer
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=240, env=env
    )


def test_forked_workers_of_a_process_that_ran_the_model_do_not_hang(tmp_path):
    """Issue 10: with numba's OpenMP layer, forked workers waited forever."""
    done = run_script(tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "layer omp" not in done.stdout  # a fork-safe layer (workqueue, or TBB)
    assert done.stdout.strip().splitlines()[-1] == "same"  # identical in the workers


def test_workers_forked_from_openmp_threads_stop_with_a_clear_error(tmp_path):
    """If the user insists on OpenMP, a forked worker fails at once instead of hanging."""
    done = run_script(tmp_path, layer="omp")
    assert done.returncode != 0
    assert "layer omp" in done.stdout
    assert (
        "ForkedThreadsError: this process was forked from one that had started numba's "
        "OpenMP threads" in done.stderr
    )
    assert "'spawn' or 'forkserver'" in done.stderr


def test_small_populations_run_on_one_thread_large_ones_on_the_cores():
    from sim.threads import AGENTS_PER_THREAD, automatic_threads

    assert automatic_threads(18_000, 2) == 1  # 1:200, where a second thread loses
    assert automatic_threads(AGENTS_PER_THREAD - 1, 8) == 1
    assert automatic_threads(3_641_200, 2) == 2  # full scale on two cores
    assert automatic_threads(3_641_200, 64) == 7
    assert automatic_threads(0, 4) == 1


def test_threads_zero_follows_the_population_and_a_request_wins(monkeypatch):
    import numba

    from sim.threads import configure

    monkeypatch.delenv("SLURM_CPUS_PER_TASK", raising=False)
    before = numba.get_num_threads()
    try:
        assert configure(0, agents=18_000) == 1
        if numba.config.NUMBA_NUM_THREADS >= 2:
            assert configure(0, agents=3_641_200) == 2
            assert configure(2, agents=18_000) == 2  # an explicit request is honoured
        monkeypatch.setenv("SLURM_CPUS_PER_TASK", "1")
        assert configure(0, agents=3_641_200) == 1  # Slurm's allocation comes first
    finally:
        numba.set_num_threads(before)
