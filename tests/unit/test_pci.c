/* SPDX-License-Identifier: MIT */
/* PCI config space, host bridge config mechanisms, BAR mapping, BAR allocator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "pci.h"
#include "util.h"

#define ECAM  0xe0000000ULL
#define IO_B  0xc000ULL
#define IO_S  0x4000ULL
#define M32_B 0xc0000000ULL
#define M32_S 0x20000000ULL
#define M64_B 0x1000000000ULL
#define M64_S (64 * GiB)

struct irq_rec {
	struct irq_sink sink;
	uint32_t gsi;
	int level, calls;
};

struct tdev {
	struct pci_device pci;
	unsigned mapped[PCI_NR_BARS], unmapped[PCI_NR_BARS];
	uint64_t map_addr[PCI_NR_BARS], unmap_addr[PCI_NR_BARS];
	uint64_t last_off;
	uint32_t last_len;
	uint8_t last_write[8];
	unsigned reads, writes;
};

struct ctx {
	struct bus pio, mmio;
	struct irq_rec irq;
	struct pci_root root;
	struct tdev dev;
};

static int rec_set_level(struct irq_sink *s, uint32_t gsi, int level)
{
	struct irq_rec *r = container_of(s, struct irq_rec, sink);

	r->gsi = gsi;
	r->level = level;
	r->calls++;
	return 0;
}

static void tdev_mapped(struct pci_device *d, unsigned bar, uint64_t addr, uint64_t size)
{
	struct tdev *t = container_of(d, struct tdev, pci);

	assert_int_equal(size, d->bars[bar].size);
	t->mapped[bar]++;
	t->map_addr[bar] = addr;
}

static void tdev_unmapped(struct pci_device *d, unsigned bar, uint64_t addr, uint64_t size)
{
	struct tdev *t = container_of(d, struct tdev, pci);

	assert_int_equal(size, d->bars[bar].size);
	t->unmapped[bar]++;
	t->unmap_addr[bar] = addr;
}

static const struct pci_device_ops tdev_ops = {.bar_mapped = tdev_mapped,
					       .bar_unmapped = tdev_unmapped};

static void bar_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct tdev *t = opaque;

	t->reads++;
	t->last_off = off;
	t->last_len = len;
	memset(data, 0x5a, len);
}

static void bar_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct tdev *t = opaque;

	t->writes++;
	t->last_off = off;
	t->last_len = len;
	memcpy(t->last_write, data, len > 8 ? 8 : len);
}

static const struct bus_dev_ops tdev_bar_ops = {.read = bar_read, .write = bar_write};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct pci_root_config cfg = {
	    .ecam_base = ECAM,
	    .io_base = IO_B,
	    .io_size = IO_S,
	    .mem32_base = M32_B,
	    .mem32_size = M32_S,
	    .mem64_base = M64_B,
	    .mem64_size = M64_S,
	};
	struct pci_device *d;

	assert_non_null(c);
	c->irq.sink.set_level = rec_set_level;
	assert_int_equal(bus_init(&c->pio, "pio"), 0);
	assert_int_equal(bus_init(&c->mmio, "mmio"), 0);
	assert_int_equal(pci_root_init(&c->root, &cfg, &c->irq.sink), 0);
	assert_int_equal(pci_root_attach(&c->root, &c->pio, &c->mmio), 0);

	d = &c->dev.pci;
	assert_int_equal(pci_device_init(d, &tdev_ops, "test", 0x1af4, 0x1042, 0x010000, 1), 0);
	assert_int_equal(pci_device_set_bar(d, 0, PCI_BAR_IO, false, 32, &tdev_bar_ops, &c->dev),
			 0);
	assert_int_equal(
	    pci_device_set_bar(d, 1, PCI_BAR_MEM32, false, 4096, &tdev_bar_ops, &c->dev), 0);
	assert_int_equal(
	    pci_device_set_bar(d, 2, PCI_BAR_MEM64, true, 16384, &tdev_bar_ops, &c->dev), 0);
	pci_config_set8(&d->cfg, PCI_INTERRUPT_PIN, 1);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	pci_device_destroy(&c->dev.pci);
	pci_root_destroy(&c->root);
	bus_destroy(&c->pio);
	bus_destroy(&c->mmio);
	free(c);
	return 0;
}

static void add_dev(struct ctx *c)
{
	assert_int_equal(pci_root_add_device(&c->root, &c->dev.pci), 1);
}

/* --- guest's view through 0xCF8/0xCFC --- */

static void outl(struct ctx *c, uint16_t port, uint32_t v)
{
	assert_true(bus_write(&c->pio, port, (uint8_t *)&v, 4));
}

static uint32_t in_n(struct ctx *c, uint16_t port, uint32_t len)
{
	uint32_t v = 0;

	assert_true(bus_read(&c->pio, port, (uint8_t *)&v, len));
	return v;
}

static void out_n(struct ctx *c, uint16_t port, uint32_t v, uint32_t len)
{
	assert_true(bus_write(&c->pio, port, (uint8_t *)&v, len));
}

static uint32_t cf8(unsigned bus, unsigned slot, unsigned fn, unsigned reg)
{
	return 0x80000000U | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_read(struct ctx *c, unsigned slot, unsigned reg, uint32_t len)
{
	outl(c, PCI_CONFIG_ADDRESS, cf8(0, slot, 0, reg));
	return in_n(c, (uint16_t)(PCI_CONFIG_DATA + (reg & 3)), len);
}

static void cfg_write(struct ctx *c, unsigned slot, unsigned reg, uint32_t v, uint32_t len)
{
	outl(c, PCI_CONFIG_ADDRESS, cf8(0, slot, 0, reg));
	out_n(c, (uint16_t)(PCI_CONFIG_DATA + (reg & 3)), v, len);
}

static void test_host_bridge_header(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(cfg_read(c, 0, PCI_VENDOR_ID, 4),
			 PCI_HOST_VENDOR_ID | PCI_HOST_DEVICE_ID << 16);
	assert_int_equal(cfg_read(c, 0, PCI_REVISION_ID, 4) >> 8, PCI_CLASS_BRIDGE_HOST);
	assert_int_equal(cfg_read(c, 0, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(cfg_read(c, 0, PCI_CAPABILITY_LIST, 1), 0);
	assert_int_equal(cfg_read(c, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	/* The ID registers are read-only. */
	cfg_write(c, 0, PCI_VENDOR_ID, 0x12345678, 4);
	assert_int_equal(cfg_read(c, 0, PCI_VENDOR_ID, 2), PCI_HOST_VENDOR_ID);
}

static void test_cf8_register(void **state)
{
	struct ctx *c = *state;

	outl(c, PCI_CONFIG_ADDRESS, 0xffffffff);
	/* Reserved bits 30:24 and 1:0 read as zero. */
	assert_int_equal(in_n(c, PCI_CONFIG_ADDRESS, 4), 0x80fffffc);
	/* Byte accesses to 0xCF8-0xCFB are not the address register. */
	out_n(c, PCI_CONFIG_ADDRESS + 1, 0, 1);
	assert_int_equal(in_n(c, PCI_CONFIG_ADDRESS, 4), 0x80fffffc);
	assert_int_equal(in_n(c, PCI_CONFIG_ADDRESS + 1, 1), 0xff);
	/* Linux's type-1 probe: write the enable bit, read it back. */
	outl(c, PCI_CONFIG_ADDRESS, 0x80000000);
	assert_int_equal(in_n(c, PCI_CONFIG_ADDRESS, 4), 0x80000000);
}

static void test_cfc_sizes_and_offsets(void **state)
{
	struct ctx *c = *state;
	uint32_t v = 0;

	/* Words and bytes at every offset within the data dword. */
	assert_int_equal(cfg_read(c, 0, 0, 2), PCI_HOST_VENDOR_ID);
	assert_int_equal(cfg_read(c, 0, 2, 2), PCI_HOST_DEVICE_ID);
	assert_int_equal(cfg_read(c, 0, 0, 1), PCI_HOST_VENDOR_ID & 0xff);
	assert_int_equal(cfg_read(c, 0, 1, 1), PCI_HOST_VENDOR_ID >> 8);
	assert_int_equal(cfg_read(c, 0, 2, 1), PCI_HOST_DEVICE_ID & 0xff);
	assert_int_equal(cfg_read(c, 0, 3, 1), PCI_HOST_DEVICE_ID >> 8);
	assert_int_equal(cfg_read(c, 0, 0x0b, 1), PCI_CLASS_BRIDGE_HOST >> 16);
	/* Byte writes: cache line size (0x0c) and interrupt line (0x3c). */
	cfg_write(c, 0, 0x0c, 0x10, 1);
	cfg_write(c, 0, 0x3c, 0x0b, 1);
	assert_int_equal(cfg_read(c, 0, 0x0c, 1), 0x10);
	assert_int_equal(cfg_read(c, 0, 0x3c, 4) & 0xff, 0x0b);
	/* A word write at 0xCFE lands on the status register (0x06): W1C bits only. */
	cfg_write(c, 0, 0x06, 0xffff, 2);
	assert_int_equal(cfg_read(c, 0, 0x04, 4), 0);
	/* A word at 0xCFF crosses the data port: no device claims it. */
	outl(c, PCI_CONFIG_ADDRESS, cf8(0, 0, 0, 0));
	assert_false(bus_read(&c->pio, PCI_CONFIG_DATA + 3, (uint8_t *)&v, 2));
	/* Enable bit clear: all-ones. */
	outl(c, PCI_CONFIG_ADDRESS, cf8(0, 0, 0, 0) & ~0x80000000U);
	assert_int_equal(in_n(c, PCI_CONFIG_DATA, 4), 0xffffffff);
}

static void test_empty_slots(void **state)
{
	struct ctx *c = *state;

	add_dev(c);
	for (unsigned s = 2; s < PCI_NR_SLOTS; s++)
		assert_int_equal(cfg_read(c, s, 0, 4), 0xffffffff);
	assert_int_equal(cfg_read(c, 1, 0, 4), 0x10421af4);
	/* Function 1 of a present device, and bus 1: nothing there. */
	outl(c, PCI_CONFIG_ADDRESS, cf8(0, 1, 1, 0));
	assert_int_equal(in_n(c, PCI_CONFIG_DATA, 4), 0xffffffff);
	outl(c, PCI_CONFIG_ADDRESS, cf8(1, 1, 0, 0));
	assert_int_equal(in_n(c, PCI_CONFIG_DATA, 4), 0xffffffff);
	/* Writes to nothing do nothing (and do not crash). */
	cfg_write(c, 7, PCI_COMMAND, 0xffff, 2);
	assert_int_equal(cfg_read(c, 7, PCI_COMMAND, 2), 0xffff);
}

static void test_header_defaults_and_ro_bits(void **state)
{
	struct ctx *c = *state;

	add_dev(c);
	assert_int_equal(cfg_read(c, 1, PCI_REVISION_ID, 4), 0x01000001);
	assert_int_equal(cfg_read(c, 1, PCI_COMMAND, 2), 0);
	cfg_write(c, 1, PCI_COMMAND, 0xffff, 2);
	assert_int_equal(cfg_read(c, 1, PCI_COMMAND, 2), 0x0547);
	cfg_write(c, 1, PCI_COMMAND, 0, 2);
	assert_int_equal(cfg_read(c, 1, PCI_COMMAND, 2), 0);
	/* Header type, class, interrupt pin: read-only. */
	cfg_write(c, 1, PCI_HEADER_TYPE, 0x80, 1);
	assert_int_equal(cfg_read(c, 1, PCI_HEADER_TYPE, 1), 0);
	cfg_write(c, 1, PCI_CLASS_DEVICE, 0xffff, 2);
	assert_int_equal(cfg_read(c, 1, PCI_CLASS_DEVICE, 2), 0x0100);
	cfg_write(c, 1, PCI_INTERRUPT_PIN, 3, 1);
	assert_int_equal(cfg_read(c, 1, PCI_INTERRUPT_PIN, 1), 1);
	/* No expansion ROM: its BAR reads zero even after an all-ones probe. */
	cfg_write(c, 1, PCI_ROM_ADDRESS, 0xffffffff, 4);
	assert_int_equal(cfg_read(c, 1, PCI_ROM_ADDRESS, 4), 0);
}

static void test_status_w1c(void **state)
{
	struct ctx *c = *state;
	struct pci_device *d = &c->dev.pci;

	pci_add_capability(d, PCI_CAP_ID_VNDR, 4);
	add_dev(c);
	/* The device records errors; the guest clears them by writing 1s. */
	pci_config_set16(&d->cfg, PCI_STATUS, 0xf900 | PCI_STATUS_CAP_LIST);
	cfg_write(c, 1, PCI_STATUS, 0x8000 | PCI_STATUS_CAP_LIST, 2);
	assert_int_equal(cfg_read(c, 1, PCI_STATUS, 2), 0x7900 | PCI_STATUS_CAP_LIST);
	/* Writing 0 clears nothing; writing 1 to a read-only bit changes nothing. */
	cfg_write(c, 1, PCI_STATUS, 0, 2);
	assert_int_equal(cfg_read(c, 1, PCI_STATUS, 2), 0x7900 | PCI_STATUS_CAP_LIST);
	/* A dword write at 0x04 touches command and status at once. */
	cfg_write(c, 1, PCI_COMMAND, 0x79000004, 4);
	assert_int_equal(cfg_read(c, 1, PCI_COMMAND, 4), (uint32_t)PCI_STATUS_CAP_LIST << 16 | 4);
}

static void probe(struct ctx *c, unsigned reg, uint32_t expect)
{
	uint32_t old = cfg_read(c, 1, reg, 4);

	cfg_write(c, 1, reg, 0xffffffff, 4);
	assert_int_equal(cfg_read(c, 1, reg, 4), expect);
	cfg_write(c, 1, reg, old, 4);
	assert_int_equal(cfg_read(c, 1, reg, 4), old);
}

static void test_bar_sizing(void **state)
{
	struct ctx *c = *state;
	uint32_t io, m32, m64lo, m64hi;

	add_dev(c);
	io = cfg_read(c, 1, 0x10, 4);
	m32 = cfg_read(c, 1, 0x14, 4);
	m64lo = cfg_read(c, 1, 0x18, 4);
	m64hi = cfg_read(c, 1, 0x1c, 4);
	/* Allocated inside the windows, naturally aligned, type bits set. */
	assert_int_equal(io & 3, 1);
	assert_true((io & ~3U) >= IO_B && (io & ~3U) + 32 <= IO_B + IO_S);
	assert_int_equal((io & ~3U) % 32, 0);
	assert_int_equal(m32 & 0xf, 0);
	assert_true(m32 >= M32_B && m32 + 4096 <= M32_B + M32_S);
	assert_int_equal(m32 % 4096, 0);
	assert_int_equal(m64lo & 0xf, 0xc);
	assert_true((((uint64_t)m64hi << 32) | (m64lo & ~0xfU)) >= M64_B);
	assert_int_equal((m64lo & ~0xfU) % 16384, 0);
	/* The size probe. */
	probe(c, 0x10, 0xffffffe1);
	probe(c, 0x14, 0xfffff000);
	probe(c, 0x18, 0xffffc00c);
	probe(c, 0x1c, 0xffffffff);
	/* Unused BARs read zero, probe or not. */
	probe(c, 0x20, 0);
	probe(c, 0x24, 0);
}

static void test_bar_map_unmap(void **state)
{
	struct ctx *c = *state;
	struct tdev *t = &c->dev;
	uint32_t m32, io, v = 0;
	uint64_t m64;

	add_dev(c);
	io = cfg_read(c, 1, 0x10, 4) & ~3U;
	m32 = cfg_read(c, 1, 0x14, 4);
	m64 = (uint64_t)cfg_read(c, 1, 0x1c, 4) << 32 | (cfg_read(c, 1, 0x18, 4) & ~0xfU);

	/* Not decoded while COMMAND.MEM/IO are clear. */
	assert_true(bus_read(&c->mmio, m32 + 8, (uint8_t *)&v, 4));
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(t->reads, 0);
	assert_int_equal(t->mapped[1], 0);

	cfg_write(c, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(t->mapped[1], 1);
	assert_int_equal(t->map_addr[1], m32);
	assert_int_equal(t->mapped[2], 1);
	assert_int_equal(t->map_addr[2], m64);
	assert_int_equal(t->mapped[0], 0); /* IO still off */
	assert_true(bus_read(&c->mmio, m32 + 8, (uint8_t *)&v, 4));
	assert_int_equal(v, 0x5a5a5a5a);
	assert_int_equal(t->last_off, 8);
	v = 0xabcd;
	assert_true(bus_write(&c->mmio, m64 + 0x3ffe, (uint8_t *)&v, 2));
	assert_int_equal(t->last_off, 0x3ffe);
	assert_int_equal(t->last_write[0], 0xcd);
	/* Past the BAR's end: nobody. */
	assert_true(bus_read(&c->mmio, m32 + 4096, (uint8_t *)&v, 4));
	assert_int_equal(v, 0xffffffff);

	/* The guest moves BAR1 while decoding: unmapped at old, mapped at new. */
	cfg_write(c, 1, 0x14, M32_B + 0x100000, 4);
	assert_int_equal(t->unmapped[1], 1);
	assert_int_equal(t->unmap_addr[1], m32);
	assert_int_equal(t->mapped[1], 2);
	assert_int_equal(t->map_addr[1], M32_B + 0x100000);
	t->reads = 0;
	assert_true(bus_read(&c->mmio, m32, (uint8_t *)&v, 4));
	assert_int_equal(t->reads, 0);
	assert_true(bus_read(&c->mmio, M32_B + 0x100000, (uint8_t *)&v, 4));
	assert_int_equal(t->reads, 1);

	/* A size probe moves the BAR out of the window: not decoded. */
	cfg_write(c, 1, 0x14, 0xffffffff, 4);
	assert_int_equal(t->unmapped[1], 2);
	assert_int_equal(t->mapped[1], 2);
	cfg_write(c, 1, 0x14, m32, 4);
	assert_int_equal(t->mapped[1], 3);

	/* IO decoding through the pio bus. */
	cfg_write(c, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	assert_int_equal(t->mapped[0], 1);
	assert_int_equal(t->map_addr[0], io);
	t->writes = 0;
	out_n(c, (uint16_t)(io + 4), 0x77, 1);
	assert_int_equal(t->writes, 1);
	assert_int_equal(t->last_off, 4);

	/* Decoding off: every BAR unmapped once. */
	cfg_write(c, 1, PCI_COMMAND, 0, 2);
	assert_int_equal(t->unmapped[0], 1);
	assert_int_equal(t->unmapped[1], 3);
	assert_int_equal(t->unmapped[2], 1);
	t->writes = 0;
	out_n(c, (uint16_t)(io + 4), 0x77, 1);
	assert_int_equal(t->writes, 0);
}

static void test_capability_chain(void **state)
{
	struct ctx *c = *state;
	struct pci_device *d = &c->dev.pci;
	const uint8_t ids[] = {PCI_CAP_ID_VNDR, 0x10, PCI_CAP_ID_VNDR};
	const uint32_t lens[] = {16, 0x3c, 6};
	unsigned seen = 0, ptr;

	assert_int_equal(pci_add_capability(d, ids[0], lens[0]), 0x40);
	assert_int_equal(pci_add_capability(d, ids[1], lens[1]), 0x50);
	assert_int_equal(pci_add_capability(d, ids[2], lens[2]), 0x8c);
	/* Room is limited to the 256-byte space. */
	assert_int_equal(pci_add_capability(d, 0x10, 0x80), -ENOSPC);
	assert_int_equal(pci_add_capability(d, 0x10, 1), -EINVAL);
	add_dev(c);
	assert_int_equal(pci_add_capability(d, 0x10, 4), -EBUSY);

	assert_true(cfg_read(c, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	ptr = cfg_read(c, 1, PCI_CAPABILITY_LIST, 1);
	while (ptr) {
		assert_true(seen < ARRAY_SIZE(ids));
		assert_int_equal(ptr % 4, 0);
		assert_true(ptr >= 0x40);
		assert_int_equal(cfg_read(c, 1, ptr, 1), ids[seen]);
		/* ID and next pointer are read-only to the guest. */
		cfg_write(c, 1, ptr, 0xffff, 2);
		assert_int_equal(cfg_read(c, 1, ptr, 1), ids[seen]);
		ptr = cfg_read(c, 1, ptr + 1, 1);
		seen++;
	}
	assert_int_equal(seen, ARRAY_SIZE(ids));
}

static uint32_t ecam_read(struct ctx *c, unsigned slot, unsigned reg, uint32_t len)
{
	uint64_t v = 0;

	assert_true(bus_read(&c->mmio, ECAM + ((uint64_t)slot << 15) + reg, (uint8_t *)&v, len));
	return (uint32_t)v;
}

static void ecam_write(struct ctx *c, unsigned slot, unsigned reg, uint32_t v, uint32_t len)
{
	assert_true(bus_write(&c->mmio, ECAM + ((uint64_t)slot << 15) + reg, (uint8_t *)&v, len));
}

static void test_ecam(void **state)
{
	struct ctx *c = *state;
	uint64_t q = 0;

	add_dev(c);
	assert_int_equal(ecam_read(c, 0, 0, 4), PCI_HOST_VENDOR_ID | PCI_HOST_DEVICE_ID << 16);
	assert_int_equal(ecam_read(c, 1, 0, 4), 0x10421af4);
	assert_int_equal(ecam_read(c, 1, 2, 2), 0x1042);
	assert_int_equal(ecam_read(c, 1, 0x0b, 1), 0x01);
	assert_int_equal(ecam_read(c, 9, 0, 4), 0xffffffff);
	/* Function 3 of slot 1. */
	assert_true(bus_read(&c->mmio, ECAM + (1 << 15) + (3 << 12), (uint8_t *)&q, 4));
	assert_int_equal((uint32_t)q, 0xffffffff);
	/* Extended space exists (empty: no extended capabilities). */
	assert_int_equal(ecam_read(c, 1, 0x100, 4), 0);
	assert_int_equal(ecam_read(c, 1, 0xffc, 4), 0);
	/* Same registers as the port mechanism. */
	ecam_write(c, 1, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	assert_int_equal(cfg_read(c, 1, PCI_COMMAND, 2), PCI_COMMAND_MASTER);
	ecam_write(c, 1, 0x3c, 0x2a, 1);
	assert_int_equal(cfg_read(c, 1, 0x3c, 1), 0x2a);
	/* Inside a dword any byte lanes go (byte enables); crossing one is dropped. */
	assert_int_equal(ecam_read(c, 1, 1, 2), 0x421a);
	ecam_write(c, 1, 0x3b, 0x1111, 2);
	assert_int_equal(cfg_read(c, 1, 0x3c, 1), 0x2a);
	assert_int_equal(ecam_read(c, 1, 3, 2), 0xffff);
	/* 8-byte accesses read all-ones. */
	assert_true(bus_read(&c->mmio, ECAM + (1 << 15), (uint8_t *)&q, 8));
	assert_int_equal(q, ~0ULL);
}

static void test_intx(void **state)
{
	struct ctx *c = *state;
	struct pci_device *d = &c->dev.pci;

	add_dev(c);
	/* Slot 1, INTA#: swizzled onto IOAPIC pin 17, announced in the line register. */
	assert_int_equal(d->intx_gsi, 17);
	assert_int_equal(cfg_read(c, 1, PCI_INTERRUPT_LINE, 1), 17);
	assert_int_equal(pci_device_set_intx(d, 1), 0);
	assert_int_equal(c->irq.calls, 1);
	assert_int_equal(c->irq.gsi, 17);
	assert_int_equal(c->irq.level, 1);
	assert_true(cfg_read(c, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* The guest masks INTx: the line drops, the status bit still shows the request. */
	cfg_write(c, 1, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	assert_int_equal(c->irq.level, 0);
	assert_true(cfg_read(c, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cfg_write(c, 1, PCI_COMMAND, 0, 2);
	assert_int_equal(c->irq.level, 1);
	assert_int_equal(pci_device_set_intx(d, 0), 0);
	assert_int_equal(c->irq.level, 0);
	assert_false(cfg_read(c, 1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* The host bridge has no pin. */
	assert_int_equal(pci_device_set_intx(&c->root.host_bridge, 1), -EINVAL);
}

static void test_bad_bars(void **state)
{
	struct ctx *c = *state;
	struct pci_device d;

	(void)c;
	assert_int_equal(pci_device_init(&d, NULL, "bad", 1, 2, 0, 0), 0);
	assert_int_equal(pci_device_set_bar(&d, 0, PCI_BAR_IO, false, 512, NULL, NULL), -EINVAL);
	assert_int_equal(pci_device_set_bar(&d, 0, PCI_BAR_MEM32, false, 3000, NULL, NULL),
			 -EINVAL);
	assert_int_equal(pci_device_set_bar(&d, 5, PCI_BAR_MEM64, false, 4096, NULL, NULL),
			 -EINVAL);
	assert_int_equal(pci_device_set_bar(&d, 6, PCI_BAR_MEM32, false, 4096, NULL, NULL),
			 -EINVAL);
	assert_int_equal(pci_device_set_bar(&d, 0, PCI_BAR_MEM64, false, 4096, NULL, NULL), 0);
	assert_int_equal(pci_device_set_bar(&d, 1, PCI_BAR_MEM32, false, 4096, NULL, NULL),
			 -EINVAL); /* upper half of BAR 0 */
	assert_int_equal(pci_device_init(&d, NULL, "bad", 1, 2, 0x1000000, 0), -EINVAL);
	pci_device_destroy(&d);
}

static void test_slots_fill_up(void **state)
{
	struct ctx *c = *state;
	struct pci_device *devs = calloc(PCI_NR_SLOTS, sizeof(*devs));

	assert_non_null(devs);
	for (unsigned i = 0; i < PCI_NR_SLOTS; i++)
		assert_int_equal(pci_device_init(&devs[i], NULL, "filler", 1, 2, 0, 0), 0);
	for (unsigned i = 1; i < PCI_NR_SLOTS; i++)
		assert_int_equal(pci_root_add_device(&c->root, &devs[i]), (int)i);
	assert_int_equal(pci_root_add_device(&c->root, &devs[0]), -ENOSPC);
	for (unsigned i = 0; i < PCI_NR_SLOTS; i++)
		pci_device_destroy(&devs[i]);
	free(devs);
}

/* --- BAR allocator --- */

static void test_alloc_alignment(void **state)
{
	struct pci_bar_allocator a;
	uint64_t addr;

	(void)state;
	assert_int_equal(pci_bar_allocator_init(&a, 0xc000, 0x4000, M32_B, M32_S, M64_B, M64_S), 0);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 16, &addr), 0);
	assert_int_equal(addr, M32_B);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 1 * MiB, &addr), 0);
	assert_int_equal(addr, M32_B + 1 * MiB);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 4096, &addr), 0);
	assert_int_equal(addr, M32_B + 2 * MiB);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 256 * MiB, &addr), 0);
	assert_int_equal(addr, M32_B + 256 * MiB);
	/* 64-bit: above 4 GiB, naturally aligned even for huge BARs. */
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM64, 4096, &addr), 0);
	assert_int_equal(addr, M64_B);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM64, 16 * GiB, &addr), 0);
	assert_int_equal(addr, 0x1400000000ULL); /* 80 GiB, a multiple of 16 GiB */
	assert_int_equal(addr % (16 * GiB), 0);
	/* I/O. */
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_IO, 4, &addr), 0);
	assert_int_equal(addr, 0xc000);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_IO, 256, &addr), 0);
	assert_int_equal(addr, 0xc100);
}

static void test_alloc_full_and_bad(void **state)
{
	struct pci_bar_allocator a;
	uint64_t addr = 0x1234;

	(void)state;
	assert_int_equal(pci_bar_allocator_init(&a, 0xc000, 0x100, M32_B, 64 * KiB, 0, 0), 0);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 32 * KiB, &addr), 0);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 64 * KiB, &addr), -ENOSPC);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 32 * KiB, &addr), 0);
	assert_int_equal(addr, M32_B + 32 * KiB);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 16, &addr), -ENOSPC);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM64, 16, &addr), -ENOSPC); /* none */
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_IO, 256, &addr), 0);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_IO, 4, &addr), -ENOSPC);
	/* Bad sizes. */
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 0, &addr), -EINVAL);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 24, &addr), -EINVAL);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 8, &addr), -EINVAL);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_IO, 512, &addr), -EINVAL);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_IO, 2, &addr), -EINVAL);
	assert_int_equal(pci_bar_alloc(&a, PCI_NR_WINDOWS, 16, &addr), -EINVAL);
	/* Bad windows. */
	assert_int_equal(pci_bar_allocator_init(&a, 0xf000, 0x2000, 0, 0, 0, 0), -EINVAL);
	assert_int_equal(pci_bar_allocator_init(&a, 0, 0, 0xf0000000, 0x20000000, 0, 0), -EINVAL);
	assert_int_equal(pci_bar_allocator_init(&a, 0, 0, 0, 0, ~0ULL - 4095, 8192), -EINVAL);
	assert_int_equal(pci_bar_allocator_init(&a, 0, 0, 0xc0000800, 4096, 0, 0), -EINVAL);
}

static void test_alloc_near_top(void **state)
{
	struct pci_bar_allocator a;
	uint64_t addr;

	(void)state;
	/* A window ending at 4 GiB: no wrap when aligning past the end. */
	assert_int_equal(pci_bar_allocator_init(&a, 0, 0, 0xfff00000, 0x100000, 0, 0), 0);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 0x80000, &addr), 0);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 0x80000, &addr), 0);
	assert_int_equal(addr, 0xfff80000);
	assert_int_equal(pci_bar_alloc(&a, PCI_WINDOW_MEM32, 1 * GiB, &addr), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_host_bridge_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cf8_register, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cfc_sizes_and_offsets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_slots, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_header_defaults_and_ro_bits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_w1c, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bar_map_unmap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_capability_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ecam, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_bars, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slots_fill_up, setup, teardown),
	    cmocka_unit_test(test_alloc_alignment),
	    cmocka_unit_test(test_alloc_full_and_bad),
	    cmocka_unit_test(test_alloc_near_top),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
