/* SPDX-License-Identifier: MIT */
/*
 * Long-mode test guest: checks the CPUID/MSR view sluice gives a guest and
 * brings up the APs with INIT/SIPI. Every check prints one PASS/FAIL line
 * on COM1; the exit value is the number of the first failed check (0 when
 * all passed), so a failing run names what failed.
 *
 * The test passes expectations on the kernel command line:
 *   cpus=N            number of vCPUs sluice was given (default 1)
 *   msr=IDX:VAL       (hex) an MSR the CPU policy passes through with VAL
 *   xsave=1           the host has XSAVE: CPUID must advertise it
 *
 * This is a freestanding guest, not sluice code: the exception handler has
 * no argument to carry state in, so the few fields it shares with the
 * checks live in one static struct.
 */
#include "guest_lib.h"
#include "lm_smp.h"

#define APIC_BASE      0xfee00000UL
#define APIC_SVR       0x0f0
#define APIC_ICR_LO    0x300
#define APIC_ICR_HI    0x310
#define ICR_BUSY       (1u << 12)
#define ICR_ALL_BUT_ME (3u << 18)
#define ICR_INIT       0x4500u /* INIT, level assert */
#define ICR_SIPI       0x4600u /* STARTUP, level assert */

#define MSR_IA32_APIC_BASE 0x1b
#define MSR_UNKNOWN	   0x12345678u /* in no range KVM or the SDM defines */

#define AP_WAIT_SPINS 2000000u /* a few seconds of emulated pause loops */

/* Checks, numbered by their exit value. */
enum {
	CK_HYPERVISOR_BIT = 1,
	CK_NO_MONITOR,
	CK_KVM_SIGNATURE,
	CK_KVM_MAX_LEAF,
	CK_KVMCLOCK,
	CK_BSP_APIC_ID,
	CK_TOPOLOGY,
	CK_NO_PMU,
	CK_APIC_BASE_MSR,
	CK_UNKNOWN_MSR_GP,
	CK_POLICY_MSR,
	CK_SMP,
	CK_CMDLINE,
	CK_MTRR_DEF_TYPE,
	CK_PMU_LEGACY_MSRS,
	CK_PMU_GATED_MSRS,
	CK_RDPMC,
	CK_MWAIT_UD,
	CK_VIRT_UD,
	CK_SGX_UD,
	CK_OTHER_VENDOR_MSRS,
	CK_XSAVE_CPUID,
	CK_XSETBV,
	CK_XSAVE_SIZE,
	CK_XSAVE_ROUNDTRIP,
};

struct opts {
	unsigned cpus;
	bool have_msr;
	uint32_t msr;
	uint64_t msr_val;
	bool cmdline_ok;
	bool vendor_forced; /* a policy file changed the CPUID vendor */
	bool want_xsave;
};

static struct {
	volatile bool gp_expected;
	volatile unsigned gp_count;
	/* PROBE(): where an expected #UD/#GP resumes (0: none armed), and its vector. */
	volatile uint64_t probe_resume;
	volatile unsigned probe_vector;
	unsigned passed, failed, first_failed;
} g;

extern const uint8_t trampoline_start[], trampoline_end[];

static void check(unsigned id, bool ok, const char *name)
{
	con_printf("%s: %s\n", ok ? "PASS" : "FAIL", name);
	if (ok) {
		g.passed++;
		return;
	}
	g.failed++;
	if (!g.first_failed)
		g.first_failed = id;
}

/* #GP on an expected rdmsr/wrmsr is skipped; anything else ends the run. */
void exc_handler(struct exc_frame *f)
{
	const uint8_t *ip = (const uint8_t *)f->rip;

	if (f->vector == 13 && g.gp_expected && ip[0] == 0x0f && (ip[1] == 0x32 || ip[1] == 0x30)) {
		g.gp_count++;
		f->rip += 2;
		return;
	}
	if ((f->vector == 6 || f->vector == 13) && g.probe_resume) {
		g.probe_vector = (unsigned)f->vector;
		f->rip = g.probe_resume;
		g.probe_resume = 0;
		return;
	}
	con_printf("FAIL: unexpected exception %u error 0x%lx at rip 0x%lx\n", (unsigned)f->vector,
		   f->error, f->rip);
	guest_exit(EXIT_BAD_EXCEPTION);
}

struct cpuid_regs {
	uint32_t a, b, c, d;
};

static struct cpuid_regs cpuid(uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d)
			 : "a"(leaf), "c"(sub));
	return r;
}

/* Returns true and sets *val if rdmsr did not fault. */
static bool rdmsr_safe(uint32_t idx, uint64_t *val)
{
	unsigned before = g.gp_count;
	uint32_t lo = 0, hi = 0;

	g.gp_expected = true;
	__asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(idx) : "memory");
	g.gp_expected = false;
	*val = (uint64_t)hi << 32 | lo;
	return g.gp_count == before;
}

static void parse_cmdline(const uint8_t *bp, struct opts *o)
{
	const char *p;

	o->cpus = 1;
	o->cmdline_ok = guest_cmdline(bp, &p);
	if (!p)
		return;
	con_printf("cmdline: %s\n", p);
	while (*p) {
		uint64_t v;

		while (*p == ' ')
			p++;
		if (starts_with(p, "cpus=")) {
			p += 5;
			o->cpus = 0;
			while (*p >= '0' && *p <= '9')
				o->cpus = o->cpus * 10 + (unsigned)(*p++ - '0');
			if (o->cpus == 0 || o->cpus > 255)
				o->cmdline_ok = false;
		} else if (starts_with(p, "msr=")) {
			p += 4;
			if (!parse_hex(&p, &v) || v > 0xffffffffu || *p++ != ':' ||
			    !parse_hex(&p, &o->msr_val)) {
				o->cmdline_ok = false;
				return;
			}
			o->msr = (uint32_t)v;
			o->have_msr = true;
		} else if (starts_with(p, "vendor_forced")) {
			o->vendor_forced = true;
		} else if (starts_with(p, "xsave=")) {
			o->want_xsave = p[6] == '1';
		}
		while (*p && *p != ' ')
			p++;
	}
}

static void check_cpuid(const struct opts *o)
{
	struct cpuid_regs r0 = cpuid(0, 0), r1 = cpuid(1, 0), h, r;
	uint8_t sig[12];
	unsigned last_count = 0, levels = 0;
	uint32_t x2apic_id = ~0u;
	bool ok;

	check(CK_HYPERVISOR_BIT, r1.c & (1u << 31), "CPUID.1:ECX.hypervisor[31] set");
	check(CK_NO_MONITOR, !(r1.c & (1u << 3)), "CPUID.1:ECX.MONITOR[3] clear");

	h = cpuid(0x40000000, 0);
	memcpy(sig, &h.b, 4);
	memcpy(sig + 4, &h.c, 4);
	memcpy(sig + 8, &h.d, 4);
	check(CK_KVM_SIGNATURE, bytes_equal(sig, "KVMKVMKVM\0\0\0", 12),
	      "CPUID.0x40000000 signature \"KVMKVMKVM\\0\\0\\0\"");
	con_printf("  max hypervisor leaf 0x%x\n", h.a);
	check(CK_KVM_MAX_LEAF, h.a >= 0x40000001, "CPUID.0x40000000:EAX >= 0x40000001");

	/* KVM_FEATURE_CLOCKSOURCE (0) or KVM_FEATURE_CLOCKSOURCE2 (3). */
	r = cpuid(0x40000001, 0);
	con_printf("  KVM features 0x%x\n", r.a);
	check(CK_KVMCLOCK, h.a >= 0x40000001 && (r.a & (1u << 0 | 1u << 3)),
	      "CPUID.0x40000001:EAX has kvmclock");

	con_printf("  initial APIC ID %u\n", r1.b >> 24);
	check(CK_BSP_APIC_ID, (r1.b >> 24) == 0, "CPUID.1:EBX[31:24] BSP APIC ID == 0");

	/* The last level of leaf 0xB counts the logical processors in the package. */
	con_printf("  max basic leaf 0x%x\n", r0.a);
	if (r0.a >= 0xb) {
		for (unsigned sub = 0; sub < 8; sub++) {
			r = cpuid(0xb, sub);
			if (((r.c >> 8) & 0xff) == 0)
				break;
			con_printf("  leaf 0xB.%u: type %u, %u logical, shift %u, x2APIC ID %u\n",
				   sub, (r.c >> 8) & 0xff, r.b & 0xffff, r.a & 0x1f, r.d);
			last_count = r.b & 0xffff;
			x2apic_id = r.d;
			levels++;
		}
	}
	con_printf("  topology: %u logical processors, expected %u\n", last_count, o->cpus);
	check(CK_TOPOLOGY, levels > 0 && last_count == o->cpus && x2apic_id == 0,
	      "CPUID.0xB topology matches --cpus, BSP x2APIC ID 0");

	ok = true;
	if (r0.a >= 0xa) {
		r = cpuid(0xa, 0);
		con_printf("  leaf 0xA: %x %x %x %x\n", r.a, r.b, r.c, r.d);
		ok = !r.a && !r.b && !r.c && !r.d;
	}
	check(CK_NO_PMU, ok, "CPUID.0xA (PMU) all zero");
}

static void check_msrs(const struct opts *o)
{
	uint64_t v = 0;
	bool ok;

	/* A known MSR must not fault: the #GP check below is then meaningful. */
	ok = rdmsr_safe(MSR_IA32_APIC_BASE, &v);
	con_printf("  IA32_APIC_BASE 0x%lx\n", v);
	check(CK_APIC_BASE_MSR,
	      ok && (v & ~0xfffULL) == APIC_BASE && (v & (1u << 8)) && (v & (1u << 11)),
	      "rdmsr IA32_APIC_BASE: 0xfee00000, BSP, enabled");

	/* Firmware-like MTRR state: enabled, default type write-back. */
	ok = rdmsr_safe(0x2ff, &v);
	con_printf("  IA32_MTRR_DEF_TYPE 0x%lx\n", v);
	check(CK_MTRR_DEF_TYPE, ok && (v & 0x8ff) == 0x806,
	      "rdmsr IA32_MTRR_DEF_TYPE: enabled, write-back default");

	ok = !rdmsr_safe(MSR_UNKNOWN, &v);
	check(CK_UNKNOWN_MSR_GP, ok, "rdmsr of an unknown MSR raises #GP");

	if (!o->have_msr)
		return;
	ok = rdmsr_safe(o->msr, &v);
	con_printf("  MSR 0x%x = 0x%lx (%s), expected 0x%lx\n", o->msr, v, ok ? "read" : "#GP",
		   o->msr_val);
	check(CK_POLICY_MSR, ok && v == o->msr_val, "policy MSR reads back its configured value");
}

/*
 * What a hidden feature looks like. Real hardware without a feature raises
 * #UD on its instructions and #GP on its MSRs; these checks hold sluice to
 * that where the CPU lets KVM trap the instruction (docs/cpu-policy.md has
 * the table). PROBE() runs one instruction with a, c, d in rax/rcx/rdx
 * (updated on return) and yields the vector it raised, #UD or #GP, or
 * PROBE_NONE when it completed.
 */
#define PROBE_NONE	0xffu
#define PROBE_NELEMS(x) (sizeof(x) / sizeof((x)[0]))
#define VEC_UD		6u
#define VEC_GP		13u
#define PROBE(insn, a, c, d)                                                                       \
	({                                                                                         \
		g.probe_vector = PROBE_NONE;                                                       \
		__asm__ volatile("leaq 1f(%%rip), %%r11\n\t"                                       \
				 "movq %%r11, %[res]\n\t" insn "\n1:"                              \
				 : [res] "=m"(g.probe_resume), "+a"(a), "+c"(c), "+d"(d)           \
				 :                                                                 \
				 : "r11", "memory");                                               \
		g.probe_resume = 0;                                                                \
		g.probe_vector;                                                                    \
	})

#define MSR_EFER	  0xc0000080u
#define EFER_SVME	  (1ull << 12)
#define CR4_VMXE	  (1ull << 13)
#define CR4_SMXE	  (1ull << 14)
#define MSR_K7_EVNTSEL0	  0xc0010000u
#define MSR_K7_PERFCTR0	  0xc0010004u
#define MSR_F15H_PERF_CTL 0xc0010200u
#define MSR_PERF_GLOBAL	  0xc0000300u

enum vendor { VENDOR_OTHER, VENDOR_INTEL, VENDOR_AMD };

static enum vendor guest_vendor(void)
{
	struct cpuid_regs r = cpuid(0, 0);

	if (r.b == 0x756e6547 && r.d == 0x49656e69 && r.c == 0x6c65746e) /* GenuineIntel */
		return VENDOR_INTEL;
	if ((r.b == 0x68747541 && r.d == 0x69746e65 && r.c == 0x444d4163) || /* AuthenticAMD */
	    (r.b == 0x6f677948 && r.d == 0x6e65476e && r.c == 0x656e6975))   /* HygonGenuine */
		return VENDOR_AMD;
	return VENDOR_OTHER;
}

static const char *vec_name(unsigned v)
{
	return v == VEC_UD ? "#UD" : v == VEC_GP ? "#GP" : "completes";
}

static unsigned probe_rdmsr(uint32_t idx, uint64_t *val)
{
	uint64_t a = 0, c = idx, d = 0;
	unsigned v = PROBE("rdmsr", a, c, d);

	*val = (d & 0xffffffffu) << 32 | (a & 0xffffffffu);
	return v;
}

static unsigned probe_wrmsr(uint32_t idx, uint64_t val)
{
	uint64_t a = val & 0xffffffffu, c = idx, d = val >> 32;

	return PROBE("wrmsr", a, c, d);
}

/* One line per probe: what the guest saw, for the docs table and the log. */
static bool saw(const char *what, unsigned got, unsigned want)
{
	con_printf("  %s: %s%s\n", what, vec_name(got), got == want ? "" : " (unexpected)");
	return got == want;
}

static void check_pmu_msrs(const struct opts *o)
{
	static const uint32_t gated[] = {
	    MSR_F15H_PERF_CTL,
	    MSR_F15H_PERF_CTL + 1,
	    0xc001020b, /* PerfCtrExtCore */
	    MSR_PERF_GLOBAL,
	    MSR_PERF_GLOBAL + 3, /* PerfMonV2 */
	    0xc0010230,
	    0xc0010240, /* L3/LLC and NB counters */
	    0xc1,
	    0x186,
	    0x309, /* Intel PMC0, EVTSEL0, FIXED0 */
	    0x345,
	    0x38f,
	    0x4c1, /* PERF_CAPS, GLOBAL_CTRL, A_PMC0 */
	};
	enum vendor vendor = guest_vendor();
	struct cpuid_regs e1 = cpuid(0x80000001, 0);
	uint64_t v, a, c, d;
	unsigned vec;
	bool ok = true;

	if (cpuid(0x80000000, 0).a < 0x80000001)
		e1.c = 0;
	/* "pmu on" shows in CPUID unless the host has neither; the runs here use the default. */
	if ((e1.c & (1u << 23)) || (cpuid(0, 0).a >= 0xa && cpuid(0xa, 0).a)) {
		con_printf("PMU visible (PerfCtrExtCore or leaf 0xA): PMU MSR checks skipped\n");
		return;
	}
	/*
	 * AMD: the K7 counters exist on every AMD CPU without a CPUID bit, so with
	 * the PMU off they read 0 and drop writes. Intel has no MSRs there: #GP.
	 */
	if (vendor != VENDOR_OTHER) {
		unsigned want = vendor == VENDOR_AMD ? PROBE_NONE : VEC_GP;

		for (uint32_t i = 0; i < 8; i++) {
			vec = probe_rdmsr(MSR_K7_EVNTSEL0 + i, &v);
			if (vec != want || v != 0) {
				con_printf("  rdmsr 0x%x: %s, 0x%lx\n", MSR_K7_EVNTSEL0 + i,
					   vec_name(vec), v);
				ok = false;
			}
		}
		/* Enable counter 0 (cycles, OS+USR) with a start value: nothing must stick. */
		ok &= probe_wrmsr(MSR_K7_PERFCTR0, 0x1234) == want;
		ok &= probe_wrmsr(MSR_K7_EVNTSEL0, 0x530076) == want;
		for (unsigned k = 0; k < 1000; k++)
			cpu_relax();
		if (want == PROBE_NONE) {
			ok &= probe_rdmsr(MSR_K7_PERFCTR0, &v) == PROBE_NONE && v == 0;
			ok &= probe_rdmsr(MSR_K7_EVNTSEL0, &v) == PROBE_NONE && v == 0;
		}
		con_printf("  0xc0010000-0xc0010007 (K7 counters): %s\n",
			   want == PROBE_NONE ? "read 0, writes dropped" : "#GP");
		check(CK_PMU_LEGACY_MSRS, ok,
		      vendor == VENDOR_AMD ? "PMU off, AMD: K7 counter MSRs read 0 and drop writes"
					   : "PMU off, Intel: K7 counter MSRs raise #GP");
	}

	ok = true;
	for (unsigned i = 0; i < PROBE_NELEMS(gated); i++) {
		vec = probe_rdmsr(gated[i], &v);
		if (vec != VEC_GP) {
			con_printf("  rdmsr 0x%x: %s 0x%lx (unexpected)\n", gated[i], vec_name(vec),
				   v);
			ok = false;
		}
	}
	ok &= probe_wrmsr(MSR_F15H_PERF_CTL + 1, 0) == VEC_GP;
	ok &= probe_wrmsr(MSR_PERF_GLOBAL + 1, 0) == VEC_GP;
	check(CK_PMU_GATED_MSRS, ok,
	      "PMU off: CPUID-gated counter MSRs (0xc0010200+, 0xc0000300+, Intel) raise #GP");

	/*
	 * RDPMC is intercepted and answered by KVM's vPMU, which follows the host's
	 * vendor: counters 0-3 are the K7 ones on AMD (never enabled, so 0), Intel's
	 * with no architectural PMU fault. A policy-forced vendor is not checked.
	 */
	ok = true;
	a = 0, c = 0, d = 0;
	vec = PROBE("rdpmc", a, c, d);
	con_printf("  rdpmc 0: %s, 0x%lx\n", vec_name(vec), (d << 32) | (a & 0xffffffffu));
	if (vendor == VENDOR_AMD && !o->vendor_forced)
		ok &= vec == PROBE_NONE && a == 0 && d == 0;
	else if (vendor == VENDOR_INTEL && !o->vendor_forced)
		ok &= vec == VEC_GP;
	c = 4;
	ok &= saw("rdpmc 4 (PerfCtrExtCore counter)", PROBE("rdpmc", a, c, d), VEC_GP);
	check(CK_RDPMC, ok, "PMU off: rdpmc as hardware without the hidden counters");
}

/* MSRs KVM answers for either vendor fault where the advertised vendor has none. */
static void check_other_vendor_msrs(void)
{
	static const uint32_t intel_only[] = {0x17, 0x34, 0xce, 0x140, 0x198, 0x199, 0x1a0, 0x1fc};
	static const uint32_t amd_only[] = {0xc0010010, 0xc0010015, 0xc0010058, 0xc0011029};
	enum vendor vendor = guest_vendor();
	const uint32_t *m = vendor == VENDOR_AMD ? intel_only : amd_only;
	unsigned n = vendor == VENDOR_AMD ? PROBE_NELEMS(intel_only) : PROBE_NELEMS(amd_only);
	uint64_t v;
	bool ok = true;

	if (vendor == VENDOR_OTHER)
		return;
	for (unsigned i = 0; i < n; i++) {
		unsigned vec = probe_rdmsr(m[i], &v);

		if (vec != VEC_GP) {
			con_printf("  rdmsr 0x%x: %s 0x%lx (unexpected)\n", m[i], vec_name(vec), v);
			ok = false;
		}
	}
	check(CK_OTHER_VENDOR_MSRS, ok,
	      vendor == VENDOR_AMD ? "AMD guest: Intel-only MSRs (MISC_ENABLE, ...) raise #GP"
				   : "Intel guest: AMD-only MSRs (HWCR, DE_CFG, ...) raise #GP");
}

static void check_hidden_insns(void)
{
	uint64_t a, c, d, cr4, efer;
	unsigned vec;
	bool ok = true;

	/* MONITOR/MWAIT: hidden (CPUID.1:ECX[3]); KVM intercepts both. */
	a = (uint64_t)&g, c = 0, d = 0;
	ok &= saw("MONITOR: monitor", PROBE("monitor", a, c, d), VEC_UD);
	a = 0, c = 0;
	ok &= saw("MONITOR: mwait", PROBE("mwait", a, c, d), VEC_UD);
	check(CK_MWAIT_UD, ok, "hidden MONITOR/MWAIT raise #UD");

	/* VMX (CPUID.1:ECX[5]): CR4.VMXE is reserved, so VMX instructions #UD. */
	ok = true;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	a = cr4 | CR4_VMXE, c = 0, d = 0;
	ok &= saw("VMX: mov to CR4.VMXE", PROBE("mov %%rax, %%cr4", a, c, d), VEC_GP);
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	ok &= saw("VMX: vmxoff", PROBE(".byte 0x0f, 0x01, 0xc4", a, c, d), VEC_UD);
	/* SMX (CPUID.1:ECX[6]): CR4.SMXE reserved, GETSEC #UD. */
	a = cr4 | CR4_SMXE;
	ok &= saw("SMX: mov to CR4.SMXE", PROBE("mov %%rax, %%cr4", a, c, d), VEC_GP);
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	a = 0;
	ok &= saw("SMX: getsec", PROBE(".byte 0x0f, 0x37", a, c, d), VEC_UD);
	/* SVM (CPUID.80000001H:ECX[2]): EFER.SVME is reserved, SVM instructions #UD. */
	probe_rdmsr(MSR_EFER, &efer);
	ok &= saw("SVM: wrmsr EFER.SVME", probe_wrmsr(MSR_EFER, efer | EFER_SVME), VEC_GP);
	probe_wrmsr(MSR_EFER, efer);
	a = 0, c = 0, d = 0;
	ok &= saw("SVM: vmrun", PROBE(".byte 0x0f, 0x01, 0xd8", a, c, d), VEC_UD);
	ok &= saw("SVM: vmload", PROBE(".byte 0x0f, 0x01, 0xda", a, c, d), VEC_UD);
	ok &= saw("SVM: vmsave", PROBE(".byte 0x0f, 0x01, 0xdb", a, c, d), VEC_UD);
	ok &= saw("SVM: stgi", PROBE(".byte 0x0f, 0x01, 0xdc", a, c, d), VEC_UD);
	ok &= saw("SVM: clgi", PROBE(".byte 0x0f, 0x01, 0xdd", a, c, d), VEC_UD);
	ok &= saw("SVM: skinit", PROBE(".byte 0x0f, 0x01, 0xde", a, c, d), VEC_UD);
	ok &= saw("SVM: invlpga", PROBE(".byte 0x0f, 0x01, 0xdf", a, c, d), VEC_UD);
	check(CK_VIRT_UD, ok, "hidden VMX/SMX/SVM: enable bits #GP, instructions #UD");

	/* SGX (CPUID.7.0:EBX[2]): ENCLS is intercepted; ENCLU cannot be (see docs). */
	ok = true;
	a = 0, c = 0, d = 0;
	ok &= saw("SGX: encls", PROBE(".byte 0x0f, 0x01, 0xcf", a, c, d), VEC_UD);
	a = 0;
	vec = PROBE(".byte 0x0f, 0x01, 0xd7", a, c, d);
	con_printf("  SGX: enclu: %s (not trapped: the host CPU answers)\n", vec_name(vec));
	ok &= vec != PROBE_NONE;
	check(CK_SGX_UD, ok, "hidden SGX: encls raises #UD, enclu faults");
}

/* MSRs of hidden features, for the docs table: printed, not judged. */
static void report_msrs(void)
{
	static const struct {
		uint32_t idx;
		const char *name;
	} m[] = {
	    {0x17, "IA32_PLATFORM_ID"},
	    {0x2a, "EBL_CR_POWERON"},
	    {0x34, "SMI_COUNT"},
	    {0x3a, "IA32_FEATURE_CONTROL (VMX/SMX/SGX)"},
	    {0x8c, "IA32_SGXLEPUBKEYHASH0 (SGX_LC)"},
	    {0xce, "PLATFORM_INFO"},
	    {0xe7, "IA32_MPERF (leaf 6)"},
	    {0xe8, "IA32_APERF (leaf 6)"},
	    {0x140, "MISC_FEATURES_ENABLES"},
	    {0x198, "IA32_PERF_STATUS (EST)"},
	    {0x199, "IA32_PERF_CTL (EST)"},
	    {0x19a, "IA32_CLOCK_MODULATION (ACPI)"},
	    {0x19b, "IA32_THERM_INTERRUPT (ACPI)"},
	    {0x19c, "IA32_THERM_STATUS (ACPI)"},
	    {0x1a0, "IA32_MISC_ENABLE"},
	    {0x1b0, "IA32_ENERGY_PERF_BIAS (leaf 6)"},
	    {0x1b1, "IA32_PACKAGE_THERM_STATUS (leaf 6)"},
	    {0x1d9, "IA32_DEBUGCTL"},
	    {0x1fc, "MSR_POWER_CTL"},
	    {0x3f1, "IA32_PEBS_ENABLE (DS)"},
	    {0x480, "IA32_VMX_BASIC (VMX)"},
	    {0x600, "IA32_DS_AREA (DS)"},
	    {0x770, "IA32_PM_ENABLE (HWP, leaf 6)"},
	    {0xc0000104, "AMD TSC_RATIO (SVM)"},
	    {0xc0010010, "AMD SYSCFG"},
	    {0xc0010015, "AMD HWCR"},
	    {0xc0010058, "AMD MMIO_CONF_BASE"},
	    {0xc0010061, "AMD P-state limit"},
	    {0xc0010062, "AMD P-state control"},
	    {0xc0010063, "AMD P-state status"},
	    {0xc0010064, "AMD P-state 0"},
	    {0xc0010114, "AMD VM_CR (SVM)"},
	    {0xc0010117, "AMD VM_HSAVE_PA (SVM)"},
	    {0xc0010140, "AMD OSVW_ID_LENGTH"},
	    {0xc00102b0, "AMD CPPC_CAP1"},
	    {0xc0011029, "AMD DE_CFG"},
	    {0xc001102a, "AMD BU_CFG2"},
	    {0x4b564d08, "KVM MIGRATION_CONTROL (hidden PV)"},
	};
	uint64_t v;

	for (unsigned i = 0; i < PROBE_NELEMS(m); i++) {
		unsigned vec = probe_rdmsr(m[i].idx, &v);

		if (vec == PROBE_NONE)
			con_printf("  msr 0x%x %s: 0x%lx\n", m[i].idx, m[i].name, v);
		else
			con_printf("  msr 0x%x %s: %s\n", m[i].idx, m[i].name, vec_name(vec));
	}
}

static inline uint32_t apic_read(unsigned reg)
{
	return *(volatile uint32_t *)(APIC_BASE + reg);
}

static inline void apic_write(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(APIC_BASE + reg) = v;
}

static void spin(unsigned n)
{
	while (n--)
		cpu_relax();
}

static bool apic_send_ipi(uint32_t icr)
{
	apic_write(APIC_ICR_HI, 0);
	apic_write(APIC_ICR_LO, icr);
	for (unsigned i = 0; i < 100000; i++)
		if (!(apic_read(APIC_ICR_LO) & ICR_BUSY))
			return true;
	return false;
}

static void check_smp(const struct opts *o)
{
	uint8_t *tr = (uint8_t *)TRAMPOLINE_BASE;
	volatile uint32_t *count = (volatile uint32_t *)(tr + TR_COUNT);
	volatile uint32_t *ids = (volatile uint32_t *)(tr + TR_IDS);
	unsigned want = o->cpus - 1, got, i, j;
	bool ok = true;

	if (o->cpus == 1) {
		con_printf("SMP: 1 cpus up (no APs to start)\n");
		return;
	}
	if (want > TR_MAX_APS) {
		check(CK_SMP, false, "SMP: more APs than the trampoline has slots");
		return;
	}
	memcpy(tr, trampoline_start, (size_t)(trampoline_end - trampoline_start));

	apic_write(APIC_SVR, apic_read(APIC_SVR) | 0x100);
	ok = apic_send_ipi(ICR_ALL_BUT_ME | ICR_INIT);
	spin(1000);
	ok = ok && apic_send_ipi(ICR_ALL_BUT_ME | ICR_SIPI | TRAMPOLINE_VECTOR);
	spin(1000);
	if (*count < want)
		ok = ok && apic_send_ipi(ICR_ALL_BUT_ME | ICR_SIPI | TRAMPOLINE_VECTOR);
	if (!ok)
		con_printf("  ICR delivery status stuck\n");

	for (i = 0; i < AP_WAIT_SPINS && *count < want; i++)
		cpu_relax();
	got = *count;
	con_printf("  %u of %u APs checked in after %u spins\n", got, want, i);
	for (i = 0; i < got && i < TR_MAX_APS; i++) {
		con_printf("  AP APIC ID %u\n", ids[i]);
		if (ids[i] == 0 || ids[i] > 0xff)
			ok = false;
		for (j = 0; j < i; j++)
			if (ids[j] == ids[i])
				ok = false;
	}
	con_printf("SMP: %u cpus up\n", got + 1);
	check(CK_SMP, ok && got == want, "SMP: every AP started, APIC IDs distinct");
}

/*
 * XSAVE: the state components CPUID leaf 0xD advertises must be enableable
 * in XCR0, and their sizes/offsets must describe what XSAVE really writes
 * (Linux checks the same sums at boot and disables XSAVE, and with it AVX,
 * when they disagree).
 */
#define CPUID1_ECX_XSAVE   (1u << 26)
#define CPUID1_ECX_OSXSAVE (1u << 27)
#define CPUID1_ECX_AVX	   (1u << 28)
#define CPUID7_EBX_AVX2	   (1u << 5)
#define CPUID7_EBX_AVX512F (1u << 16)
#define CPUIDD1_EAX_XSAVEC (1u << 1)
#define CR4_OSXSAVE	   (1ul << 18)
#define XFEAT_FP_SSE	   0x3ull
#define XFEAT_YMM	   0x4ull
#define XFEAT_AVX512	   0xe0ull
#define XSAVE_HDR_END	   576 /* 512-byte legacy area + 64-byte header */
#define XSAVE_BUF_SIZE	   16384
#define XSAVE_CANARY	   0xa5

static uint8_t xsave_buf[XSAVE_BUF_SIZE] __attribute__((aligned(64)));
static uint8_t xrstor_buf[XSAVE_BUF_SIZE] __attribute__((aligned(64)));

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

static void xsave64(void *buf, uint64_t rfbm)
{
	__asm__ volatile("xsave64 (%0)"
			 :
			 : "r"(buf), "a"((uint32_t)rfbm), "d"((uint32_t)(rfbm >> 32))
			 : "memory");
}

static void xsavec64(void *buf, uint64_t rfbm)
{
	__asm__ volatile("xsavec64 (%0)"
			 :
			 : "r"(buf), "a"((uint32_t)rfbm), "d"((uint32_t)(rfbm >> 32))
			 : "memory");
}

static void xrstor64(const void *buf, uint64_t rfbm)
{
	__asm__ volatile("xrstor64 (%0)"
			 :
			 : "r"(buf), "a"((uint32_t)rfbm), "d"((uint32_t)(rfbm >> 32))
			 : "memory");
}

/* Standard (XSAVE) and compacted (XSAVEC) sizes of the components in xcr0, from leaf 0xD. */
static bool xsave_layout(uint64_t xcr0, uint32_t *std_size, uint32_t *compact_size)
{
	uint32_t std = XSAVE_HDR_END, compact = XSAVE_HDR_END;
	bool ok = true;

	for (unsigned i = 2; i < 63; i++) {
		struct cpuid_regs c;

		if (!(xcr0 & (1ull << i)))
			continue;
		c = cpuid(0xd, i);
		con_printf("  leaf 0xD.%u: size %u offset %u%s\n", i, c.a, c.b,
			   (c.c & 2) ? " (64-byte aligned when compacted)" : "");
		if (c.a == 0 || c.b < XSAVE_HDR_END) {
			con_printf("  component %u: size %u at offset %u is not a valid layout\n",
				   i, c.a, c.b);
			ok = false;
		}
		if (c.b + c.a > std)
			std = c.b + c.a;
		if (c.c & 2)
			compact = (compact + 63) & ~63u;
		compact += c.a;
	}
	*std_size = std;
	*compact_size = compact;
	return ok;
}

static bool bytes_all(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/*
 * XRSTOR a pattern into the XMM (and YMM upper) registers, XSAVE them
 * back: the registers must come back at the offsets leaf 0xD gives, and
 * XSAVE must write nothing past the size leaf 0xD.0 EBX reports.
 */
static bool xsave_roundtrip(uint64_t xcr0, uint32_t size)
{
	uint32_t ymm_off = cpuid(0xd, 2).b;
	uint64_t xstate_bv;
	bool ok = true;

	memset(xrstor_buf, 0, sizeof(xrstor_buf));
	xrstor_buf[24] = 0x80; /* MXCSR 0x1f80 */
	xrstor_buf[25] = 0x1f;
	for (unsigned i = 0; i < 256; i++)
		xrstor_buf[160 + i] = (uint8_t)(i * 7 + 1); /* XMM0-15 */
	xstate_bv = XFEAT_FP_SSE;
	if (xcr0 & XFEAT_YMM) {
		for (unsigned i = 0; i < 256; i++)
			xrstor_buf[ymm_off + i] = (uint8_t)(i * 13 + 5); /* YMM0-15 upper halves */
		xstate_bv |= XFEAT_YMM;
	}
	memcpy(xrstor_buf + 512, &xstate_bv, 8);
	xrstor64(xrstor_buf, xcr0);

	/* XSAVE leaves the header's bits outside RFBM as they were: start at 0. */
	memset(xsave_buf, 0, size);
	memset(xsave_buf + size, XSAVE_CANARY, sizeof(xsave_buf) - size);
	xsave64(xsave_buf, xcr0);
	memcpy(&xstate_bv, xsave_buf + 512, 8);
	if (!bytes_equal(xsave_buf + 160, xrstor_buf + 160, 256)) {
		con_printf("  XMM registers did not survive XRSTOR/XSAVE\n");
		ok = false;
	}
	if ((xcr0 & XFEAT_YMM) && !bytes_equal(xsave_buf + ymm_off, xrstor_buf + ymm_off, 256)) {
		con_printf("  YMM upper halves not at leaf 0xD.2 offset %u after XSAVE\n", ymm_off);
		ok = false;
	}
	if (xstate_bv & ~xcr0) {
		con_printf("  XSTATE_BV 0x%lx has components outside XCR0\n", xstate_bv);
		ok = false;
	}
	if (!bytes_all(xsave_buf + size, sizeof(xsave_buf) - size, XSAVE_CANARY)) {
		con_printf("  XSAVE wrote past the %u bytes leaf 0xD.0 EBX reports\n", size);
		ok = false;
	}
	return ok;
}

static void check_xsave(const struct opts *o)
{
	struct cpuid_regs r1 = cpuid(1, 0), r7 = cpuid(7, 0), d0, d1;
	uint64_t supported, got, after_exit, a, c, d;
	uint32_t std_size, compact_size;
	unsigned vec;
	bool ok;

	if (!(r1.c & CPUID1_ECX_XSAVE)) {
		con_printf("  CPUID.1:ECX.XSAVE clear%s\n",
			   o->want_xsave ? ", but the host has XSAVE" : ": XSAVE checks skipped");
		if (o->want_xsave)
			check(CK_XSAVE_CPUID, false, "CPUID advertises XSAVE like the host");
		return;
	}
	d0 = cpuid(0xd, 0);
	supported = (uint64_t)d0.d << 32 | d0.a;
	con_printf("  leaf 0xD.0: XCR0 bits 0x%lx, sizes %u/%u; AVX %u AVX2 %u AVX512F %u\n",
		   supported, d0.b, d0.c, !!(r1.c & CPUID1_ECX_AVX), !!(r7.b & CPUID7_EBX_AVX2),
		   !!(r7.b & CPUID7_EBX_AVX512F));
	/* A feature that needs a state component must come with it. */
	ok = (supported & XFEAT_FP_SSE) == XFEAT_FP_SSE;
	if ((r1.c & CPUID1_ECX_AVX) && !(supported & XFEAT_YMM))
		ok = false;
	if ((r7.b & CPUID7_EBX_AVX2) && !(r1.c & CPUID1_ECX_AVX))
		ok = false;
	if ((r7.b & CPUID7_EBX_AVX512F) && (supported & XFEAT_AVX512) != XFEAT_AVX512)
		ok = false;
	check(CK_XSAVE_CPUID, ok,
	      "CPUID.0xD.0 XCR0 bits cover x87, SSE and the AVX leaves 1/7 show");

	__asm__ volatile("mov %%cr4, %%rax; or %0, %%rax; mov %%rax, %%cr4"
			 :
			 : "r"(CR4_OSXSAVE)
			 : "rax", "memory");
	/* XGETBV never exits: the second read shows whether the hypervisor
	 * saw the XSETBV, or restores its own XCR0 on the next VM entry. */
	a = (uint32_t)supported;
	c = 0;
	d = supported >> 32;
	vec = (cpuid(1, 0).c & CPUID1_ECX_OSXSAVE) ? PROBE("xsetbv", a, c, d) : VEC_UD;
	got = xgetbv0();
	(void)cpuid(0, 0); /* a VM exit */
	after_exit = xgetbv0();
	con_printf("  XSETBV 0x%lx: %s; XGETBV 0x%lx, after a VM exit 0x%lx\n", supported,
		   vec == PROBE_NONE ? "ok" : (vec == VEC_GP ? "#GP" : "#UD or no OSXSAVE"), got,
		   after_exit);
	check(CK_XSETBV, vec == PROBE_NONE && got == supported && after_exit == supported,
	      "XSETBV of every advertised component holds (XGETBV, also after a VM exit)");
	if (after_exit != supported)
		return;

	/* EBX (enabled components) and 0xD.1 EBX (compacted) follow XCR0. */
	d0 = cpuid(0xd, 0);
	d1 = cpuid(0xd, 1);
	ok = xsave_layout(got, &std_size, &compact_size);
	con_printf("  XSAVE size %u (leaf 0xD.0 EBX %u ECX %u), compacted %u (0xD.1 EBX %u)\n",
		   std_size, d0.b, d0.c, compact_size, d1.b);
	ok = ok && d0.b == std_size && d0.c == std_size && std_size <= XSAVE_BUF_SIZE;
	if (d1.a & CPUIDD1_EAX_XSAVEC) {
		ok = ok && d1.b == compact_size && compact_size <= XSAVE_BUF_SIZE;
		if (ok) {
			memset(xsave_buf, XSAVE_CANARY, sizeof(xsave_buf));
			xsavec64(xsave_buf, got);
			ok = bytes_all(xsave_buf + compact_size, sizeof(xsave_buf) - compact_size,
				       XSAVE_CANARY);
			if (!ok)
				con_printf("  XSAVEC wrote past %u bytes\n", compact_size);
		}
	}
	check(CK_XSAVE_SIZE, ok, "XSAVE/XSAVEC sizes match the leaf 0xD offsets and sizes");
	if (!ok)
		return;
	check(CK_XSAVE_ROUNDTRIP, xsave_roundtrip(got, d0.b),
	      "XRSTOR/XSAVE round trip at the leaf 0xD offsets, nothing written past EBX");
}

unsigned lm_main(const uint8_t *boot_params)
{
	struct opts o = {0};

	idt_init();
	con_printf("lm: long-mode guest up, boot_params at 0x%lx\n", (uint64_t)boot_params);
	parse_cmdline(boot_params, &o);
	check(CK_CMDLINE, o.cmdline_ok, "kernel command line parsed");
	check_cpuid(&o);
	check_xsave(&o);
	check_msrs(&o);
	check_pmu_msrs(&o);
	check_other_vendor_msrs();
	check_hidden_insns();
	report_msrs();
	check_smp(&o);
	con_printf("lm: checks passed=%u failed=%u\n", g.passed, g.failed);
	return g.first_failed;
}
