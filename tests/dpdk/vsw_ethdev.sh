#!/bin/bash
# An ethdev port next to a vhost-user port: the EAL's net_tap PMD gives a
# kernel interface. Cross-connected: what testpmd A sends arrives on the
# kernel side (its rx counter), and ARP requests the kernel sends out of the
# TAP arrive at A.
. "$(dirname "$0")/lib.sh"

command -v ip > /dev/null || skip "iproute2 missing"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
TAP=slvsw$$
EAL_COMMON+=(--vdev "net_tap0,iface=$TAP")
vsw_start --mode xconnect --vhost "$T/p0"
EAL_COMMON=("${EAL_COMMON[@]:0:${#EAL_COMMON[@]}-2}")
expect_eq "port 1 is the ethdev" "$(vsw_query stats | awk '$2 == 1 {print $3}')" eth
ip link set "$TAP" up || fail "cannot bring $TAP up"
ip addr add 198.51.100.1/24 dev "$TAP"
tp_start A "$T/p0" 02:00:00:00:00:0a
vsw_wait_state 0 up
vsw_wait_state 1 up

rx_before=$(cat /sys/class/net/$TAP/statistics/rx_packets)
tp_cmd A "set fwd rxonly"
tp_cmd A "start tx_first 4"
sleep 1
expect_eq "switch p1 (tap) tx" "$(vsw_field 1 tx)" 128
expect_eq "kernel received on $TAP" $(($(cat /sys/class/net/$TAP/statistics/rx_packets) - rx_before)) 128

# The kernel resolves a neighbour: broadcast ARP out of the TAP, to A.
ping -c 2 -W 1 -I "$TAP" 198.51.100.2 > /dev/null 2>&1
sleep 0.5
expect_gt "switch p1 (tap) rx" "$(vsw_field 1 rx)" 0
tp_stat A RX
expect_gt "A received the kernel's frames" "$R" 0
expect_eq "A rx = switch p0 tx" "$R" "$(vsw_field 0 tx)"

tp_quit A
kill -TERM "$VSW_PID"
wait "$VSW_PID"
expect_eq "switch exit status on SIGTERM" $? 0
ip link show "$TAP" > /dev/null 2>&1 && fail "$TAP left behind"
ok "$TAP removed with the switch"
