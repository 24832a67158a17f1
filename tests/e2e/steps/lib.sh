# SPDX-License-Identifier: MIT
# Helpers for the virtual-host steps (sourced; busybox sh).
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# fail REASON: record why the step failed and end it.
fail() {
	echo "FAIL: $*"
	echo "$*" >/tmp/step.reason
	exit 1
}

# result KEY VALUE: a measurement for the outer runner.
result() {
	echo "E2E RESULT $STEP $1=$2"
}

# elapsed START: seconds since START (an uptime_s value), 2 decimals.
elapsed() {
	awk "BEGIN { printf \"%.2f\", $(uptime_s) - $1 }"
}

need_kvm() {
	[ -e /dev/kvm ] || modprobe kvm_amd || fail "modprobe kvm_amd failed"
	[ -e /dev/kvm ] || fail "no /dev/kvm after loading kvm_amd"
}

# Knobs from the virtual host's command line (vhost.sh E2E_APPEND).
e2e_arg() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
L2_EXTRA=$(e2e_arg e2e_l2append | tr '+' ' ')
[ "$(e2e_arg e2e_debug)" = 1 ] && export SLUICE_DEBUG=1

# stamped OUT CMD...: runs CMD (a VMM booting an L2) with stdin closed and a
# 240 s limit; each console line goes to OUT prefixed with the virtual host's
# uptime when it arrived (benchmarks time L2 phases from outside: the L2's own
# clock jumps under nested virtualization). CMD's stderr goes to OUT.err, its
# exit status to OUT.rc. Carriage returns are dropped.
stamped() {
	_out=$1
	shift
	{
		timeout -s KILL 240 "$@" </dev/null 2>"$_out.err"
		echo $? >"$_out.rc"
	} | while IFS= read -r _line; do
		read -r _up _idle </proc/uptime # a builtin: no fork per line
		echo "$_up $_line"
	done >"$_out"
	tr -d '\r' <"$_out" >"$_out.tmp" && mv "$_out.tmp" "$_out"
}

# twice FN NAME ARGS...: one benchmark run (FN returns 1 and writes why to
# /tmp/run.why when the run did not complete) that may fail once: a nested L2
# under TCG now and then resets in early boot (seen under the QEMU peer, which
# then exits 0 with no output). The retry is a result line of its own; a
# second failure fails the step.
twice() {
	"$@" && return 0
	echo "$2: run again after: $(cat /tmp/run.why 2>/dev/null)"
	result "retried_$2" 1
	"$@" || fail "$2: failed twice: $(cat /tmp/run.why 2>/dev/null)"
}

# stamp_of OUT TEXT: the uptime stamp of the first line of OUT containing TEXT.
stamp_of() {
	awk -v k="$2" 'index($0, k) { print $1; exit }' "$1"
}

# median FILE COLUMN
median() {
	sort -n -k "$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}

# pair_ratio A B COLUMN: the median over runs i of A[i]/B[i] (the files' lines
# in run order; interleaved runs that see the same load on the machine).
pair_ratio() {
	paste -d' ' "$1" "$2" | awk -v c="$3" -v n="$(head -n 1 "$1" | wc -w)" \
		'{ printf "%.3f\n", $c / ($(n + c) + 1e-9) }' | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'
}
