# SPDX-License-Identifier: MIT
# budget: 150
# sluice boots Linux (the Debian kernel, bzImage) with a busybox initramfs:
# the guest reaches /init, reports what it sees, echoes a line typed into
# sluice's stdin, runs a command from its command line, and powers off.
need_kvm
CPUS=2
MEM_MIB=256
OUT=/tmp/l2boot.out
rm -f /tmp/l2in
mkfifo /tmp/l2in
start=$(uptime_s)
sluice run --kernel /l2/vmlinuz --initrd /l2/initrd.cpio --cpus $CPUS --memory ${MEM_MIB}M \
	--cmdline "console=ttyS0 quiet panic=-1 l2=checks l2run=uname+-r $L2_EXTRA" \
	</tmp/l2in >$OUT 2>/tmp/l2boot.err &
pid=$!
exec 3>/tmp/l2in
typed=no
while kill -0 $pid 2>/dev/null; do
	if [ $typed = no ] && grep -q "L2 READY" $OUT; then
		echo "typed-into-sluice-stdin" >&3
		typed=yes
	fi
	sleep 0.2
done
wait $pid
st=$?
exec 3>&-
result boot_to_exit_s "$(elapsed "$start")"
echo "--- L2 console ---"
cat $OUT
echo "--- sluice stderr ---"
cat /tmp/l2boot.err
[ "$st" = 0 ] || fail "sluice exited with status $st, expected 0 (guest power-off)"
grep -q "^L2 INIT" $OUT || fail "L2 never reached /init"
grep -q "^L2 CPUS online=0-1 nproc=2" $OUT || fail "L2 does not see $CPUS online CPUs: $(grep '^L2 CPUS' $OUT)"
kb=$(sed -n 's/^L2 MEMTOTAL_KB //p' $OUT | tr -d '\r')
[ -n "$kb" ] && [ "$kb" -gt $((MEM_MIB * 1024 * 80 / 100)) ] && [ "$kb" -le $((MEM_MIB * 1024)) ] ||
	fail "L2 MemTotal ${kb} kB does not match --memory ${MEM_MIB}M"
grep -q "^L2 HYPERVISOR_FLAG [1-9]" $OUT || fail "CPUID hypervisor bit not set in L2"
grep -q "^L2 HYPERVISOR KVM" $OUT || fail "L2 did not detect the KVM hypervisor leaf"
grep -q "^L2 CLOCKSOURCE kvm-clock" $OUT || fail "L2 clocksource is not kvm-clock: $(grep '^L2 CLOCKSOURCE' $OUT)"
grep -q "^L2 GOT <typed-into-sluice-stdin>" $OUT || fail "input typed into sluice's stdin did not reach the L2 shell"
grep -q "^L2 OUT $(uname -r)" $OUT || fail "the command from the L2 command line did not run"
result l2_memtotal_kb "$kb"

# XSAVE and AVX: L2 has every one of them L1 has, and its kernel set up XSAVE
# with no WARN splat and no fallback to legacy FPU state (Linux disables XSAVE,
# and with it AVX, when CPUID leaf 0xD and what XSAVE does disagree).
l1flags=" $(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -n 1) "
l2flags=" $(sed -n 's/^L2 CPUFLAGS //p' $OUT | tr -d '\r') "
shared=
for f in xsave avx avx2; do
	case $l1flags in *" $f "*) ;; *) continue ;; esac
	case $l2flags in
	*" $f "*) shared=${shared:+$shared,}$f ;;
	*) fail "L1 has $f, L2 does not; L2 kernel: $(grep '^L2 KLOG' $OUT | tr -d '\r' | head -n 3 | tr '\n' ' ')" ;;
	esac
done
result l2_has_l1_flags "${shared:-none}"
# The LAPIC's TSC-deadline mode: KVM emulates it whatever L1 has, and sluice
# offers it (CPUID.1:ECX[24]) when KVM says so, as QEMU does.
case $l2flags in
*" tsc_deadline_timer "*) ;;
*) fail "L2 has no tsc_deadline_timer: sluice does not offer KVM's TSC-deadline LAPIC timer" ;;
esac
warn=$(grep -m1 '^L2 KLOG .*WARNING: CPU:' $OUT | tr -d '\r')
[ -z "$warn" ] || fail "L2 kernel WARNING: ${warn#L2 KLOG }"
fallback=$(grep -m1 -E '^L2 KLOG .*(x87 FPU will use|disabling XSAVE|XSAVE consistency|not present amongst)' $OUT | tr -d '\r')
[ -z "$fallback" ] || fail "L2 kernel fell back to legacy FPU state: ${fallback#L2 KLOG }"
case $l1flags in
*" xsave "*)
	xfeat=$(sed -n 's/.*x86\/fpu: Enabled xstate features \(0x[0-9a-f]*\).*/\1/p' $OUT | head -n 1)
	[ -n "$xfeat" ] || fail "L2 kernel did not enable XSAVE (no 'x86/fpu: Enabled xstate features' line)"
	result l2_xstate_features "$xfeat"
	;;
esac
