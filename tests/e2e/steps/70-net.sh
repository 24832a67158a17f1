# SPDX-License-Identifier: MIT
# budget: 150
# virtio-net on a TAP device under the real Linux driver. L1 creates tapn0
# (10.0.2.1/24); L2 (sluice --net tap=tapn0, l2=net, virtio_net insmodded)
# sets eth0 to 10.0.2.2/24, pings L1, sends 32 MiB of random data to L1
# (tcpxfer, port 5001) and reports its md5sum, then receives 16 MiB of L1's
# random data (port 5002) and reports that md5sum. L1 pings L2 in between.
# Every address is on the TAP link inside the virtual host, which has no
# network device to the outside.
need_kvm
IP=/usr/sbin/ip # iproute2: busybox ip has no tuntap
TAP=tapn0
OUT=/tmp/net.out
modprobe tun || fail "modprobe tun failed"
$IP link del $TAP 2>/dev/null
$IP tuntap add dev $TAP mode tap || fail "cannot create TAP $TAP"
$IP addr add 10.0.2.1/24 dev $TAP || fail "cannot address $TAP"
$IP link set $TAP up || fail "cannot bring $TAP up"
$IP link set lo up
head -c 16777216 /dev/urandom >/tmp/net.l1tx
l1_md5=$(md5sum </tmp/net.l1tx | cut -d' ' -f1)
rm -f /tmp/net.rx.md5 /tmp/net.ping.rc /tmp/net.tx.rc
# L1's side, in the background: receive L2's data, ping L2, send L1's data
# (tcpxfer retries the connection until L2 listens).
(
	timeout 170 tcpxfer recv 5001 170 2>/tmp/net.rx.err | md5sum >/tmp/net.rx.md5
	ping -c 2 -W 5 10.0.2.2 >/tmp/net.ping 2>&1
	echo $? >/tmp/net.ping.rc
	timeout 60 tcpxfer send 10.0.2.2 5002 </tmp/net.l1tx 2>/tmp/net.tx.err
	echo $? >/tmp/net.tx.rc
) &
peer=$!
start=$(uptime_s)
timeout 170 sluice run --kernel /l2/vmlinuz --initrd /l2/initrd.cpio --memory 256M --cpus 2 \
	--net tap=$TAP \
	--cmdline "console=ttyS0 quiet panic=-1 l2mods=1 l2=net $L2_EXTRA" \
	</dev/null >$OUT 2>/tmp/net.err
st=$?
result boot_to_exit_s "$(elapsed "$start")"
# L1's side ends by itself once L2 has gone (its transfers time out).
i=0
while kill -0 $peer 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
done
echo "--- L2 console ---"
cat $OUT
echo "--- sluice stderr ---"
cat /tmp/net.err
echo "--- L1 side ---"
cat /tmp/net.rx.err /tmp/net.ping /tmp/net.tx.err 2>/dev/null
$IP -s link show $TAP
$IP link del $TAP
tr -d '\r' <$OUT >$OUT.txt
[ "$st" = 0 ] || fail "sluice exited with status $st, expected 0 (guest power-off)"
grep -q "^L2 INSMOD FAILED" $OUT.txt && fail "L2 could not load $(grep '^L2 INSMOD FAILED' $OUT.txt)"
grep -q "^L2 NET_ADDR 10.0.2.2/24 driver=virtio_net$" $OUT.txt ||
	fail "L2 eth0: '$(grep '^L2 NET_ADDR' $OUT.txt)', expected 10.0.2.2/24 on virtio_net"
grep -q "^L2 NET_PING 0 3 packets received" $OUT.txt ||
	fail "L2 -> L1 ping: '$(grep '^L2 NET_PING' $OUT.txt)'"
grep -q "^L2 NET_TX 0 " $OUT.txt || fail "L2 -> L1 transfer: '$(grep '^L2 NET_TX ' $OUT.txt)'"
sent=$(sed -n 's/^L2 NET_TX_MD5 //p' $OUT.txt)
got=$(cut -d' ' -f1 /tmp/net.rx.md5 2>/dev/null)
[ -n "$sent" ] && [ "$got" = "$sent" ] || fail "L2 -> L1: L2 sent md5 '$sent', L1 received '$got'"
grep -q "bytes=33554432 " /tmp/net.rx.err || fail "L2 -> L1: $(cat /tmp/net.rx.err), expected 33554432 bytes"
[ "$(cat /tmp/net.ping.rc 2>/dev/null)" = 0 ] || fail "L1 -> L2 ping failed: $(cat /tmp/net.ping)"
[ "$(cat /tmp/net.tx.rc 2>/dev/null)" = 0 ] || fail "L1 -> L2 transfer failed: $(cat /tmp/net.tx.err)"
l2_got=$(sed -n 's/^L2 NET_RX_MD5 //p' $OUT.txt)
[ "$l2_got" = "$l1_md5" ] || fail "L1 -> L2: L1 sent md5 $l1_md5, L2 received '$l2_got'"
result l2_to_l1 "$(sed 's/^tcpxfer recv //' /tmp/net.rx.err) md5=$got"
result l1_to_l2 "$(sed -n 's/^L2 NET_RX tcpxfer recv //p' $OUT.txt) md5=$l2_got"
