/* SPDX-License-Identifier: MIT */
/*
 * MSR policy. rdmsr/wrmsr are privileged and trap to KVM, which emulates the
 * MSRs it knows. A KVM MSR filter (default allow) additionally denies MSRs of
 * features the CPUID policy hides (the PMU unless enabled) and every MSR the
 * policy file names; those accesses and the ones KVM cannot handle (unknown
 * or invalid) exit to userspace, where msr_policy_handle_exit() applies the
 * file's rule, else a built-in one, else injects #GP. The built-in rules make
 * hidden MSRs answer as on real hardware of the advertised vendor: with the
 * PMU off, AMD's K7 counters (0xc0010000-0xc0010007, present on every AMD CPU
 * without a CPUID bit) read 0 and drop writes on an AMD guest; everything
 * else filtered faults. For the same reason the other vendor's MSRs that KVM
 * would answer anyway are filtered: Intel-only ones on an AMD guest, AMD's
 * 0xc0010000-0xc0011fff on an Intel guest. Each denied MSR is logged once; every access counts.
 */
#ifndef SLUICE_MSR_H
#define SLUICE_MSR_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu_policy.h"

/* A bitmap may cover at most KVM_MSR_FILTER_MAX_BITMAP_SIZE * 8 MSRs. */
#define MSR_FILTER_MAX_SPAN (KVM_MSR_FILTER_MAX_BITMAP_SIZE * 8)
/* Distinct MSRs counted individually; guest-controlled, so bounded. */
#define MSR_POLICY_MAX_TRACKED 256

struct msr_counts {
	uint64_t reads;
	uint64_t writes;
	uint64_t denied; /* accesses answered with #GP */
};

struct msr_stat {
	uint32_t index;
	struct msr_counts counts;
};

struct msr_policy {
	struct msr_rule *rules; /* the config's rules, then built-in ones */
	size_t nr_rules;
	/* ranges[i].bitmap points into bitmaps[i]; unused ranges have nmsrs == 0 */
	struct kvm_msr_filter filter;
	uint8_t *bitmaps[KVM_MSR_FILTER_MAX_RANGES];
	unsigned nr_ranges;

	pthread_mutex_t lock; /* protects everything below */
	struct msr_stat stats[MSR_POLICY_MAX_TRACKED];
	unsigned nr_stats;
	struct msr_counts untracked; /* MSRs beyond MSR_POLICY_MAX_TRACKED */
	uint64_t denied_total;
};

/*
 * Build the filter and the rules for a guest that is told it runs on a vendor
 * CPU (cpuid_policy_vendor() of its CPUID table). -E2BIG when the denied MSRs
 * are too scattered to fit KVM_MSR_FILTER_MAX_RANGES bitmaps.
 */
int msr_policy_init(struct msr_policy *p, const struct cpu_policy_config *cfg,
		    enum cpu_vendor vendor);

/* Enable userspace MSR exits (unknown, invalid, filtered) and set the filter on the VM. */
int msr_policy_install(struct msr_policy *p, int vm_fd);

/* Complete a KVM_EXIT_X86_RDMSR/WRMSR exit: sets run->msr.error and, for reads, data. */
void msr_policy_handle_exit(struct msr_policy *p, struct kvm_run *run, unsigned vcpu_index);

/* Log one line per MSR that was denied, with counts; nothing if none was. */
void msr_policy_report(const struct msr_policy *p);

/* Counts for one MSR; -ENOENT if the guest never trapped on it. */
int msr_policy_counts(const struct msr_policy *p, uint32_t index, struct msr_counts *out);

/* Total #GPs injected. */
uint64_t msr_policy_denied_total(const struct msr_policy *p);

/* Whether the filter makes an access to index exit to userspace. */
bool msr_policy_filtered(const struct msr_policy *p, uint32_t index);

void msr_policy_destroy(struct msr_policy *p);

#endif
