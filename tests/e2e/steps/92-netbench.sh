# SPDX-License-Identifier: MIT
# budget: 420
# TCP throughput guest -> host of the same L2 (vmlinux + initramfs, 2 vCPUs,
# 256 MiB, l2=netbench) under sluice (--net tap=) and under QEMU
# (-enable-kvm, virtio-net-pci on -netdev tap with vhost=off: a userspace TAP
# backend like sluice's), on the same TAP device tapb0 (10.0.2.1/24 in the
# virtual host, the L2 is 10.0.2.2). The L2 sends N MiB of a fixed pattern with
# tcpxfer; the virtual host's tcpxfer receives it (to /dev/null) and its
# throughput, from accept to EOF by the virtual host's clock, is the number
# (the L2's own figure is reported alongside). RUNS runs each, interleaved,
# medians; the ratio of the medians and the median of per-pair ratios. With
# /dev/vhost-net in the virtual host and e2e_netbench_vhost=1, QEMU vhost=on
# runs too, as extra information (an in-kernel backend, a different class;
# opt-in: three more nested boots, and one of them once wedged TCG).
need_kvm
RUNS=$(e2e_arg e2e_bench_runs)
RUNS=${RUNS:-3}
MIB=$(e2e_arg e2e_netbench_mib)
MIB=${MIB:-256}
BYTES=$((MIB * 1048576))
IP=/usr/sbin/ip
TAP=tapb0
modprobe tun || fail "modprobe tun failed"
modprobe vhost_net 2>/dev/null
$IP link del $TAP 2>/dev/null
$IP tuntap add dev $TAP mode tap || fail "cannot create TAP $TAP"
$IP addr add 10.0.2.1/24 dev $TAP || fail "cannot address $TAP"
$IP link set $TAP up || fail "cannot bring $TAP up"
APPEND="console=ttyS0 quiet panic=-1 l2mods=1 l2=netbench l2netbytes=$BYTES $L2_EXTRA"
SLUICE="sluice run --kernel /l2/vmlinux --initrd /l2/initrd.cpio --memory 256M --cpus 2
	--net tap=$TAP --cmdline"
QEMU="qemu-system-x86_64 -enable-kvm -cpu host -machine q35 -smp 2 -m 256M -nodefaults
	-display none -serial stdio -no-reboot -L /usr/share/qemu
	-kernel /l2/vmlinux -initrd /l2/initrd.cpio -device virtio-net-pci,netdev=n0,romfile= -netdev"
# romfile= : no PXE option ROM (the L2 boots with -kernel; the ROM file is not
# in the virtual host). QEMU_TAP gets ",vhost=off" or ",vhost=on".
QEMU_TAP="tap,id=n0,ifname=$TAP,script=no,downscript=no"

# one NAME CMD...: one boot; appends "host_MBps l2_MBps" to /tmp/nb.NAME
one() {
	name=$1
	shift
	o=/tmp/nb.out
	rm -f /tmp/nb.rx
	timeout 200 tcpxfer recv 5001 200 >/dev/null 2>/tmp/nb.rx &
	rx=$!
	stamped $o "$@"
	i=0
	while kill -0 $rx 2>/dev/null && [ $i -lt 25 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	kill $rx 2>/dev/null
	if [ "$(cat $o.rc)" != 0 ] || ! grep -q "bytes=$BYTES " /tmp/nb.rx; then
		ls -l $o $o.err /tmp/nb.rx
		cut -d' ' -f2- $o | tail -n 30
		cat $o.err /tmp/nb.rx
		echo "$name: the transfer did not complete (VMM exit status $(cat $o.rc))" >/tmp/run.why
		return 1
	fi
	host=$(sed -n 's/.* mbps=\([0-9.]*\).*/\1/p' /tmp/nb.rx)
	l2=$(grep 'L2 NETBENCH' $o | sed -n 's/.* mbps=\([0-9.]*\).*/\1/p')
	echo "$host ${l2:-0}" >>/tmp/nb.$name
	echo "$name: $(cat /tmp/nb.rx) (L2's own: $l2 MB/s)"
}

rm -f /tmp/nb.*
vhost=0
[ -c /dev/vhost-net ] && [ "$(e2e_arg e2e_netbench_vhost)" = 1 ] && vhost=1
for i in $(seq "$RUNS"); do
	twice one sluice $SLUICE "$APPEND"
	twice one qemu $QEMU "$QEMU_TAP,vhost=off" -append "$APPEND"
	[ $vhost = 1 ] && twice one qemu_vhost $QEMU "$QEMU_TAP,vhost=on" -append "$APPEND"
done
$IP -s link show $TAP
$IP link del $TAP
for n in sluice qemu qemu_vhost; do
	[ -f /tmp/nb.$n ] || continue
	result "tcp_g2h_${n}_MBps" "$(median /tmp/nb.$n 1) (L2 clock: $(median /tmp/nb.$n 2))"
done
result tcp_g2h_ratio "$(awk "BEGIN { printf \"%.2f\", $(median /tmp/nb.sluice 1) / $(median /tmp/nb.qemu 1) }")"
result tcp_g2h_ratio_pairs "$(pair_ratio /tmp/nb.sluice /tmp/nb.qemu 1)"
result setup "bytes=$BYTES runs=$RUNS vhost_net=$vhost"
