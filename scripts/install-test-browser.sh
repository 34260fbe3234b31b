#!/usr/bin/env bash
# Installs headless Chromium for tests/slow/test_plot_page.cpp (skipped without it) and, with --fuzz, the clang
# toolchain for scripts/fuzz.sh. Debian; as root or with passwordless sudo. Nothing happens when already there.
set -euo pipefail
pkgs=(chromium)
[ "${1:-}" = "--fuzz" ] && pkgs+=(clang libclang-rt-14-dev libomp-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; else
    echo "error: not root: run 'sudo apt-get install -y ${missing[*]}'" >&2
    exit 1
  fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y "${missing[@]}" || { $SUDO apt-get update && $SUDO apt-get install -y "${missing[@]}"; }
