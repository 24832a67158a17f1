# Helpers for the 'dpdk' suite: sluice-vswitch with dpdk-testpmd peers.
# A testpmd is driven through its interactive prompt from a FIFO held open by
# this shell, so commands can be sent at any time and its answers read from
# its log. Every process started here is stopped by its pid on exit.
set -u
VSW=$1
T=$(mktemp -d /tmp/sluice-dpdk.XXXXXX)
PIDS=()
declare -A TP_FD TP_LOG TP_PID

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; dump_logs; exit 1; }
ok() { echo "ok: $*"; }

[ "$(id -u)" -eq 0 ] || skip "needs root (vhost-user sockets, DPDK runtime dirs)"
command -v dpdk-testpmd > /dev/null || skip "dpdk-testpmd not installed (Debian package dpdk-dev)"

# Memory: memfd-backed, no hugepages, one file prefix per process.
EAL_COMMON=(--no-huge -m 256 --no-pci --log-level=lib.eal:warning)
# Two lcores per process (main + one forwarding), floating over both CPUs.
LCORES='0@(0-1),1@(0-1)'

cleanup() {
	for fd in "${TP_FD[@]}"; do eval "exec $fd>&-" 2> /dev/null; done
	for p in "${PIDS[@]}"; do kill -9 "$p" 2> /dev/null; done
	wait 2> /dev/null
	rm -rf "$T"
}
trap cleanup EXIT

dump_logs() {
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "----- $f (tail, without rte_vhost's protocol trace)"
		grep -v "^VHOST_CONFIG" "$f" | tail -n 25
	done
}

# vsw_start ARGS... : starts the switch (workers: one), control socket $T/ctl.
vsw_start() {
	"$VSW" "${EAL_COMMON[@]}" --file-prefix "vsw$$" --lcores "$LCORES" -- \
		--ctl "$T/ctl" "$@" > "$T/vsw.log" 2>&1 &
	VSW_PID=$!
	PIDS+=("$VSW_PID")
	for _ in $(seq 1 100); do
		[ -S "$T/ctl" ] && return 0
		kill -0 "$VSW_PID" 2> /dev/null || fail "sluice-vswitch exited at start"
		sleep 0.1
	done
	fail "sluice-vswitch did not create its control socket"
}

vsw_query() { "$VSW" query "$T/ctl" "${1:-stats}"; }

# vsw_field PORT FIELD: one counter of a port, e.g. vsw_field 0 rx
vsw_field() {
	vsw_query stats | awk -v p="$1" -v f="$2" '$1 == "port" && $2 == p {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }'
}
vsw_state() { vsw_query stats | awk -v p="$1" '$1 == "port" && $2 == p { print $5 }'; }

vsw_wait_state() { # PORT up|down
	for _ in $(seq 1 100); do
		[ "$(vsw_state "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "port $1 never became $2"
}

# tp_start NAME SOCKET MAC [extra virtio_user devargs] [-- testpmd args]
tp_start() {
	local name=$1 sock=$2 mac=$3 dev_extra=${4:-}
	shift 4 2> /dev/null || shift $#
	mkfifo "$T/$name.in"
	# Line-buffered: its answers must reach the log while it runs.
	stdbuf -oL dpdk-testpmd "${EAL_COMMON[@]}" --file-prefix "tp$name$$" --lcores "$LCORES" \
		--vdev "net_virtio_user0,path=$sock,mac=$mac$dev_extra" -- \
		-i --nb-cores=1 --total-num-mbufs=4096 "$@" < "$T/$name.in" > "$T/$name.log" 2>&1 &
	TP_PID[$name]=$!
	PIDS+=("${TP_PID[$name]}")
	exec {fd}> "$T/$name.in"
	TP_FD[$name]=$fd
	TP_LOG[$name]=$T/$name.log
	for _ in $(seq 1 150); do
		grep -q "^testpmd> " "$T/$name.log" 2> /dev/null && return 0
		kill -0 "${TP_PID[$name]}" 2> /dev/null || fail "testpmd $name exited at start"
		sleep 0.1
	done
	fail "testpmd $name did not reach its prompt"
}

tp_cmd() { echo "$2" >&"${TP_FD[$1]}"; }

tp_kill() { # NAME: SIGKILL, as a crashing VM would
	kill -9 "${TP_PID[$1]}" 2> /dev/null
	wait "${TP_PID[$1]}" 2> /dev/null
	eval "exec ${TP_FD[$1]}>&-"
	unset "TP_FD[$1]"
	rm -f "$T/$1.in"
}

tp_quit() {
	tp_cmd "$1" quit
	wait "${TP_PID[$1]}" 2> /dev/null
	eval "exec ${TP_FD[$1]}>&-"
	unset "TP_FD[$1]"
}

# tp_stat NAME RX|TX: the port's packet counter, read through "show port stats
# 0", into $R (not a subshell, so that a failure ends the test).
tp_stat() {
	local before after
	before=$(grep -c "NIC statistics for port 0" "${TP_LOG[$1]}")
	tp_cmd "$1" "show port stats 0"
	for _ in $(seq 1 50); do
		after=$(grep -c "NIC statistics for port 0" "${TP_LOG[$1]}")
		if [ "$after" -gt "$before" ] && grep -q "TX-packets" <(tail -n 8 "${TP_LOG[$1]}"); then
			R=$(tac "${TP_LOG[$1]}" | grep -m1 "$2-packets:" | awk '{print $2}')
			return 0
		fi
		sleep 0.1
	done
	fail "no port stats from testpmd $1"
}

expect_eq() { # what a b
	[ "$2" = "$3" ] || fail "$1: $2 != $3"
	ok "$1: $2"
}
expect_gt() { # what a b
	[ "$2" -gt "$3" ] || fail "$1: $2 not > $3"
	ok "$1: $2 > $3"
}
