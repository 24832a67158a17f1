# SPDX-License-Identifier: MIT
# budget: 480
# Boot time of the same L2 kernel (bzImage) + initramfs under sluice and
# under QEMU (-enable-kvm), measured from outside the L2 (its clock jumps):
# launch -> "L2 INIT" on the serial console -> VMM exit. RUNS runs of each,
# interleaved, for two memory setups:
#   default: sluice's memfd RAM with shmem THP allowed (shmem_enabled=advise,
#            as QEMU's anonymous RAM gets THP by default), QEMU's default RAM
#   hugetlb: both VMMs on 2 MiB hugetlbfs pages (opt-in: e2e_bench_hugetlb=1)
# and, with default memory, the same kernel uncompressed (/l2/vmlinux, ELF
# with a PVH note, entered in 32-bit mode by both VMMs): the guest skips its
# own decompression, which dominates a bzImage boot here.
need_kvm
RUNS=${RUNS:-3}
APPEND="console=ttyS0 quiet panic=-1 l2=bench"
SLUICE_ARGS="--initrd /l2/initrd.cpio --cpus 2 --cmdline"
QEMU_ARGS="-enable-kvm -cpu host -machine q35 -smp 2 -m 256M -nodefaults
	-display none -serial stdio -no-reboot -L /usr/share/qemu -initrd /l2/initrd.cpio"
SLUICE="sluice run --kernel /l2/vmlinuz $SLUICE_ARGS"
QEMU="qemu-system-x86_64 -kernel /l2/vmlinuz $QEMU_ARGS"

# timed NAME CMD...: runs CMD, watches its console, records init and exit times.
timed() {
	name=$1
	shift
	rm -f /tmp/bench.init
	start=$(uptime_s)
	# A boot that hangs is cut off, and then fails for not reaching /init.
	timeout -s KILL 120 "$@" </dev/null 2>/tmp/bench.err | while IFS= read -r line; do
		case $line in
		"L2 INIT"*) uptime_s >/tmp/bench.init ;;
		esac
	done
	end=$(uptime_s)
	if ! [ -s /tmp/bench.init ]; then
		cat /tmp/bench.err
		echo "$name: L2 did not reach /init" >/tmp/run.why
		return 1
	fi
	init=$(awk "BEGIN { printf \"%.2f\", $(cat /tmp/bench.init) - $start }")
	total=$(awk "BEGIN { printf \"%.2f\", $end - $start }")
	echo "$init $total" >>/tmp/bench.$name
	echo "$name: init ${init}s exit ${total}s"
}
median() { sort -n -k "$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'; }
report() { # SETUP
	s=/tmp/bench.sluice_$1
	q=/tmp/bench.qemu_$1
	result "$1_sluice" "init=$(median $s 1)s exit=$(median $s 2)s"
	result "$1_qemu" "init=$(median $q 1)s exit=$(median $q 2)s"
	result "$1_ratio_exit" "$(awk "BEGIN { printf \"%.2f\", $(median $s 2) / $(median $q 2) }")"
	result "$1_ratio_init" "$(awk "BEGIN { printf \"%.2f\", $(median $s 1) / $(median $q 1) }")"
}

rm -f /tmp/bench.*
thp=/sys/kernel/mm/transparent_hugepage/shmem_enabled
old_thp=$(sed 's/.*\[\(.*\)\].*/\1/' $thp)
echo advise >$thp
for i in $(seq $RUNS); do
	twice timed sluice_default $SLUICE "$APPEND" --memory 256M
	twice timed qemu_default $QEMU -append "$APPEND"
	twice timed sluice_vmlinux sluice run --kernel /l2/vmlinux $SLUICE_ARGS "$APPEND" --memory 256M
	twice timed qemu_vmlinux qemu-system-x86_64 -kernel /l2/vmlinux $QEMU_ARGS -append "$APPEND"
done
echo "$old_thp" >$thp

# The hugetlbfs rows are opt-in (E2E_APPEND=e2e_bench_hugetlb=1): every extra
# nested boot is another chance for TCG to wedge the virtual host.
if [ "$(e2e_arg e2e_bench_hugetlb)" = 1 ]; then
	echo 140 >/proc/sys/vm/nr_hugepages
	[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 130 ] || fail "could not reserve huge pages"
	for i in $(seq $RUNS); do
		twice timed sluice_hugetlb $SLUICE "$APPEND" --memory size=256M,hugepages=on
		twice timed qemu_hugetlb $QEMU -mem-path /dev/hugepages -append "$APPEND"
	done
	echo 0 >/proc/sys/vm/nr_hugepages
fi
report default
report vmlinux
if [ -f /tmp/bench.sluice_hugetlb ]; then
	report hugetlb
fi
