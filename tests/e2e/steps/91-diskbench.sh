# SPDX-License-Identifier: MIT
# budget: 420
# Disk read throughput of the same L2 (vmlinux + initramfs, 2 vCPUs, 256 MiB,
# l2=diskbench) under sluice and under QEMU (-enable-kvm), both with
# virtio-blk (2 queues) on the same raw image in the virtual host's tmpfs,
# both through the host page cache (sluice: buffered preadv from per-queue
# worker threads; QEMU: its default cache=writeback, aio=threads):
#   seq:  dd if=/dev/vda of=/dev/null bs=1M iflag=direct over the whole image
#   rand: randread /dev/vda N 1 (4 KiB O_DIRECT reads at queue depth 1,
#         the same xorshift64 offsets in every run)
# Each phase is timed from outside the L2 by the virtual host's clock (the
# stamps of the L2's "BEGIN"/"END" console lines); the L2's own figures are
# reported alongside. RUNS runs of each VMM, interleaved; ratios of the
# medians, and the median of the per-pair ratios (run i of each VMM: the
# nearest in time, so the closest in the load the machine had).
need_kvm
RUNS=$(e2e_arg e2e_bench_runs)
RUNS=${RUNS:-3}
MIB=$(e2e_arg e2e_diskbench_mib)
MIB=${MIB:-512}
NRAND=$(e2e_arg e2e_diskbench_rand)
NRAND=${NRAND:-4096}
IMG=/tmp/diskbench.img
dd if=/dev/zero of=$IMG bs=1M count="$MIB" 2>/dev/null || fail "cannot create $IMG"
APPEND="console=ttyS0 quiet panic=-1 l2mods=1 l2=diskbench l2rand=$NRAND $L2_EXTRA"
SLUICE="sluice run --kernel /l2/vmlinux --initrd /l2/initrd.cpio --memory 256M --cpus 2
	--disk path=$IMG,num_queues=2 --cmdline"
QEMU="qemu-system-x86_64 -enable-kvm -cpu host -machine q35 -smp 2 -m 256M -nodefaults
	-display none -serial stdio -no-reboot -L /usr/share/qemu
	-kernel /l2/vmlinux -initrd /l2/initrd.cpio
	-device virtio-blk-pci,drive=d0,num-queues=2 -drive if=none,id=d0,file=$IMG,format=raw
	-append"

# one NAME CMD...: one boot; appends "seq_MBps rand_IOPS l2_seq_MBps l2_IOPS" to /tmp/db.NAME
one() {
	name=$1
	shift
	o=/tmp/db.out
	stamped $o "$@"
	if [ "$(cat $o.rc)" != 0 ] || ! grep -q "L2 SEQ END rc=0 " $o || ! grep -q "L2 RAND END randread" $o; then
		cut -d' ' -f2- $o | tail -n 30
		cat $o.err
		echo "$name: the L2 did not finish its reads (exit status $(cat $o.rc))" >/tmp/run.why
		return 1
	fi
	seq=$(awk "BEGIN { printf \"%.3f\", $(stamp_of $o 'L2 SEQ END') - $(stamp_of $o 'L2 SEQ BEGIN') }")
	rnd=$(awk "BEGIN { printf \"%.3f\", $(stamp_of $o 'L2 RAND END') - $(stamp_of $o 'L2 RAND BEGIN') }")
	l2secs=$(grep -m1 'L2 SEQ END' $o | sed 's/.* l2secs=\([0-9.]*\).*/\1/')
	l2seq=$(awk "BEGIN { printf \"%.1f\", $MIB * 1.048576 / ($l2secs + 1e-9) }")
	l2iops=$(grep -m1 'L2 RAND END' $o | sed 's/.* iops=\([0-9]*\).*/\1/')
	line=$(awk "BEGIN { printf \"%.1f %.0f\", $MIB * 1.048576 / $seq, $NRAND / $rnd }")
	echo "$line $l2seq $l2iops" >>/tmp/db.$name
	echo "$name: seq ${seq}s rand ${rnd}s -> $line (L2's own: $l2seq MB/s, $l2iops IOPS)"
}

rm -f /tmp/db.*
for i in $(seq "$RUNS"); do
	twice one sluice $SLUICE "$APPEND"
	twice one qemu $QEMU "$APPEND"
done
for n in sluice qemu; do
	result "seq_${n}_MBps" "$(median /tmp/db.$n 1)"
	result "rand4k_${n}_IOPS" "$(median /tmp/db.$n 2)"
	result "l2clock_${n}" "seq=$(median /tmp/db.$n 3)MB/s rand4k=$(median /tmp/db.$n 4)IOPS"
done
result seq_ratio "$(awk "BEGIN { printf \"%.2f\", $(median /tmp/db.sluice 1) / $(median /tmp/db.qemu 1) }")"
result rand4k_ratio "$(awk "BEGIN { printf \"%.2f\", $(median /tmp/db.sluice 2) / $(median /tmp/db.qemu 2) }")"
result seq_ratio_pairs "$(pair_ratio /tmp/db.sluice /tmp/db.qemu 1)"
result rand4k_ratio_pairs "$(pair_ratio /tmp/db.sluice /tmp/db.qemu 2)"
result setup "image=${MIB}MiB rand_reads=$NRAND runs=$RUNS"
