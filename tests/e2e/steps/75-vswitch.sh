# SPDX-License-Identifier: MIT
# budget: 240
# Two L2 Linux guests on one sluice-vswitch (DPDK rte_vhost, learning-switch
# mode) inside the virtual host. The switch has two vhost-user server ports
# (/tmp/vsw0.sock, /tmp/vsw1.sock); L2 A (10.0.3.1, MAC ...:03:01) and L2 B
# (10.0.3.2, ...:03:02) boot under sluice --net vhost_user=... at the same
# time (l2=vnet, virtio_net insmodded). A listens, both ping each other, B
# sends A 8 MiB of random data (tools/tcpxfer); both report md5sums, compared
# here. Both power off (sluice exits 0); the switch's MAC table (read while
# the guests run) and counters show both guests' traffic; SIGTERM -> exit 0,
# every socket removed.
#
# CPUs: the virtual host has two. The switch busy-polls on its one forwarding
# lcore; it runs at nice 19 with both lcores floating over both CPUs, so a
# guest's vCPU always wins a CPU from it and the switch forwards in the time
# the vCPUs leave (a guest waiting for a packet halts). Pinning it to a CPU
# of its own would leave one CPU for two vCPUs and two VMM event loops.
# E2E_APPEND=e2e_vsw_nice=N sets another niceness (for comparisons).
#
# Offloads (default on; E2E_APPEND=e2e_vsw_offloads=off for comparisons):
# both guests negotiate CSUM, GUEST_CSUM, HOST_TSO4 and GUEST_TSO4 (read
# from the virtio device's features in L2), so B's TCP frames cross the
# switch as TSO frames (its rx_tso counter) with partial checksums, and
# A's receive path gets them whole. E2E_APPEND=e2e_vsw_idle_us=N passes
# --idle-us N. The switch's CPU time while idle (3 s before the guests
# start) and over the whole run is reported (switch_idle_cpu, switch_cpu).
need_kvm
VSW=/usr/bin/sluice-vswitch
[ -x $VSW ] || fail "sluice-vswitch is not in the virtual host (build without libdpdk-dev?)"
D=/tmp/vsw
S0=/tmp/vsw0.sock S1=/tmp/vsw1.sock CTL=/tmp/vsw.ctl
MA=52:54:00:00:03:01 MB=52:54:00:00:03:02
BYTES=8388608
rm -rf $D $S0 $S1 $CTL
mkdir -p $D

# No hugepages (--no-huge: 256 MiB of ordinary memory; --in-memory does not
# go with it), no PCI bus scan, no telemetry socket. The EAL's runtime
# directory is /var/run/dpdk/vsw.
mkdir -p /var/run
NICE=$(e2e_arg e2e_vsw_nice)
NICE=${NICE:-19}
OFFLOADS=$(e2e_arg e2e_vsw_offloads)
OFFLOADS=${OFFLOADS:-on}
IDLE_US=$(e2e_arg e2e_vsw_idle_us)
IDLE_US=${IDLE_US:-0}
sh -c 'renice -n "$0" -p $$ >/dev/null && exec "$@"' "$NICE" $VSW \
	--no-huge -m 256 --file-prefix vsw --no-pci --no-telemetry --lcores '0@(0-1),1@(0-1)' \
	--log-level=lib.eal:warning -- \
	--mode switch --vhost $S0 --vhost $S1 --ctl $CTL --stats 10 --mbufs 8191 \
	--offloads "$OFFLOADS" --idle-us "$IDLE_US" \
	>$D/vsw.out 2>$D/vsw.err &
vsw=$!
# A failing step must not leave a busy-polling switch behind for the next one.
trap 'kill -KILL $vsw 2>/dev/null' EXIT
start=$(uptime_s)
i=0
until [ -S $S0 ] && [ -S $S1 ] && [ -S $CTL ]; do
	kill -0 $vsw 2>/dev/null || { cat $D/vsw.out $D/vsw.err; fail "sluice-vswitch exited at start"; }
	[ $i -ge 300 ] && { cat $D/vsw.out $D/vsw.err; fail "sluice-vswitch made no sockets in 60 s"; }
	sleep 0.2
	i=$((i + 1))
done
result switch_start_s "$(elapsed "$start")"
# CPU seconds the switch used (all its threads): utime + stime.
cpu_s() { awk -v hz="$(getconf CLK_TCK 2>/dev/null || echo 100)" '{ printf "%.2f", ($14 + $15) / hz }' /proc/$vsw/stat; }
c0=$(cpu_s)
sleep 3
c1=$(cpu_s)
result switch_idle_cpu "$(echo "$c1 $c0" | awk '{ printf "%.2f s in 3 s idle", $1 - $2 }')"

# l2 NAME SOCKET MAC IP PEER ROLE: one L2 under sluice, in the background.
l2() {
	(
		timeout 150 sluice run --kernel /l2/vmlinuz --initrd /l2/initrd.cpio \
			--memory 256M --cpus 1 --net "vhost_user=$2,mac=$3" \
			--cmdline "console=ttyS0 quiet panic=-1 l2mods=1 l2=vnet l2ip=$4 l2peer=$5 l2xfer=$6 l2xferbytes=$BYTES l2run=cat+/sys/class/net/eth0/device/features $L2_EXTRA" \
			</dev/null >$D/$1.out 2>$D/$1.err
		echo $? >$D/$1.rc
	) &
}
start=$(uptime_s)
l2 a $S0 $MA 10.0.3.1 10.0.3.2 recv
pa=$!
l2 b $S1 $MB 10.0.3.2 10.0.3.1 send
pb=$!
# While the guests run: the MAC table (both MACs, once learned) and the ports.
while kill -0 $pa 2>/dev/null || kill -0 $pb 2>/dev/null; do
	macs=$($VSW query $CTL macs 2>&1)
	[ "$(echo "$macs" | grep -c '^mac ')" -ge 2 ] && echo "$macs" >$D/macs
	$VSW query $CTL stats >$D/stats.running 2>&1
	sleep 2
done
result boot_to_exit_s "$(elapsed "$start")"
$VSW query $CTL stats >$D/stats.after 2>&1
cpu_run=$(echo "$(cpu_s) $c1 $(elapsed "$start")" | awk '{ printf "%.1f s of %.1f s", $1 - $2, $3 }')
kill -TERM $vsw
i=0
while kill -0 $vsw 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.2
	i=$((i + 1))
done
kill -0 $vsw 2>/dev/null && { kill -KILL $vsw; fail "sluice-vswitch still running 20 s after SIGTERM"; }
wait $vsw
vst=$?
trap - EXIT

for n in a b; do
	echo "--- L2 $n console ---"
	tr -d '\r' <$D/$n.out | tee $D/$n.txt
	echo "--- L2 $n sluice stderr ---"
	cat $D/$n.err
done
echo "--- switch: MAC table while running ---"
cat $D/macs 2>/dev/null
echo "--- switch: ports while running (last query) ---"
cat $D/stats.running
echo "--- switch: ports after both guests left ---"
cat $D/stats.after
echo "--- switch stdout / stderr (without rte_vhost's protocol trace) ---"
cat $D/vsw.out
grep -v '^VHOST_CONFIG' $D/vsw.err | tail -n 40

for n in a b; do
	st=$(cat $D/$n.rc 2>/dev/null)
	[ "$st" = 0 ] || fail "L2 $n: sluice exited with status '$st', expected 0 (guest power-off)"
	grep -q "^L2 INSMOD FAILED" $D/$n.txt && fail "L2 $n could not load $(grep '^L2 INSMOD FAILED' $D/$n.txt)"
done
grep -q "^L2 NET_ADDR 10.0.3.1/24 driver=virtio_net$" $D/a.txt ||
	fail "L2 a eth0: '$(grep '^L2 NET_ADDR' $D/a.txt)', expected 10.0.3.1/24 on virtio_net"
grep -q "^L2 NET_ADDR 10.0.3.2/24 driver=virtio_net$" $D/b.txt ||
	fail "L2 b eth0: '$(grep '^L2 NET_ADDR' $D/b.txt)', expected 10.0.3.2/24 on virtio_net"
grep -q "^L2 VNET_MAC $MA$" $D/a.txt || fail "L2 a MAC: '$(grep '^L2 VNET_MAC' $D/a.txt)', expected $MA"
grep -q "^L2 VNET_MAC $MB$" $D/b.txt || fail "L2 b MAC: '$(grep '^L2 VNET_MAC' $D/b.txt)', expected $MB"
grep -q "^L2 VNET_PING 0 3 packets received" $D/a.txt || fail "a -> b ping: '$(grep '^L2 VNET_PING' $D/a.txt)'"
grep -q "^L2 VNET_PING 0 3 packets received" $D/b.txt || fail "b -> a ping: '$(grep '^L2 VNET_PING' $D/b.txt)'"
grep -q "^L2 VNET_TX 0 " $D/b.txt || fail "b -> a transfer: '$(grep '^L2 VNET_TX ' $D/b.txt)'"
grep -q "^L2 VNET_RX tcpxfer recv bytes=$BYTES " $D/a.txt ||
	fail "b -> a: a received '$(grep '^L2 VNET_RX ' $D/a.txt)', expected $BYTES bytes"
sent=$(sed -n 's/^L2 VNET_TX_MD5 //p' $D/b.txt)
got=$(sed -n 's/^L2 VNET_RX_MD5 //p' $D/a.txt)
[ -n "$sent" ] && [ "$got" = "$sent" ] || fail "b -> a: b sent md5 '$sent', a received '$got'"

# The switch: both MACs learned on their ports, the transfer's frames counted
# on both ports (8 MiB is at least 5793 full-size TCP segments b -> a; a's
# ACKs and pings go the other way) and, after a clean exit, no socket left.
grep -q "^mac $MA port 0 " $D/macs 2>/dev/null || fail "switch: $MA not learned on port 0: '$(cat $D/macs 2>/dev/null)'"
grep -q "^mac $MB port 1 " $D/macs || fail "switch: $MB not learned on port 1: '$(cat $D/macs)'"
field() { # PORT FIELD
	awk -v p="$1" -v f="$2" '$1 == "port" && $2 == p {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }' $D/stats.after
}
p0rx=$(field 0 rx) p0tx=$(field 0 tx) p1rx=$(field 1 rx) p1tx=$(field 1 tx)
[ -n "$p0rx" ] && [ -n "$p1rx" ] || fail "switch: no counters: $(cat $D/stats.after)"
# The guests' negotiated virtio features (a string of bits, bit 0 first):
# CSUM 0, GUEST_CSUM 1, GUEST_TSO4 7, HOST_TSO4 11.
for n in a b; do
	f=$(sed -n 's/^L2 OUT \([01]\{32,\}\)$/\1/p' $D/$n.txt)
	[ -n "$f" ] || fail "L2 $n: no virtio features line"
	ol="${f:0:1}${f:1:1}${f:7:1}${f:11:1}"
	if [ "$OFFLOADS" = on ]; then
		[ "$ol" = 1111 ] || fail "L2 $n: CSUM/GUEST_CSUM/GUEST_TSO4/HOST_TSO4 = $ol, expected 1111"
	else
		[ "$ol" = 0000 ] || fail "L2 $n: CSUM/GUEST_CSUM/GUEST_TSO4/HOST_TSO4 = $ol with --offloads off"
	fi
	eval "feat_$n=$ol"
done
p1tso=$(field 1 rx_tso)
# a's ACKs: A's GRO (and, with offloads, B's TSO) coalesce segments and A
# acknowledges per coalesced frame: 86 ACKs seen for 5800 segments.
MIN_ACKS=20
if [ "$OFFLOADS" = on ]; then
	# TSO frames: far fewer than the 5793 MSS-sized segments 8 MiB needs.
	[ "${p1tso:-0}" -ge 1 ] || fail "switch: port 1 (b) rx_tso=$p1tso, expected TSO frames from b"
	[ "$(field 0 sw_csum)$(field 1 sw_csum)" = 00 ] ||
		fail "switch: completed checksums in software between two offload-capable guests"
else
	[ "$p1rx" -ge 5793 ] || fail "switch: port 1 (b) rx=$p1rx, expected >= 5793 frames for 8 MiB"
	[ "$p0tx" -ge 5793 ] || fail "switch: port 0 (a) tx=$p0tx, expected >= 5793 frames for 8 MiB"
fi
[ "$(field 0 drop_offload)$(field 1 drop_offload)" = 00 ] || fail "switch: offload drops"
[ "$p0rx" -ge "$MIN_ACKS" ] || fail "switch: port 0 (a) rx=$p0rx, expected a's ACKs and pings"
[ "$p1tx" -ge "$MIN_ACKS" ] || fail "switch: port 1 (b) tx=$p1tx, expected a's ACKs and pings"
[ "$vst" = 0 ] || fail "sluice-vswitch exited with status $vst on SIGTERM, expected 0"
for s in $S0 $S1 $CTL; do
	[ -e $s ] && fail "sluice-vswitch left $s behind"
done
result switch_nice "$NICE"
result switch_offloads "$OFFLOADS (L2 csum/guest_csum/guest_tso4/host_tso4: a=$feat_a b=$feat_b)"
result switch_idle_us "$IDLE_US"
result switch_cpu "$cpu_run"
result a_to_b_ping "$(sed -n 's/^L2 VNET_PING 0 //p' $D/a.txt)"
result b_to_a_ping "$(sed -n 's/^L2 VNET_PING 0 //p' $D/b.txt)"
result b_to_a "$(sed -n 's/^L2 VNET_RX tcpxfer recv //p' $D/a.txt) md5=$got"
result switch_p0 "$(grep '^port 0 ' $D/stats.after | cut -d' ' -f6-)"
result switch_p1 "$(grep '^port 1 ' $D/stats.after | cut -d' ' -f6-)"
