#!/usr/bin/env bash
# The main job: install, build, and boot the bundled demo guest on KVM.
# The demo guest is a small 64-bit kernel (tests/guests) that reports what it
# sees of its virtual machine: CPUID policy, MSR policy, its CPUs (started by
# INIT/SIPI), and exits through the isa-debug-exit port (status 1 = all passed).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
# A host without /dev/kvm (e.g. a VM without nested virtualization): run the
# same guest under sluice inside the virtual host instead (QEMU/TCG emulating a
# host with AMD SVM, tests/e2e), whose `kvm` step boots it on nested KVM.
if [ ! -c /dev/kvm ]; then
  echo "demo: this host has no /dev/kvm; running sluice inside the virtual host (QEMU/TCG, a minute or two)"
  if tests/e2e/vhost.sh build kvm; then
    grep -E "PASS|FAIL" build/e2e/console.log | sed 's/^\[[^]]*\] //' | grep -v '^E2E' | head -n 60
    echo "demo: sluice ran the guest on nested KVM and every check passed"
    exit 0
  fi
  echo "demo: the virtual host's kvm step failed (build/e2e/console.log)"
  exit 1
fi
set +e
# cpus=2 tells the guest how many CPUs to expect, so it can check the topology.
./build/sluice run --kernel build/tests/guests/lm.bzImage --cpus 2 --memory 64M \
  --cmdline "cpus=2" "$@"
status=$?
set -e
# The guest reports through port 0xf4: value 0 (status 1) means every check passed.
if [ "$status" -eq 1 ]; then
  echo "demo: sluice ran the guest and every check passed"
  exit 0
fi
echo "demo: sluice exited with status $status (a guest check failed, or the VM could not run)"
exit 1
