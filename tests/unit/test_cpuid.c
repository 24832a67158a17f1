/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cpuid.h"
#include "util.h"

#define SIG  KVM_CPUID_FLAG_SIGNIFCANT_INDEX
#define B(n) (1U << (n))

static void vendor(struct kvm_cpuid_entry2 *e, const char *id)
{
	memcpy(&e->ebx, id, 4);
	memcpy(&e->edx, id + 4, 4);
	memcpy(&e->ecx, id + 8, 4);
}

static struct kvm_cpuid2 *table_new(const struct kvm_cpuid_entry2 *ents, unsigned n)
{
	struct kvm_cpuid2 *t = calloc(1, sizeof(*t) + n * sizeof(t->entries[0]));

	assert_non_null(t);
	t->nent = n;
	memcpy(t->entries, ents, n * sizeof(ents[0]));
	return t;
}

/* Bits in leaf 1 a host may have that sluice must hide (PDCM only without PMU). */
#define L1_ECX_HOST_ONLY (B(2) | B(3) | B(4) | B(5) | B(6) | B(7) | B(8) | B(14))
#define L1_ECX_KEEP	 (B(0) | B(9) | B(21) | B(26))
#define L1_EDX_HOST_ONLY (B(21) | B(22) | B(29) | B(31))
#define L1_EDX_KEEP	 (B(0) | B(4) | B(19))
#define KVM_PV_FEATURES	 (B(0) | B(3) | B(24))
#define KVM_PV_HIDDEN	 (B(16) | B(17))

static struct kvm_cpuid2 *intel_table(void)
{
	struct kvm_cpuid_entry2 e[] = {
	    {.function = 0, .eax = 0x1f},
	    {.function = 1,
	     .eax = 0x906ea,
	     .ebx = 0x0510ff02, /* host APIC ID 5, 16 logical, bogus CLFLUSH, brand 2 */
	     .ecx = L1_ECX_HOST_ONLY | B(15) | L1_ECX_KEEP,
	     .edx = L1_EDX_HOST_ONLY | L1_EDX_KEEP | B(28)},
	    /* leaf 4: L1d, L1i, L2, L3, terminator; host sharing fields set */
	    {.function = 4,
	     .index = 0,
	     .flags = SIG,
	     .eax = (7U << 26) | (1U << 14) | (1 << 5) | 1,
	     .ebx = 0x1c0003f},
	    {.function = 4,
	     .index = 1,
	     .flags = SIG,
	     .eax = (7U << 26) | (1U << 14) | (1 << 5) | 2},
	    {.function = 4,
	     .index = 2,
	     .flags = SIG,
	     .eax = (7U << 26) | (1U << 14) | (2 << 5) | 3},
	    {.function = 4,
	     .index = 3,
	     .flags = SIG,
	     .eax = (7U << 26) | (15U << 14) | (3 << 5) | 3,
	     .ecx = 0x3fff},
	    {.function = 4, .index = 4, .flags = SIG},
	    {.function = 5, .eax = 0x40, .ebx = 0x40, .ecx = 3, .edx = 0x11142120},
	    {.function = 6, .eax = 0x77, .ecx = 9},
	    {.function = 7,
	     .index = 0,
	     .flags = SIG,
	     .eax = 2,
	     .ebx = B(0) | B(2) | B(9),
	     .ecx = B(2) | B(30),
	     .edx = B(10)},
	    {.function = 7, .index = 1, .flags = SIG, .eax = B(4)},
	    {.function = 0xa, .eax = 0x07300404, .ebx = 0, .edx = 0x603},
	    {.function = 0xb, .index = 0, .flags = SIG, .eax = 1, .ebx = 2, .ecx = 0x100, .edx = 5},
	    {.function = 0xd, .index = 0, .flags = SIG, .eax = 0x2e7, .ebx = 0xa88, .ecx = 0xa88},
	    {.function = 0xd, .index = 1, .flags = SIG, .eax = 0xf},
	    {.function = 0x12, .index = 0, .flags = SIG, .eax = 3},
	    {.function = 0x1f,
	     .index = 0,
	     .flags = SIG,
	     .eax = 1,
	     .ebx = 2,
	     .ecx = 0x100,
	     .edx = 5},
	    {.function = 0x40000000, .eax = 0x40000001},
	    {.function = 0x40000001, .eax = KVM_PV_FEATURES | KVM_PV_HIDDEN, .edx = 1},
	    {.function = 0x80000000, .eax = 0x80000008},
	    {.function = 0x80000001, .ecx = 0x121, .edx = B(11) | B(20) | B(29)},
	    {.function = 0x80000008, .eax = 0x3027},
	};
	vendor(&e[0], "GenuineIntel");
	memcpy(&e[17].ebx, "KVMKVMKVM\0\0\0", 12);
	return table_new(e, ARRAY_SIZE(e));
}

static struct kvm_cpuid2 *amd_table(void)
{
	struct kvm_cpuid_entry2 e[] = {
	    {.function = 0, .eax = 0xd},
	    {.function = 1,
	     .eax = 0x830f10,
	     .ebx = 0x07100800,
	     .ecx = B(0) | B(3) | B(31),
	     .edx = B(0) | B(28)},
	    {.function = 5, .eax = 0x40},
	    {.function = 7, .index = 0, .flags = SIG, .ebx = B(0)},
	    {.function = 0xd, .index = 0, .flags = SIG, .eax = 7},
	    {.function = 0x40000000, .eax = 0x40000001},
	    {.function = 0x40000001, .eax = KVM_PV_FEATURES},
	    {.function = 0x80000000, .eax = 0x80000022},
	    {.function = 0x80000001, .ecx = B(0) | B(1) | B(2) | B(22) | B(23) | B(24) | B(28)},
	    {.function = 0x80000008, .eax = 0x3030, .ecx = 0x3400f},
	    {.function = 0x8000000a, .eax = 1, .ebx = 0x8000, .edx = 0x1ebfbcff},
	    {.function = 0x8000001d, .index = 0, .flags = SIG, .eax = (1U << 14) | (1 << 5) | 1},
	    {.function = 0x8000001d, .index = 1, .flags = SIG, .eax = (1U << 14) | (1 << 5) | 2},
	    {.function = 0x8000001d, .index = 2, .flags = SIG, .eax = (1U << 14) | (2 << 5) | 3},
	    {.function = 0x8000001d, .index = 3, .flags = SIG, .eax = (15U << 14) | (3 << 5) | 3},
	    {.function = 0x8000001d, .index = 4, .flags = SIG},
	    {.function = 0x8000001e, .eax = 5, .ebx = 0x102, .ecx = 0x301},
	    {.function = 0x80000022, .eax = 1, .ebx = 6},
	};
	vendor(&e[0], "AuthenticAMD");
	memcpy(&e[5].ebx, "KVMKVMKVM\0\0\0", 12);
	return table_new(e, ARRAY_SIZE(e));
}

static unsigned count_leaf(const struct kvm_cpuid2 *t, uint32_t leaf)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->nent; i++)
		n += t->entries[i].function == leaf;
	return n;
}

static struct kvm_cpuid_entry2 *get(struct kvm_cpuid2 *t, uint32_t leaf, uint32_t sub)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, leaf, sub);

	if (!e) {
		print_error("leaf 0x%x.%u missing\n", leaf, sub);
		fail();
	}
	return e;
}

static struct kvm_cpuid2 *build(struct kvm_cpuid2 *sup, unsigned nr_cpus, bool pmu)
{
	struct cpu_policy_config cfg;
	struct kvm_cpuid2 *out = NULL;

	cpu_policy_config_init(&cfg, nr_cpus);
	cfg.pmu = pmu;
	assert_int_equal(cpuid_policy_build(sup, &cfg, &out), 0);
	assert_non_null(out);
	cpu_policy_config_free(&cfg);
	return out;
}

static void test_intel_leaf1(void **state)
{
	struct kvm_cpuid2 *sup = intel_table(), *pol = build(sup, 4, false);
	struct kvm_cpuid_entry2 *e = get(pol, 1, 0);

	(void)state;
	assert_true(e->ecx & B(31));
	assert_int_equal(e->ecx & (L1_ECX_HOST_ONLY | B(15)), 0);
	assert_int_equal(e->ecx & L1_ECX_KEEP, L1_ECX_KEEP);
	assert_int_equal(e->edx & L1_EDX_HOST_ONLY, 0);
	assert_int_equal(e->edx & L1_EDX_KEEP, L1_EDX_KEEP);
	assert_true(e->edx & B(28));		    /* HTT: EBX[23:16] is valid */
	assert_int_equal((e->ebx >> 8) & 0xff, 8);  /* 64-byte CLFLUSH */
	assert_int_equal((e->ebx >> 16) & 0xff, 4); /* logical CPUs */
	assert_int_equal(e->ebx & 0xff, 2);	    /* brand index kept */
	assert_int_equal(e->eax, 0x906ea);
	for (unsigned i = 0; i < 4; i++) {
		struct kvm_cpuid2 *v = NULL;

		assert_int_equal(cpuid_policy_for_vcpu(pol, i, 4, &v), 0);
		e = get(v, 1, 0);
		assert_int_equal(e->ebx >> 24, i);
		assert_int_equal((e->ebx >> 16) & 0xff, 4);
		assert_int_equal(v->nent, pol->nent);
		free(v);
	}
	free(pol);

	/* One vCPU: no HTT; with a PMU, PDCM stays. */
	pol = build(sup, 1, true);
	e = get(pol, 1, 0);
	assert_false(e->edx & B(28));
	assert_int_equal((e->ebx >> 16) & 0xff, 1);
	assert_true(e->ecx & B(15));
	assert_int_equal(e->ecx & L1_ECX_HOST_ONLY, 0);
	free(pol);
	free(sup);
}

/* TSC-deadline mode: offered exactly when KVM's LAPIC serves it; a policy line still wins. */
static void test_tsc_deadline(void **state)
{
	struct kvm_cpuid2 *sup = intel_table(), *pol = NULL;
	struct cpu_policy_config cfg;
	static const char clear[] = "cpuid 1 ecx clear 1000000\n";

	(void)state;
	get(sup, 1, 0)->ecx &= ~B(24);
	pol = build(sup, 1, false);
	assert_false(get(pol, 1, 0)->ecx & B(24));
	free(pol);

	cpu_policy_config_init(&cfg, 1);
	cfg.tsc_deadline = true;
	assert_int_equal(cpuid_policy_build(sup, &cfg, &pol), 0);
	assert_true(get(pol, 1, 0)->ecx & B(24));
	free(pol);
	assert_int_equal(cpu_policy_parse(&cfg, clear, strlen(clear), "t"), 0);
	assert_int_equal(cpuid_policy_build(sup, &cfg, &pol), 0);
	assert_false(get(pol, 1, 0)->ecx & B(24));
	free(pol);
	cpu_policy_config_free(&cfg);
	free(sup);
}

static void test_intel_power_monitor_sgx(void **state)
{
	struct kvm_cpuid2 *sup = intel_table(), *pol = build(sup, 2, false);
	struct kvm_cpuid_entry2 *e;

	(void)state;
	e = get(pol, 5, 0);
	assert_int_equal(e->eax | e->ebx | e->ecx | e->edx, 0);
	e = get(pol, 6, 0);
	assert_int_equal(e->eax, B(2)); /* only ARAT */
	assert_int_equal(e->ebx | e->ecx | e->edx, 0);
	e = get(pol, 7, 0);
	assert_int_equal(e->ebx, B(0) | B(9));
	assert_int_equal(e->ecx, B(2));
	assert_int_equal(e->edx, B(10));
	assert_int_equal(e->eax, 2);
	e = get(pol, 7, 1);
	assert_int_equal(e->eax, B(4));
	e = get(pol, 0x12, 0);
	assert_int_equal(e->eax, 0);
	/* Untouched leaves pass through. */
	e = get(pol, 0xd, 1);
	assert_int_equal(e->eax, 0xf);
	e = get(pol, 0xd, 0);
	assert_int_equal(e->ebx, 0xa88);
	/* Intel: 0x80000008 ECX is reserved and stays zero. */
	e = get(pol, 0x80000008, 0);
	assert_int_equal(e->ecx, 0);
	assert_int_equal(e->eax, 0x3027);
	free(pol);
	free(sup);
}

static void test_pmu_leaves(void **state)
{
	struct kvm_cpuid2 *sup = intel_table(), *pol;
	struct kvm_cpuid_entry2 *e;

	(void)state;
	pol = build(sup, 2, false);
	e = get(pol, 0xa, 0);
	assert_int_equal(e->eax | e->ebx | e->ecx | e->edx, 0);
	assert_false(get(pol, 1, 0)->ecx & B(15));
	free(pol);
	pol = build(sup, 2, true);
	e = get(pol, 0xa, 0);
	assert_int_equal(e->eax, 0x07300404);
	assert_int_equal(e->edx, 0x603);
	assert_true(get(pol, 1, 0)->ecx & B(15));
	free(pol);
	free(sup);
}

static void test_intel_cache_topology(void **state)
{
	struct kvm_cpuid2 *sup = intel_table(), *pol;

	(void)state;
	/* 3 vCPUs need 2 APIC ID bits: 4 addressable IDs. */
	pol = build(sup, 3, false);
	for (unsigned i = 0; i < 3; i++) {
		uint32_t eax = get(pol, 4, i)->eax;

		assert_int_equal((eax >> 14) & 0xfff, 0); /* L1/L2 private */
		assert_int_equal(eax >> 26, 3);
		assert_int_equal(eax & 0x3fff, sup->entries[2 + i].eax & 0x3fff);
	}
	assert_int_equal((get(pol, 4, 3)->eax >> 14) & 0xfff, 3); /* L3 shared */
	assert_int_equal(get(pol, 4, 3)->eax >> 26, 3);
	assert_int_equal(get(pol, 4, 3)->ecx, 0x3fff);
	assert_int_equal(get(pol, 4, 4)->eax, 0); /* terminator untouched */
	assert_int_equal(get(pol, 4, 0)->ebx, 0x1c0003f);
	free(pol);

	pol = build(sup, 1, false);
	assert_int_equal(get(pol, 4, 3)->eax >> 14, 0);
	free(pol);
	free(sup);
}

static void check_ext_topology(struct kvm_cpuid2 *pol, uint32_t leaf, unsigned nr_cpus,
			       unsigned bits)
{
	struct kvm_cpuid_entry2 *e;

	assert_int_equal(count_leaf(pol, leaf), 3);
	e = get(pol, leaf, 0);
	assert_true(e->flags & SIG);
	assert_int_equal(e->eax, 0);
	assert_int_equal(e->ebx, 1);
	assert_int_equal(e->ecx, 0x100);
	e = get(pol, leaf, 1);
	assert_true(e->flags & SIG);
	assert_int_equal(e->eax, bits);
	assert_int_equal(e->ebx, nr_cpus);
	assert_int_equal(e->ecx, 0x201);
	e = get(pol, leaf, 2);
	assert_int_equal(e->eax | e->ebx, 0);
	assert_int_equal(e->ecx, 2);
	for (unsigned i = 0; i < nr_cpus; i++) {
		struct kvm_cpuid2 *v = NULL;

		assert_int_equal(cpuid_policy_for_vcpu(pol, i, nr_cpus, &v), 0);
		for (unsigned s = 0; s < 3; s++)
			assert_int_equal(get(v, leaf, s)->edx, i);
		free(v);
	}
}

static void test_intel_ext_topology(void **state)
{
	struct kvm_cpuid2 *sup = intel_table(), *pol = build(sup, 4, false);

	(void)state;
	check_ext_topology(pol, 0xb, 4, 2);
	check_ext_topology(pol, 0x1f, 4, 2);
	free(pol);
	pol = build(sup, 5, false);
	check_ext_topology(pol, 0xb, 5, 3);
	free(pol);
	free(sup);
}

static void test_hypervisor_leaves(void **state)
{
	struct kvm_cpuid2 *sup = intel_table(), *pol;
	struct kvm_cpuid_entry2 *e;

	(void)state;
	/* Also when KVM's table lacks them: sluice adds its own. */
	for (int pass = 0; pass < 2; pass++) {
		pol = build(sup, 2, false);
		assert_int_equal(count_leaf(pol, 0x40000000), 1);
		assert_int_equal(count_leaf(pol, 0x40000001), 1);
		e = get(pol, 0x40000000, 0);
		assert_int_equal(e->eax, 0x40000001);
		assert_memory_equal(&e->ebx, "KVMK", 4);
		assert_memory_equal(&e->ecx, "VMKV", 4);
		assert_memory_equal(&e->edx, "M\0\0\0", 4);
		e = get(pol, 0x40000001, 0);
		if (pass == 0)
			assert_int_equal(e->eax, KVM_PV_FEATURES);
		else
			assert_int_equal(e->eax, 0);
		assert_int_equal(e->edx, 0);
		free(pol);
		/* Drop both from the supported table (they are entries 17 and 18). */
		memmove(&sup->entries[17], &sup->entries[19],
			(sup->nent - 19) * sizeof(sup->entries[0]));
		sup->nent -= 2;
		assert_int_equal(count_leaf(sup, 0x40000000), 0);
	}
	free(sup);
}

static void test_amd(void **state)
{
	struct kvm_cpuid2 *sup = amd_table(), *pol = build(sup, 3, false);
	struct kvm_cpuid_entry2 *e;

	(void)state;
	e = get(pol, 1, 0);
	assert_true(e->ecx & B(31));
	assert_false(e->ecx & B(3));
	e = get(pol, 0x80000001, 0);
	assert_int_equal(e->ecx, B(0) | B(1) | B(22)); /* no SVM, no PMU ext; CmpLegacy */
	e = get(pol, 0x80000008, 0);
	assert_int_equal(e->ecx & 0xff, 2);	     /* NC = cores - 1 */
	assert_int_equal((e->ecx >> 12) & 0xf, 2);   /* ApicIdSize */
	assert_int_equal(e->ecx & 0x30000, 0x30000); /* other fields kept */
	e = get(pol, 0x8000000a, 0);
	assert_int_equal(e->eax | e->ebx | e->edx, 0);
	e = get(pol, 0x80000022, 0);
	assert_int_equal(e->eax | e->ebx, 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal((get(pol, 0x8000001d, i)->eax >> 14) & 0xfff, 0);
	assert_int_equal((get(pol, 0x8000001d, 3)->eax >> 14) & 0xfff, 2);
	assert_int_equal(get(pol, 0x8000001d, 3)->eax & 0x3fff, (3 << 5) | 3);
	/* Max basic leaf 0xd >= 0xb: a consistent 0xB is provided. */
	check_ext_topology(pol, 0xb, 3, 2);
	assert_int_equal(count_leaf(pol, 0x1f), 0);
	for (unsigned i = 0; i < 3; i++) {
		struct kvm_cpuid2 *v = NULL;

		assert_int_equal(cpuid_policy_for_vcpu(pol, i, 3, &v), 0);
		e = get(v, 0x8000001e, 0);
		assert_int_equal(e->eax, i);
		assert_int_equal(e->ebx, i); /* core i, one thread per core */
		assert_int_equal(e->ecx, 0); /* node 0 of 1 */
		assert_int_equal(get(v, 1, 0)->ebx >> 24, i);
		free(v);
	}
	free(pol);

	pol = build(sup, 1, true);
	e = get(pol, 0x80000001, 0);
	assert_int_equal(e->ecx, B(0) | B(22) | B(23) | B(24) | B(28));
	assert_int_equal(get(pol, 0x80000022, 0)->ebx, 6);
	assert_int_equal(get(pol, 0x80000008, 0)->ecx & 0xf0ff, 0);
	free(pol);
	free(sup);
}

static int build_with(struct kvm_cpuid2 *sup, const char *text, struct kvm_cpuid2 **out)
{
	struct cpu_policy_config cfg;
	int ret;

	cpu_policy_config_init(&cfg, 4);
	assert_int_equal(cpu_policy_parse(&cfg, text, strlen(text), "t"), 0);
	*out = NULL;
	ret = cpuid_policy_build(sup, &cfg, out);
	cpu_policy_config_free(&cfg);
	return ret;
}

static void test_overrides(void **state)
{
	struct kvm_cpuid2 *sup = intel_table(), *pol, *v;
	unsigned base;
	static const char text[] = "cpuid 1 ecx clear 0x80000000\n"
				   "cpuid 1 ecx set 0x8\n"
				   "cpuid 7 ebx set 0x4\n" /* indexed leaf, no subleaf: 7.0 */
				   "cpuid 0xd.1 eax value 0\n"
				   "cpuid 0x40000010 eax value 0x1234\n" /* a new leaf */
				   "cpuid 7.5 edx value 0x77\n"		 /* a new subleaf */
				   "cpuid 0x40000001 eax clear 0x1\n"
				   "cpuid 1 ebx value 0xffffffff\n"
				   "cpuid 0xa eax value 0x11\n";

	(void)state;
	pol = build(sup, 4, false);
	base = pol->nent;
	free(pol);
	assert_int_equal(build_with(sup, text, &pol), 0);
	assert_false(get(pol, 1, 0)->ecx & B(31));
	assert_true(get(pol, 1, 0)->ecx & B(3));
	assert_int_equal(get(pol, 7, 0)->ebx, B(0) | B(2) | B(9));
	assert_int_equal(get(pol, 7, 1)->eax, B(4));
	assert_int_equal(get(pol, 0xd, 1)->eax, 0);
	assert_int_equal(get(pol, 0x40000010, 0)->eax, 0x1234);
	assert_false(get(pol, 0x40000010, 0)->flags & SIG);
	assert_int_equal(get(pol, 7, 5)->edx, 0x77);
	assert_true(get(pol, 7, 5)->flags & SIG);
	assert_int_equal(count_leaf(pol, 7), 3);
	assert_int_equal(get(pol, 0x40000001, 0)->eax, KVM_PV_FEATURES & ~1U);
	assert_int_equal(get(pol, 0xa, 0)->eax, 0x11); /* overrides beat the PMU default */
	assert_int_equal(pol->nent, base + 2);
	/* APIC ID is per vCPU and wins over the override; the rest stays. */
	assert_int_equal(cpuid_policy_for_vcpu(pol, 3, 4, &v), 0);
	assert_int_equal(get(v, 1, 0)->ebx, 0x03ffffff);
	free(v);
	free(pol);

	/* A subleaf of a leaf that has none. */
	assert_int_equal(build_with(sup, "cpuid 5.1 eax value 1\n", &pol), -EINVAL);
	assert_null(pol);
	/* Subleaf 0 of an unindexed leaf is the leaf. */
	assert_int_equal(build_with(sup, "cpuid 6.0 ecx value 5\n", &pol), 0);
	assert_int_equal(get(pol, 6, 0)->ecx, 5);
	assert_int_equal(count_leaf(pol, 6), 1);
	free(pol);
	free(sup);
}

static void test_errors(void **state)
{
	struct kvm_cpuid2 *sup = intel_table(), *big, *pol = NULL, *v = NULL;
	struct cpu_policy_config cfg;
	unsigned n;

	(void)state;
	cpu_policy_config_init(&cfg, 0);
	assert_int_equal(cpuid_policy_build(sup, &cfg, &pol), -EINVAL);
	cfg.nr_cpus = CPU_POLICY_MAX_CPUS + 1;
	assert_int_equal(cpuid_policy_build(sup, &cfg, &pol), -EINVAL);
	cfg.nr_cpus = CPU_POLICY_MAX_CPUS;
	assert_int_equal(cpuid_policy_build(sup, &cfg, &pol), 0);
	assert_int_equal((get(pol, 1, 0)->ebx >> 16) & 0xff, 255);
	assert_int_equal(cpuid_policy_for_vcpu(pol, 254, 255, &v), 0);
	assert_int_equal(get(v, 1, 0)->ebx >> 24, 254);
	free(v);
	assert_int_equal(cpuid_policy_for_vcpu(pol, 4, 4, &v), -EINVAL);
	assert_int_equal(cpuid_policy_for_vcpu(pol, 0, 0, &v), -EINVAL);
	assert_int_equal(cpuid_policy_for_vcpu(pol, 0, 256, &v), -EINVAL);
	free(pol);
	pol = NULL;

	/* Missing leaf 1. */
	big = table_new(sup->entries, 1);
	assert_int_equal(cpuid_policy_build(big, &cfg, &pol), -EINVAL);
	free(big);

	/* nent overflow: more than KVM accepts, on input or after building. */
	big = calloc(1, sizeof(*big) + (CPUID_MAX_ENTRIES + 1) * sizeof(big->entries[0]));
	assert_non_null(big);
	memcpy(big->entries, sup->entries, 2 * sizeof(big->entries[0]));
	for (n = 2; n < CPUID_MAX_ENTRIES + 1; n++) {
		big->entries[n].function = 0x80000100 + n;
	}
	big->nent = CPUID_MAX_ENTRIES + 1;
	assert_int_equal(cpuid_policy_build(big, &cfg, &pol), -E2BIG);
	big->nent = CPUID_MAX_ENTRIES; /* fits, but 0xB and the KVM leaves do not */
	assert_int_equal(cpuid_policy_build(big, &cfg, &pol), -E2BIG);
	big->nent = CPUID_MAX_ENTRIES - 5; /* 0xB (3) + KVM leaves (2) exactly fit */
	assert_int_equal(cpuid_policy_build(big, &cfg, &pol), 0);
	assert_int_equal(pol->nent, CPUID_MAX_ENTRIES);
	free(pol);
	pol = NULL;
	/* ... and one override adding a leaf does not. */
	assert_int_equal(cpu_policy_parse(&cfg, "cpuid 0x40000002 eax value 1", 28, "t"), 0);
	assert_int_equal(cpuid_policy_build(big, &cfg, &pol), -E2BIG);
	assert_null(pol);
	{
		struct kvm_cpuid2 over = {.nent = CPUID_MAX_ENTRIES + 1};

		assert_int_equal(cpuid_policy_for_vcpu(&over, 0, 1, &v), -E2BIG);
	}
	free(big);
	cpu_policy_config_free(&cfg);
	free(sup);
}

/*
 * The xstate contract on the virtual host's CPU (QEMU EPYC under TCG, as
 * KVM_GET_SUPPORTED_CPUID reports it there): leaf 0xD passes through with
 * its sizes, offsets and flags, and XSAVE, AVX, AVX2 stay visible.
 */
static void test_xsave_leaves(void **state)
{
	struct kvm_cpuid_entry2 e[] = {
	    {.function = 0, .eax = 0xd},
	    {.function = 1,
	     .eax = 0x800f12,
	     .ebx = 0x01020800,
	     .ecx = 0x76f83203,
	     .edx = 0x078bfbfd},
	    {.function = 7, .index = 0, .flags = SIG, .ebx = 0x009801ab, .edx = B(29)},
	    {.function = 0xd, .index = 0, .flags = SIG, .eax = 7, .ebx = 0x340, .ecx = 0x340},
	    {.function = 0xd, .index = 1, .flags = SIG, .eax = 5},
	    {.function = 0xd, .index = 2, .flags = SIG, .eax = 0x100, .ebx = 0x240},
	};
	struct kvm_cpuid2 *sup, *pol, *v = NULL;

	(void)state;
	vendor(&e[0], "AuthenticAMD");
	sup = table_new(e, ARRAY_SIZE(e));
	pol = build(sup, 2, false);
	for (unsigned sub = 0; sub < 3; sub++)
		assert_memory_equal(get(pol, 0xd, sub), &e[3 + sub], sizeof(e[0]));
	assert_int_equal(get(pol, 1, 0)->ecx & (B(26) | B(28)), B(26) | B(28)); /* XSAVE, AVX */
	assert_int_equal(get(pol, 7, 0)->ebx & B(5), B(5));			/* AVX2 */
	assert_int_equal(cpuid_policy_for_vcpu(pol, 1, 2, &v), 0);
	assert_int_equal(cpuid_guest_xcr0(v), 7);
	free(v);
	free(pol);
	free(sup);
}

/* XCR0 at vCPU creation: what the table advertises and shows features for. */
static void test_guest_xcr0(void **state)
{
	const uint64_t all = 0x602ff; /* x87 SSE YMM MPX AVX-512 PKRU AMX */
	struct kvm_cpuid_entry2 e[] = {
	    {.function = 0, .eax = 0xd},
	    {.function = 1, .ecx = B(26) | B(28)}, /* XSAVE, AVX */
	    {.function = 7,
	     .index = 0,
	     .flags = SIG,
	     .ebx = B(14) | B(16), /* MPX, AVX512F */
	     .ecx = B(3),	   /* PKU */
	     .edx = B(24)},	   /* AMX-TILE */
	    {.function = 0xd, .index = 0, .flags = SIG, .eax = (uint32_t)all | B(19)},
	};
	struct kvm_cpuid2 *t = table_new(e, ARRAY_SIZE(e));
	struct kvm_cpuid_entry2 *l1 = get(t, 1, 0), *l7 = get(t, 7, 0), *ld = get(t, 0xd, 0);

	(void)state;
	/* A component sluice knows no feature for (bit 19) is kept as advertised. */
	assert_int_equal(cpuid_guest_xcr0(t), all | B(19));
	ld->eax = (uint32_t)all;

	/* Hidden features take their components along (AVX-512 needs YMM too). */
	l1->ecx &= ~B(28);
	assert_int_equal(cpuid_guest_xcr0(t), all & ~0xe4ULL);
	l1->ecx |= B(28);
	l7->ebx &= ~B(14);
	l7->ecx = 0;
	l7->edx = 0;
	assert_int_equal(cpuid_guest_xcr0(t), 0xe7);
	l7->ebx = 0;
	assert_int_equal(cpuid_guest_xcr0(t), 7);

	/* Groups XSETBV only takes whole: part of AVX-512, one AMX or MPX component. */
	l7->ebx = B(14) | B(16);
	l7->edx = B(24);
	ld->eax = 0x20 | 0x8 | 0x20000 | 7;
	assert_int_equal(cpuid_guest_xcr0(t), 7);

	/* No XSAVE, no x87+SSE in leaf 0xD, no leaf 0xD: the reset value. */
	ld->eax = (uint32_t)all;
	l1->ecx &= ~B(26);
	assert_int_equal(cpuid_guest_xcr0(t), 1);
	l1->ecx |= B(26);
	ld->eax = 0x5;
	assert_int_equal(cpuid_guest_xcr0(t), 1);
	ld->function = 0x13;
	assert_int_equal(cpuid_guest_xcr0(t), 1);
	free(t);
}

/* The policy for this host's KVM must be accepted by KVM_SET_CPUID2. */
static void test_real_kvm(void **state)
{
	struct kvm_cpuid2 *sup = NULL, *pol = NULL, *v = NULL;
	struct cpu_policy_config cfg;
	struct kvm_xcrs xcrs;
	int kvm, vm, vcpu;

	(void)state;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		skip();
	assert_int_equal(cpuid_get_supported(kvm, &sup), 0);
	assert_true(sup->nent > 2);
	cpu_policy_config_init(&cfg, 2);
	assert_int_equal(cpuid_policy_build(sup, &cfg, &pol), 0);
	assert_int_equal(cpuid_policy_for_vcpu(pol, 1, 2, &v), 0);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	assert_true(vm >= 0);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 1);
	assert_true(vcpu >= 0);
	assert_int_equal(ioctl(vcpu, KVM_SET_CPUID2, v), 0);
	/* KVM accepts the XCR0 vcpu_create() starts vCPUs with, and keeps it. */
	memset(&xcrs, 0, sizeof(xcrs));
	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].value = cpuid_guest_xcr0(v);
	assert_int_equal(ioctl(vcpu, KVM_SET_XCRS, &xcrs), 0);
	memset(&xcrs, 0, sizeof(xcrs));
	assert_int_equal(ioctl(vcpu, KVM_GET_XCRS, &xcrs), 0);
	assert_int_equal(xcrs.xcrs[0].value, cpuid_guest_xcr0(v));
	close(vcpu);
	close(vm);
	close(kvm);
	cpu_policy_config_free(&cfg);
	free(v);
	free(pol);
	free(sup);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_intel_leaf1),
	    cmocka_unit_test(test_tsc_deadline),
	    cmocka_unit_test(test_intel_power_monitor_sgx),
	    cmocka_unit_test(test_pmu_leaves),
	    cmocka_unit_test(test_intel_cache_topology),
	    cmocka_unit_test(test_intel_ext_topology),
	    cmocka_unit_test(test_hypervisor_leaves),
	    cmocka_unit_test(test_amd),
	    cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_xsave_leaves),
	    cmocka_unit_test(test_guest_xcr0),
	    cmocka_unit_test(test_real_kvm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
