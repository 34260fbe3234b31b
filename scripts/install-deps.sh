#!/usr/bin/env bash
# Installs the Debian packages aicl needs (plus any given as arguments), only when something is missing.
set -euo pipefail
pkgs=(cmake make g++ pkg-config libhdf5-dev nlohmann-json3-dev catch2 libopenblas-dev libopenblas-openmp-dev libbenchmark-dev librandom123-dev "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "aicl: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; else
    echo "error: missing packages (${missing[*]}) and not root: run 'sudo apt-get install -y ${missing[*]}' and retry" >&2
    exit 1
  fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${missing[@]}"
}
