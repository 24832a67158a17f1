#!/usr/bin/env bash
# The main job: install, build, and boot the bundled demo guest on KVM.
# The demo guest is a small 64-bit kernel (tests/guests) that reports what it
# sees of its virtual machine: CPUID policy, MSR policy, its CPUs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
set +e
./build/sluice run --kernel build/tests/guests/cpucheck.bzimage --cpus 2 --memory 64M \
  --cpu-policy tests/guests/cpucheck.policy "$@"
status=$?
set -e
echo "sluice exited with status $status"
exit $status
