#!/bin/bash
# SPDX-License-Identifier: MIT
# virtio-net on a vhost-user backend (--net vhost_user=): the minimal driver
# guest (tests/guests/vdrv_main.c, vdrv.net=1) against dpdk-testpmd's
# net_vhost port in icmpecho mode, which answers the guest's ARP request and
# ping itself. The rings, kicks (ioeventfd) and completions (MSI-X irqfd) go
# between the guest and testpmd without sluice. testpmd's port counters must
# show exactly the guest's frames.
#
# Then a backend restart (vdrv.relink=1): once the guest has pinged, testpmd
# is killed (SIGKILL); the guest must see the link go down, sluice reconnects
# to the restarted testpmd, the guest sees the link up and pings again. Both
# ways round: sluice as client (testpmd listens, client=0) and as server
# (server=on, testpmd connects with client=1).
#
# Last, two queue pairs (num_queues=2, vdrv.mq=1): testpmd's port has two
# queues (queues=2, --rxq=2 --txq=2); the guest negotiates MQ and CTRL_VQ,
# enables pair 1 with VQ_PAIRS_SET (sluice's control queue acks it and enables
# vrings 2 and 3 at the backend) and pings through tx1/rx1. testpmd's
# per-stream statistics must show the frames on its queue 1. And the same
# device with a driver that takes CTRL_VQ but not MQ: queue 2 is then the
# control queue, served by sluice (vdrv.ctrl=1: RX_PROMISC must be acked).
# Guest RAM is private memory by default; a vhost-user NIC gives it a memfd
# by itself (checked in /proc/PID/maps of sluice and testpmd during the
# restart test).
# Skipped (77) without dpdk-testpmd (package dpdk-dev).
. "$(dirname "$0")/lib.sh"
VDRV=$1
MAC=52:54:00:00:00:02
SOCK=$TEST_TMP/vu.sock
PREFIX=sluice-vu-$$
TP_PID=

TESTPMD=$(command -v dpdk-testpmd)
if [ -z "$TESTPMD" ]; then
	echo "SKIP: dpdk-testpmd is not installed (Debian package dpdk-dev)"
	exit 77
fi
# Two lcores (a main one and a forwarding one), on different CPUs when there are two.
if [ "$(nproc)" -ge 2 ]; then LCORES='0@1,1@0'; else LCORES='0@0,1@0'; fi

stop_testpmd() {
	if [ -n "$TP_PID" ]; then
		kill "${1:--TERM}" "$TP_PID" 2>/dev/null
		wait "$TP_PID" 2>/dev/null
	fi
	TP_PID=
}
trap 'stop_testpmd -KILL; rm -rf "$TEST_TMP" "/var/run/dpdk/$PREFIX"' EXIT

# start_testpmd CLIENT LOG [QUEUES]: net_vhost0 on $SOCK; CLIENT=0: testpmd listens.
start_testpmd() {
	local q=${3:-1}
	[ "$1" = 0 ] && rm -f "$SOCK"
	# --no-flush-rx: a frame the guest sends while forwarding starts is answered, not flushed.
	"$TESTPMD" --lcores "$LCORES" --no-huge -m 256 --no-pci --file-prefix "$PREFIX" \
		--vdev "net_vhost0,iface=$SOCK,client=$1,queues=$q" -- --forward-mode=icmpecho \
		--auto-start --rxq="$q" --txq="$q" --no-flush-rx --stats-period 1 --nb-cores=1 \
		--total-num-mbufs=4096 >"$2" 2>&1 </dev/null &
	TP_PID=$!
	if [ "$1" = 0 ]; then
		wait_for 100 test -S "$SOCK" || fail "testpmd did not create $SOCK: $(tail -5 "$2")"
	fi
}

# wait_for TENTHS CMD...: poll CMD every 0.1 s.
wait_for() {
	local n=$1
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# The last "RX-packets"/"TX-packets" of testpmd's periodic port statistics.
tp_count() {
	grep -o "$1-packets: *[0-9]*" "$2" | tail -1 | grep -o '[0-9]*$'
}

# sluice_pid PID: sluice started under timeout as PID: PID itself (busybox's
# timeout execs the command) or its child (coreutils' forks it).
sluice_pid() {
	if [ "$(cat "/proc/$1/comm" 2>/dev/null)" = sluice ]; then
		echo "$1"
	else
		pgrep -P "$1" -x sluice
	fi
}

# check_shared_ram PID: without --memory shared=on, a vhost-user NIC still
# gave sluice a memfd for guest RAM (private memory is the default), mapped
# shared, and the backend mapped that memfd too.
check_shared_ram() {
	local vm=$1
	[ -n "$vm" ] || fail "no sluice process to inspect"
	grep -q ' rw-s .*/memfd:sluice-ram (deleted)$' "/proc/$vm/maps" ||
		fail "guest RAM of a VM with a vhost-user NIC is not a shared memfd: $(grep -c memfd "/proc/$vm/maps") memfd mappings"
	grep -q '/memfd:sluice-ram (deleted)$' "/proc/$TP_PID/maps" ||
		fail "testpmd did not map sluice's guest RAM memfd"
	echo "  guest RAM: a shared memfd, mapped by sluice and by testpmd"
}

BASE_CHECKS=(cmdline pci-enum ecam net-probe lapic net-init net-mac net-arp net-ping msix-count)

# 1. The data path, sluice as client.
start_testpmd 0 "$TEST_TMP/tp1.log"
run_sluice run --kernel "$VDRV" --net "vhost_user=$SOCK,mac=$MAC" \
	--cmdline "vdrv.net=1 vdrv.mac=$MAC" --serial stdio
expect_vdrv_checks "${BASE_CHECKS[@]}"
expect_stdout "config MAC $MAC"
expect_stdout "10.0.9.1 is at 56:48:4f:53:54:00" # net_vhost0's MAC: testpmd answered
expect_status "$(debug_status 0)" "all guest checks passed"
sleep 1.2 # one more statistics period
stop_testpmd
rx=$(tp_count RX "$TEST_TMP/tp1.log") tx=$(tp_count TX "$TEST_TMP/tp1.log")
echo "  testpmd: rx $rx, tx $tx"
[ "$rx" = 2 ] && [ "$tx" = 2 ] || fail "testpmd did not see exactly the guest's ARP and ping (rx $rx, tx $tx)"
cp "$OUT" "$TEST_TMP/first.out"

# relink CLIENT_MODE SLUICE_NET_OPTION: the restart test, one way round.
relink() {
	local client=$1 net=$2

	start_testpmd "$client" "$TEST_TMP/tp-a.log"
	echo "+ sluice run ... --net $net (vdrv.relink=1), testpmd restarted under it"
	timeout -k 5 "$RUN_TIMEOUT" "$SLUICE" run --kernel "$VDRV" --net "$net" \
		--cmdline "vdrv.net=1 vdrv.relink=1 vdrv.mac=$MAC" --serial stdio \
		>"$OUT" 2>"$ERR" </dev/null &
	local pid=$!
	wait_for 300 grep -q "VDRV net-ping ok" "$OUT" || { kill "$pid"; fail "no first ping"; }
	check_shared_ram "$(sluice_pid "$pid")"
	stop_testpmd -KILL
	wait_for 300 grep -q "VDRV net-link-down" "$OUT" || { kill "$pid"; fail "no link down"; }
	start_testpmd "$client" "$TEST_TMP/tp-b.log"
	wait "$pid"
	STATUS=$?
	echo "  exit status $STATUS"
	stop_testpmd
	expect_vdrv_checks "${BASE_CHECKS[@]}" net-link-down net-link-up net-ping-again
	expect_status "$(debug_status 0)" "all guest checks passed"
	grep -qF "backend disconnected" "$ERR" || fail "sluice did not log the backend's loss"
	grep -qF "link up" "$ERR" || fail "sluice did not log the link coming back"
	echo "  guest: link down, link up, ping answered by the restarted testpmd"
}

# 2. Backend restart, sluice as client: it reconnects once a second.
relink 0 "vhost_user=$SOCK,mac=$MAC"
# 3. Backend restart, sluice as server: testpmd (client=1) connects again.
relink 1 "vhost_user=$SOCK,mac=$MAC,server=on"
[ -e "$SOCK" ] && fail "sluice left its listening socket behind"

# stream_count LOG QUEUE RX|TX: a forwarding stream's packets, from the per-stream
# statistics testpmd prints when forwarding stops (its SIGTERM handler does).
stream_count() {
	grep -A1 "Forward Stats for RX Port= 0/Queue= *$2 -> TX Port= 0/Queue= *$2 " "$1" |
		grep -o "$3-packets: *[0-9]*" | tail -1 | grep -o '[0-9]*$'
}

# 4. Two queue pairs: VQ_PAIRS_SET 2, then ARP and ping through tx1/rx1.
start_testpmd 0 "$TEST_TMP/tp-mq.log" 2
run_sluice run --kernel "$VDRV" --net "vhost_user=$SOCK,mac=$MAC,num_queues=2" \
	--cmdline "vdrv.net=1 vdrv.mq=1 vdrv.mac=$MAC" --serial stdio
expect_vdrv_checks "${BASE_CHECKS[@]}" net-mq-pairs net-mq-arp net-mq-ping
expect_stdout_not "net-mq-rx0-quiet"
expect_status "$(debug_status 0)" "all guest checks passed"
stop_testpmd
q0_rx=$(stream_count "$TEST_TMP/tp-mq.log" 0 RX) q0_tx=$(stream_count "$TEST_TMP/tp-mq.log" 0 TX)
q1_rx=$(stream_count "$TEST_TMP/tp-mq.log" 1 RX) q1_tx=$(stream_count "$TEST_TMP/tp-mq.log" 1 TX)
echo "  testpmd queue 0: rx ${q0_rx:-none}, tx ${q0_tx:-none}; queue 1: rx ${q1_rx:-none}, tx ${q1_tx:-none}"
[ "$q1_rx" = 2 ] && [ "$q1_tx" = 2 ] ||
	fail "testpmd's queue 1 did not carry exactly the guest's second ARP and ping"
[ "$q0_rx" = 2 ] && [ "$q0_tx" = 2 ] ||
	fail "testpmd's queue 0 did not carry exactly the guest's first ARP and ping"

# 5. The same device, the driver taking CTRL_VQ without MQ: queue 2 is now the
# control queue (sluice serves it, not the backend), and the ping uses pair 0.
start_testpmd 0 "$TEST_TMP/tp-ctrl.log" 2
run_sluice run --kernel "$VDRV" --net "vhost_user=$SOCK,mac=$MAC,num_queues=2" \
	--cmdline "vdrv.net=1 vdrv.ctrl=1 vdrv.mac=$MAC" --serial stdio
expect_vdrv_checks "${BASE_CHECKS[@]}" net-ctrl-promisc
expect_status "$(debug_status 0)" "all guest checks passed"
stop_testpmd

cp "$TEST_TMP/first.out" "$OUT"
pass "virtio-net on a vhost-user backend (dpdk-testpmd): ARP and ping with kicks and interrupts bypassing sluice; backend killed and restarted (client and server mode): link down, reconnect, link up, ping again; two queue pairs: VQ_PAIRS_SET acked, ARP and ping through queue pair 1; queue 2 as the control queue without MQ"
