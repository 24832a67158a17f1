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

sluice run --kernel /guests/lm.bzImage --cpus 2 --memory 64M --cmdline cpus=2 \
	>/tmp/lm.out 2>&1 </dev/null
st=$?
cat /tmp/lm.out
[ "$st" = 1 ] || fail "long-mode guest: exit status $st, expected 1 (all checks passed)"
grep -q "SMP: 2 cpus up" /tmp/lm.out || fail "long-mode guest: APs did not start"
