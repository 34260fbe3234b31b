#!/usr/bin/env bash
# Installs what the optional slow tests need, through scripts/install-deps.sh (nothing happens when already there):
# headless Chromium (tests/slow/test_plot_page.cpp), Slurm and munge (tests/slow/test_slurm_sweep.cpp, a local
# single-node cluster) and, with --fuzz, the clang toolchain for scripts/fuzz.sh. Each test skips without its package.
set -euo pipefail
extra=(chromium slurm-wlm munge)
[ "${1:-}" = "--fuzz" ] && extra+=(clang libclang-rt-14-dev libomp-dev)
exec "$(dirname "$0")/install-deps.sh" "${extra[@]}"
