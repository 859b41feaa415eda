"""Cached kernels never outlive a change of the sources compiled into them."""

import subprocess
import sys
import textwrap

from sim import kernels, rules
from sim.kernel_cache import STAMP, cache_folders, refresh, sources_digest


def _fill(folder):
    names = [
        "kernels.land_market-300.py312.nbi",
        "kernels.land_market-300.py312.1.nbc",
        "rules.per_step-40.py312.nbi",
        "other.f-1.py312.nbi",  # another package's cache shares the folder
        "notes.txt",
    ]
    for name in names:
        (folder / name).write_text("x")
    return names


def test_a_changed_digest_drops_only_ronghe_s_cached_code(tmp_path):
    _fill(tmp_path)
    assert refresh(tmp_path, "a" * 64)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([STAMP, "other.f-1.py312.nbi", "notes.txt"])
    assert (tmp_path / STAMP).read_text() == "a" * 64


def test_the_same_digest_keeps_the_cache(tmp_path):
    names = _fill(tmp_path)
    (tmp_path / STAMP).write_text("b" * 64)
    assert not refresh(tmp_path, "b" * 64)
    assert set(names) <= {p.name for p in tmp_path.iterdir()}


def test_an_unwritable_folder_is_left_alone(tmp_path):
    missing = tmp_path / "gone"
    assert not refresh(missing, "c" * 64)
    assert not missing.exists()


def test_the_digest_covers_the_rules_compiled_into_the_kernels(tmp_path):
    for name in ("rng", "state", "world", "rules", "kernels"):
        (tmp_path / f"{name}.py").write_text(f"# {name}\n")
    before = sources_digest(tmp_path)
    (tmp_path / "rules.py").write_text("# rules, edited\n")
    assert sources_digest(tmp_path) != before


def test_the_model_s_kernels_are_cached_where_the_check_looks():
    folders = cache_folders((rules, kernels))
    assert folders and all(f.is_dir() for f in folders)


def test_an_edited_rule_reaches_a_cached_kernel(tmp_path):
    """The defect this guards against: numba keyed the kernel on kernels.py alone."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    rule = package / "rules.py"
    (package / "kernels.py").write_text(
        textwrap.dedent(
            """
            from numba import njit
            from pkg.rules import value

            @njit(cache=True)
            def kernel():
                return value()
            """
        )
    )
    script = textwrap.dedent(
        f"""
        import hashlib
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(tmp_path)!r})
        import pkg.kernels as k
        from sim.kernel_cache import cache_folders, refresh
        digest = hashlib.sha256(Path({str(rule)!r}).read_bytes()).hexdigest()
        for folder in cache_folders((k,)):
            refresh(folder, digest)
        print(k.kernel())
        """
    )
    results = []
    for version in (1, 2, 2):
        rule.write_text(f"from numba import njit\n\n@njit\ndef value():\n    return {version}\n")
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        results.append(out.stdout.strip())
    assert results == ["1", "2", "2"]
    assert list((package / "__pycache__").glob("kernels.kernel-*.nbi"))  # cached again
