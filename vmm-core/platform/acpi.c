/* SPDX-License-Identifier: MIT */
#include "acpi.h"
#include "acpi_pm.h"
#include "boot/boot.h"
#include "log.h"
#include "pci.h"
#include "rtc.h"
#include "serial.h"
#include "util.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#define ACPI_AREA_END 0x100000ULL /* tables live in [BOOT_ACPI_BASE, 1 MiB) */

#define ACPI_OEM_ID	  "SLUICE"
#define ACPI_OEM_TABLE_ID "SLUICEVM"
#define ACPI_CREATOR_ID	  "SLCE"

#define ACPI_HDR_LEN  36
#define ACPI_RSDP_LEN 36
#define ACPI_FADT_LEN 276 /* ACPI 6.x, up to the hypervisor vendor identity */

/* FADT field offsets (ACPI 6.5, table 5.9). */
#define FADT_DSDT	       40
#define FADT_SCI_INT	       46
#define FADT_CENTURY	       108
#define FADT_IAPC_BOOT_ARCH    109
#define FADT_FLAGS	       112
#define FADT_RESET_REG	       116
#define FADT_RESET_VALUE       128
#define FADT_MINOR_VERSION     131
#define FADT_X_DSDT	       140
#define FADT_SLEEP_CONTROL     244
#define FADT_SLEEP_STATUS      256
#define FADT_HYPERVISOR_VENDOR 268

#define FADT_F_PWR_BUTTON      (1U << 4)
#define FADT_F_SLP_BUTTON      (1U << 5)
#define FADT_F_RESET_REG_SUP   (1U << 10)
#define FADT_F_HW_REDUCED_ACPI (1U << 20)

#define IAPC_BOOT_ARCH_8042	       (1U << 1)
#define IAPC_BOOT_ARCH_VGA_NOT_PRESENT (1U << 2)

#define GAS_SPACE_SYSTEM_IO 1
#define GAS_ACCESS_BYTE	    1

#define MADT_PCAT_COMPAT   (1U << 0)
#define MADT_LAPIC	   0
#define MADT_IOAPIC	   1
#define MADT_INT_OVERRIDE  2
#define MADT_LAPIC_NMI	   4
#define MADT_LAPIC_ENABLED (1U << 0)
/* MPS INTI flags: polarity bits 0-1, trigger mode bits 2-3. */
#define MPS_INTI_CONFORMS    0x0
#define MPS_INTI_ACTIVE_HIGH 0x1
#define MPS_INTI_LEVEL	     (0x3 << 2)

#define AML_ZERO	  0x00
#define AML_NAME_OP	  0x08
#define AML_BYTE_PREFIX	  0x0a
#define AML_WORD_PREFIX	  0x0b
#define AML_DWORD_PREFIX  0x0c
#define AML_SCOPE_OP	  0x10
#define AML_BUFFER_OP	  0x11
#define AML_PACKAGE_OP	  0x12
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP	  0x82
#define AML_ROOT_CHAR	  0x5c

/* A bump allocator over the host mapping of the ACPI area. */
struct acpi_area {
	uint8_t *hva;
	uint64_t gpa, size, used;
};

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

uint8_t acpi_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return (uint8_t)-sum;
}

/* Zeroed space for a table, 16-byte aligned; NULL if the area is full. */
static uint8_t *acpi_alloc(struct acpi_area *a, uint64_t len, uint64_t *gpa)
{
	uint64_t off = ALIGN_UP(a->used, 16);

	if (off > a->size || len > a->size - off) {
		log_err("ACPI tables do not fit in 0x%llx..0x%llx", (unsigned long long)a->gpa,
			(unsigned long long)(a->gpa + a->size));
		return NULL;
	}
	a->used = off + len;
	*gpa = a->gpa + off;
	memset(a->hva + off, 0, len);
	return a->hva + off;
}

static void acpi_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
	put32(t + 24, 1); /* OEM revision */
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	put32(t + 32, 1); /* creator revision */
}

static void acpi_finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = acpi_checksum(t, len);
}

/* Generic Address Structure for an 8-bit I/O port register. */
static void acpi_gas_io8(uint8_t *p, uint16_t port)
{
	p[0] = GAS_SPACE_SYSTEM_IO;
	p[1] = 8; /* bit width */
	p[2] = 0; /* bit offset */
	p[3] = GAS_ACCESS_BYTE;
	put64(p + 4, port);
}

/* --- AML: just enough to hand-assemble the DSDT --- */

struct aml {
	uint8_t buf[4096];
	size_t len;
	bool overflow;
};

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > sizeof(a->buf) - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

/*
 * Packages (Scope, Device, Package, Buffer) carry a PkgLength that counts
 * itself, so its size depends on the content: open() marks where the
 * content starts, close() inserts the encoded length in front of it.
 */
static size_t aml_open(struct aml *a)
{
	return a->len;
}

static void aml_close(struct aml *a, size_t start)
{
	size_t content = a->len - start, total = 0;
	uint8_t enc[4];
	unsigned n;

	for (n = 1; n <= 4; n++) {
		total = content + n;
		if (total < (n == 1 ? 0x40U : 1U << (4 + 8 * (n - 1))))
			break;
	}
	if (a->overflow || n > 4 || n > sizeof(a->buf) - a->len) {
		a->overflow = true;
		return;
	}
	if (n == 1) {
		enc[0] = (uint8_t)total;
	} else {
		enc[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
		for (unsigned i = 1; i < n; i++)
			enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	memmove(a->buf + start + n, a->buf + start, content);
	memcpy(a->buf + start, enc, n);
	a->len += n;
}

static void aml_name(struct aml *a, const char seg[4])
{
	aml_byte(a, AML_NAME_OP);
	aml_bytes(a, seg, 4);
}

static void aml_dword(struct aml *a, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	aml_byte(a, AML_DWORD_PREFIX);
	aml_bytes(a, b, 4);
}

/* EisaId("PNP0501"): three 5-bit letters, then four hex digits, big-endian. */
static uint32_t aml_eisa_id(const char id[7])
{
	uint32_t v = ((uint32_t)(id[0] - 0x40) << 26) | ((uint32_t)(id[1] - 0x40) << 21) |
		     ((uint32_t)(id[2] - 0x40) << 16);
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		uint32_t d = c >= 'A' ? (uint32_t)(c - 'A' + 10) : (uint32_t)(c - '0');
		v |= d << (4 * (6 - i));
	}
	return __builtin_bswap32(v);
}

/* Name(_S5_, Package(4) {5, 0, 0, 0}): SLP_TYPa/b for soft-off. */
static void aml_s5(struct aml *a)
{
	size_t pkg;

	aml_name(a, "_S5_");
	aml_byte(a, AML_PACKAGE_OP);
	pkg = aml_open(a);
	aml_byte(a, 4); /* NumElements */
	aml_byte(a, AML_BYTE_PREFIX);
	aml_byte(a, ACPI_PM_S5_TYP);
	aml_byte(a, AML_ZERO);
	aml_byte(a, AML_ZERO);
	aml_byte(a, AML_ZERO);
	aml_close(a, pkg);
}

/* An integer in its shortest AML encoding. */
static void aml_int(struct aml *a, uint64_t v)
{
	uint8_t b[8];

	if (v <= 1) {
		aml_byte(a, (uint8_t)v);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_byte(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		put16(b, (uint16_t)v);
		aml_byte(a, AML_WORD_PREFIX);
		aml_bytes(a, b, 2);
	} else if (v <= 0xffffffff) {
		aml_dword(a, (uint32_t)v);
	} else {
		put64(b, v);
		aml_byte(a, 0x0e); /* QWordPrefix */
		aml_bytes(a, b, 8);
	}
}

/* Name(name, Buffer() {resource template bytes, EndTag}) */
static void aml_crs(struct aml *a, const uint8_t *res, size_t len)
{
	size_t buf;

	aml_name(a, "_CRS");
	aml_byte(a, AML_BUFFER_OP);
	buf = aml_open(a);
	aml_int(a, len + 2);
	aml_bytes(a, res, len);
	aml_byte(a, 0x79); /* EndTag */
	aml_byte(a, 0x00);
	aml_close(a, buf);
}

/* Name(seg, Integer) */
struct aml_named_int {
	char seg[5];
	uint64_t value;
};

#define AML_DEVICE_MAX_INTS 4

/*
 * What a Device() node holds. Every node of the DSDT (and the vIOMMU/VFIO
 * ones to come) is built from one of these by aml_device(), which emits
 *   Device(name) {
 *       Name(_HID, EisaId(hid))           if hid
 *       Name(_CID, EisaId(cid))           if cid
 *       Name(ints[i].seg, ints[i].value)  in order, to the first without a seg
 *                                         (_SEG, _BBN, _UID, _ADR...)
 *       Name(_CRS, ResourceTemplate() {res, EndTag})  if res
 *       body(a, ctx)                      if body: anything else (_PRT)
 *   }
 */
struct aml_device {
	const char *name; /* NameSeg, 4 characters */
	const char *hid;  /* EisaId string such as "PNP0501", or NULL */
	const char *cid;
	struct aml_named_int ints[AML_DEVICE_MAX_INTS];
	const uint8_t *res; /* resource descriptors without the EndTag, or NULL */
	size_t res_len;
	void (*body)(struct aml *a, const void *ctx);
	const void *ctx;
};

static void aml_device(struct aml *a, const struct aml_device *d)
{
	size_t dev;

	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	dev = aml_open(a);
	aml_bytes(a, d->name, 4);
	if (d->hid) {
		aml_name(a, "_HID");
		aml_dword(a, aml_eisa_id(d->hid));
	}
	if (d->cid) {
		aml_name(a, "_CID");
		aml_dword(a, aml_eisa_id(d->cid));
	}
	for (size_t i = 0; i < AML_DEVICE_MAX_INTS && d->ints[i].seg[0]; i++) {
		aml_name(a, d->ints[i].seg);
		aml_int(a, d->ints[i].value);
	}
	if (d->res)
		aml_crs(a, d->res, d->res_len);
	if (d->body)
		d->body(a, d->ctx);
	aml_close(a, dev);
}

/* Device(COM1): PNP0501, IO 0x3f8-0x3ff, IRQ 4. */
static void aml_com1(struct aml *a)
{
	static const uint8_t res[] = {
	    0x47,
	    0x01, /* IO, 16-bit decode */
	    SERIAL_COM1_BASE & 0xff,
	    SERIAL_COM1_BASE >> 8, /* min */
	    SERIAL_COM1_BASE & 0xff,
	    SERIAL_COM1_BASE >> 8, /* max */
	    0x00,
	    SERIAL_NR_PORTS, /* alignment, length */
	    0x22,
	    1 << SERIAL_COM1_GSI,
	    0x00, /* IRQNoFlags {4} */
	};
	static const struct aml_device com1 = {
	    .name = "COM1",
	    .hid = "PNP0501",
	    .ints = {{"_UID", 1}},
	    .res = res,
	    .res_len = sizeof(res),
	};

	aml_device(a, &com1);
}

/* Address space descriptor (ACPI 6.5, 6.4.3.5): producer, fixed min and max. */
static size_t acpi_res_addr(uint8_t *p, unsigned width, uint8_t type, uint8_t tflags, uint64_t min,
			    uint64_t len)
{
	static const uint8_t tag[] = {[2] = 0x88, [4] = 0x87, [8] = 0x8a};
	size_t n = 3 + 5 * width;

	p[0] = tag[width];
	put16(p + 1, (uint16_t)n);
	p[3] = type;
	p[4] = 0x0c; /* MinFixed, MaxFixed, PosDecode, producer */
	p[5] = tflags;
	for (unsigned i = 0; i < 5; i++) {
		uint64_t v = i == 1 ? min : i == 2 ? min + len - 1 : i == 4 ? len : 0;
		for (unsigned j = 0; j < width; j++)
			p[6 + i * width + j] = (uint8_t)(v >> (8 * j));
	}
	return 3 + n;
}

/* _PRT: Package {Package {0xSSSSFFFF, pin, Zero, GSI}, ...}, as pci.c wires INTx. */
static void aml_pci0_prt(struct aml *a, const void *ctx)
{
	size_t prt;

	(void)ctx;
	aml_name(a, "_PRT");
	aml_byte(a, AML_PACKAGE_OP);
	prt = aml_open(a);
	aml_byte(a, PCI_NR_SLOTS * 4);
	for (unsigned slot = 0; slot < PCI_NR_SLOTS; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			size_t e;

			aml_byte(a, AML_PACKAGE_OP);
			e = aml_open(a);
			aml_byte(a, 4);
			aml_dword(a, slot << 16 | 0xffff);
			aml_int(a, pin);
			aml_byte(a, AML_ZERO);
			aml_int(a, pci_intx_gsi(slot, pin));
			aml_close(a, e);
		}
	}
	aml_close(a, prt);
}

/* Device(PCI0): the root bridge, its bus/IO/MMIO windows and INTx routing. */
static void aml_pci0(struct aml *a, const struct acpi_config *cfg)
{
	uint8_t res[160];
	size_t n = 0;

	n += acpi_res_addr(res + n, 2, 2, 0, 0, 1); /* bus 0..0 */
	/* IO(Decode16, 0xCF8, 0xCF8, 1, 8): the config ports. */
	memcpy(res + n, (const uint8_t[]){0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08}, 8);
	n += 8;
	if (cfg->pci_io_size)
		n += acpi_res_addr(res + n, 2, 1, 0x03, cfg->pci_io_base, cfg->pci_io_size);
	if (cfg->pci_mem32_size)
		n += acpi_res_addr(res + n, 4, 0, 0x01, cfg->pci_mem32_base, cfg->pci_mem32_size);
	if (cfg->pci_mem64_size)
		n += acpi_res_addr(res + n, 8, 0, 0x01, cfg->pci_mem64_base, cfg->pci_mem64_size);
	aml_device(a, &(struct aml_device){.name = "PCI0",
					   .hid = "PNP0A08",
					   .cid = "PNP0A03",
					   .ints = {{"_SEG", 0}, {"_BBN", 0}, {"_UID", 0}},
					   .res = res,
					   .res_len = n,
					   .body = aml_pci0_prt});
}

/* Device(MRES): PNP0C02 motherboard resources, the ECAM area. */
static void aml_mres(struct aml *a, uint64_t ecam)
{
	uint8_t res[12] = {0x86, 9, 0, 0x01}; /* Memory32Fixed(ReadWrite, ...) */

	put32(res + 4, (uint32_t)ecam);
	put32(res + 8, (uint32_t)PCI_ECAM_SIZE);
	aml_device(a, &(struct aml_device){.name = "MRES",
					   .hid = "PNP0C02",
					   .ints = {{"_UID", 0}},
					   .res = res,
					   .res_len = sizeof(res)});
}

static int acpi_build_dsdt(struct acpi_area *area, const struct acpi_config *cfg, uint64_t *gpa)
{
	struct aml a = {.len = 0};
	size_t scope;
	uint8_t *t;

	aml_s5(&a);
	aml_byte(&a, AML_SCOPE_OP);
	scope = aml_open(&a);
	aml_byte(&a, AML_ROOT_CHAR);
	aml_bytes(&a, "_SB_", 4);
	aml_com1(&a);
	if (cfg->pci_ecam_base) {
		aml_pci0(&a, cfg);
		aml_mres(&a, cfg->pci_ecam_base);
	}
	aml_close(&a, scope);
	if (a.overflow) {
		log_err("ACPI: DSDT AML does not fit in its %zu-byte buffer", sizeof(a.buf));
		return -ENOSPC;
	}

	t = acpi_alloc(area, ACPI_HDR_LEN + a.len, gpa);
	if (!t)
		return -ENOSPC;
	acpi_header(t, "DSDT", ACPI_HDR_LEN + a.len, 2); /* rev 2: 64-bit AML integers */
	memcpy(t + ACPI_HDR_LEN, a.buf, a.len);
	acpi_finish(t, ACPI_HDR_LEN + a.len);
	return 0;
}

static int acpi_build_fadt(struct acpi_area *area, uint64_t dsdt, uint64_t *gpa)
{
	uint8_t *t = acpi_alloc(area, ACPI_FADT_LEN, gpa);

	if (!t)
		return -ENOSPC;
	acpi_header(t, "FACP", ACPI_FADT_LEN, 6);
	/* No FACS: hardware-reduced ACPI has no firmware waking vector. */
	put16(t + FADT_SCI_INT, ACPI_SCI_IRQ);
	t[FADT_CENTURY] = RTC_REG_CENTURY;
	/*
	 * The i8042 is there for reset only: it has no keyboard or mouse behind
	 * it. Not advertising it keeps Linux from probing it, which costs
	 * thousands of exits and seconds of command timeouts; its reset path
	 * (reboot=k) writes port 0x64 regardless.
	 */
	put16(t + FADT_IAPC_BOOT_ARCH, IAPC_BOOT_ARCH_VGA_NOT_PRESENT);
	put32(t + FADT_FLAGS, FADT_F_HW_REDUCED_ACPI | FADT_F_RESET_REG_SUP | FADT_F_PWR_BUTTON |
				  FADT_F_SLP_BUTTON);
	acpi_gas_io8(t + FADT_RESET_REG, ACPI_PM_RESET);
	t[FADT_RESET_VALUE] = ACPI_PM_RESET_VALUE;
	t[FADT_MINOR_VERSION] = 5;
	put64(t + FADT_X_DSDT, dsdt);
	acpi_gas_io8(t + FADT_SLEEP_CONTROL, ACPI_PM_SLEEP_CTL);
	acpi_gas_io8(t + FADT_SLEEP_STATUS, ACPI_PM_SLEEP_STS);
	memcpy(t + FADT_HYPERVISOR_VENDOR, "SLUICE", 6);
	acpi_finish(t, ACPI_FADT_LEN);
	return 0;
}

static uint8_t *madt_int_override(uint8_t *p, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	p[0] = MADT_INT_OVERRIDE;
	p[1] = 10;
	p[2] = 0; /* ISA */
	p[3] = irq;
	put32(p + 4, gsi);
	put16(p + 8, flags);
	return p + 10;
}

static int acpi_build_madt(struct acpi_area *area, unsigned nr_cpus, uint64_t *gpa)
{
	uint32_t len = ACPI_HDR_LEN + 8 + nr_cpus * 8 + 12 + 2 * 10 + 6;
	uint8_t *t = acpi_alloc(area, len, gpa), *p;

	if (!t)
		return -ENOSPC;
	acpi_header(t, "APIC", len, 5);
	put32(t + 36, ACPI_LAPIC_ADDR);
	/* KVM's in-kernel irqchip includes the 8259 pair. */
	put32(t + 40, MADT_PCAT_COMPAT);
	p = t + 44;
	for (unsigned i = 0; i < nr_cpus; i++, p += 8) {
		p[0] = MADT_LAPIC;
		p[1] = 8;
		p[2] = (uint8_t)i; /* ACPI processor UID */
		p[3] = (uint8_t)i; /* APIC ID */
		put32(p + 4, MADT_LAPIC_ENABLED);
	}
	p[0] = MADT_IOAPIC;
	p[1] = 12;
	p[2] = ACPI_IOAPIC_ID;
	put32(p + 4, ACPI_IOAPIC_ADDR);
	put32(p + 8, 0); /* GSI base */
	p += 12;
	/* As on a PC (and QEMU): the PIT's IRQ0 is wired to IOAPIC pin 2, and
	 * the SCI (IRQ9) is level-triggered, active high. */
	p = madt_int_override(p, 0, 2, MPS_INTI_CONFORMS);
	p = madt_int_override(p, ACPI_SCI_IRQ, ACPI_SCI_IRQ, MPS_INTI_ACTIVE_HIGH | MPS_INTI_LEVEL);
	p[0] = MADT_LAPIC_NMI;
	p[1] = 6;
	p[2] = 0xff; /* all processors */
	put16(p + 3, MPS_INTI_CONFORMS);
	p[5] = 1; /* LINT1 */
	acpi_finish(t, len);
	return 0;
}

/* MCFG (PCI Firmware 3.2, 4.1.2): one allocation, segment 0, bus 0..0. */
static int acpi_build_mcfg(struct acpi_area *area, uint64_t ecam, uint64_t *gpa)
{
	uint32_t len = ACPI_HDR_LEN + 8 + 16;
	uint8_t *t = acpi_alloc(area, len, gpa);

	if (!t)
		return -ENOSPC;
	acpi_header(t, "MCFG", len, 1);
	put64(t + 44, ecam);
	put16(t + 52, 0); /* PCI segment group */
	t[54] = 0;	  /* start bus */
	t[55] = 0;	  /* end bus */
	acpi_finish(t, len);
	return 0;
}

static int acpi_build_xsdt(struct acpi_area *area, const uint64_t *tables, unsigned n,
			   uint64_t *gpa)
{
	uint32_t len = ACPI_HDR_LEN + 8 * n;
	uint8_t *t = acpi_alloc(area, len, gpa);

	if (!t)
		return -ENOSPC;
	acpi_header(t, "XSDT", len, 1);
	for (unsigned i = 0; i < n; i++)
		put64(t + ACPI_HDR_LEN + 8 * i, tables[i]);
	acpi_finish(t, len);
	return 0;
}

static void acpi_build_rsdp(uint8_t *r, uint64_t xsdt)
{
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, ACPI_OEM_ID, 6);
	r[15] = 2;	  /* revision: ACPI 2.0+ with XSDT */
	put32(r + 16, 0); /* no RSDT: the XSDT is used */
	put32(r + 20, ACPI_RSDP_LEN);
	put64(r + 24, xsdt);
	r[8] = acpi_checksum(r, 20);
	r[32] = acpi_checksum(r, ACPI_RSDP_LEN);
}

int acpi_build(struct guest_mem *gm, const struct acpi_config *cfg, uint64_t *rsdp_gpa)
{
	struct acpi_area area = {.gpa = BOOT_ACPI_BASE, .size = ACPI_AREA_END - BOOT_ACPI_BASE};
	uint64_t rsdp, dsdt, tables[3], xsdt;
	unsigned nr_tables = 2;
	uint8_t *r;
	int ret;

	if (!cfg || cfg->nr_cpus < 1 || cfg->nr_cpus > ACPI_MAX_CPUS) {
		log_err("ACPI: vCPU count %u is not in 1..%u", cfg ? cfg->nr_cpus : 0,
			ACPI_MAX_CPUS);
		return -EINVAL;
	}
	area.hva = guest_mem_ptr(gm, area.gpa, area.size);
	if (!area.hva) {
		log_err("ACPI: guest RAM does not cover 0x%llx..0x%llx for the tables",
			(unsigned long long)area.gpa, (unsigned long long)ACPI_AREA_END);
		return -ENOSPC;
	}

	/* The RSDP goes first, on a 16-byte boundary in the BIOS area. */
	r = acpi_alloc(&area, ACPI_RSDP_LEN, &rsdp);
	if (!r)
		return -ENOSPC;
	if (cfg->pci_ecam_base && (cfg->pci_ecam_base % PCI_ECAM_SIZE ||
				   cfg->pci_ecam_base + PCI_ECAM_SIZE > 0x100000000ULL)) {
		log_err("ACPI: PCI ECAM base 0x%llx is not 1 MiB-aligned below 4 GiB",
			(unsigned long long)cfg->pci_ecam_base);
		return -EINVAL;
	}
	ret = acpi_build_dsdt(&area, cfg, &dsdt);
	if (!ret)
		ret = acpi_build_fadt(&area, dsdt, &tables[0]);
	if (!ret)
		ret = acpi_build_madt(&area, cfg->nr_cpus, &tables[1]);
	if (!ret && cfg->pci_ecam_base)
		ret = acpi_build_mcfg(&area, cfg->pci_ecam_base, &tables[nr_tables++]);
	if (!ret)
		ret = acpi_build_xsdt(&area, tables, nr_tables, &xsdt);
	if (ret)
		return ret;
	acpi_build_rsdp(r, xsdt);
	*rsdp_gpa = rsdp;
	return 0;
}
