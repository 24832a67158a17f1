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
};

struct opts {
	unsigned cpus;
	bool have_msr;
	uint32_t msr;
	uint64_t msr_val;
	bool cmdline_ok;
};

static struct {
	volatile bool gp_expected;
	volatile unsigned gp_count;
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

unsigned lm_main(const uint8_t *boot_params)
{
	struct opts o = {0};

	idt_init();
	con_printf("lm: long-mode guest up, boot_params at 0x%lx\n", (uint64_t)boot_params);
	parse_cmdline(boot_params, &o);
	check(CK_CMDLINE, o.cmdline_ok, "kernel command line parsed");
	check_cpuid(&o);
	check_msrs(&o);
	check_smp(&o);
	con_printf("lm: checks passed=%u failed=%u\n", g.passed, g.failed);
	return g.first_failed;
}
