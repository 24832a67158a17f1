/* SPDX-License-Identifier: MIT */
/*
 * CPU virtualization policy configuration: what the guest sees through CPUID
 * and which MSRs are trapped to userspace. Built from defaults (see
 * docs/cpu-policy.md) plus an optional text file:
 *
 *   pmu on|off
 *   cpuid LEAF[.SUBLEAF] eax|ebx|ecx|edx set|clear|value HEX
 *   msr INDEX gp
 *   msr INDEX value HEX [check]
 *
 * The file is untrusted input: every line is validated, counts are bounded,
 * and a bad line is reported as "FILE:LINE: reason".
 */
#ifndef SLUICE_CPU_POLICY_H
#define SLUICE_CPU_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* xAPIC IDs are 8 bits and there is no interrupt remapping. */
#define CPU_POLICY_MAX_CPUS	   255
#define CPU_POLICY_MAX_CPUID_EDITS 128
#define CPU_POLICY_MAX_MSR_RULES   64
#define CPU_POLICY_MAX_LINE	   256
#define CPU_POLICY_MAX_FILE_SIZE   (1024 * 1024)

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

/*
 * The vendor the guest is told it runs on (CPUID leaf 0 of the built table,
 * which a policy file may change): some MSRs exist on every CPU of one vendor
 * and on no CPU of the other.
 */
enum cpu_vendor { CPU_VENDOR_OTHER, CPU_VENDOR_INTEL, CPU_VENDOR_AMD };

enum cpuid_edit_op {
	CPUID_EDIT_SET,	  /* reg |= value */
	CPUID_EDIT_CLEAR, /* reg &= ~value */
	CPUID_EDIT_VALUE, /* reg = value */
};

struct cpuid_edit {
	uint32_t leaf;
	uint32_t subleaf;
	bool has_subleaf; /* "LEAF.SUBLEAF" was written: the leaf is indexed */
	enum cpuid_reg reg;
	enum cpuid_edit_op op;
	uint32_t value;
	unsigned line; /* for messages when the edit cannot be applied */
};

enum msr_action {
	MSR_ACTION_GP,	  /* rdmsr/wrmsr inject #GP */
	MSR_ACTION_VALUE, /* rdmsr returns value; wrmsr ignored (or checked) */
};

struct msr_rule {
	uint32_t index;
	enum msr_action action;
	uint64_t value;
	bool check_writes; /* wrmsr of anything but value injects #GP */
};

struct cpu_policy_config {
	unsigned nr_cpus;
	bool pmu;
	/*
	 * KVM emulates the LAPIC's TSC-deadline mode (KVM_CAP_TSC_DEADLINE_TIMER).
	 * KVM_GET_SUPPORTED_CPUID leaves CPUID.1:ECX[24] to the VMM, which sets it
	 * when the in-kernel LAPIC can serve it, as on hardware with the mode.
	 */
	bool tsc_deadline;
	struct cpuid_edit *cpuid_edits; /* applied in file order */
	size_t nr_cpuid_edits;
	struct msr_rule *msr_rules; /* at most one per MSR index */
	size_t nr_msr_rules;
	size_t cap_cpuid_edits, cap_msr_rules; /* allocated lengths, owned by the parser */
};

/* Defaults: no PMU, no overrides. */
void cpu_policy_config_init(struct cpu_policy_config *cfg, unsigned nr_cpus);

/*
 * Parse policy text (len bytes, need not be NUL-terminated) into cfg. Lines
 * add to what cfg already holds. On error logs "origin:LINE: reason", leaves
 * cfg as it was before the call and returns -EINVAL (-ENOMEM on allocation
 * failure).
 */
int cpu_policy_parse(struct cpu_policy_config *cfg, const char *text, size_t len,
		     const char *origin);

/* Read a policy file (at most CPU_POLICY_MAX_FILE_SIZE) and parse it. */
int cpu_policy_load(struct cpu_policy_config *cfg, const char *path);

void cpu_policy_config_free(struct cpu_policy_config *cfg);

/* The rule for an MSR index, or NULL. */
const struct msr_rule *cpu_policy_find_msr_rule(const struct cpu_policy_config *cfg,
						uint32_t index);

#endif
