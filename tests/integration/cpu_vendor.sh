#!/bin/bash
# SPDX-License-Identifier: MIT
# What an MSR does depends on the vendor the guest is told it runs on
# (docs/cpu-policy.md, "MSR defaults"): with the PMU off, AMD's K7 counters
# 0xc0010000-0xc0010007 read 0 and drop writes on an AMD guest and raise #GP
# on an Intel one, and each vendor's MSRs that KVM answers for both fault on
# the other. The vendor string is forced with a policy file, so both cases
# run on any host; the long-mode guest checks what it reads against the
# vendor it sees (vendor_forced: RDPMC follows the host's vPMU, not checked).
. "$(dirname "$0")/lib.sh"
LM=$1
POLICY=$TEST_TMP/policy.txt

# vendor NAME EBX EDX ECX (the 12-byte string in leaf 0 order)
vendor() {
	cat >"$POLICY" <<POL
cpuid 0 ebx value $2
cpuid 0 edx value $3
cpuid 0 ecx value $4
POL
	run_sluice run --kernel "$LM" --cpu-policy "$POLICY" --cmdline "cpus=1 vendor_forced" \
		--serial stdio
}

vendor GenuineIntel 756e6547 49656e69 6c65746e
expect_stdout "PASS: PMU off, Intel: K7 counter MSRs raise #GP"
expect_stdout "PASS: Intel guest: AMD-only MSRs (HWCR, DE_CFG, ...) raise #GP"
expect_stdout "PASS: PMU off: CPUID-gated counter MSRs"
expect_stdout_not "FAIL"
expect_status "$(debug_status 0)" "all guest checks passed (Intel vendor)"

vendor AuthenticAMD 68747541 69746e65 444d4163
expect_stdout "PASS: PMU off, AMD: K7 counter MSRs read 0 and drop writes"
expect_stdout "PASS: AMD guest: Intel-only MSRs (MISC_ENABLE, ...) raise #GP"
expect_stdout "PASS: PMU off: CPUID-gated counter MSRs"
expect_stdout_not "FAIL"
expect_status "$(debug_status 0)" "all guest checks passed (AMD vendor)"
pass "K7 counters and vendor-specific MSRs follow the advertised vendor"
