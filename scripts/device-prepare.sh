#!/usr/bin/env bash
# Here (the Debian machine), before a GPU session: puts into .device/ (git-ignored) what the device machine lacks
# and cannot download: the .debs of our build dependencies, the official AICL code and the oracle scripts.
#   scripts/device-prepare.sh            then: device run with carry [".device"], command scripts/device-run.sh
# The device image has CUDA, CMake, ninja, g++ and PyTorch but no HDF5/OpenBLAS/JSON/Catch2/benchmark headers.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .device/debs
# Our build dependencies and their shared-library closure, minus what every glibc system has (libc6, libstdc++6,
# libgcc-s1): HDF5 (serial) pulls libcurl3-gnutls and its TLS/Kerberos libraries; pkgconf because the image may
# have no pkg-config.
debs=(libhdf5-dev libhdf5-103-1 libhdf5-hl-100 libhdf5-cpp-103-1 libhdf5-hl-cpp-100 libsz2 libaec0 libaec-dev
      libcurl3-gnutls libnghttp2-14 librtmp1 libssh2-1 libpsl5 libidn2-0 libunistring2 libgnutls30 libhogweed6
      libnettle8 libgmp10 libp11-kit0 libtasn1-6 libffi8 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0
      libcom-err2 libkeyutils1 libldap-2.5-0 libsasl2-2 libsasl2-modules-db libdb5.3 libbrotli1 libzstd1 zlib1g
      zlib1g-dev libssl3 libjpeg62-turbo libopenblas-openmp-dev libopenblas0-openmp libgfortran5 libquadmath0
      libgomp1 nlohmann-json3-dev catch2 libbenchmark-dev libbenchmark1debian librandom123-dev pkgconf pkgconf-bin libpkgconf3)
(cd .device/debs && rm -f ./*.deb && apt-get download "${debs[@]}" 2> >(grep -v '^W: Download is performed unsandboxed' >&2))
# The official code and the oracle, for the GPU speed comparison (official_train.py on the same GPU).
official=${OFFICIAL_AICL:-/work/.mirror/lizhilin-ustc+AAAI2023-AICL/repo}
rm -rf .device/aicl_official .device/oracle
if [ -d "$official/.git" ] || git --git-dir="$official" rev-parse HEAD > /dev/null 2>&1; then
  mkdir -p .device/aicl_official
  git --git-dir="$official" archive HEAD 2>/dev/null | tar -x -C .device/aicl_official \
    || git -C "$official" archive HEAD | tar -x -C .device/aicl_official
elif [ -d "$official" ]; then
  cp -r "$official" .device/aicl_official
else
  echo "warning: official AICL code not found at $official (set OFFICIAL_AICL): no official GPU comparison" >&2
fi
[ -d ../shared/oracle ] && cp -r ../shared/oracle .device/oracle \
  || echo "warning: ../shared/oracle not found: no official GPU comparison" >&2
du -sh .device
echo "carry: [\".device\"]; command: scripts/device-run.sh [quick]"
