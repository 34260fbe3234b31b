#!/usr/bin/env bash
# Installs headless Chromium for tests/slow/test_plot_page.cpp (skipped without it) and, with --fuzz, the clang
# toolchain for scripts/fuzz.sh, through scripts/install-deps.sh (nothing happens when already there).
set -euo pipefail
extra=(chromium)
[ "${1:-}" = "--fuzz" ] && extra+=(clang libclang-rt-14-dev libomp-dev)
exec "$(dirname "$0")/install-deps.sh" "${extra[@]}"
