#!/bin/bash
# SPDX-License-Identifier: MIT
# The minimal virtio driver guest (tests/guests/vdrv_main.c, vdrv.net=1)
# drives virtio-net through a real TAP to the host's network stack, in a
# network namespace of its own: it reads its MAC from the device config,
# asks "who-has 10.0.9.1" and pings 10.0.9.1, both replies coming from
# Linux through the TAP, every completion through MSI-X. The host side
# checks the TAP's counters and the namespace's ICMP counters saw exactly
# those packets. Then the same with virtio-blk and virtio-rng beside it
# (distinct vectors), and a run whose command line names another MAC, which
# the guest must catch. Needs CAP_NET_ADMIN (skipped without).
. "$(dirname "$0")/lib.sh"
VDRV=$1
NS=sluice-vdrv-$$
TAP=vdrv0
MAC=52:54:00:00:00:02
HOST_IP=10.0.9.1       # NET_PEER_IP in vdrv_main.c; the guest is 10.0.9.2
GUEST_TX_BYTES=$((60 + 74)) # the ARP request (padded) and the 32-byte-payload echo request
CK_NET_MAC=19          # its check number in vdrv_main.c
SECTORS=2048
IMG=$TEST_TMP/disk.img

if ! command -v ip >/dev/null || [ ! -c /dev/net/tun ]; then
	echo "SKIP: needs iproute2 and /dev/net/tun"
	exit 77
fi
if ! ip netns add "$NS" 2>"$TEST_TMP/netns.err"; then
	echo "SKIP: cannot create a network namespace: $(cat "$TEST_TMP/netns.err")"
	exit 77
fi
# The TAP lives in the namespace and goes with it.
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$TEST_TMP"' EXIT

in_ns() {
	ip netns exec "$NS" "$@"
}

# No IPv6 on the link: its autoconfiguration traffic would only be noise to the guest.
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
# Configured before sluice attaches to it, so it answers the guest's first frame.
in_ns ip tuntap add dev "$TAP" mode tap || fail "cannot create TAP $TAP in $NS"
in_ns ip addr add "$HOST_IP/24" dev "$TAP" || fail "cannot address $TAP"
in_ns ip link set "$TAP" up || fail "cannot bring $TAP up"
TAP_MAC=$(in_ns cat "/sys/class/net/$TAP/address")

run_sluice_ns() {
	echo "+ ip netns exec $NS sluice $*"
	timeout -k 5 "$RUN_TIMEOUT" ip netns exec "$NS" "$SLUICE" "$@" >"$OUT" 2>"$ERR" </dev/null
	STATUS=$?
	echo "  exit status $STATUS"
}

tap_stat() {
	in_ns cat "/sys/class/net/$TAP/statistics/$1"
}

# icmp_stat NAME: the namespace's Icmp counter NAME from /proc/net/snmp.
icmp_stat() {
	# shellcheck disable=SC2016 # awk's own $ fields
	in_ns awk -v k="$1" '$1 == "Icmp:" {
		if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1 } else print $col[k] }' \
		/proc/net/snmp
}

snapshot() {
	RXP=$(tap_stat rx_packets) RXB=$(tap_stat rx_bytes) TXP=$(tap_stat tx_packets)
	ECHOS=$(icmp_stat InEchos) REPS=$(icmp_stat OutEchoReps)
}

# What the host saw since the last snapshot: the TAP's rx is what the guest sent.
expect_host_saw() {
	local rxp=$RXP rxb=$RXB txp=$TXP echos=$ECHOS reps=$REPS

	snapshot
	echo "  $TAP: guest sent $((RXP - rxp)) frames ($((RXB - rxb)) bytes), host sent $((TXP - txp));" \
		"ICMP echo requests in $((ECHOS - echos)), replies out $((REPS - reps))"
	if [ $((RXP - rxp)) != 2 ] || [ $((RXB - rxb)) != "$GUEST_TX_BYTES" ]; then
		fail "the TAP did not receive exactly the guest's ARP and echo requests"
	fi
	[ $((TXP - txp)) -ge 2 ] || fail "the TAP sent fewer than the two replies"
	if [ $((ECHOS - echos)) != 1 ] || [ $((REPS - reps)) != 1 ]; then
		fail "the namespace's stack did not answer exactly one echo request"
	fi
}

NET_CHECKS=(net-probe lapic net-init net-mac net-arp net-ping msix-count)
snapshot

# virtio-net alone.
run_sluice_ns run --kernel "$VDRV" --net "tap=$TAP,mac=$MAC" \
	--cmdline "vdrv.net=1 vdrv.mac=$MAC" --serial stdio
expect_vdrv_checks cmdline pci-enum ecam "${NET_CHECKS[@]}"
expect_stdout "config MAC $MAC"
expect_stdout "$HOST_IP is at $TAP_MAC"
expect_status "$(debug_status 0)" "all guest checks passed"
expect_host_saw

# Beside virtio-blk and virtio-rng: five vectors on three devices, one disk read
# checked against the image (sectors 0-3 hold "vdrv-sector-NN:\n" lines, as in vdrv.sh).
for s in 0 1 2 3; do
	for _ in $(seq 32); do printf 'vdrv-sector-%02d:\n' "$s"; done
done >"$IMG"
truncate -s $((SECTORS * 512)) "$IMG"
run_sluice_ns run --kernel "$VDRV" --rng --disk "path=$IMG" --net "tap=$TAP,mac=$MAC" \
	--cmdline "vdrv.sectors=$SECTORS vdrv.net=1 vdrv.mac=$MAC" --serial stdio
expect_vdrv_checks cmdline pci-enum ecam blk-probe rng-probe blk-init rng-init blk-config blk-read \
	blk-write blk-readback blk-flush msix-mask rng-read "${NET_CHECKS[@]}"
expect_status "$(debug_status 0)" "all guest checks passed"
expect_host_saw
cp "$OUT" "$TEST_TMP/combined.out"

# The guest is told another MAC than the device's: net-mac must fail, first.
run_sluice_ns run --kernel "$VDRV" --net "tap=$TAP,mac=$MAC" \
	--cmdline "vdrv.net=1 vdrv.mac=52:54:00:00:00:03" --serial stdio
expect_stdout "VDRV net-mac FAIL"
expect_status "$(debug_status $CK_NET_MAC)" "net-mac is the first failed check"
echo "  a wrong vdrv.mac= fails net-mac"

cp "$TEST_TMP/combined.out" "$OUT"
pass "virtio driver guest: virtio-net through a TAP (MAC config, ARP, ping with guest checksums, MSI-X), beside virtio-blk and virtio-rng"
