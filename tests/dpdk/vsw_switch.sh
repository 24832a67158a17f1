#!/bin/bash
# Learning switch, three vhost-user ports with dpdk-testpmd virtio_user
# frontends A, B, C (MACs ...:0a, :0b, :0c). Unknown destinations flood to
# every other port, never back to the source; once learned, unicast goes to
# one port only; broadcast floods; a frame for a MAC learned on its own source
# port is filtered. The MAC table shows all three MACs on their ports.
. "$(dirname "$0")/lib.sh"

MA=02:00:00:00:00:0a MB=02:00:00:00:00:0b MC=02:00:00:00:00:0c
vsw_start --mode switch --vhost "$T/p0" --vhost "$T/p1" --vhost "$T/p2"
tp_start A "$T/p0" $MA "" --eth-peer=0,$MB
tp_start B "$T/p1" $MB "" --eth-peer=0,$MA
tp_start C "$T/p2" $MC "" --eth-peer=0,ff:ff:ff:ff:ff:ff
for p in 0 1 2; do vsw_wait_state $p up; done
for n in A B C; do
	tp_cmd $n "set fwd rxonly"
	tp_cmd $n start
done

# B -> A while A is unknown: flooded to A and C, not back to B.
tp_cmd B stop
tp_cmd B "start tx_first 2"
sleep 1
tp_stat A RX
expect_eq "A got B's flood" "$R" 64
tp_stat C RX
expect_eq "C got B's flood" "$R" 64
expect_eq "switch p1 rx" "$(vsw_field 1 rx)" 64
expect_eq "switch p1 tx (nothing back to the source)" "$(vsw_field 1 tx)" 0
expect_eq "switch p0 flood" "$(vsw_field 0 flood)" 64
expect_eq "switch p2 flood" "$(vsw_field 2 flood)" 64
vsw_query macs | grep -q "^mac $MB port 1 " || fail "B's MAC not learned on port 1: $(vsw_query macs)"
ok "B's MAC learned on port 1"

# A -> B at full speed: B is known, so nothing reaches C.
tp_cmd A stop
tp_cmd A "set fwd txonly"
tp_cmd A start
sleep 2
tp_cmd A stop
sleep 1
tp_stat A TX
a_tx=$R
expect_gt "A sent" "$a_tx" 10000
expect_eq "switch p0 rx = A tx" "$(vsw_field 0 rx)" "$a_tx"
expect_eq "switch p1 tx + drop_tx_full = A tx" \
	$(($(vsw_field 1 tx) + $(vsw_field 1 drop_tx_full))) "$a_tx"
tp_stat B RX
expect_eq "B rx = switch p1 tx" "$R" "$(vsw_field 1 tx)"
expect_eq "switch p1 flood (A's unicast was not flooded)" "$(vsw_field 1 flood)" 0
tp_stat C RX
expect_eq "C got no unicast for B" "$R" 64
expect_eq "switch p2 tx" "$(vsw_field 2 tx)" 64
vsw_query macs | grep -q "^mac $MA port 0 " || fail "A's MAC not learned on port 0: $(vsw_query macs)"
ok "A's MAC learned on port 0"

# C broadcasts: A and B get it, C does not.
b_tx_before=$(vsw_field 1 tx)
tp_cmd A "set fwd rxonly"
tp_cmd A start
tp_cmd C stop
tp_cmd C "start tx_first 1"
sleep 1
tp_stat A RX
expect_eq "A got C's broadcast" "$R" $((64 + 32))
expect_eq "switch p1 tx grew by C's broadcast" "$(vsw_field 1 tx)" $((b_tx_before + 32))
expect_eq "switch p2 tx (nothing back to the source)" "$(vsw_field 2 tx)" 64
vsw_query macs | grep -q "^mac $MC port 2 " || fail "C's MAC not learned on port 2: $(vsw_query macs)"
ok "C's MAC learned on port 2"
expect_eq "MAC table entries" "$(vsw_query macs | grep -c '^mac ')" 3

# A frame for a MAC that lives on its own source port is filtered.
tp_cmd A stop
tp_cmd A "set eth-peer 0 $MA"
tp_cmd A "start tx_first 1"
sleep 1
expect_eq "switch p0 drop_filtered" "$(vsw_field 0 drop_filtered)" 32
expect_eq "no runts, no_dst drops" \
	"$(vsw_query stats | grep -o 'drop_\(runt\|no_dst\)=[1-9]' | wc -l)" 0

for n in A B C; do tp_quit $n; done
kill -INT "$VSW_PID"
wait "$VSW_PID"
expect_eq "switch exit status on SIGINT" $? 0
[ -e "$T/p0" ] || [ -e "$T/p1" ] || [ -e "$T/p2" ] || [ -e "$T/ctl" ] &&
	fail "sockets left behind: $(ls "$T")"
ok "sockets removed"
