#!/usr/bin/env bash
# Installs everything sluice needs to build and test on Debian 12.
set -euo pipefail
pkgs=(
  build-essential meson ninja-build pkg-config python3
  gcc binutils clang libclang-rt-14-dev   # clang: libFuzzer targets and sanitizers
  linux-libc-dev libcmocka-dev libpci-dev
  valgrind time qemu-system-x86           # benchmarks: callgrind, peak RSS, QEMU as the peer
  linux-image-amd64 busybox-static cpio kmod bc perl pciutils nvme-cli  # tests/e2e: the virtual host
  e2fsprogs iproute2                      # tests/e2e: ext4 images (mke2fs, debugfs, e2fsck), TAP devices
  stress-ng                               # tests/e2e: the memory-bound L2 workload of the bench step
  procps                                  # tests/e2e: pgrep for the integration tests in the virtual host
  dpdk dpdk-dev libdpdk-dev               # sluice-vswitch (rte_vhost) and dpdk-testpmd, its test peer
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
