/* SPDX-License-Identifier: MIT */
#include "msr.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

struct msr_span {
	uint32_t base;
	uint32_t count;
};

/*
 * Performance-monitoring MSRs. KVM emulates a vPMU for them (on AMD even the
 * legacy counters regardless of CPUID), so hiding the PMU in CPUID alone would
 * still leave working counters that reveal and depend on host PMU details.
 */
static const struct msr_span pmu_msrs[] = {
    {0xc1, 8},	      /* IA32_PMC0..7 */
    {0x186, 8},	      /* IA32_PERFEVTSEL0..7 */
    {0x309, 4},	      /* IA32_FIXED_CTR0..3 */
    {0x345, 1},	      /* IA32_PERF_CAPABILITIES */
    {0x38d, 4},	      /* IA32_FIXED_CTR_CTRL, PERF_GLOBAL_STATUS/CTRL/OVF_CTRL */
    {0x4c1, 8},	      /* IA32_A_PMC0..7 (full-width writes) */
    {0xc0000300, 4},  /* AMD PerfMonV2 global status/control */
    {0xc0010000, 8},  /* AMD K7 PERFEVTSEL0..3, PERFCTR0..3 */
    {0xc0010200, 12}, /* AMD F15h PERF_CTL0..5 / PERF_CTR0..5 */
};

/*
 * AMD's K7 PERFEVTSEL0..3/PERFCTR0..3 are architectural on every AMD (and
 * Hygon) CPU since K7 and no CPUID bit announces them, so real hardware never
 * faults on them and guests write them without checking (counter resets at
 * start). With the PMU off they stay filtered, or KVM's vPMU would run them as
 * live counters, and answer like KVM with its vPMU disabled: reads 0, writes
 * dropped. On any other vendor they do not exist and keep the #GP.
 */
static const struct msr_span amd_k7_counters = {0xc0010000, 8};

/*
 * Vendor-specific MSRs that KVM answers for a guest of either vendor (mostly
 * with 0 or a made-up value). CPUs of the other vendor have nothing there and
 * raise #GP, so a guest told it runs on that vendor gets #GP as well.
 */
static const struct msr_span intel_only_msrs[] = {
    {0xc1, 8},	/* IA32_PMC0..7: KVM reads 0xc1/0xc2 as 0 even with "pmu on" */
    {0x186, 8}, /* IA32_PERFEVTSEL0..7: likewise 0x186/0x187 */
    {0x309, 4}, /* IA32_FIXED_CTR0..3 */
    {0x345, 1}, /* IA32_PERF_CAPABILITIES */
    {0x38d, 4}, /* IA32_FIXED_CTR_CTRL, PERF_GLOBAL_STATUS/CTRL/OVF_CTRL */
    {0x4c1, 8}, /* IA32_A_PMC0..7 */
    {0x17, 1},	/* IA32_PLATFORM_ID */
    {0x34, 1},	/* MSR_SMI_COUNT */
    {0x3a, 1},	/* IA32_FEATURE_CONTROL */
    {0xce, 1},	/* MSR_PLATFORM_INFO */
    {0x11e, 1}, /* MSR_IA32_BBL_CR_CTL3 */
    {0x140, 1}, /* MSR_MISC_FEATURES_ENABLES */
    {0x198, 2}, /* IA32_PERF_STATUS, IA32_PERF_CTL */
    {0x1a0, 1}, /* IA32_MISC_ENABLE */
    {0x1fc, 1}, /* MSR_POWER_CTL */
    {0x606, 1}, /* MSR_RAPL_POWER_UNIT */
    {0x611, 1}, /* MSR_PKG_ENERGY_STATUS */
    {0x619, 1}, /* MSR_DRAM_ENERGY_STATUS */
    {0x639, 1}, /* MSR_PP0_ENERGY_STATUS */
    {0x641, 1}, /* MSR_PP1_ENERGY_STATUS */
};
/* AMD's model-specific space (HWCR, SYSCFG, DE_CFG, ...): Intel defines no MSR there. */
static const struct msr_span amd_only_msrs[] = {{0xc0010000, 0x2000}};

static size_t spans_total(const struct msr_span *s, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += s[i].count;
	return total;
}

static size_t spans_append(uint32_t *list, const struct msr_span *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < s[i].count; j++)
			list[k++] = s[i].base + j;
	return k;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted, unique list of the MSRs the filter must deny. */
static int collect_denied(const struct cpu_policy_config *cfg, enum cpu_vendor vendor,
			  uint32_t **out, size_t *nr_out)
{
	const struct msr_span *other = NULL;
	size_t max = cfg->nr_msr_rules, n = 0, u = 0, nr_other = 0;
	uint32_t *list;

	if (vendor == CPU_VENDOR_AMD) {
		other = intel_only_msrs;
		nr_other = ARRAY_SIZE(intel_only_msrs);
	} else if (vendor == CPU_VENDOR_INTEL) {
		other = amd_only_msrs;
		nr_other = ARRAY_SIZE(amd_only_msrs);
	}
	if (!cfg->pmu)
		max += spans_total(pmu_msrs, ARRAY_SIZE(pmu_msrs));
	max += spans_total(other, nr_other);
	list = calloc(max ? max : 1, sizeof(*list));
	if (!list) {
		log_err("msr: out of memory");
		return -ENOMEM;
	}
	if (!cfg->pmu)
		n += spans_append(list + n, pmu_msrs, ARRAY_SIZE(pmu_msrs));
	n += spans_append(list + n, other, nr_other);
	for (size_t i = 0; i < cfg->nr_msr_rules; i++)
		list[n++] = cfg->msr_rules[i].index;
	qsort(list, n, sizeof(*list), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (u == 0 || list[u - 1] != list[i])
			list[u++] = list[i];
	*out = list;
	*nr_out = u;
	return 0;
}

static int build_filter(struct msr_policy *p, const uint32_t *denied, size_t n)
{
	size_t i = 0;

	p->filter.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
	while (i < n) {
		struct kvm_msr_filter_range *r;
		uint32_t base = denied[i], nmsrs;
		size_t j = i, bytes;
		uint8_t *bm;

		while (j + 1 < n && denied[j + 1] - base < MSR_FILTER_MAX_SPAN)
			j++;
		if (p->nr_ranges == KVM_MSR_FILTER_MAX_RANGES) {
			log_err(
			    "msr: denied MSRs are too scattered for the KVM filter (%d ranges of "
			    "%d MSRs)",
			    KVM_MSR_FILTER_MAX_RANGES, MSR_FILTER_MAX_SPAN);
			return -E2BIG;
		}
		nmsrs = denied[j] - base + 1;
		/* KVM copies whole longs of bitmap. */
		bytes = ALIGN_UP((size_t)nmsrs, 64) / 8;
		bm = malloc(bytes);
		if (!bm) {
			log_err("msr: out of memory");
			return -ENOMEM;
		}
		memset(bm, 0xff, bytes); /* 1 allows */
		for (; i <= j; i++) {
			uint32_t bit = denied[i] - base;

			bm[bit / 8] &= (uint8_t) ~(1U << (bit % 8));
		}
		p->bitmaps[p->nr_ranges] = bm;
		r = &p->filter.ranges[p->nr_ranges++];
		r->flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
		r->base = base;
		r->nmsrs = nmsrs;
		r->bitmap = bm;
	}
	return 0;
}

/* The file's rules, then the built-in ones for MSRs the file does not name. */
static int collect_rules(struct msr_policy *p, const struct cpu_policy_config *cfg,
			 enum cpu_vendor vendor)
{
	bool k7_zero = !cfg->pmu && vendor == CPU_VENDOR_AMD;
	size_t max = cfg->nr_msr_rules + (k7_zero ? amd_k7_counters.count : 0);

	if (!max)
		return 0;
	p->rules = calloc(max, sizeof(*p->rules));
	if (!p->rules) {
		log_err("msr: out of memory");
		return -ENOMEM;
	}
	if (cfg->nr_msr_rules)
		memcpy(p->rules, cfg->msr_rules, cfg->nr_msr_rules * sizeof(*p->rules));
	p->nr_rules = cfg->nr_msr_rules;
	for (uint32_t i = 0; k7_zero && i < amd_k7_counters.count; i++) {
		uint32_t index = amd_k7_counters.base + i;

		if (!cpu_policy_find_msr_rule(cfg, index))
			p->rules[p->nr_rules++] = (struct msr_rule){
			    .index = index, .action = MSR_ACTION_VALUE, .value = 0};
	}
	return 0;
}

int msr_policy_init(struct msr_policy *p, const struct cpu_policy_config *cfg,
		    enum cpu_vendor vendor)
{
	uint32_t *denied;
	size_t nr_denied;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = pthread_mutex_init(&p->lock, NULL);
	if (ret) {
		log_err("msr: pthread_mutex_init: %s", strerror(ret));
		return -ret;
	}
	ret = collect_rules(p, cfg, vendor);
	if (ret)
		goto fail;
	ret = collect_denied(cfg, vendor, &denied, &nr_denied);
	if (ret)
		goto fail;
	ret = build_filter(p, denied, nr_denied);
	free(denied);
	if (ret)
		goto fail;
	return 0;
fail:
	msr_policy_destroy(p);
	return ret;
}

int msr_policy_install(struct msr_policy *p, int vm_fd)
{
	struct kvm_enable_cap cap = {
	    .cap = KVM_CAP_X86_USER_SPACE_MSR,
	    .args[0] = KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_INVAL |
		       KVM_MSR_EXIT_REASON_FILTER,
	};

	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_USER_SPACE_MSR) <= 0 ||
	    ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) <= 0) {
		log_err("msr: KVM lacks userspace MSR exits or MSR filtering (Linux 5.10+ needed)");
		return -ENOTSUP;
	}
	if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		int err = errno;

		log_err("msr: KVM_ENABLE_CAP(X86_USER_SPACE_MSR): %s", strerror(err));
		return -err;
	}
	if (ioctl(vm_fd, KVM_X86_SET_MSR_FILTER, &p->filter) < 0) {
		int err = errno;

		log_err("msr: KVM_X86_SET_MSR_FILTER: %s", strerror(err));
		return -err;
	}
	return 0;
}

static const struct msr_rule *find_rule(const struct msr_policy *p, uint32_t index)
{
	for (size_t i = 0; i < p->nr_rules; i++)
		if (p->rules[i].index == index)
			return &p->rules[i];
	return NULL;
}

static const char *reason_name(uint32_t reason)
{
	switch (reason) {
	case KVM_MSR_EXIT_REASON_FILTER:
		return "filtered";
	case KVM_MSR_EXIT_REASON_UNKNOWN:
		return "unknown to KVM";
	case KVM_MSR_EXIT_REASON_INVAL:
		return "invalid access";
	default:
		return "unexpected reason";
	}
}

/* Count an access; warn the first time an MSR is denied. Called with p->lock held. */
static void account(struct msr_policy *p, uint32_t index, bool write, bool gp,
		    const struct kvm_run *run, unsigned vcpu_index)
{
	struct msr_counts *c = NULL;
	bool first = false;

	for (unsigned i = 0; i < p->nr_stats; i++) {
		if (p->stats[i].index == index) {
			c = &p->stats[i].counts;
			break;
		}
	}
	if (!c && p->nr_stats < MSR_POLICY_MAX_TRACKED) {
		p->stats[p->nr_stats].index = index;
		c = &p->stats[p->nr_stats++].counts;
	}
	if (!c) {
		if (gp && !p->untracked.denied)
			log_warn("msr: more than %d distinct MSRs trapped; counting the rest "
				 "together",
				 MSR_POLICY_MAX_TRACKED);
		c = &p->untracked;
	} else {
		first = gp && !c->denied;
	}
	if (write)
		c->writes++;
	else
		c->reads++;
	if (gp) {
		c->denied++;
		p->denied_total++;
	}
	if (first)
		log_warn("vcpu %u: %s 0x%x (%s) -> #GP", vcpu_index, write ? "wrmsr" : "rdmsr",
			 index, reason_name(run->msr.reason));
}

void msr_policy_handle_exit(struct msr_policy *p, struct kvm_run *run, unsigned vcpu_index)
{
	bool write = run->exit_reason == KVM_EXIT_X86_WRMSR;
	uint32_t index = run->msr.index;
	const struct msr_rule *rule;
	bool gp = true;

	if (run->exit_reason != KVM_EXIT_X86_RDMSR && !write) {
		log_err("msr: vcpu %u: exit reason %u is not an MSR exit", vcpu_index,
			run->exit_reason);
		return;
	}
	rule = find_rule(p, index);
	if (rule && rule->action == MSR_ACTION_VALUE) {
		if (write)
			gp = rule->check_writes && run->msr.data != rule->value;
		else
			gp = false;
	}
	if (!write)
		run->msr.data = gp ? 0 : rule->value;
	run->msr.error = gp ? 1 : 0;

	pthread_mutex_lock(&p->lock);
	account(p, index, write, gp, run, vcpu_index);
	pthread_mutex_unlock(&p->lock);
}

/* The lock guards counters, not the policy: taking it does not change p's meaning. */
static pthread_mutex_t *stats_lock(const struct msr_policy *p)
{
	return (pthread_mutex_t *)&p->lock;
}

void msr_policy_report(const struct msr_policy *p)
{
	pthread_mutex_lock(stats_lock(p));
	if (p->denied_total) {
		for (unsigned i = 0; i < p->nr_stats; i++) {
			const struct msr_stat *s = &p->stats[i];

			if (!s->counts.denied)
				continue;
			log_warn("msr 0x%x: %" PRIu64 " rdmsr, %" PRIu64 " wrmsr, %" PRIu64
				 " answered with #GP",
				 s->index, s->counts.reads, s->counts.writes, s->counts.denied);
		}
		if (p->untracked.denied)
			log_warn("msr (others): %" PRIu64 " rdmsr, %" PRIu64 " wrmsr, %" PRIu64
				 " answered with #GP",
				 p->untracked.reads, p->untracked.writes, p->untracked.denied);
	}
	pthread_mutex_unlock(stats_lock(p));
}

int msr_policy_counts(const struct msr_policy *p, uint32_t index, struct msr_counts *out)
{
	int ret = -ENOENT;

	pthread_mutex_lock(stats_lock(p));
	for (unsigned i = 0; i < p->nr_stats; i++) {
		if (p->stats[i].index == index) {
			*out = p->stats[i].counts;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(stats_lock(p));
	return ret;
}

uint64_t msr_policy_denied_total(const struct msr_policy *p)
{
	uint64_t n;

	pthread_mutex_lock(stats_lock(p));
	n = p->denied_total;
	pthread_mutex_unlock(stats_lock(p));
	return n;
}

bool msr_policy_filtered(const struct msr_policy *p, uint32_t index)
{
	for (unsigned i = 0; i < p->nr_ranges; i++) {
		const struct kvm_msr_filter_range *r = &p->filter.ranges[i];
		uint32_t bit;

		if (index < r->base || index - r->base >= r->nmsrs)
			continue;
		bit = index - r->base;
		return !(r->bitmap[bit / 8] & (1U << (bit % 8)));
	}
	/* Default allow. */
	return false;
}

void msr_policy_destroy(struct msr_policy *p)
{
	for (unsigned i = 0; i < KVM_MSR_FILTER_MAX_RANGES; i++) {
		free(p->bitmaps[i]);
		p->bitmaps[i] = NULL;
	}
	free(p->rules);
	p->rules = NULL;
	p->nr_rules = 0;
	p->nr_ranges = 0;
	memset(&p->filter, 0, sizeof(p->filter));
	pthread_mutex_destroy(&p->lock);
}
