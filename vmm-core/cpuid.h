/* SPDX-License-Identifier: MIT */
/*
 * CPUID policy. CPUID always traps to KVM, which answers from the table the
 * VMM sets with KVM_SET_CPUID2; this module builds that table from what KVM
 * supports so the guest sees a consistent virtual CPU (sluice's topology,
 * the hypervisor bit and KVM leaves) and not host details we do not
 * virtualize (MONITOR/MWAIT, thermal and power management, VMX/SMX, debug
 * store, SGX, the PMU unless asked for). See docs/cpu-policy.md.
 *
 * All kvm_cpuid2 tables returned here are malloc'd; release them with free().
 */
#ifndef SLUICE_CPUID_H
#define SLUICE_CPUID_H

#include <linux/kvm.h>
#include <stdint.h>

#include "cpu_policy.h"

/* KVM's own limit (KVM_MAX_CPUID_ENTRIES); KVM_SET_CPUID2 rejects more. */
#define CPUID_MAX_ENTRIES 256

/* KVM_GET_SUPPORTED_CPUID on the /dev/kvm fd, growing the table on E2BIG. */
int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **out);

/*
 * The VM-wide table: supported CPUID normalized for cfg (nr_cpus, pmu) and
 * then cfg's cpuid overrides applied in order. -EINVAL for a bad nr_cpus,
 * malformed input or an override that cannot apply; -E2BIG when the result
 * would exceed CPUID_MAX_ENTRIES.
 */
int cpuid_policy_build(const struct kvm_cpuid2 *supported, const struct cpu_policy_config *cfg,
		       struct kvm_cpuid2 **out);

/*
 * The table for one vCPU: policy with its APIC IDs (leaf 1 EBX[31:24], 0xB and
 * 0x1F EDX, 0x8000001E) set to cpu_index. These fields are per vCPU, so they
 * override whatever the policy file put there.
 */
int cpuid_policy_for_vcpu(const struct kvm_cpuid2 *policy, unsigned cpu_index, unsigned nr_cpus,
			  struct kvm_cpuid2 **out);

/* The entry for leaf/subleaf in t, or NULL. Unindexed leaves match any subleaf. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *t, uint32_t leaf, uint32_t subleaf);

#endif
