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
