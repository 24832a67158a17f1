#!/bin/bash
# Frontends come and go while the switch runs. Port 0 is a vhost-user server
# (the switch listens), port 1 a client (the switch connects to testpmd's
# virtio_user server=1 and reconnects every second). A sends to B at full
# speed; B is killed mid-traffic and restarted, then A is: the other port is
# not disturbed, the switch keeps running, and traffic resumes each time.
. "$(dirname "$0")/lib.sh"

MA=02:00:00:00:00:0a MB=02:00:00:00:00:0b
vsw_start --mode xconnect --vhost "$T/p0" --vhost "$T/p1,client"
tp_start B "$T/p1" $MB ",server=1"
tp_start A "$T/p0" $MA
vsw_wait_state 0 up
vsw_wait_state 1 up
tp_cmd B "set fwd rxonly"
tp_cmd B start
tp_cmd A "set fwd txonly"
tp_cmd A start
sleep 1
tp_stat B RX
expect_gt "B receives" "$R" 0

# B dies mid-traffic.
tp_kill B
vsw_wait_state 1 down
rx0=$(vsw_field 0 rx)
nd0=$(vsw_field 0 drop_no_dst)
sleep 1
expect_eq "port 0 still up" "$(vsw_state 0)" up
expect_gt "switch keeps taking A's frames" "$(vsw_field 0 rx)" "$rx0"
expect_gt "and counts them as no_dst drops" "$(vsw_field 0 drop_no_dst)" "$nd0"

# B comes back (a new process on the same socket path); the switch reconnects.
rm -f "$T/p1" "$T/B.in"
tp_start B "$T/p1" $MB ",server=1"
vsw_wait_state 1 up
tp_cmd B "set fwd rxonly"
tp_cmd B start
sleep 1
tp_stat B RX
expect_gt "restarted B receives" "$R" 0
expect_eq "port 1 came up twice" "$(vsw_field 1 ups)" 2

# A dies mid-traffic and comes back on the switch's listening socket.
tp_kill A
vsw_wait_state 0 down
expect_eq "port 1 still up" "$(vsw_state 1)" up
tp_stat B RX
b_rx=$R
rm -f "$T/A.in"
tp_start A "$T/p0" $MA
vsw_wait_state 0 up
tp_cmd A "set fwd txonly"
tp_cmd A start
sleep 1
tp_stat B RX
expect_gt "traffic resumes after A restarts" "$R" "$b_rx"
expect_eq "port 0 came up twice" "$(vsw_field 0 ups)" 2
kill -0 "$VSW_PID" || fail "switch died"
ok "switch ran throughout (pid $VSW_PID)"

tp_cmd A stop
tp_quit A
tp_quit B
kill -TERM "$VSW_PID"
wait "$VSW_PID"
expect_eq "switch exit status on SIGTERM" $? 0
[ -e "$T/p0" ] || [ -e "$T/ctl" ] && fail "sockets left behind: $(ls "$T")"
ok "server socket and control socket removed"
