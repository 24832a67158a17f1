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
