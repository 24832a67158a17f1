# SPDX-License-Identifier: MIT
# budget: 300
# meson's integration suite (tests/integration) under real nested-SVM KVM: on
# a machine without /dev/kvm every one of those tests skips, so here they run
# for real. The same scripts with the same arguments as meson gives them:
# /it/manifest is written from meson's test definitions by it-manifest.py
# (mkinitramfs.sh), one line per test: NAME TIMEOUT EXPECT [KEY=VALUE...] CMD...
# Each test runs under its meson timeout, with the tools in /it/bin first in
# PATH; its log is shown when it fails. A skip (exit 77) is reported with its
# reason; a skip for want of /dev/kvm is a failure here, where kvm_amd
# provides it. The step fails if any test fails. 85-150 s measured (most
# of it vdrv_vhost_user: dpdk-testpmd restarted under a running guest).
need_kvm
modprobe tun || fail "modprobe tun failed" # vdrv_net's TAP (/dev/net/tun)
mkdir -p /var/run /tmp/it                  # dpdk-testpmd's runtime directory
[ -s /it/manifest ] || fail "no /it/manifest in the virtual host (mkinitramfs.sh)"
pass=0 skip=0 failed=
while IFS= read -r line; do
	eval "set -- $line"
	name=$1 limit=$2 expect=$3
	shift 3
	log=/tmp/it/$name.log
	t0=$(uptime_s)
	(cd /tmp && PATH=/it/bin:$PATH timeout -k 10 "$limit" env "$@") </dev/null >"$log" 2>&1
	rc=$?
	st=$rc
	secs=$(elapsed "$t0")
	result "${name}_s" "$secs"
	# notes: cases a test could not check on this host
	grep '^note:' "$log" | sed "s|^|it: $name: |"
	# meson's should_fail: any failing status but 77 passes, 0 fails
	if [ "$expect" = fail ] && [ "$rc" != 77 ]; then
		if [ "$rc" = 0 ]; then rc=1; else rc=0; fi
	fi
	if [ "$rc" = 0 ]; then
		pass=$((pass + 1))
		result "$name" PASS
		# pass's line ends the log, maybe after guest output cut mid-line
		echo "it: $name PASS (${secs}s): $(sed -n '$s/.*PASS: //p' "$log")"
	elif [ "$rc" = 77 ] && ! grep -q '^SKIP:.*/dev/kvm' "$log"; then
		skip=$((skip + 1))
		why=$(grep '^SKIP:' "$log" | tail -n 1 | sed 's/^SKIP: *//')
		result "$name" SKIP
		result "${name}_why" "${why:-no reason given}"
		echo "it: $name SKIP (${secs}s): ${why:-no reason given}"
	else
		failed="$failed $name"
		result "$name" FAIL
		echo "it: $name FAIL (${secs}s, exit status $st, expected to $expect); its log:"
		sed "s|^|  $name: |" "$log"
	fi
done </it/manifest
result passed $pass
result skipped $skip
[ -z "$failed" ] || fail "failed:$failed"
[ "$pass" -gt 0 ] || fail "no integration test passed"
