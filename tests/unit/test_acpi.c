/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "acpi_pm.h"
#include "boot.h"
#include "guest_mem.h"
#include "rtc.h"
#include "util.h"

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* Decode an AML PkgLength (which counts its own bytes). */
static size_t pkglen(const uint8_t *p)
{
	unsigned n = p[0] >> 6;
	size_t v;

	if (!n)
		return p[0] & 0x3f;
	v = p[0] & 0xf;
	for (unsigned i = 1; i <= n; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

struct ctx {
	struct guest_mem gm;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(guest_mem_init(&c->gm, 64 * MiB, false), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	guest_mem_destroy(&c->gm);
	free(c);
	return 0;
}

/* Host copy of a table at gpa after checking its header; NULL if wrong. */
static uint8_t *get_table(struct ctx *c, uint64_t gpa, const char sig[4])
{
	uint8_t hdr[36], *t;
	uint32_t len;

	assert_int_equal(guest_mem_read(&c->gm, gpa, hdr, sizeof(hdr)), 0);
	assert_memory_equal(hdr, sig, 4);
	len = le32(hdr + 4);
	assert_true(len >= 36);
	/* All of it below 1 MiB, above the ACPI base. */
	assert_true(gpa >= BOOT_ACPI_BASE);
	assert_true(gpa + len <= 0x100000);
	t = malloc(len);
	assert_non_null(t);
	assert_int_equal(guest_mem_read(&c->gm, gpa, t, len), 0);
	assert_int_equal(sum8(t, len), 0);
	assert_memory_equal(t + 10, "SLUICE", 6);
	return t;
}

/* Follow RSDP -> XSDT and return the address of the table with sig. */
static uint64_t find_table(struct ctx *c, uint64_t rsdp_gpa, const char sig[4])
{
	uint8_t rsdp[36], *xsdt, hdr[4];
	uint64_t found = 0, addr;
	unsigned n;

	assert_int_equal(guest_mem_read(&c->gm, rsdp_gpa, rsdp, sizeof(rsdp)), 0);
	xsdt = get_table(c, le64(rsdp + 24), "XSDT");
	n = (le32(xsdt + 4) - 36) / 8;
	for (unsigned i = 0; i < n; i++) {
		addr = le64(xsdt + 36 + 8 * i);
		assert_int_equal(guest_mem_read(&c->gm, addr, hdr, 4), 0);
		if (!memcmp(hdr, sig, 4)) {
			assert_int_equal(found, 0); /* only once */
			found = addr;
		}
	}
	free(xsdt);
	return found;
}

static void build(struct ctx *c, unsigned cpus, uint64_t *rsdp)
{
	struct acpi_config cfg = {.nr_cpus = cpus};

	assert_int_equal(acpi_build(&c->gm, &cfg, rsdp), 0);
}

static void test_rsdp(void **state)
{
	struct ctx *c = *state;
	uint8_t r[36];
	uint64_t rsdp;

	build(c, 1, &rsdp);
	assert_int_equal(rsdp, BOOT_ACPI_BASE);
	assert_int_equal(rsdp % 16, 0);
	assert_int_equal(guest_mem_read(&c->gm, rsdp, r, sizeof(r)), 0);
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(r[15], 2);
	assert_int_equal(sum8(r, 20), 0);
	assert_int_equal(le32(r + 20), 36);
	assert_int_equal(sum8(r, 36), 0);
	assert_int_not_equal(le64(r + 24), 0);
	free(get_table(c, le64(r + 24), "XSDT"));
}

static void test_xsdt_tables_valid(void **state)
{
	struct ctx *c = *state;
	uint64_t rsdp, fadt, madt;

	build(c, 4, &rsdp);
	fadt = find_table(c, rsdp, "FACP");
	madt = find_table(c, rsdp, "APIC");
	assert_int_not_equal(fadt, 0);
	assert_int_not_equal(madt, 0);
	free(get_table(c, fadt, "FACP"));
	free(get_table(c, madt, "APIC"));
}

static void check_gas_io8(const uint8_t *g, uint16_t port)
{
	assert_int_equal(g[0], 1); /* SystemIO */
	assert_int_equal(g[1], 8);
	assert_int_equal(g[2], 0);
	assert_int_equal(g[3], 1); /* byte access */
	assert_int_equal(le64(g + 4), port);
}

static void test_fadt(void **state)
{
	struct ctx *c = *state;
	uint64_t rsdp;
	uint8_t *f;
	uint32_t flags;

	build(c, 2, &rsdp);
	f = get_table(c, find_table(c, rsdp, "FACP"), "FACP");
	assert_int_equal(le32(f + 4), 276);
	assert_int_equal(f[8], 6); /* revision */
	flags = le32(f + 112);
	assert_true(flags & (1U << 20)); /* HW_REDUCED_ACPI */
	assert_true(flags & (1U << 10)); /* RESET_REG_SUP */
	/* IAPC_BOOT_ARCH: no 8042 advertised (reset-only), VGA not present. */
	assert_int_equal(le16(f + 109) & 0x6, 0x4);
	assert_int_equal(f[108], RTC_REG_CENTURY);
	check_gas_io8(f + 116, ACPI_PM_RESET);
	assert_int_equal(f[128], ACPI_PM_RESET_VALUE);
	check_gas_io8(f + 244, ACPI_PM_SLEEP_CTL);
	check_gas_io8(f + 256, ACPI_PM_SLEEP_STS);
	assert_int_equal(le16(f + 46), 9);
	free(get_table(c, le64(f + 140), "DSDT"));
	free(f);
}

static void test_dsdt(void **state)
{
	struct ctx *c = *state;
	uint64_t rsdp;
	uint8_t *f, *d, *p;
	uint32_t len;
	/* Name(_S5_, Package(4) {BytePrefix 5, ...}) */
	static const uint8_t s5[] = {0x08, '_', 'S', '5', '_', 0x12};
	static const uint8_t hid[] = {0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01};
	static const uint8_t io[] = {0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x00, 0x08};

	build(c, 1, &rsdp);
	f = get_table(c, find_table(c, rsdp, "FACP"), "FACP");
	d = get_table(c, le64(f + 140), "DSDT");
	len = le32(d + 4);
	assert_true(d[8] >= 2);

	p = memmem(d + 36, len - 36, s5, sizeof(s5));
	assert_non_null(p);
	p += sizeof(s5);
	assert_true(p[0] < 0x40);     /* one-byte PkgLength */
	assert_int_equal(p[1], 4);    /* NumElements */
	assert_int_equal(p[2], 0x0a); /* BytePrefix */
	assert_int_equal(p[3], ACPI_PM_S5_TYP);

	assert_non_null(memmem(d + 36, len - 36, "_SB_", 4));
	assert_non_null(memmem(d + 36, len - 36, "COM1", 4));
	assert_non_null(memmem(d + 36, len - 36, hid, sizeof(hid)));
	assert_non_null(memmem(d + 36, len - 36, io, sizeof(io)));

	/* The outer Scope's PkgLength covers exactly the rest of the table. */
	p = memmem(d + 36, len - 36, "\x10", 1);
	assert_non_null(p);
	assert_int_equal(pkglen(p + 1), (size_t)(d + len - (p + 1)));
	free(d);
	free(f);
}

static void build_pci(struct ctx *c, uint64_t *rsdp)
{
	struct acpi_config cfg = {
	    .nr_cpus = 2,
	    .pci_ecam_base = 0xe0000000,
	    .pci_io_base = 0xc000,
	    .pci_io_size = 0x4000,
	    .pci_mem32_base = 0xc0000000,
	    .pci_mem32_size = 0x20000000,
	    .pci_mem64_base = 0x100000000ULL,
	    .pci_mem64_size = 64 * GiB,
	};

	assert_int_equal(acpi_build(&c->gm, &cfg, rsdp), 0);
}

static void test_mcfg(void **state)
{
	struct ctx *c = *state;
	uint64_t rsdp, addr;
	uint8_t *m;

	build(c, 1, &rsdp);
	assert_int_equal(find_table(c, rsdp, "MCFG"), 0); /* no PCI, no MCFG */
	build_pci(c, &rsdp);
	addr = find_table(c, rsdp, "MCFG");
	assert_int_not_equal(addr, 0);
	m = get_table(c, addr, "MCFG");
	assert_int_equal(le32(m + 4), 36 + 8 + 16); /* one allocation */
	assert_int_equal(m[8], 1);
	assert_int_equal(le64(m + 36), 0);	    /* reserved */
	assert_int_equal(le64(m + 44), 0xe0000000); /* ECAM base */
	assert_int_equal(le16(m + 52), 0);	    /* segment */
	assert_int_equal(m[54], 0);		    /* buses 0..0 */
	assert_int_equal(m[55], 0);
	free(m);
	/* A misaligned ECAM base is refused. */
	{
		struct acpi_config bad = {.nr_cpus = 1, .pci_ecam_base = 0xe0001000};

		assert_int_equal(acpi_build(&c->gm, &bad, &rsdp), -EINVAL);
	}
	build_pci(c, &rsdp);
	/* The other tables are all still there. */
	assert_int_not_equal(find_table(c, rsdp, "FACP"), 0);
	assert_int_not_equal(find_table(c, rsdp, "APIC"), 0);
}

static void test_dsdt_pci(void **state)
{
	struct ctx *c = *state;
	static const uint8_t hid[] = {0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x08};
	static const uint8_t cid[] = {0x08, '_', 'C', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03};
	static const uint8_t mres[] = {0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0c, 0x02};
	/* WordBusNumber 0..0, length 1. */
	static const uint8_t busnr[] = {0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0,
					0,    0,    0,	  0,	0,    0,    1, 0};
	static const uint8_t cf8[] = {0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08};
	/* WordIO 0xc000..0xffff; DWordMemory 0xc0000000..0xdfffffff. */
	static const uint8_t io[] = {0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0,    0,
				     0x00, 0xc0, 0xff, 0xff, 0,	   0,	 0x00, 0x40};
	static const uint8_t m32[] = {0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0,	0,    0,
				      0,    0,	  0,	0,    0xc0, 0xff, 0xff, 0xff, 0xdf};
	/* Memory32Fixed(ReadWrite, 0xe0000000, 1 MiB) */
	static const uint8_t ecam[] = {0x86, 0x09, 0x00, 0x01, 0x00, 0x00,
				       0x00, 0xe0, 0x00, 0x00, 0x10, 0x00};
	/* Slot 3 INTB#: Package(4) {0x0003ffff, One, Zero, GSI 16 + (3 + 1) % 8}. */
	static const uint8_t prt[] = {0x0c, 0xff, 0xff, 0x03, 0x00, 0x01, 0x00, 0x0a, 20};
	uint64_t rsdp;
	uint8_t *f, *d, *p, *q;
	uint32_t len;

	build_pci(c, &rsdp);
	f = get_table(c, find_table(c, rsdp, "FACP"), "FACP");
	d = get_table(c, le64(f + 140), "DSDT");
	len = le32(d + 4);
	assert_non_null(memmem(d + 36, len - 36, "COM1", 4));
	p = memmem(d + 36, len - 36, "PCI0", 4);
	assert_non_null(p);
	/* Device(PCI0): ExtOp DeviceOp PkgLength "PCI0", ending inside the scope. */
	for (q = d + 36; q + 2 < d + len; q++) {
		size_t n;

		if (q[0] != 0x5b || q[1] != 0x82)
			continue;
		n = (q[2] >> 6) + 1u;
		if (memcmp(q + 2 + n, "PCI0", 4))
			continue;
		assert_ptr_equal(q + 2 + n, p);
		assert_true(q + 2 + pkglen(q + 2) <= d + len);
		assert_true(pkglen(q + 2) > 32 * 4 * 10); /* holds the whole _PRT */
		break;
	}
	assert_true(q + 2 < d + len);
	assert_non_null(memmem(p, len - (size_t)(p - d), hid, sizeof(hid)));
	assert_non_null(memmem(p, len - (size_t)(p - d), cid, sizeof(cid)));
	assert_non_null(memmem(p, len - (size_t)(p - d), busnr, sizeof(busnr)));
	assert_non_null(memmem(p, len - (size_t)(p - d), cf8, sizeof(cf8)));
	assert_non_null(memmem(p, len - (size_t)(p - d), io, sizeof(io)));
	assert_non_null(memmem(p, len - (size_t)(p - d), m32, sizeof(m32)));
	assert_non_null(memmem(p, len - (size_t)(p - d), "_PRT", 4));
	assert_non_null(memmem(p, len - (size_t)(p - d), prt, sizeof(prt)));
	assert_non_null(memmem(p, len - (size_t)(p - d), "_SEG", 4));
	assert_non_null(memmem(p, len - (size_t)(p - d), "_BBN", 4));
	p = memmem(d + 36, len - 36, "MRES", 4);
	assert_non_null(p);
	assert_non_null(memmem(p, len - (size_t)(p - d), mres, sizeof(mres)));
	assert_non_null(memmem(p, len - (size_t)(p - d), ecam, sizeof(ecam)));
	/* The outer Scope still covers exactly the rest of the table. */
	p = memmem(d + 36, len - 36, "\x10", 1);
	assert_non_null(p);
	assert_int_equal(pkglen(p + 1), (size_t)(d + len - (p + 1)));
	free(d);
	free(f);
}

static void check_madt(struct ctx *c, unsigned cpus)
{
	uint64_t rsdp;
	uint8_t *m, *p, *end;
	unsigned lapics = 0, ioapics = 0, isos = 0;
	bool irq0 = false, irq9 = false;

	build(c, cpus, &rsdp);
	m = get_table(c, find_table(c, rsdp, "APIC"), "APIC");
	assert_int_equal(le32(m + 36), 0xfee00000);
	end = m + le32(m + 4);
	for (p = m + 44; p < end; p += p[1]) {
		assert_true(p[1] >= 2);
		assert_true(p + p[1] <= end);
		switch (p[0]) {
		case 0:
			assert_int_equal(p[1], 8);
			assert_int_equal(p[2], lapics); /* UID */
			assert_int_equal(p[3], lapics); /* APIC ID */
			assert_int_equal(le32(p + 4) & 1, 1);
			lapics++;
			break;
		case 1:
			assert_int_equal(p[1], 12);
			assert_int_equal(p[2], 0);
			assert_int_equal(le32(p + 4), 0xfec00000);
			assert_int_equal(le32(p + 8), 0);
			ioapics++;
			break;
		case 2:
			assert_int_equal(p[1], 10);
			assert_int_equal(p[2], 0);
			if (p[3] == 0) {
				assert_int_equal(le32(p + 4), 2);
				irq0 = true;
			} else if (p[3] == 9) {
				assert_int_equal(le32(p + 4), 9);
				assert_int_equal(le16(p + 8), 0x0d); /* level, active high */
				irq9 = true;
			}
			isos++;
			break;
		}
	}
	assert_ptr_equal(p, end);
	assert_int_equal(lapics, cpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 2);
	assert_true(irq0 && irq9);
	free(m);
}

static void test_madt(void **state)
{
	check_madt(*state, 1);
	check_madt(*state, 8);
	check_madt(*state, ACPI_MAX_CPUS);
}

static void test_bad_config(void **state)
{
	struct ctx *c = *state;
	struct acpi_config cfg = {.nr_cpus = 0};
	struct guest_mem small;
	uint64_t rsdp = 0;

	assert_int_equal(acpi_build(&c->gm, &cfg, &rsdp), -EINVAL);
	cfg.nr_cpus = ACPI_MAX_CPUS + 1;
	assert_int_equal(acpi_build(&c->gm, &cfg, &rsdp), -EINVAL);
	assert_int_equal(acpi_build(&c->gm, NULL, &rsdp), -EINVAL);
	assert_int_equal(rsdp, 0);

	/* RAM that stops short of the BIOS area. */
	assert_int_equal(guest_mem_init(&small, 0x80000, false), 0);
	cfg.nr_cpus = 1;
	assert_int_equal(acpi_build(&small, &cfg, &rsdp), -ENOSPC);
	guest_mem_destroy(&small);
}

static void test_checksum(void **state)
{
	(void)state;
	uint8_t buf[5] = {1, 2, 3, 4, 0};

	buf[4] = acpi_checksum(buf, 4);
	assert_int_equal(buf[4], (uint8_t)-10);
	assert_int_equal(sum8(buf, 5), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rsdp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_xsdt_tables_valid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fadt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dsdt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_madt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mcfg, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dsdt_pci, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
	    cmocka_unit_test(test_checksum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
