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

/*
 * VM-wide KVM settings the policy implies, on vm_fd before any vCPU runs:
 * when MONITOR is hidden (leaf 1 ECX[3] clear), disable KVM's
 * MWAIT_NEVER_UD_FAULTS quirk so MONITOR/MWAIT raise #UD as on hardware
 * without them, instead of running as NOPs. A KVM without that quirk control
 * gets one warning and the VM still starts (0); other ioctl failures are
 * returned as -errno.
 */
int cpuid_policy_install(const struct kvm_cpuid2 *policy, int vm_fd);

/* The vendor a table's leaf 0 advertises (HygonGenuine counts as AMD). */
enum cpu_vendor cpuid_policy_vendor(const struct kvm_cpuid2 *t);

/* XCR0 state components (bit masks). */
#define CPUID_XCR0_X87	   0x1ULL
#define CPUID_XCR0_SSE	   0x2ULL
#define CPUID_XCR0_YMM	   0x4ULL
#define CPUID_XCR0_BNDREGS 0x8ULL
#define CPUID_XCR0_BNDCSR  0x10ULL
#define CPUID_XCR0_AVX512  0xe0ULL /* opmask, ZMM_Hi256, Hi16_ZMM */
#define CPUID_XCR0_PKRU	   0x200ULL
#define CPUID_XCR0_TILE	   0x60000ULL /* AMX XTILECFG, XTILEDATA */

/*
 * The XCR0 a guest OS sets when it enables every state component t
 * advertises (leaf 0xD.0 EAX/EDX) whose feature t also shows (AVX for YMM,
 * AVX512F, MPX, PKU, AMX-TILE in leaves 1/7), kept to combinations XSETBV
 * accepts. CPUID_XCR0_X87 (the reset value) when t has no XSAVE or leaf
 * 0xD.0 lacks x87 or SSE. sluice starts vCPUs with this XCR0: see
 * vcpu_create() and docs/cpu-policy.md.
 */
uint64_t cpuid_guest_xcr0(const struct kvm_cpuid2 *t);

/*
 * Does this host itself run under QEMU's TCG (hypervisor signature
 * "TCGTCGTCGTCG")? TCG before QEMU 8.2 does not honour the SVM XSETBV
 * intercept, so KVM on such a host never sees a guest's XSETBV; sluice then
 * starts vCPUs with cpuid_guest_xcr0() (vcpu.c). Read from the host's CPUID.
 */
bool cpuid_host_is_tcg(void);

/* The entry for leaf/subleaf in t, or NULL. Unindexed leaves match any subleaf. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *t, uint32_t leaf, uint32_t subleaf);

#endif
