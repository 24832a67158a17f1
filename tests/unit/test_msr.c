/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "msr.h"
#include "util.h"

static const uint32_t pmu_msrs[] = {
    0xc1,  0xc8,  0x186, 0x18d,	     0x309,	 0x30b,	     0x345,	 0x38d,	     0x38f,
    0x390, 0x4c1, 0x4c8, 0xc0000300, 0xc0000303, 0xc0010000, 0xc0010007, 0xc0010200, 0xc001020b,
};
static const uint32_t allowed_msrs[] = {
    0x10,  0x1b,  0x3a,	 0xc0,	0xc9,	    0x185,	0x18e,	    0x1a0,	0x1d9,
    0x308, 0x391, 0x4c0, 0x4c9, 0xc0000080, 0xc0000304, 0xc0010008, 0xc0010114, 0xc001020c,
};

/* Capture everything logged to stderr between begin and end. */
struct capture {
	FILE *tmp;
	int saved;
};

static void capture_begin(struct capture *c)
{
	c->tmp = tmpfile();
	assert_non_null(c->tmp);
	fflush(stderr);
	c->saved = dup(STDERR_FILENO);
	dup2(fileno(c->tmp), STDERR_FILENO);
}

static char *capture_end(struct capture *c)
{
	char *buf = calloc(1, 65536);
	size_t n;

	fflush(stderr);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	rewind(c->tmp);
	n = fread(buf, 1, 65535, c->tmp);
	buf[n] = '\0';
	fclose(c->tmp);
	return buf;
}

static unsigned count_str(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void init_policy_vendor(struct msr_policy *p, bool pmu, const char *text,
			       enum cpu_vendor vendor)
{
	struct cpu_policy_config cfg;

	cpu_policy_config_init(&cfg, 1);
	cfg.pmu = pmu;
	assert_int_equal(cpu_policy_parse(&cfg, text, strlen(text), "t"), 0);
	assert_int_equal(msr_policy_init(p, &cfg, vendor), 0);
	cpu_policy_config_free(&cfg);
}

/* An unknown vendor: no vendor-specific MSRs filtered, no built-in rules. */
static void init_policy(struct msr_policy *p, bool pmu, const char *text)
{
	init_policy_vendor(p, pmu, text, CPU_VENDOR_OTHER);
}

static bool bitmap_allows(const struct kvm_msr_filter_range *r, uint32_t index)
{
	uint32_t bit = index - r->base;

	return r->bitmap[bit / 8] & (1U << (bit % 8));
}

static void test_filter_pmu_off(void **state)
{
	struct msr_policy p;

	(void)state;
	init_policy(&p, false, "");
	assert_int_equal(p.filter.flags, KVM_MSR_FILTER_DEFAULT_ALLOW);
	/* Intel PMU MSRs in one bitmap; AMD's two blocks are too far apart for one. */
	assert_int_equal(p.nr_ranges, 3);
	assert_int_equal(p.filter.ranges[0].base, 0xc1);
	assert_int_equal(p.filter.ranges[0].nmsrs, 0x4c8 - 0xc1 + 1);
	assert_int_equal(p.filter.ranges[1].base, 0xc0000300);
	assert_int_equal(p.filter.ranges[1].nmsrs, 4);
	assert_int_equal(p.filter.ranges[2].base, 0xc0010000);
	assert_int_equal(p.filter.ranges[2].nmsrs, 0x20c);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(p.filter.ranges[i].flags,
				 KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE);
		assert_true(p.filter.ranges[i].nmsrs <= KVM_MSR_FILTER_MAX_BITMAP_SIZE * 8);
		assert_ptr_equal(p.filter.ranges[i].bitmap, p.bitmaps[i]);
	}
	assert_int_equal(p.filter.ranges[3].nmsrs, 0);
	assert_false(bitmap_allows(&p.filter.ranges[0], 0xc1));
	assert_false(bitmap_allows(&p.filter.ranges[0], 0x18d));
	assert_true(bitmap_allows(&p.filter.ranges[0], 0x1a0)); /* IA32_MISC_ENABLE */
	assert_true(bitmap_allows(&p.filter.ranges[0], 0xc9));
	assert_false(bitmap_allows(&p.filter.ranges[2], 0xc0010007));
	assert_true(bitmap_allows(&p.filter.ranges[2], 0xc0010008));
	assert_true(bitmap_allows(&p.filter.ranges[2], 0xc0010100));
	for (size_t i = 0; i < ARRAY_SIZE(pmu_msrs); i++)
		assert_true(msr_policy_filtered(&p, pmu_msrs[i]));
	for (size_t i = 0; i < ARRAY_SIZE(allowed_msrs); i++)
		assert_false(msr_policy_filtered(&p, allowed_msrs[i]));
	msr_policy_destroy(&p);
}

static void test_filter_pmu_on_and_rules(void **state)
{
	struct msr_policy p;

	(void)state;
	init_policy(&p, true, "");
	assert_int_equal(p.nr_ranges, 0);
	for (size_t i = 0; i < ARRAY_SIZE(pmu_msrs); i++)
		assert_false(msr_policy_filtered(&p, pmu_msrs[i]));
	msr_policy_destroy(&p);

	init_policy(&p, true, "msr 0x3a value 5\nmsr 0xc0011029 gp\nmsr 0x35 gp\n");
	assert_int_equal(p.nr_ranges, 2);
	assert_int_equal(p.filter.ranges[0].base, 0x35);
	assert_int_equal(p.filter.ranges[0].nmsrs, 6);
	assert_int_equal(p.filter.ranges[0].bitmap[0] & 0x3f, 0x1e); /* 0x35, 0x3a denied */
	assert_int_equal(p.filter.ranges[1].base, 0xc0011029);
	assert_true(msr_policy_filtered(&p, 0x3a));
	assert_true(msr_policy_filtered(&p, 0x35));
	assert_false(msr_policy_filtered(&p, 0x36));
	assert_true(msr_policy_filtered(&p, 0xc0011029));
	assert_false(msr_policy_filtered(&p, 0xc1));
	msr_policy_destroy(&p);

	/* A rule for a PMU MSR with the PMU off is one denied MSR, not two. */
	init_policy(&p, false, "msr 0xc1 value 0\n");
	assert_int_equal(p.nr_ranges, 3);
	msr_policy_destroy(&p);
}

static void test_filter_span_and_limits(void **state)
{
	struct cpu_policy_config cfg;
	struct msr_policy p;
	char text[2048];
	size_t off = 0;

	(void)state;
	snprintf(text, sizeof(text), "msr 0x10000 gp\nmsr %x gp\n",
		 0x10000 + MSR_FILTER_MAX_SPAN - 1);
	init_policy(&p, true, text);
	assert_int_equal(p.nr_ranges, 1);
	assert_int_equal(p.filter.ranges[0].nmsrs, MSR_FILTER_MAX_SPAN);
	assert_true(msr_policy_filtered(&p, 0x10000 + MSR_FILTER_MAX_SPAN - 1));
	assert_false(msr_policy_filtered(&p, 0x10000 + MSR_FILTER_MAX_SPAN - 2));
	msr_policy_destroy(&p);
	snprintf(text, sizeof(text), "msr 0x10000 gp\nmsr %x gp\n", 0x10000 + MSR_FILTER_MAX_SPAN);
	init_policy(&p, true, text);
	assert_int_equal(p.nr_ranges, 2);
	msr_policy_destroy(&p);

	/* 16 scattered MSRs fit KVM's 16 ranges; a 17th does not. */
	for (unsigned i = 0; i < KVM_MSR_FILTER_MAX_RANGES + 1; i++)
		off +=
		    (size_t)snprintf(text + off, sizeof(text) - off, "msr %x gp\n", i * 0x100000);
	cpu_policy_config_init(&cfg, 1);
	cfg.pmu = true;
	assert_int_equal(cpu_policy_parse(&cfg, text, off, "t"), 0);
	assert_int_equal(msr_policy_init(&p, &cfg, CPU_VENDOR_OTHER), -E2BIG);
	cfg.nr_msr_rules = KVM_MSR_FILTER_MAX_RANGES;
	assert_int_equal(msr_policy_init(&p, &cfg, CPU_VENDOR_OTHER), 0);
	assert_int_equal(p.nr_ranges, KVM_MSR_FILTER_MAX_RANGES);
	msr_policy_destroy(&p);
	/* Without the PMU three ranges are taken already. */
	cfg.pmu = false;
	assert_int_equal(msr_policy_init(&p, &cfg, CPU_VENDOR_OTHER), -E2BIG);
	cfg.nr_msr_rules = KVM_MSR_FILTER_MAX_RANGES - 3;
	assert_int_equal(msr_policy_init(&p, &cfg, CPU_VENDOR_OTHER), 0);
	msr_policy_destroy(&p);
	cpu_policy_config_free(&cfg);
}

static void msr_exit(struct msr_policy *p, struct kvm_run *run, bool write, uint32_t index,
		     uint64_t data, uint32_t reason, unsigned vcpu)
{
	run->exit_reason = write ? KVM_EXIT_X86_WRMSR : KVM_EXIT_X86_RDMSR;
	run->msr.index = index;
	run->msr.reason = reason;
	run->msr.data = data;
	run->msr.error = 0xee; /* must be overwritten */
	msr_policy_handle_exit(p, run, vcpu);
}

static void test_exits(void **state)
{
	struct kvm_run *run = calloc(1, sizeof(*run));
	struct msr_counts c;
	struct msr_policy p;
	struct capture cap;
	char *log;

	(void)state;
	init_policy(&p, false, "msr 0x3a value 5 check\nmsr 0x1a2 value 0x640000\nmsr 0x35 gp\n");
	capture_begin(&cap);
	/* Hidden PMU: #GP on reads and writes. */
	msr_exit(&p, run, false, 0xc1, 0x1234, KVM_MSR_EXIT_REASON_FILTER, 0);
	assert_int_equal(run->msr.error, 1);
	assert_int_equal(run->msr.data, 0);
	msr_exit(&p, run, false, 0xc1, 0, KVM_MSR_EXIT_REASON_FILTER, 1);
	msr_exit(&p, run, true, 0xc1, 7, KVM_MSR_EXIT_REASON_FILTER, 1);
	assert_int_equal(run->msr.error, 1);
	/* Unknown to KVM, no rule: #GP. */
	msr_exit(&p, run, true, 0x12345, 1, KVM_MSR_EXIT_REASON_UNKNOWN, 2);
	assert_int_equal(run->msr.error, 1);
	/* Value rule with checked writes. */
	msr_exit(&p, run, false, 0x3a, 0, KVM_MSR_EXIT_REASON_FILTER, 0);
	assert_int_equal(run->msr.error, 0);
	assert_int_equal(run->msr.data, 5);
	msr_exit(&p, run, true, 0x3a, 5, KVM_MSR_EXIT_REASON_FILTER, 0);
	assert_int_equal(run->msr.error, 0);
	msr_exit(&p, run, true, 0x3a, 4, KVM_MSR_EXIT_REASON_FILTER, 3);
	assert_int_equal(run->msr.error, 1);
	/* Value rule, writes ignored. */
	msr_exit(&p, run, true, 0x1a2, 0xdead, KVM_MSR_EXIT_REASON_FILTER, 0);
	assert_int_equal(run->msr.error, 0);
	msr_exit(&p, run, false, 0x1a2, 0, KVM_MSR_EXIT_REASON_FILTER, 0);
	assert_int_equal(run->msr.error, 0);
	assert_int_equal(run->msr.data, 0x640000);
	/* gp rule. */
	msr_exit(&p, run, false, 0x35, 0, KVM_MSR_EXIT_REASON_FILTER, 0);
	assert_int_equal(run->msr.error, 1);
	/* Invalid access to a known MSR. */
	msr_exit(&p, run, true, 0x10, 1, KVM_MSR_EXIT_REASON_INVAL, 0);
	assert_int_equal(run->msr.error, 1);
	log = capture_end(&cap);

	assert_int_equal(msr_policy_counts(&p, 0xc1, &c), 0);
	assert_int_equal(c.reads, 2);
	assert_int_equal(c.writes, 1);
	assert_int_equal(c.denied, 3);
	assert_int_equal(msr_policy_counts(&p, 0x3a, &c), 0);
	assert_int_equal(c.reads, 1);
	assert_int_equal(c.writes, 2);
	assert_int_equal(c.denied, 1);
	assert_int_equal(msr_policy_counts(&p, 0x1a2, &c), 0);
	assert_int_equal(c.denied, 0);
	assert_int_equal(msr_policy_counts(&p, 0x12345, &c), 0);
	assert_int_equal(c.writes, 1);
	assert_int_equal(msr_policy_counts(&p, 0xc2, &c), -ENOENT);
	assert_int_equal(msr_policy_denied_total(&p), 3 + 1 + 1 + 1 + 1);

	/* Logged once per denied MSR, with direction and vCPU of the first denial. */
	assert_int_equal(count_str(log, "0xc1 "), 1);
	assert_non_null(strstr(log, "vcpu 0: rdmsr 0xc1 (filtered) -> #GP"));
	assert_non_null(strstr(log, "vcpu 2: wrmsr 0x12345 (unknown to KVM) -> #GP"));
	assert_non_null(strstr(log, "vcpu 3: wrmsr 0x3a (filtered) -> #GP"));
	assert_non_null(strstr(log, "vcpu 0: wrmsr 0x10 (invalid access) -> #GP"));
	assert_int_equal(count_str(log, "0x1a2"), 0);
	assert_int_equal(count_str(log, "\n"), 5);
	free(log);

	/* The report lists denied MSRs only. */
	capture_begin(&cap);
	msr_policy_report(&p);
	log = capture_end(&cap);
	assert_non_null(strstr(log, "msr 0xc1: 2 rdmsr, 1 wrmsr, 3 answered with #GP"));
	assert_non_null(strstr(log, "msr 0x3a: 1 rdmsr, 2 wrmsr, 1 answered with #GP"));
	assert_null(strstr(log, "0x1a2"));
	assert_int_equal(count_str(log, "\n"), 5);
	free(log);

	/* A non-MSR exit is refused without touching the run struct. */
	run->exit_reason = KVM_EXIT_HLT;
	run->msr.error = 0x55;
	capture_begin(&cap);
	msr_policy_handle_exit(&p, run, 0);
	free(capture_end(&cap));
	assert_int_equal(run->msr.error, 0x55);
	msr_policy_destroy(&p);
	free(run);
}

/*
 * PMU off: AMD's K7 counters exist on every AMD CPU, so an AMD guest reads 0
 * and its writes are dropped; they stay filtered (KVM's vPMU must not run
 * them). The CPUID-gated counters keep faulting, and so does every other vendor.
 */
static void test_k7_counters(void **state)
{
	static const uint32_t gated[] = {0xc0010200, 0xc001020b, 0xc0000300, 0xc0000303, 0xc1};
	struct kvm_run *run = calloc(1, sizeof(*run));
	struct msr_counts c;
	struct msr_policy p;
	struct capture cap;
	char *log;

	(void)state;
	init_policy_vendor(&p, false, "", CPU_VENDOR_AMD);
	assert_int_equal(p.nr_ranges, 3);
	capture_begin(&cap);
	for (uint32_t i = 0xc0010000; i <= 0xc0010007; i++) {
		assert_true(msr_policy_filtered(&p, i));
		msr_exit(&p, run, false, i, 0x1234, KVM_MSR_EXIT_REASON_FILTER, 0);
		assert_int_equal(run->msr.error, 0);
		assert_int_equal(run->msr.data, 0);
		/* Enable bits, a counter start value, all ones: dropped, no fault. */
		msr_exit(&p, run, true, i, i < 0xc0010004 ? 0x530076 : ~0ULL,
			 KVM_MSR_EXIT_REASON_FILTER, 0);
		assert_int_equal(run->msr.error, 0);
		msr_exit(&p, run, false, i, 0, KVM_MSR_EXIT_REASON_FILTER, 0);
		assert_int_equal(run->msr.error, 0);
		assert_int_equal(run->msr.data, 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(gated); i++) {
		msr_exit(&p, run, false, gated[i], 0, KVM_MSR_EXIT_REASON_FILTER, 0);
		assert_int_equal(run->msr.error, 1);
		msr_exit(&p, run, true, gated[i], 0, KVM_MSR_EXIT_REASON_FILTER, 0);
		assert_int_equal(run->msr.error, 1);
	}
	log = capture_end(&cap);
	assert_null(strstr(log, "0xc001000"));
	assert_non_null(strstr(log, "rdmsr 0xc0010200 (filtered) -> #GP"));
	assert_int_equal(msr_policy_counts(&p, 0xc0010004, &c), 0);
	assert_int_equal(c.reads, 2);
	assert_int_equal(c.writes, 1);
	assert_int_equal(c.denied, 0);
	assert_int_equal(msr_policy_denied_total(&p), 2 * ARRAY_SIZE(gated));
	free(log);
	msr_policy_destroy(&p);

	/* Intel and unknown vendors have no MSRs there: #GP. */
	for (int v = 0; v < 2; v++) {
		init_policy_vendor(&p, false, "", v ? CPU_VENDOR_OTHER : CPU_VENDOR_INTEL);
		capture_begin(&cap);
		msr_exit(&p, run, false, 0xc0010000, 0, KVM_MSR_EXIT_REASON_FILTER, 0);
		assert_int_equal(run->msr.error, 1);
		msr_exit(&p, run, true, 0xc0010007, 0, KVM_MSR_EXIT_REASON_FILTER, 0);
		assert_int_equal(run->msr.error, 1);
		free(capture_end(&cap));
		assert_int_equal(p.nr_rules, 0);
		msr_policy_destroy(&p);
	}

	/* The PMU on: KVM's vPMU has them, nothing is filtered or built in. */
	init_policy_vendor(&p, true, "", CPU_VENDOR_AMD);
	assert_int_equal(p.nr_rules, 0);
	assert_false(msr_policy_filtered(&p, 0xc0010000));
	msr_policy_destroy(&p);

	/* The file's rules win over the built-in ones, one rule per MSR. */
	init_policy_vendor(&p, false, "msr 0xc0010004 gp\nmsr 0xc0010000 value 5 check\n",
			   CPU_VENDOR_AMD);
	assert_int_equal(p.nr_rules, 8);
	capture_begin(&cap);
	msr_exit(&p, run, false, 0xc0010004, 0, KVM_MSR_EXIT_REASON_FILTER, 0);
	assert_int_equal(run->msr.error, 1);
	msr_exit(&p, run, false, 0xc0010000, 0, KVM_MSR_EXIT_REASON_FILTER, 0);
	assert_int_equal(run->msr.error, 0);
	assert_int_equal(run->msr.data, 5);
	msr_exit(&p, run, true, 0xc0010000, 0, KVM_MSR_EXIT_REASON_FILTER, 0);
	assert_int_equal(run->msr.error, 1);
	msr_exit(&p, run, false, 0xc0010005, 0, KVM_MSR_EXIT_REASON_FILTER, 0);
	assert_int_equal(run->msr.error, 0);
	assert_int_equal(run->msr.data, 0);
	free(capture_end(&cap));
	msr_policy_destroy(&p);
	free(run);
}

/*
 * MSRs of the other vendor that KVM would answer (IA32_MISC_ENABLE on an AMD
 * guest, HWCR on an Intel one) fault like on that vendor's hardware.
 */
static void test_other_vendor_msrs(void **state)
{
	static const uint32_t intel_only[] = {0x17,  0x34,  0x3a,  0xc1,  0xc2,	 0xce,	0x11e,
					      0x140, 0x186, 0x187, 0x198, 0x199, 0x1a0, 0x1fc,
					      0x38f, 0x4c1, 0x606, 0x611, 0x641};
	static const uint32_t amd_only[] = {0xc0010000, 0xc0010010, 0xc0010015, 0xc0010058,
					    0xc0010114, 0xc0011029, 0xc001102a, 0xc0011fff};
	static const uint32_t shared[] = {0x10,	      0x1b,	  0x2a,	      0x1d9,
					  0x277,      0x2ff,	  0xc0000080, 0xc0000103,
					  0xc0002000, 0x4b564d00, 0xc0012000};
	struct kvm_run *run = calloc(1, sizeof(*run));
	struct msr_policy p;
	struct capture cap;

	(void)state;
	for (int pmu = 0; pmu < 2; pmu++) {
		init_policy_vendor(&p, pmu, "", CPU_VENDOR_AMD);
		/* The Intel-only MSRs share the Intel PMU range: no range is used up. */
		assert_int_equal(p.nr_ranges, pmu ? 1 : 3);
		capture_begin(&cap);
		for (size_t i = 0; i < ARRAY_SIZE(intel_only); i++) {
			assert_true(msr_policy_filtered(&p, intel_only[i]));
			msr_exit(&p, run, false, intel_only[i], 0, KVM_MSR_EXIT_REASON_FILTER, 0);
			assert_int_equal(run->msr.error, 1);
		}
		free(capture_end(&cap));
		for (size_t i = 0; i < ARRAY_SIZE(amd_only); i++)
			assert_int_equal(msr_policy_filtered(&p, amd_only[i]),
					 !pmu && amd_only[i] == 0xc0010000);
		for (size_t i = 0; i < ARRAY_SIZE(shared); i++)
			assert_false(msr_policy_filtered(&p, shared[i]));
		msr_policy_destroy(&p);

		init_policy_vendor(&p, pmu, "", CPU_VENDOR_INTEL);
		/* AMD's space joins the AMD PMU range. */
		assert_int_equal(p.nr_ranges, pmu ? 1 : 3);
		capture_begin(&cap);
		for (size_t i = 0; i < ARRAY_SIZE(amd_only); i++) {
			assert_true(msr_policy_filtered(&p, amd_only[i]));
			msr_exit(&p, run, true, amd_only[i], 0, KVM_MSR_EXIT_REASON_FILTER, 0);
			assert_int_equal(run->msr.error, 1);
		}
		free(capture_end(&cap));
		/* On an Intel guest only the hidden PMU's MSRs among them are filtered. */
		for (size_t i = 0; i < ARRAY_SIZE(intel_only); i++) {
			uint32_t m = intel_only[i];
			bool pmu_msr = m == 0xc1 || m == 0xc2 || m == 0x186 || m == 0x187 ||
				       m == 0x38f || m == 0x4c1;

			assert_int_equal(msr_policy_filtered(&p, m), !pmu && pmu_msr);
		}
		for (size_t i = 0; i < ARRAY_SIZE(shared); i++)
			assert_false(msr_policy_filtered(&p, shared[i]));
		msr_policy_destroy(&p);
	}
	/* A file rule still applies to such an MSR (here: give an AMD guest MISC_ENABLE). */
	init_policy_vendor(&p, false, "msr 0x1a0 value 0x1\n", CPU_VENDOR_AMD);
	msr_exit(&p, run, false, 0x1a0, 0, KVM_MSR_EXIT_REASON_FILTER, 0);
	assert_int_equal(run->msr.error, 0);
	assert_int_equal(run->msr.data, 1);
	msr_policy_destroy(&p);
	free(run);
}

static void test_report_quiet(void **state)
{
	struct kvm_run *run = calloc(1, sizeof(*run));
	struct msr_policy p;
	struct capture cap;
	char *log;

	(void)state;
	init_policy(&p, true, "msr 0x1a2 value 1\n");
	capture_begin(&cap);
	msr_exit(&p, run, false, 0x1a2, 0, KVM_MSR_EXIT_REASON_FILTER, 0);
	msr_policy_report(&p);
	log = capture_end(&cap);
	assert_string_equal(log, "");
	assert_int_equal(msr_policy_denied_total(&p), 0);
	free(log);
	msr_policy_destroy(&p);
	free(run);
}

static void test_tracking_bounded(void **state)
{
	struct kvm_run *run = calloc(1, sizeof(*run));
	struct msr_counts c;
	struct msr_policy p;
	struct capture cap;
	char *log;

	(void)state;
	init_policy(&p, true, "");
	capture_begin(&cap);
	for (uint32_t i = 0; i < MSR_POLICY_MAX_TRACKED + 50; i++)
		for (int k = 0; k < 2; k++)
			msr_exit(&p, run, false, 0x40000000 + i, 0, KVM_MSR_EXIT_REASON_UNKNOWN, 0);
	log = capture_end(&cap);
	assert_int_equal(p.nr_stats, MSR_POLICY_MAX_TRACKED);
	assert_int_equal(msr_policy_counts(&p, 0x40000000 + MSR_POLICY_MAX_TRACKED - 1, &c), 0);
	assert_int_equal(c.denied, 2);
	assert_int_equal(msr_policy_counts(&p, 0x40000000 + MSR_POLICY_MAX_TRACKED, &c), -ENOENT);
	assert_int_equal(p.untracked.denied, 100);
	assert_int_equal(msr_policy_denied_total(&p), 2 * (MSR_POLICY_MAX_TRACKED + 50));
	/* One line per tracked MSR plus one about the rest. */
	assert_int_equal(count_str(log, "\n"), MSR_POLICY_MAX_TRACKED + 1);
	free(log);
	msr_policy_destroy(&p);
	free(run);
}

struct hammer {
	struct msr_policy *p;
	unsigned vcpu;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	struct kvm_run run;

	memset(&run, 0, sizeof(run));
	for (int i = 0; i < 20000; i++) {
		run.exit_reason = (i & 1) ? KVM_EXIT_X86_WRMSR : KVM_EXIT_X86_RDMSR;
		run.msr.index = 0xc1 + (uint32_t)(i % 4);
		run.msr.reason = KVM_MSR_EXIT_REASON_FILTER;
		msr_policy_handle_exit(h->p, &run, h->vcpu);
	}
	return NULL;
}

static void test_concurrent_exits(void **state)
{
	struct hammer h[4];
	pthread_t t[4];
	struct msr_counts c;
	struct msr_policy p;
	struct capture cap;
	char *log;

	(void)state;
	init_policy(&p, false, "");
	capture_begin(&cap);
	for (unsigned i = 0; i < 4; i++) {
		h[i] = (struct hammer){&p, i};
		assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	log = capture_end(&cap);
	assert_int_equal(msr_policy_denied_total(&p), 80000);
	for (uint32_t m = 0xc1; m <= 0xc4; m++) {
		assert_int_equal(msr_policy_counts(&p, m, &c), 0);
		assert_int_equal(c.reads + c.writes, 20000);
	}
	assert_int_equal(count_str(log, "\n"), 4);
	free(log);
	msr_policy_destroy(&p);
}

/*
 * Against real KVM: install on a fresh VM, then run a real-mode guest doing
 * rdmsr 0x3a (a value rule) and rdmsr 0xc1 (hidden PMU) and check the exits.
 */
static void test_real_kvm(void **state)
{
	static const uint8_t code[] = {
	    0x66, 0xb9, 0x3a, 0x00, 0x00, 0x00, /* mov ecx, 0x3a */
	    0x0f, 0x32,				/* rdmsr */
	    0x66, 0x89, 0xc3,			/* mov ebx, eax */
	    0x66, 0xb9, 0xc1, 0x00, 0x00, 0x00, /* mov ecx, 0xc1 */
	    0x0f, 0x32,				/* rdmsr */
	    0xf4,				/* hlt */
	};
	struct kvm_userspace_memory_region region = {0};
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	struct msr_policy p;
	int kvm, vm, vcpu, run_size;
	uint8_t *mem;

	(void)state;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		skip();
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	assert_true(vm >= 0);
	init_policy(&p, false, "msr 0x3a value 0x5\n");
	assert_int_equal(msr_policy_install(&p, vm), 0);

	mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	memcpy(mem + 0x1000, code, sizeof(code));
	region.memory_size = 0x10000;
	region.userspace_addr = (uintptr_t)mem;
	assert_int_equal(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region), 0);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_true(vcpu >= 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	assert_true(run != MAP_FAILED);
	assert_int_equal(ioctl(vcpu, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	assert_int_equal(ioctl(vcpu, KVM_SET_SREGS, &sregs), 0);
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 2;
	assert_int_equal(ioctl(vcpu, KVM_SET_REGS, &regs), 0);

	assert_int_equal(ioctl(vcpu, KVM_RUN, 0), 0);
	assert_int_equal(run->exit_reason, KVM_EXIT_X86_RDMSR);
	assert_int_equal(run->msr.index, 0x3a);
	assert_int_equal(run->msr.reason, KVM_MSR_EXIT_REASON_FILTER);
	msr_policy_handle_exit(&p, run, 0);

	assert_int_equal(ioctl(vcpu, KVM_RUN, 0), 0);
	assert_int_equal(run->exit_reason, KVM_EXIT_X86_RDMSR);
	assert_int_equal(run->msr.index, 0xc1);
	assert_int_equal(run->msr.reason, KVM_MSR_EXIT_REASON_FILTER);
	/* Complete it as emulated so the guest reaches hlt (#GP would need an IDT). */
	run->msr.error = 0;
	run->msr.data = 0;

	assert_int_equal(ioctl(vcpu, KVM_RUN, 0), 0);
	assert_int_equal(run->exit_reason, KVM_EXIT_HLT);
	assert_int_equal(ioctl(vcpu, KVM_GET_REGS, &regs), 0);
	assert_int_equal(regs.rbx, 5);

	munmap(run, (size_t)run_size);
	close(vcpu);
	close(vm);
	munmap(mem, 0x10000);
	close(kvm);
	msr_policy_destroy(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter_pmu_off),
	    cmocka_unit_test(test_filter_pmu_on_and_rules),
	    cmocka_unit_test(test_filter_span_and_limits),
	    cmocka_unit_test(test_exits),
	    cmocka_unit_test(test_k7_counters),
	    cmocka_unit_test(test_other_vendor_msrs),
	    cmocka_unit_test(test_report_quiet),
	    cmocka_unit_test(test_tracking_bounded),
	    cmocka_unit_test(test_concurrent_exits),
	    cmocka_unit_test(test_real_kvm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
