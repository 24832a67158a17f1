/* SPDX-License-Identifier: MIT */
#include "cpuid.h"
#include "log.h"
#include "util.h"

#include <asm/kvm_para.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define BIT(n) (1U << (n))

/* CPUID.1:ECX */
#define F1_ECX_DTES64	    BIT(2)
#define F1_ECX_MONITOR	    BIT(3)
#define F1_ECX_DS_CPL	    BIT(4)
#define F1_ECX_VMX	    BIT(5)
#define F1_ECX_SMX	    BIT(6)
#define F1_ECX_EST	    BIT(7)
#define F1_ECX_TM2	    BIT(8)
#define F1_ECX_XTPR	    BIT(14)
#define F1_ECX_PDCM	    BIT(15)
#define F1_ECX_TSC_DEADLINE BIT(24)
#define F1_ECX_HYPERVISOR   BIT(31)
/* CPUID.1:EDX */
#define F1_EDX_DS   BIT(21)
#define F1_EDX_ACPI BIT(22)
#define F1_EDX_HTT  BIT(28)
#define F1_EDX_TM   BIT(29)
#define F1_EDX_PBE  BIT(31)
/* CPUID.6:EAX: the APIC timer keeps running in deep C-states; KVM's always does. */
#define F6_EAX_ARAT BIT(2)
/* CPUID.(7,0) */
#define F7_EBX_SGX    BIT(2)
#define F7_ECX_SGX_LC BIT(30)
/* CPUID.80000001H:ECX (AMD) */
#define E1_ECX_CMP_LEGACY   BIT(1)
#define E1_ECX_SVM	    BIT(2)
#define E1_ECX_PERFCTR_CORE BIT(23)
#define E1_ECX_PERFCTR_NB   BIT(24)
#define E1_ECX_PERFCTR_LLC  BIT(28)

/* Deterministic cache parameters (leaf 4 and AMD 0x8000001D). */
#define CACHE_TYPE(eax)	    ((eax)&0x1f)
#define CACHE_LEVEL(eax)    (((eax) >> 5) & 0x7)
#define CACHE_SHARING_SHIFT 14
#define CACHE_SHARING_MASK  (0xfffU << CACHE_SHARING_SHIFT)
#define CACHE_CORES_SHIFT   26
#define CACHE_CORES_MASK    (0x3fU << CACHE_CORES_SHIFT)

/* Extended topology (0xB, 0x1F) level types. */
#define TOPO_LEVEL_SMT	1
#define TOPO_LEVEL_CORE 2

/* Paravirt features that need VMM cooperation sluice does not provide (SEV migration). */
#define KVM_FEATURES_HIDDEN (BIT(KVM_FEATURE_HC_MAP_GPA_RANGE) | BIT(KVM_FEATURE_MIGRATION_CONTROL))

static size_t cpuid_table_size(unsigned nent)
{
	return sizeof(struct kvm_cpuid2) + (size_t)nent * sizeof(struct kvm_cpuid_entry2);
}

static struct kvm_cpuid2 *cpuid_table_alloc(unsigned cap)
{
	struct kvm_cpuid2 *t = calloc(1, cpuid_table_size(cap));

	if (!t)
		log_err("cpuid: out of memory for %u entries", cap);
	return t;
}

int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **out)
{
	/* KVM's limit has been 80 and is 256 now; grow in case it rises further. */
	for (unsigned nent = 64; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *t = cpuid_table_alloc(nent);
		int err;

		if (!t)
			return -ENOMEM;
		t->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, t) == 0) {
			*out = t;
			return 0;
		}
		err = errno;
		free(t);
		if (err != E2BIG) {
			log_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(err));
			return -err;
		}
	}
	log_err("KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
	return -E2BIG;
}

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *t, uint32_t leaf, uint32_t subleaf)
{
	for (uint32_t i = 0; i < t->nent; i++) {
		struct kvm_cpuid_entry2 *e = &t->entries[i];

		if (e->function != leaf)
			continue;
		if (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == subleaf)
			return e;
	}
	return NULL;
}

static struct kvm_cpuid_entry2 *cpuid_add(struct kvm_cpuid2 *t, uint32_t leaf, uint32_t subleaf,
					  uint32_t flags)
{
	struct kvm_cpuid_entry2 *e;

	if (t->nent >= CPUID_MAX_ENTRIES) {
		log_err("cpuid: cannot add leaf 0x%x.%u: table full (%d entries)", leaf, subleaf,
			CPUID_MAX_ENTRIES);
		return NULL;
	}
	e = &t->entries[t->nent++];
	memset(e, 0, sizeof(*e));
	e->function = leaf;
	e->index = subleaf;
	e->flags = flags;
	return e;
}

static void cpuid_remove_leaf(struct kvm_cpuid2 *t, uint32_t leaf)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < t->nent; i++)
		if (t->entries[i].function != leaf)
			t->entries[j++] = t->entries[i];
	t->nent = j;
}

static void cpuid_zero_leaf(struct kvm_cpuid2 *t, uint32_t leaf)
{
	for (uint32_t i = 0; i < t->nent; i++) {
		struct kvm_cpuid_entry2 *e = &t->entries[i];

		if (e->function == leaf)
			e->eax = e->ebx = e->ecx = e->edx = 0;
	}
}

enum cpu_vendor cpuid_policy_vendor(const struct kvm_cpuid2 *t)
{
	/* cpuid_find() does not modify the table. */
	struct kvm_cpuid_entry2 *e = cpuid_find((struct kvm_cpuid2 *)t, 0, 0);
	char id[13];

	if (!e)
		return CPU_VENDOR_OTHER;
	memcpy(id, &e->ebx, 4);
	memcpy(id + 4, &e->edx, 4);
	memcpy(id + 8, &e->ecx, 4);
	id[12] = '\0';
	if (!strcmp(id, "GenuineIntel"))
		return CPU_VENDOR_INTEL;
	if (!strcmp(id, "AuthenticAMD") || !strcmp(id, "HygonGenuine"))
		return CPU_VENDOR_AMD;
	return CPU_VENDOR_OTHER;
}

int cpuid_policy_install(const struct kvm_cpuid2 *policy, int vm_fd)
{
	const struct kvm_cpuid_entry2 *e = cpuid_find((struct kvm_cpuid2 *)policy, 1, 0);
	struct kvm_enable_cap cap = {
	    .cap = KVM_CAP_DISABLE_QUIRKS2,
	    .args[0] = KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS,
	};
	int quirks;

	if (e && (e->ecx & F1_ECX_MONITOR))
		return 0;
	/* KVM intercepts MONITOR/MWAIT; by default it runs them as NOPs even when hidden. */
	quirks = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DISABLE_QUIRKS2);
	if (quirks <= 0 || !(quirks & KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS)) {
		log_warn("cpuid: KVM cannot make hidden MONITOR/MWAIT fault (no "
			 "KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS, Linux 6.0+); they run as NOPs");
		return 0;
	}
	if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		int err = errno;

		log_err("cpuid: KVM_ENABLE_CAP(DISABLE_QUIRKS2, MWAIT_NEVER_UD_FAULTS): %s",
			strerror(err));
		return -err;
	}
	return 0;
}

/* Bits of an APIC ID that number the vCPUs of the (single) package. */
static unsigned apic_id_bits(unsigned nr_cpus)
{
	unsigned bits = 0;

	while ((1U << bits) < nr_cpus)
		bits++;
	return bits;
}

static uint32_t *cpuid_reg(struct kvm_cpuid_entry2 *e, enum cpuid_reg r)
{
	switch (r) {
	case CPUID_EAX:
		return &e->eax;
	case CPUID_EBX:
		return &e->ebx;
	case CPUID_ECX:
		return &e->ecx;
	case CPUID_EDX:
		break;
	}
	return &e->edx;
}

static void normalize_leaf1(struct kvm_cpuid2 *t, const struct cpu_policy_config *cfg)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, 1, 0);
	uint32_t hide = F1_ECX_DTES64 | F1_ECX_MONITOR | F1_ECX_DS_CPL | F1_ECX_VMX | F1_ECX_SMX |
			F1_ECX_EST | F1_ECX_TM2 | F1_ECX_XTPR;

	if (!cfg->pmu)
		hide |= F1_ECX_PDCM;
	e->ecx = (e->ecx & ~hide) | F1_ECX_HYPERVISOR;
	if (cfg->tsc_deadline)
		e->ecx |= F1_ECX_TSC_DEADLINE;
	e->edx &= ~(F1_EDX_DS | F1_EDX_ACPI | F1_EDX_TM | F1_EDX_PBE);
	if (cfg->nr_cpus > 1)
		e->edx |= F1_EDX_HTT;
	else
		e->edx &= ~F1_EDX_HTT;
	/* EBX: [31:24] APIC ID (per vCPU), [23:16] logical CPUs, [15:8] CLFLUSH in 8-byte units */
	e->ebx = (e->ebx & 0xff) | (cfg->nr_cpus << 16) | (8U << 8);
}

static void normalize_cache_leaf(struct kvm_cpuid2 *t, uint32_t leaf, unsigned nr_cpus,
				 bool intel_layout)
{
	unsigned bits = apic_id_bits(nr_cpus);

	for (uint32_t i = 0; i < t->nent; i++) {
		struct kvm_cpuid_entry2 *e = &t->entries[i];
		uint32_t sharing;

		if (e->function != leaf || CACHE_TYPE(e->eax) == 0)
			continue;
		/* One thread per core: L1/L2 are private, L3 is shared by the package. */
		if (CACHE_LEVEL(e->eax) >= 3)
			sharing = intel_layout ? (1U << bits) - 1 : nr_cpus - 1;
		else
			sharing = 0;
		e->eax = (e->eax & ~CACHE_SHARING_MASK) | (sharing << CACHE_SHARING_SHIFT);
		if (intel_layout) {
			uint32_t cores = (1U << bits) - 1;

			if (cores > 63)
				cores = 63;
			e->eax = (e->eax & ~CACHE_CORES_MASK) | (cores << CACHE_CORES_SHIFT);
		}
	}
}

/* Leaf 0xB or 0x1F: SMT level (1 thread), core level (nr_cpus cores), terminator. */
static int build_ext_topology(struct kvm_cpuid2 *t, uint32_t leaf, unsigned nr_cpus)
{
	const uint32_t f = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	struct kvm_cpuid_entry2 *e;

	cpuid_remove_leaf(t, leaf);
	e = cpuid_add(t, leaf, 0, f);
	if (!e)
		return -E2BIG;
	e->eax = 0;
	e->ebx = 1;
	e->ecx = (TOPO_LEVEL_SMT << 8) | 0;
	e = cpuid_add(t, leaf, 1, f);
	if (!e)
		return -E2BIG;
	e->eax = apic_id_bits(nr_cpus);
	e->ebx = nr_cpus;
	e->ecx = (TOPO_LEVEL_CORE << 8) | 1;
	e = cpuid_add(t, leaf, 2, f);
	if (!e)
		return -E2BIG;
	e->ecx = 2;
	return 0;
}

static void normalize_amd(struct kvm_cpuid2 *t, const struct cpu_policy_config *cfg)
{
	struct kvm_cpuid_entry2 *e;

	e = cpuid_find(t, 0x80000001, 0);
	if (e) {
		e->ecx &= ~E1_ECX_SVM;
		if (cfg->nr_cpus > 1)
			e->ecx |= E1_ECX_CMP_LEGACY;
		else
			e->ecx &= ~E1_ECX_CMP_LEGACY;
	}
	e = cpuid_find(t, 0x80000008, 0);
	if (e)
		e->ecx =
		    (e->ecx & ~0xf0ffU) | (apic_id_bits(cfg->nr_cpus) << 12) | (cfg->nr_cpus - 1);
	/* Per vCPU: EAX extended APIC ID and EBX[7:0] core ID, see cpuid_policy_for_vcpu(). */
	e = cpuid_find(t, 0x8000001e, 0);
	if (e)
		e->eax = e->ebx = e->ecx = e->edx = 0;
	normalize_cache_leaf(t, 0x8000001d, cfg->nr_cpus, false);
}

static void hide_pmu(struct kvm_cpuid2 *t)
{
	struct kvm_cpuid_entry2 *e;

	cpuid_zero_leaf(t, 0xa);
	cpuid_zero_leaf(t, 0x23);
	cpuid_zero_leaf(t, 0x80000022);
	e = cpuid_find(t, 0x80000001, 0);
	if (e)
		e->ecx &= ~(E1_ECX_PERFCTR_CORE | E1_ECX_PERFCTR_NB | E1_ECX_PERFCTR_LLC);
}

static int build_hypervisor_leaves(struct kvm_cpuid2 *t)
{
	static const char sig[12] = "KVMKVMKVM\0\0\0";
	struct kvm_cpuid_entry2 *e;
	uint32_t features = 0;

	e = cpuid_find(t, KVM_CPUID_FEATURES, 0);
	if (e)
		features = e->eax & ~KVM_FEATURES_HIDDEN;
	else
		log_warn(
		    "cpuid: KVM reports no paravirt features; the guest will not use kvmclock");
	cpuid_remove_leaf(t, KVM_CPUID_SIGNATURE);
	cpuid_remove_leaf(t, KVM_CPUID_FEATURES);
	e = cpuid_add(t, KVM_CPUID_SIGNATURE, 0, 0);
	if (!e)
		return -E2BIG;
	e->eax = KVM_CPUID_FEATURES;
	memcpy(&e->ebx, sig, 4);
	memcpy(&e->ecx, sig + 4, 4);
	memcpy(&e->edx, sig + 8, 4);
	e = cpuid_add(t, KVM_CPUID_FEATURES, 0, 0);
	if (!e)
		return -E2BIG;
	/* EDX holds hints such as KVM_HINTS_REALTIME, a promise sluice does not make. */
	e->eax = features;
	return 0;
}

static bool leaf_has_unindexed(struct kvm_cpuid2 *t, uint32_t leaf)
{
	for (uint32_t i = 0; i < t->nent; i++)
		if (t->entries[i].function == leaf &&
		    !(t->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX))
			return true;
	return false;
}

static bool leaf_has_indexed(struct kvm_cpuid2 *t, uint32_t leaf)
{
	for (uint32_t i = 0; i < t->nent; i++)
		if (t->entries[i].function == leaf &&
		    (t->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX))
			return true;
	return false;
}

static int apply_edit(struct kvm_cpuid2 *t, const struct cpuid_edit *ed)
{
	struct kvm_cpuid_entry2 *e;
	uint32_t *reg;

	if (ed->has_subleaf && ed->subleaf != 0 && leaf_has_unindexed(t, ed->leaf)) {
		log_err("cpuid override (line %u): leaf 0x%x has no subleaves", ed->line, ed->leaf);
		return -EINVAL;
	}
	e = cpuid_find(t, ed->leaf, ed->subleaf);
	if (!e) {
		bool indexed = ed->has_subleaf || leaf_has_indexed(t, ed->leaf);

		e = cpuid_add(t, ed->leaf, ed->subleaf,
			      indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0);
		if (!e)
			return -E2BIG;
	}
	reg = cpuid_reg(e, ed->reg);
	switch (ed->op) {
	case CPUID_EDIT_SET:
		*reg |= ed->value;
		break;
	case CPUID_EDIT_CLEAR:
		*reg &= ~ed->value;
		break;
	case CPUID_EDIT_VALUE:
		*reg = ed->value;
		break;
	}
	return 0;
}

static int check_nr_cpus(unsigned nr_cpus)
{
	if (nr_cpus == 0 || nr_cpus > CPU_POLICY_MAX_CPUS) {
		log_err("cpuid: %u vCPUs is out of range (1..%d)", nr_cpus, CPU_POLICY_MAX_CPUS);
		return -EINVAL;
	}
	return 0;
}

int cpuid_policy_build(const struct kvm_cpuid2 *supported, const struct cpu_policy_config *cfg,
		       struct kvm_cpuid2 **out)
{
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 *t;
	enum cpu_vendor vendor;
	uint32_t max_basic;
	int ret;

	ret = check_nr_cpus(cfg->nr_cpus);
	if (ret)
		return ret;
	if (supported->nent > CPUID_MAX_ENTRIES) {
		log_err("cpuid: supported table has %u entries, at most %d", supported->nent,
			CPUID_MAX_ENTRIES);
		return -E2BIG;
	}
	t = cpuid_table_alloc(CPUID_MAX_ENTRIES);
	if (!t)
		return -ENOMEM;
	t->nent = supported->nent;
	memcpy(t->entries, supported->entries, supported->nent * sizeof(t->entries[0]));

	if (!cpuid_find(t, 0, 0) || !cpuid_find(t, 1, 0)) {
		log_err("cpuid: supported table lacks leaf 0 or 1");
		ret = -EINVAL;
		goto fail;
	}
	vendor = cpuid_policy_vendor(t);
	max_basic = cpuid_find(t, 0, 0)->eax;

	normalize_leaf1(t, cfg);
	cpuid_zero_leaf(t, 5); /* MONITOR/MWAIT is hidden */
	e = cpuid_find(t, 6, 0);
	if (e) {
		e->eax &= F6_EAX_ARAT;
		e->ebx = e->ecx = e->edx = 0;
	}
	/* No EPC is given to the guest, so SGX cannot work. */
	e = cpuid_find(t, 7, 0);
	if (e) {
		e->ebx &= ~F7_EBX_SGX;
		e->ecx &= ~F7_ECX_SGX_LC;
	}
	cpuid_zero_leaf(t, 0x12);
	cpuid_zero_leaf(t, 0x8000000a); /* SVM features: nested virtualization is hidden */
	if (!cfg->pmu)
		hide_pmu(t);

	normalize_cache_leaf(t, 4, cfg->nr_cpus, true);
	if (max_basic >= 0xb || cpuid_find(t, 0xb, 0)) {
		ret = build_ext_topology(t, 0xb, cfg->nr_cpus);
		if (ret)
			goto fail;
	}
	if (max_basic >= 0x1f && cpuid_find(t, 0x1f, 0)) {
		ret = build_ext_topology(t, 0x1f, cfg->nr_cpus);
		if (ret)
			goto fail;
	}
	if (vendor == CPU_VENDOR_AMD)
		normalize_amd(t, cfg);

	ret = build_hypervisor_leaves(t);
	if (ret)
		goto fail;

	for (size_t i = 0; i < cfg->nr_cpuid_edits; i++) {
		ret = apply_edit(t, &cfg->cpuid_edits[i]);
		if (ret)
			goto fail;
	}
	*out = t;
	return 0;
fail:
	free(t);
	return ret;
}

int cpuid_policy_for_vcpu(const struct kvm_cpuid2 *policy, unsigned cpu_index, unsigned nr_cpus,
			  struct kvm_cpuid2 **out)
{
	struct kvm_cpuid2 *t;
	int ret;

	ret = check_nr_cpus(nr_cpus);
	if (ret)
		return ret;
	if (cpu_index >= nr_cpus) {
		log_err("cpuid: vCPU %u out of range (%u vCPUs)", cpu_index, nr_cpus);
		return -EINVAL;
	}
	if (policy->nent > CPUID_MAX_ENTRIES) {
		log_err("cpuid: policy has %u entries, at most %d", policy->nent,
			CPUID_MAX_ENTRIES);
		return -E2BIG;
	}
	t = cpuid_table_alloc(policy->nent);
	if (!t)
		return -ENOMEM;
	memcpy(t, policy, cpuid_table_size(policy->nent));

	for (uint32_t i = 0; i < t->nent; i++) {
		struct kvm_cpuid_entry2 *e = &t->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x00ffffffU) | (cpu_index << 24);
			break;
		case 0xb:
		case 0x1f:
			e->edx = cpu_index;
			break;
		case 0x8000001e:
			e->eax = cpu_index;
			e->ebx = (e->ebx & ~0xffU) | cpu_index;
			break;
		default:
			break;
		}
	}
	*out = t;
	return 0;
}

/*
 * XSAVE state components (XCR0 bits) and the CPUID feature a guest OS needs
 * to see before it enables each, as Linux's xsave_cpuid_features[] pairs
 * them: a component whose feature is hidden is left out of XCR0.
 */
static const struct {
	uint64_t xcr0;
	uint32_t leaf;
	enum cpuid_reg reg;
	uint32_t bit;
} xcr0_features[] = {
    {CPUID_XCR0_YMM, 1, CPUID_ECX, BIT(28)},			     /* AVX */
    {CPUID_XCR0_BNDREGS | CPUID_XCR0_BNDCSR, 7, CPUID_EBX, BIT(14)}, /* MPX */
    {CPUID_XCR0_AVX512, 7, CPUID_EBX, BIT(16)},			     /* AVX512F */
    {CPUID_XCR0_PKRU, 7, CPUID_ECX, BIT(3)},			     /* PKU */
    {CPUID_XCR0_TILE, 7, CPUID_EDX, BIT(24)},			     /* AMX-TILE */
};

uint64_t cpuid_guest_xcr0(const struct kvm_cpuid2 *t)
{
	/* cpuid_find() does not modify the table. */
	struct kvm_cpuid2 *tab = (struct kvm_cpuid2 *)t;
	struct kvm_cpuid_entry2 *e1 = cpuid_find(tab, 1, 0), *ed = cpuid_find(tab, 0xd, 0);
	uint64_t xcr0;

	if (!e1 || !(e1->ecx & BIT(26)) || !ed) /* no XSAVE */
		return CPUID_XCR0_X87;
	xcr0 = ed->eax | (uint64_t)ed->edx << 32;
	if ((xcr0 & (CPUID_XCR0_X87 | CPUID_XCR0_SSE)) != (CPUID_XCR0_X87 | CPUID_XCR0_SSE))
		return CPUID_XCR0_X87;
	for (size_t i = 0; i < sizeof(xcr0_features) / sizeof(xcr0_features[0]); i++) {
		struct kvm_cpuid_entry2 *e = cpuid_find(tab, xcr0_features[i].leaf, 0);

		if (!e || !(*cpuid_reg(e, xcr0_features[i].reg) & xcr0_features[i].bit))
			xcr0 &= ~xcr0_features[i].xcr0;
	}
	/* XSETBV rules: YMM needs SSE, AVX-512 needs YMM, the AVX-512 and AMX groups go whole. */
	if (!(xcr0 & CPUID_XCR0_YMM) || (xcr0 & CPUID_XCR0_AVX512) != CPUID_XCR0_AVX512)
		xcr0 &= ~CPUID_XCR0_AVX512;
	if ((xcr0 & CPUID_XCR0_TILE) != CPUID_XCR0_TILE)
		xcr0 &= ~CPUID_XCR0_TILE;
	if ((xcr0 & (CPUID_XCR0_BNDREGS | CPUID_XCR0_BNDCSR)) !=
	    (CPUID_XCR0_BNDREGS | CPUID_XCR0_BNDCSR))
		xcr0 &= ~(CPUID_XCR0_BNDREGS | CPUID_XCR0_BNDCSR);
	return xcr0;
}

/* The host's own CPUID (not KVM's view): the project's cpuid.h shadows <cpuid.h>. */
static void cpuid_host(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

bool cpuid_host_is_tcg(void)
{
	uint32_t r[4];
	char sig[13];

	cpuid_host(1, r);
	if (!(r[2] & F1_ECX_HYPERVISOR))
		return false;
	cpuid_host(0x40000000, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = '\0';
	return !strcmp(sig, "TCGTCGTCGTCG");
}
