# SPDX-License-Identifier: MIT
# budget: 60
# kvm_amd gives a working /dev/kvm in the virtual host, and sluice runs its
# test guests on it (real nested SVM, not this machine's PVM KVM).
need_kvm
result kvm_modprobe ok
sluice run --kernel /guests/hello.bin --serial stdio >/tmp/hello.out 2>&1 </dev/null
st=$?
cat /tmp/hello.out
[ "$st" = 67 ] || fail "hello guest: exit status $st, expected 67"
grep -q "Hello from the sluice flat guest" /tmp/hello.out || fail "hello guest: no output"

# xsave=1 when L1 has XSAVE: the guest then requires it in CPUID and checks
# XCR0, XSAVE sizes and offsets against leaf 0xD.
xsave=0
grep -qw xsave /proc/cpuinfo && xsave=1
sluice run --kernel /guests/lm.bzImage --cpus 2 --memory 64M --cmdline "cpus=2 xsave=$xsave" \
	>/tmp/lm.out 2>&1 </dev/null
st=$?
cat /tmp/lm.out
[ "$st" = 1 ] || fail "long-mode guest: exit status $st, expected 1 (all checks passed)"
grep -q "SMP: 2 cpus up" /tmp/lm.out || fail "long-mode guest: APs did not start"
[ $xsave = 0 ] || grep -q "PASS: XRSTOR/XSAVE round trip" /tmp/lm.out ||
	fail "long-mode guest: XSAVE checks did not run"
# On real SVM: with the PMU off the AMD guest reads AMD's K7 counters as 0, and
# hidden MONITOR/MWAIT raise #UD (both checked by the guest, which exits 1
# only when every check passed).
grep -q "PASS: PMU off, AMD: K7 counter MSRs read 0 and drop writes" /tmp/lm.out ||
	fail "long-mode guest: K7 counter check missing"
grep -q "PASS: hidden MONITOR/MWAIT raise #UD" /tmp/lm.out || fail "long-mode guest: MWAIT check missing"

# The same guest told by a policy file that it runs on an Intel CPU: AMD's
# MSRs (K7 counters, HWCR, ...) fault as on Intel hardware (docs/cpu-policy.md).
printf 'cpuid 0 ebx value 756e6547\ncpuid 0 edx value 49656e69\ncpuid 0 ecx value 6c65746e\n' \
	>/tmp/intel.policy
sluice run --kernel /guests/lm.bzImage --memory 64M --cpu-policy /tmp/intel.policy \
	--cmdline "cpus=1 vendor_forced" >/tmp/lm-intel.out 2>&1 </dev/null
st=$?
cat /tmp/lm-intel.out
[ "$st" = 1 ] || fail "long-mode guest as Intel: exit status $st, expected 1 (all checks passed)"
grep -q "PASS: PMU off, Intel: K7 counter MSRs raise #GP" /tmp/lm-intel.out ||
	fail "long-mode guest as Intel: K7 counter check missing"
