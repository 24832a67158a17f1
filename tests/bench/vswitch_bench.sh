#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Backend forwarding rate: sluice-vswitch against dpdk-testpmd io-forwarding
# between two net_vhost ports, driven by the same virtio_user traffic.
#
# Two cores fit two busy pollers, not three (shared/dpdk/README.md), so the
# traffic runs in a closed loop: ONE generator testpmd (forwarding lcore on
# CPU1) with two net_virtio_user ports in mac forwarding, seeded with
# "start tx_first 32", and the backend under test (forwarding lcore on CPU0)
# between its two vhost-user sockets:
#   gen port0 -> backend port0 -> backend port1 -> gen port1 -> gen port0 ...
# mac forwarding gives each direction a fixed source/destination MAC pair, so
# a learning switch sees stable addresses. The rate is what the generator
# receives on both ports (Rx-pps from "show port stats all" once a second),
# mean over seconds WARM+1..DUR of a run.
#
# Backends, interleaved within every round (the order rotates each round):
#   testpmd   dpdk-testpmd, net_vhost0/1, set fwd io
#   xconnect  sluice-vswitch --mode xconnect
#   switch    sluice-vswitch --mode switch
# for each packet length. Reports per cell the median over ROUNDS and the
# ratio to testpmd: median of the same-round ratios (and ratio of medians).
# Before each run it waits (up to QUIET_WAIT s) until no other process uses
# more than 5% CPU, and it records what else was busy during the run.
#
# Usage: tests/bench/vswitch_bench.sh [BUILD_DIR]   (default: build; as root)
# Env:   ROUNDS=5 DUR=10 WARM=3 LENS="64 1500" QUIET_WAIT=120
#        EALX="--no-huge -m 512"  (or hugepages: "--huge-dir DIR -m 512 --single-file-segments")
# Needs: dpdk-dev (dpdk-testpmd), a built sluice-vswitch.

set -u
BUILD=${1:-build}
VSW=$BUILD/vhost-user/vswitch/sluice-vswitch
ROUNDS=${ROUNDS:-5}
DUR=${DUR:-10}
WARM=${WARM:-3}
LENS=${LENS:-64 1500}
QUIET_WAIT=${QUIET_WAIT:-120}
EALX=${EALX:---no-huge -m 512}
BACKENDS=(testpmd xconnect switch)

[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 1; }
[ -x "$VSW" ] || { echo "no $VSW (build with libdpdk-dev installed)"; exit 1; }
command -v dpdk-testpmd > /dev/null || { echo "dpdk-testpmd missing (dpdk-dev)"; exit 1; }

W=$(mktemp -d /tmp/vswitch-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
S0=$W/s0 S1=$W/s1
M0=02:00:00:00:01:00 M1=02:00:00:00:01:01
EAL=(--no-pci $EALX --log-level=lib.eal:warning)

# Processes other than ours above 5% CPU over one second.
others_busy() {
	top -b -n2 -d1 -w 200 | awk '/^top -/{n++} n==2 && $1 ~ /^[0-9]+$/ && $9+0 > 5 &&
		$12 !~ /dpdk-testpmd|sluice-vswitch|^top$/ {printf "%s(%s%%) ", $12, $9}'
}
wait_quiet() {
	local q=0 b
	for _ in $(seq 1 "$QUIET_WAIT"); do
		b=$(others_busy)
		if [ -z "$b" ]; then
			q=$((q + 1))
			[ $q -ge 3 ] && return 0
		else
			q=0
		fi
	done
	echo "  (machine still busy after ${QUIET_WAIT}s: $b- running anyway)" >&2
}
busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
proc_jiffies() {
	local s=0
	for p in "$@"; do s=$((s + $(awk '{print $14+$15}' /proc/$p/stat 2> /dev/null || echo 0))); done
	echo $s
}

start_backend() { # kind -> BPID (and BFD, the testpmd backend's command FIFO)
	rm -f "$S0" "$S1"
	case $1 in
	testpmd)
		rm -f "$W/bin"
		mkfifo "$W/bin"
		dpdk-testpmd --lcores '0@1,1@0' --file-prefix vbb$$ "${EAL[@]}" \
			--vdev "net_vhost0,iface=$S0,queues=1" --vdev "net_vhost1,iface=$S1,queues=1" \
			-- -i --nb-cores=1 --total-num-mbufs=32768 < "$W/bin" > "$W/backend.log" 2>&1 &
		BPID=$!
		exec {BFD}> "$W/bin"
		echo "set fwd io" >&$BFD
		echo start >&$BFD
		;;
	xconnect | switch)
		"$VSW" --lcores '0@1,1@0' --file-prefix vbb$$ "${EAL[@]}" -- \
			--mode "$1" --vhost "$S0" --vhost "$S1" --mbufs 32767 > "$W/backend.log" 2>&1 &
		BPID=$!
		BFD=
		;;
	esac
	for _ in $(seq 1 100); do
		[ -S "$S0" ] && [ -S "$S1" ] && return 0
		sleep 0.1
	done
	echo "backend $1 did not create its sockets" >&2
	tail "$W/backend.log" >&2
	return 1
}

stop_backend() {
	if [ -n "$BFD" ]; then
		echo quit >&$BFD
		exec {BFD}>&-
	else
		kill -INT "$BPID" 2> /dev/null
	fi
	for _ in $(seq 1 50); do kill -0 "$BPID" 2> /dev/null || break; sleep 0.1; done
	kill -9 "$BPID" 2> /dev/null
	wait "$BPID" 2> /dev/null
}

# run kind len -> prints Mpps (mean of the steady window), or "fail"
run_one() {
	local kind=$1 len=$2 gpid b0 b1 m0 m1 others
	start_backend "$kind" || { echo fail; return; }
	(
		echo "set fwd mac"
		echo "set txpkts $len"
		echo "start tx_first 32"
		for _ in $(seq 1 "$DUR"); do
			sleep 1
			echo "show port stats all"
		done
		echo stop
		sleep 0.5
		echo quit
	) | dpdk-testpmd --lcores '0@0,1@1' --file-prefix vbg$$ "${EAL[@]}" \
		--vdev "net_virtio_user0,path=$S0,mac=$M0" --vdev "net_virtio_user1,path=$S1,mac=$M1" \
		-- -i --nb-cores=1 --total-num-mbufs=32768 --eth-peer=0,$M1 --eth-peer=1,$M0 \
		> "$W/gen.log" 2>&1 &
	gpid=$!
	sleep $((WARM + 2))
	b0=$(busy_jiffies) m0=$(proc_jiffies $gpid $BPID)
	sleep $((DUR - WARM - 2))
	b1=$(busy_jiffies) m1=$(proc_jiffies $gpid $BPID)
	wait $gpid
	stop_backend
	others=$(( ((b1 - b0) - (m1 - m0)) * 100 / (DUR - WARM - 2) / 100 ))
	# Rx-pps lines come in port pairs, one pair per second.
	grep "Rx-pps:" "$W/gen.log" | awk -v warm="$WARM" '{v[NR] = $2} END {
		n = 0; s = 0
		for (i = 1; i + 1 <= NR; i += 2) { sec = (i + 1) / 2; if (sec > warm) { s += v[i] + v[i + 1]; n++ } }
		if (n) printf "%.3f %d\n", s / n / 1e6, n; else print "fail 0" }' | {
		read -r mpps n
		echo "$mpps $others"
	}
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR] = $1} END {
	if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "vswitch bench: $ROUNDS rounds, ${DUR}s runs (window s$((WARM + 1))-$DUR), EAL: $EALX"
echo "load before: $(uptime | sed 's/.*load/load/'); busy: $(others_busy)"
declare -A R
for round in $(seq 1 "$ROUNDS"); do
	for len in $LENS; do
		# Rotate the order every round so drift hits every backend alike.
		for k in 0 1 2; do
			kind=${BACKENDS[$(((k + round) % 3))]}
			wait_quiet
			read -r mpps others < <(run_one "$kind" "$len")
			R[$kind,$len,$round]=$mpps
			printf "round %d len %4d %-8s %8s Mpps  (others' CPU during run: %s%%)\n" \
				"$round" "$len" "$kind" "$mpps" "$others"
		done
	done
done

echo
printf "%-5s %-9s %10s %14s %16s  %s\n" len backend "median Mpps" "ratio (paired)" "ratio (medians)" "runs"
for len in $LENS; do
	base=$(for r in $(seq 1 "$ROUNDS"); do echo -n "${R[testpmd,$len,$r]} "; done | median)
	for kind in "${BACKENDS[@]}"; do
		runs=$(for r in $(seq 1 "$ROUNDS"); do echo -n "${R[$kind,$len,$r]} "; done)
		med=$(echo "$runs" | median)
		paired=$(for r in $(seq 1 "$ROUNDS"); do
			awk -v a="${R[$kind,$len,$r]}" -v b="${R[testpmd,$len,$r]}" \
				'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.3f ", a / b }'
		done | median)
		ratio=$(awk -v a="$med" -v b="$base" 'BEGIN { if (b + 0 > 0) printf "%.3f", a / b; else print "nan" }')
		printf "%-5s %-9s %10s %14s %16s  %s\n" "$len" "$kind" "$med" "$paired" "$ratio" "$runs"
	done
done
