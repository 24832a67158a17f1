#!/bin/bash
# SPDX-License-Identifier: MIT
# The virtual host: QEMU in software emulation (TCG) emulating a host with
# AMD SVM (so kvm_amd gives a real /dev/kvm inside), q35 with an emulated
# IOMMU, QEMU's edu DMA device and an SR-IOV NVMe controller. The suite builds
# the host's initramfs, boots it, runs the selected steps inside (see
# l1-init) and passes or fails on each step's reported result.
#
# usage: vhost.sh BUILDDIR [STEP,STEP,...|@functional|@bench]   (default: every step)
#        @bench is every step whose name ends in "bench" (they boot the QEMU peer too),
#        @functional every other step.
# env:   IOMMU=intel|amd [intel]  CPU [EPYC: has SVM+NPT; a family-0xf CPU
#        such as qemu64 makes Linux scan all of PCI twice for an AGP GART]  SMP [2]  MEM [3G]
#        TIMEOUT seconds for a boot [60 + the steps' budgets]  STALL [90]: seconds without
#        an E2E line (steps beat every 10 s) after which the host counts as hung
#        E2E_LOG console log file  E2E_TAG [none]: names this run's log and summary
#        (console-TAG.log, summary-TAG.txt) so two runs can share one build
#        RETRIES [1]: fresh virtual hosts for steps left without a result by a hung host
#        E2E_APPEND extra virtual-host kernel arguments, e.g. for debugging:
#          e2e_debug=1 (sluice debug log), e2e_l2append=loglevel=7+printk.time=1
set -uo pipefail
BUILD=$(cd "${1:?usage: vhost.sh BUILDDIR [STEPS]}" && pwd)
SRC=$(cd "$(dirname "$0")" && pwd)
ALL_STEPS=$(ls "$SRC"/steps/[0-9]*.sh | sed 's|.*/[0-9]*-\(.*\)\.sh|\1|')
case ${2:-} in
"") STEPS=$(echo "$ALL_STEPS" | paste -sd,) ;;
@bench) STEPS=$(echo "$ALL_STEPS" | grep 'bench$' | paste -sd,) ;;
@functional) STEPS=$(echo "$ALL_STEPS" | grep -v 'bench$' | paste -sd,) ;;
*) STEPS=$2 ;;
esac
IOMMU=${IOMMU:-intel}
CPU=${CPU:-EPYC}
SMP=${SMP:-2}
MEM=${MEM:-3G}
OUT=$BUILD/e2e
TAG=${E2E_TAG:+-$E2E_TAG}
LOG=${E2E_LOG:-$OUT/console$TAG.log}
SUMMARY=$OUT/summary$TAG.txt
RETRIES=${RETRIES:-1}

die() { echo "vhost: $*" >&2; exit 1; }

# The newest installed kernel with its modules: never a hard-coded version.
KVER=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V |
	while read -r v; do [ -d "/lib/modules/$v" ] && echo "$v"; done | tail -n 1)
[ -n "$KVER" ] || die "no kernel in /boot with modules in /lib/modules (apt-get install linux-image-amd64)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
[ -x /bin/busybox ] || die "/bin/busybox missing (apt-get install busybox-static)"

mkdir -p "$OUT"
# One virtual host at a time on this machine: two TCG hosts on the same cores
# slow each other past their step budgets.
exec 9>"${TMPDIR:-/tmp}/sluice-e2e.lock"
flock -n 9 || { echo "vhost: waiting for another virtual host to finish"; flock 9; }
t0=$(date +%s.%N)
"$SRC/mkinitramfs.sh" "$OUT" "$BUILD" "$KVER" || die "building the initramfs failed"
echo "vhost: initramfs built in $(echo "$(date +%s.%N) - $t0" | bc) s"

[ -f "$OUT/nvme.img" ] || truncate -s 64M "$OUT/nvme.img"
case $IOMMU in
intel) IOMMU_DEV=(-device intel-iommu,intremap=on,caching-mode=on); IOMMU_ARGS="intel_iommu=on iommu=pt" ;;
amd) IOMMU_DEV=(-device amd-iommu,intremap=on); IOMMU_ARGS="iommu=pt" ;;
*) die "IOMMU must be intel or amd" ;;
esac
# boot_vhost STEPS LOG: boots the virtual host running STEPS; console to LOG.
# Console lines are stamped with host time since launch. A host that prints
# no E2E line for STALL seconds (steps print a heartbeat every 10 s) is taken
# for hung and killed, as is one that outlives TIMEOUT.
boot_vhost() {
	local steps=$1 log=$2 budget
	budget=60
	for s in ${steps//,/ }; do
		b=$(sed -n 's/^# budget: *\([0-9]*\).*/\1/p' "$SRC"/steps/[0-9]*-"$s".sh 2>/dev/null)
		budget=$((budget + ${b:-120}))
	done
	[ -n "${TIMEOUT:-}" ] && budget=$TIMEOUT
	CMD=(qemu-system-x86_64
		-machine q35,kernel-irqchip=split -accel tcg -cpu "$CPU" -smp "$SMP" -m "$MEM"
		-nodefaults -display none -serial stdio -no-reboot
		"${IOMMU_DEV[@]}"
		-kernel "/boot/vmlinuz-$KVER" -initrd "$OUT/l1.cpio"
		-append "console=ttyS0 loglevel=4 panic=-1 $IOMMU_ARGS e2e=$steps ${E2E_APPEND:-}"
		-device edu,id=edu0
		-device pcie-root-port,id=rp1,chassis=1,slot=1
		-device nvme-subsys,id=subsys0
		-device nvme,id=nvme0,bus=rp1,serial=sluice0,subsys=subsys0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=8,msix_qsize=8
		-drive "file=$OUT/nvme.img,if=none,id=nvm,format=raw"
		-device nvme-ns,drive=nvm,bus=nvme0,nsid=1)
	echo "vhost: ${CMD[*]}"
	echo "vhost: steps $steps, IOMMU $IOMMU, kernel $KVER, timeout ${budget}s, stall ${STALL}s"
	: >"$log"
	(timeout -k 5 "$budget" "${CMD[@]}" </dev/null 2>&1 |
		perl -MTime::HiRes=time -ne 'BEGIN { $| = 1; $t0 = time } s/\r//g;
			printf "[%7.2f] %s", time - $t0, $_' >"$log") &
	local runner=$! seen=0 now_seen progress
	progress=$(date +%s)
	# Progress is an E2E line (steps print a heartbeat every 10 s), not any
	# console output: a wedged kernel can keep printing soft-lockup reports.
	while kill -0 "$runner" 2>/dev/null; do
		sleep 2
		now_seen=$(grep -c "E2E " "$log")
		if [ "$now_seen" != "$seen" ]; then
			seen=$now_seen
			progress=$(date +%s)
		elif [ $(($(date +%s) - progress)) -ge "$STALL" ]; then
			echo "vhost: no step progress for ${STALL}s: the virtual host hung" | tee -a "$log"
			pkill -TERM -f "initrd $OUT/l1.cpio" 2>/dev/null
			break
		fi
	done
	wait "$runner"
}

# results LOG STEPS: the step lines of one boot; sets MISSING to steps without a result.
MISSING=
summarize() {
	local log=$1 steps=$2 line
	MISSING=
	for s in ${steps//,/ }; do
		line=$(grep -m1 "E2E STEP $s \(PASS\|FAIL\)" "$log" | sed 's/^\[[^]]*\] //')
		if [ -z "$line" ]; then
			MISSING=${MISSING:+$MISSING,}$s
		elif [[ $line == *" PASS "* ]]; then
			echo "PASS  $s (${line##* PASS }s)"
		else
			echo "FAIL  $s: ${line#*FAIL }"
		fi
		grep "E2E RESULT $s " "$log" | sed 's/^\[[^]]*\] E2E RESULT /      /'
	done
}

STALL=${STALL:-90}
start=$(date +%s.%N)
boot_vhost "$STEPS" "$LOG"
{
	echo
	echo "virtual host: ${STEPS}: $(echo "$(date +%s.%N) - $start" | bc | cut -d. -f1) s wall"
	summarize "$LOG" "$STEPS"
	if [ -n "$MISSING" ]; then
		echo "--- the virtual host stopped before finishing; last 60 console lines ($LOG) ---"
		tail -n 60 "$LOG"
	fi
} | tee "$SUMMARY"
summarize "$LOG" "$STEPS" >/dev/null
# TCG's nested SVM can wedge the whole emulated host (see tests/e2e/README.md):
# the steps that got no result run again on a fresh virtual host (RETRIES
# times at most), and the summary says so. A step that failed is never re-run.
try=0
while [ -n "$MISSING" ] && [ "$try" -lt "$RETRIES" ]; do
	try=$((try + 1))
	retry=$MISSING
	echo "vhost: retry $try: on a fresh virtual host: $retry" | tee -a "$SUMMARY"
	boot_vhost "$retry" "$LOG.retry$try"
	{
		echo "retry $try of $retry after a hung or crashed virtual host:"
		summarize "$LOG.retry$try" "$retry"
		if [ -n "$MISSING" ]; then
			echo "--- last 60 console lines of retry $try ($LOG.retry$try) ---"
			tail -n 60 "$LOG.retry$try"
		fi
	} | tee -a "$SUMMARY"
	summarize "$LOG.retry$try" "$retry" >/dev/null
done
for s in ${MISSING//,/ }; do
	echo "FAIL  $s: no result (the virtual host hung or crashed $((RETRIES + 1)) times)"
done | tee -a "$SUMMARY"
passed=$(grep -c '^PASS  ' "$SUMMARY")
failed=$(grep -c '^FAIL  ' "$SUMMARY")
echo "e2e: $passed passed, $failed failed" | tee -a "$SUMMARY"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
