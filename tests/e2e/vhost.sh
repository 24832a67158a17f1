#!/bin/bash
# SPDX-License-Identifier: MIT
# The virtual host: QEMU in software emulation (TCG) emulating a host with
# AMD SVM (so kvm_amd gives a real /dev/kvm inside), q35 with an emulated
# IOMMU, QEMU's edu DMA device and an SR-IOV NVMe controller. The suite builds
# the host's initramfs, boots it, runs the selected steps inside (see
# l1-init) and passes or fails on each step's reported result.
#
# usage: vhost.sh BUILDDIR [STEP,STEP,...]      (default: every step)
# env:   IOMMU=intel|amd [intel]  CPU [EPYC: has SVM+NPT; a family-0xf CPU
#        such as qemu64 makes Linux scan all of PCI twice for an AGP GART]  SMP [2]  MEM [3G]
#        TIMEOUT seconds for the whole run [900]   E2E_LOG file for the console log
#        E2E_APPEND extra virtual-host kernel arguments, e.g. for debugging:
#          e2e_debug=1 (sluice debug log), e2e_l2append=loglevel=7+printk.time=1
set -uo pipefail
BUILD=$(cd "${1:?usage: vhost.sh BUILDDIR [STEPS]}" && pwd)
SRC=$(cd "$(dirname "$0")" && pwd)
STEPS=${2:-$(ls "$SRC"/steps/[0-9]*.sh | sed 's|.*/[0-9]*-\(.*\)\.sh|\1|' | paste -sd,)}
IOMMU=${IOMMU:-intel}
CPU=${CPU:-EPYC}
SMP=${SMP:-2}
MEM=${MEM:-3G}
TIMEOUT=${TIMEOUT:-900}
OUT=$BUILD/e2e
LOG=${E2E_LOG:-$OUT/console.log}

die() { echo "vhost: $*" >&2; exit 1; }

# The newest installed kernel with its modules: never a hard-coded version.
KVER=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V |
	while read -r v; do [ -d "/lib/modules/$v" ] && echo "$v"; done | tail -n 1)
[ -n "$KVER" ] || die "no kernel in /boot with modules in /lib/modules (apt-get install linux-image-amd64)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
[ -x /bin/busybox ] || die "/bin/busybox missing (apt-get install busybox-static)"

mkdir -p "$OUT"
t0=$(date +%s.%N)
"$SRC/mkinitramfs.sh" "$OUT" "$BUILD" "$KVER" || die "building the initramfs failed"
echo "vhost: initramfs built in $(echo "$(date +%s.%N) - $t0" | bc) s"

[ -f "$OUT/nvme.img" ] || truncate -s 64M "$OUT/nvme.img"
case $IOMMU in
intel) IOMMU_DEV=(-device intel-iommu,intremap=on,caching-mode=on); IOMMU_ARGS="intel_iommu=on iommu=pt" ;;
amd) IOMMU_DEV=(-device amd-iommu,intremap=on); IOMMU_ARGS="iommu=pt" ;;
*) die "IOMMU must be intel or amd" ;;
esac
CMD=(qemu-system-x86_64
	-machine q35,kernel-irqchip=split -accel tcg -cpu "$CPU" -smp "$SMP" -m "$MEM"
	-nodefaults -display none -serial stdio -no-reboot
	"${IOMMU_DEV[@]}"
	-kernel "/boot/vmlinuz-$KVER" -initrd "$OUT/l1.cpio"
	-append "console=ttyS0 loglevel=4 panic=-1 $IOMMU_ARGS e2e=$STEPS ${E2E_APPEND:-}"
	-device edu,id=edu0
	-device pcie-root-port,id=rp1,chassis=1,slot=1
	-device nvme-subsys,id=subsys0
	-device nvme,id=nvme0,bus=rp1,serial=sluice0,subsys=subsys0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=8,msix_qsize=8
	-drive "file=$OUT/nvme.img,if=none,id=nvm,format=raw"
	-device nvme-ns,drive=nvm,bus=nvme0,nsid=1)
echo "vhost: ${CMD[*]}"
echo "vhost: steps $STEPS, IOMMU $IOMMU, kernel $KVER, timeout ${TIMEOUT}s"
start=$(date +%s.%N)
# Console lines are stamped with host time since launch; the log keeps all.
timeout -k 5 "$TIMEOUT" "${CMD[@]}" </dev/null 2>&1 |
	perl -MTime::HiRes=time -ne 'BEGIN { $| = 1; $t0 = time } s/\r//g;
		printf "[%7.2f] %s", time - $t0, $_' >"$LOG"
qrc=${PIPESTATUS[0]}
wall=$(echo "$(date +%s.%N) - $start" | bc)

passed=0 failed=0
{
echo
echo "virtual host: QEMU exit status $qrc, ${wall%.*} s wall"
for s in ${STEPS//,/ }; do
	line=$(grep -m1 "E2E STEP $s \(PASS\|FAIL\)" "$LOG" | sed 's/^\[[^]]*\] //')
	if [ -z "$line" ]; then
		echo "FAIL  $s: no result (the virtual host hung, crashed or timed out)"
		failed=$((failed + 1))
	elif [[ $line == *" PASS "* ]]; then
		echo "PASS  $s (${line##* PASS }s)"
		passed=$((passed + 1))
	else
		echo "FAIL  $s: ${line#*FAIL }"
		failed=$((failed + 1))
	fi
	grep "E2E RESULT $s " "$LOG" | sed 's/^\[[^]]*\] E2E RESULT /      /'
done
if [ "$failed" -gt 0 ] || ! grep -q "E2E DONE" "$LOG"; then
	echo "--- last 60 lines of the console log ($LOG) ---"
	tail -n 60 "$LOG"
fi
echo "e2e: $passed passed, $failed failed"
} | tee "$OUT/summary.txt"
grep -q "^e2e: [0-9]* passed, 0 failed" "$OUT/summary.txt" && grep -q "E2E DONE" "$LOG"
