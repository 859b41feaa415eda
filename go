#!/usr/bin/env sh
# One-command set-up for Ronghe.
#
#   ./go main    install into .venv, run the baseline, stalled and decision_package
#                scenarios 2023-2035 over 100 posterior draws x 2 seeds at scale 0.02,
#                print their 2027 targets with P(met) over the draws and where their
#                variance comes from, and write the report
#                (outputs/main/report-zh/report.html and report-en/)
#   ./go test    install into .venv (with test tools) and run the test suite
#
# Finds a Python >= 3.12 that actually runs (python3.13, python3.12, pyenv's versions,
# python3), creates .venv with it and installs the package in editable mode.
set -eu
cd "$(dirname "$0")"

usable() {
    "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 12) else 1)' \
        >/dev/null 2>&1
}

find_python() {
    for candidate in python3.13 python3.12; do
        if command -v "$candidate" >/dev/null 2>&1 && usable "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    root="${PYENV_ROOT:-$HOME/.pyenv}"
    for dir in "$root"/versions/3.13* "$root"/versions/3.12*; do
        if [ -x "$dir/bin/python3" ] && usable "$dir/bin/python3"; then
            echo "$dir/bin/python3"
            return 0
        fi
    done
    if command -v python3 >/dev/null 2>&1 && usable python3; then
        command -v python3
        return 0
    fi
    return 1
}

setup() {
    if [ ! -x .venv/bin/python ] || ! usable .venv/bin/python; then
        python=$(find_python) || {
            echo "go: no Python >= 3.12 found (tried python3.13, python3.12, pyenv, python3)" >&2
            exit 1
        }
        echo "go: creating .venv with $python ($("$python" --version 2>&1))"
        rm -rf .venv
        "$python" -m venv .venv
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
}

case "${1:-}" in
    main)
        setup
        shift
        .venv/bin/ronghe run -m scenario=baseline,stalled,decision_package ensemble=posterior \
            draws=100 draw_seeds=2 scale=0.02 seed=1 end_year=2035 hydra.sweep.dir=outputs/main \
            'hydra.sweep.subdir=${scenario}' "$@"
        .venv/bin/ronghe report outputs/main --lang zh
        .venv/bin/ronghe report outputs/main --lang en
        ;;
    test)
        setup
        shift
        # One test process per core (pytest-xdist), tests handed out one by one.
        .venv/bin/python -m pytest -q -n auto --dist load "$@"
        ;;
    *)
        sed -n '2,11p' "$0"
        exit 2
        ;;
esac
