#!/bin/bash
# Cross-connect: two vhost-user server ports, each with a dpdk-testpmd
# virtio_user frontend. A transmits (txonly) while B only receives, then the
# other way round; every frame one frontend sent is counted once by the switch
# and arrives at the other frontend, and the counters of all three agree.
. "$(dirname "$0")/lib.sh"

vsw_start --mode xconnect --vhost "$T/p0" --vhost "$T/p1"
tp_start A "$T/p0" 02:00:00:00:00:0a
tp_start B "$T/p1" 02:00:00:00:00:0b
vsw_wait_state 0 up
vsw_wait_state 1 up

# A few bursts, fewer than a ring holds: every frame must arrive.
tp_cmd B "set fwd rxonly"
tp_cmd B start
tp_cmd A "set fwd rxonly"
tp_cmd A "start tx_first 4"
sleep 1
tp_stat B RX
expect_eq "B received all of A's 4 bursts" "$R" 128
expect_eq "switch p1 tx" "$(vsw_field 1 tx)" 128
expect_eq "switch p1 drop_tx_full" "$(vsw_field 1 drop_tx_full)" 0

# Full speed: the sink cannot keep up on two shared cores; the switch counts
# what the frontend's ring had no room for.
tp_cmd A stop
tp_cmd A "set fwd txonly"
tp_cmd A start
sleep 3
tp_cmd A stop
sleep 1 # the switch drains A's ring; B (still running) drains its own

tp_stat A TX; a_tx=$R
tp_stat B RX; b_rx=$R
expect_gt "A sent" "$a_tx" 10000
expect_eq "switch p0 rx = A tx" "$(vsw_field 0 rx)" "$a_tx"
expect_eq "switch p1 tx + p1 drop_tx_full = p0 rx" \
	$(($(vsw_field 1 tx) + $(vsw_field 1 drop_tx_full))) "$a_tx"
expect_eq "B rx = switch p1 tx" "$b_rx" "$(vsw_field 1 tx)"

# The other direction.
tp_cmd B stop
tp_cmd A "set fwd rxonly"
tp_cmd A start
tp_cmd B "set fwd txonly"
tp_cmd B start
sleep 3
tp_cmd B stop
sleep 1

tp_stat B TX; b_tx=$R
tp_stat A RX; a_rx=$R
expect_gt "B sent" "$b_tx" 10000
expect_eq "switch p1 rx = B tx" "$(vsw_field 1 rx)" "$b_tx"
expect_eq "switch p0 tx + p0 drop_tx_full = p1 rx" \
	$(($(vsw_field 0 tx) + $(vsw_field 0 drop_tx_full))) "$b_tx"
expect_eq "A rx = switch p0 tx" "$a_rx" "$(vsw_field 0 tx)"
expect_eq "no runts, no_dst or filtered drops" \
	"$(vsw_query stats | grep -o 'drop_\(runt\|no_dst\|filtered\)=[1-9]' | wc -l)" 0

tp_quit A
tp_quit B
vsw_wait_state 0 down
vsw_wait_state 1 down
kill -TERM "$VSW_PID"
wait "$VSW_PID"
expect_eq "switch exit status on SIGTERM" $? 0
[ -e "$T/p0" ] || [ -e "$T/p1" ] || [ -e "$T/ctl" ] && fail "sockets left behind: $(ls "$T")"
ok "sockets removed"
