/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: cpu_policy_parse over arbitrary bytes, then the consumers
 * of a parsed config (CPUID build with a small synthetic table, MSR filter),
 * so anything the parser accepts is also exercised downstream.
 */
#include <linux/kvm.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_policy.h"
#include "cpuid.h"
#include "msr.h"

static struct kvm_cpuid2 *synthetic_cpuid(void)
{
	struct kvm_cpuid2 *t = calloc(1, sizeof(*t) + 4 * sizeof(t->entries[0]));

	if (!t)
		return NULL;
	t->nent = 4;
	t->entries[0].function = 0;
	t->entries[0].eax = 0xd;
	memcpy(&t->entries[0].ebx, "Genu", 4);
	memcpy(&t->entries[0].edx, "ineI", 4);
	memcpy(&t->entries[0].ecx, "ntel", 4);
	t->entries[1].function = 1;
	t->entries[2].function = 7;
	t->entries[2].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	t->entries[3].function = 4;
	t->entries[3].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	t->entries[3].eax = (3 << 5) | 3;
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cpu_policy_config cfg;
	struct kvm_cpuid2 *sup, *pol = NULL, *v = NULL;
	enum cpu_vendor vendor = CPU_VENDOR_OTHER;
	struct msr_policy p;

	cpu_policy_config_init(&cfg, 1 + (size ? data[0] % 8 : 0));
	if (cpu_policy_parse(&cfg, (const char *)data, size, "fuzz") == 0) {
		sup = synthetic_cpuid();
		if (sup && cpuid_policy_build(sup, &cfg, &pol) == 0) {
			vendor = cpuid_policy_vendor(pol);
			if (cpuid_policy_for_vcpu(pol, cfg.nr_cpus - 1, cfg.nr_cpus, &v) == 0)
				free(v);
			free(pol);
		}
		free(sup);
		/* The vendor the input's cpuid lines made, so AMD's built-in rules get input too.
		 */
		if (msr_policy_init(&p, &cfg, vendor) == 0)
			msr_policy_destroy(&p);
	}
	cpu_policy_config_free(&cfg);
	return 0;
}
