/* SPDX-License-Identifier: MIT */
/* MSI-X: capability, table and PBA through the bus, masking, and KVM routing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "bus.h"
#include "msix.h"
#include "pci.h"
#include "util.h"

#define ECAM	  0xe0000000ULL
#define M32_B	  0xc0000000ULL
#define TABLE_OFF 0x2000
#define PBA_OFF	  0x3000
#define NVEC	  4
#define MSG_ADDR  0xfee00000U

struct tdev {
	struct pci_device pci;
	struct msix msix;
	unsigned own_reads;
};

struct ctx {
	struct bus pio, mmio;
	struct pci_root root;
	struct tdev dev;
	int kvm, vm;
	struct gsi_router router;
	bool have_router;
	uint64_t bar;
};

static void bar_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct tdev *t = opaque;

	if (!msix_bar_read(&t->msix, 0, off, data, len)) {
		t->own_reads++;
		memset(data, 0, len);
	}
}

static void bar_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct tdev *t = opaque;

	msix_bar_write(&t->msix, 0, off, data, len);
}

static const struct bus_dev_ops tdev_bar_ops = {.read = bar_read, .write = bar_write};

static int setup_common(void **state, bool kvm)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct pci_root_config cfg = {
	    .ecam_base = ECAM,
	    .mem32_base = M32_B,
	    .mem32_size = 0x20000000,
	};
	struct pci_device *d;

	assert_non_null(c);
	c->kvm = c->vm = -1;
	if (kvm) {
		c->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		if (c->kvm >= 0) {
			c->vm = ioctl(c->kvm, KVM_CREATE_VM, 0);
			assert_true(c->vm >= 0);
			assert_int_equal(ioctl(c->vm, KVM_CREATE_IRQCHIP, 0), 0);
			assert_int_equal(gsi_router_init(&c->router, c->vm), 0);
			c->have_router = true;
		}
	}
	assert_int_equal(bus_init(&c->pio, "pio"), 0);
	assert_int_equal(bus_init(&c->mmio, "mmio"), 0);
	assert_int_equal(pci_root_init(&c->root, &cfg, NULL), 0);
	assert_int_equal(pci_root_attach(&c->root, &c->pio, &c->mmio), 0);
	d = &c->dev.pci;
	assert_int_equal(pci_device_init(d, NULL, "msix-test", 0x1af4, 0x1041, 0x020000, 1), 0);
	assert_int_equal(
	    pci_device_set_bar(d, 0, PCI_BAR_MEM32, false, 0x4000, &tdev_bar_ops, &c->dev), 0);
	assert_int_equal(msix_init(&c->dev.msix, d, NVEC, 0, TABLE_OFF, 0, PBA_OFF,
				   c->have_router ? &c->router : NULL, c->vm),
			 0);
	assert_int_equal(pci_root_add_device(&c->root, d), 1);
	c->bar = pci_config_get32(&d->cfg, PCI_BASE_ADDRESS_0) & ~0xfULL;
	*state = c;
	return 0;
}

static int setup(void **state)
{
	return setup_common(state, false);
}

static int setup_kvm(void **state)
{
	return setup_common(state, true);
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	msix_destroy(&c->dev.msix);
	pci_device_destroy(&c->dev.pci);
	pci_root_destroy(&c->root);
	bus_destroy(&c->pio);
	bus_destroy(&c->mmio);
	if (c->have_router)
		gsi_router_destroy(&c->router);
	if (c->vm >= 0)
		close(c->vm);
	if (c->kvm >= 0)
		close(c->kvm);
	free(c);
	return 0;
}

static uint32_t cfg_read(struct ctx *c, unsigned reg, uint32_t len)
{
	uint32_t v = 0;

	assert_true(bus_read(&c->mmio, ECAM + (1 << 15) + reg, (uint8_t *)&v, len));
	return v;
}

static void cfg_write(struct ctx *c, unsigned reg, uint32_t v, uint32_t len)
{
	assert_true(bus_write(&c->mmio, ECAM + (1 << 15) + reg, (uint8_t *)&v, len));
}

static uint64_t bar_rd(struct ctx *c, uint64_t off, uint32_t len)
{
	uint64_t v = 0;

	assert_true(bus_read(&c->mmio, c->bar + off, (uint8_t *)&v, len));
	return v;
}

static void bar_wr(struct ctx *c, uint64_t off, uint64_t v, uint32_t len)
{
	assert_true(bus_write(&c->mmio, c->bar + off, (uint8_t *)&v, len));
}

static void entry_wr(struct ctx *c, unsigned v, unsigned field, uint32_t val)
{
	bar_wr(c, TABLE_OFF + 16 * v + 4 * field, val, 4);
}

/* Find the MSI-X capability by walking the list as a guest does. */
static unsigned find_cap(struct ctx *c)
{
	unsigned ptr = cfg_read(c, PCI_CAPABILITY_LIST, 1);

	while (ptr && cfg_read(c, ptr, 1) != PCI_CAP_ID_MSIX)
		ptr = cfg_read(c, ptr + 1, 1);
	assert_int_not_equal(ptr, 0);
	return ptr;
}

static void enable(struct ctx *c, uint16_t ctrl_bits)
{
	unsigned cap = find_cap(c);

	cfg_write(c, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	cfg_write(c, cap + 2, ctrl_bits, 2);
}

static uint64_t efd_count(struct ctx *c, unsigned v)
{
	uint64_t n = 0;
	int fd = msix_vector_eventfd(&c->dev.msix, v);

	assert_true(fd >= 0);
	if (read(fd, &n, sizeof(n)) < 0) {
		assert_int_equal(errno, EAGAIN);
		return 0;
	}
	return n;
}

static void test_capability(void **state)
{
	struct ctx *c = *state;
	unsigned cap = find_cap(c);

	assert_true(cfg_read(c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(cfg_read(c, cap + 2, 2), NVEC - 1);
	assert_int_equal(cfg_read(c, cap + 4, 4), TABLE_OFF | 0);
	assert_int_equal(cfg_read(c, cap + 8, 4), PBA_OFF | 0);
	/* Only enable and function mask are writable. */
	cfg_write(c, cap + 2, 0xffff, 2);
	assert_int_equal(cfg_read(c, cap + 2, 2), 0xc000 | (NVEC - 1));
	assert_true(msix_enabled(&c->dev.msix));
	cfg_write(c, cap + 4, 0xffffffff, 4);
	assert_int_equal(cfg_read(c, cap + 4, 4), TABLE_OFF);
	cfg_write(c, cap + 2, 0, 2);
	assert_false(msix_enabled(&c->dev.msix));
	/* A byte write to the upper half of message control works too. */
	cfg_write(c, cap + 3, 0x80, 1);
	assert_true(msix_enabled(&c->dev.msix));
}

static void test_table_access(void **state)
{
	struct ctx *c = *state;

	enable(c, 0);
	/* Reset state: zero, vector masked. */
	for (unsigned v = 0; v < NVEC; v++) {
		assert_int_equal(bar_rd(c, TABLE_OFF + 16 * v, 8), 0);
		assert_int_equal(bar_rd(c, TABLE_OFF + 16 * v + 12, 4), MSIX_VECTOR_MASKED);
	}
	entry_wr(c, 1, 0, MSG_ADDR | 0x1003); /* the low two bits are read-only zero */
	entry_wr(c, 1, 1, 0x12345678);
	entry_wr(c, 1, 2, 0x4041);
	entry_wr(c, 1, 3, 0xfffffffe); /* only the mask bit is writable */
	assert_int_equal(bar_rd(c, TABLE_OFF + 16, 4), MSG_ADDR | 0x1000);
	assert_int_equal(bar_rd(c, TABLE_OFF + 20, 4), 0x12345678);
	assert_int_equal(bar_rd(c, TABLE_OFF + 24, 4), 0x4041);
	assert_int_equal(bar_rd(c, TABLE_OFF + 28, 4), 0);
	/* 8-byte accesses: address as one qword, data + control as another. */
	bar_wr(c, TABLE_OFF + 32, 0x00000000fee01000ULL, 8);
	bar_wr(c, TABLE_OFF + 40, 0x0000000100000033ULL, 8);
	assert_int_equal(bar_rd(c, TABLE_OFF + 32, 8), 0x00000000fee01000ULL);
	assert_int_equal(bar_rd(c, TABLE_OFF + 40, 8), 0x0000000100000033ULL);
	/* Outside table and PBA: the device's own registers. */
	c->dev.own_reads = 0;
	bar_rd(c, 0x10, 4);
	bar_rd(c, TABLE_OFF + 16 * NVEC, 4);
	assert_int_equal(c->dev.own_reads, 2);
}

static void test_bad_table_accesses(void **state)
{
	struct ctx *c = *state;

	enable(c, 0);
	entry_wr(c, 0, 2, 0x11223344);
	/* Byte, word and misaligned dword writes are ignored. */
	bar_wr(c, TABLE_OFF + 8, 0xff, 1);
	bar_wr(c, TABLE_OFF + 8, 0xffff, 2);
	bar_wr(c, TABLE_OFF + 6, 0xffffffff, 4);
	bar_wr(c, TABLE_OFF + 4, 0xffffffffffffffffULL, 8); /* qword not 8-aligned */
	assert_int_equal(bar_rd(c, TABLE_OFF + 8, 4), 0x11223344);
	assert_int_equal(bar_rd(c, TABLE_OFF + 4, 4), 0);
	assert_int_equal(bar_rd(c, TABLE_OFF + 12, 4), MSIX_VECTOR_MASKED);
	/* ...and such reads return all-ones. */
	assert_int_equal(bar_rd(c, TABLE_OFF + 8, 2), 0xffff);
	assert_int_equal(bar_rd(c, TABLE_OFF + 9, 4), 0xffffffff);
	/* The PBA is read-only. */
	assert_int_equal(msix_notify(&c->dev.msix, 2), 0);
	bar_wr(c, PBA_OFF, 0, 8);
	assert_int_equal(bar_rd(c, PBA_OFF, 8), 1 << 2);
	assert_int_equal(bar_rd(c, PBA_OFF, 2), 0xffff);
	/* Bad vector numbers. */
	assert_int_equal(msix_notify(&c->dev.msix, NVEC), -EINVAL);
	assert_int_equal(msix_vector_eventfd(&c->dev.msix, NVEC), -EINVAL);
}

static void program(struct ctx *c, unsigned v, uint32_t data)
{
	entry_wr(c, v, 0, MSG_ADDR);
	entry_wr(c, v, 1, 0);
	entry_wr(c, v, 2, data);
}

static void test_mask_and_pending(void **state)
{
	struct ctx *c = *state;

	enable(c, MSIX_CTRL_ENABLE);
	program(c, 0, 0x30);
	/* Masked: the notify latches the pending bit, no signal. */
	assert_int_equal(msix_notify(&c->dev.msix, 0), 0);
	assert_int_equal(bar_rd(c, PBA_OFF, 4), 1);
	assert_int_equal(efd_count(c, 0), 0);
	/* Unmask: fires once, pending clears. */
	entry_wr(c, 0, 3, 0);
	assert_int_equal(bar_rd(c, PBA_OFF, 4), 0);
	assert_int_equal(efd_count(c, 0), 1);
	/* Live: straight to the eventfd. */
	assert_int_equal(msix_notify(&c->dev.msix, 0), 0);
	assert_int_equal(msix_notify(&c->dev.msix, 0), 0);
	assert_int_equal(efd_count(c, 0), 2);
	assert_int_equal(bar_rd(c, PBA_OFF, 4), 0);
	/* Mask again. */
	entry_wr(c, 0, 3, MSIX_VECTOR_MASKED);
	assert_int_equal(msix_notify(&c->dev.msix, 0), 0);
	assert_int_equal(efd_count(c, 0), 0);
	assert_int_equal(bar_rd(c, PBA_OFF, 4), 1);
	/* A vector never programmed with a valid address does not fire when unmasked. */
	assert_int_equal(msix_notify(&c->dev.msix, 3), 0);
	entry_wr(c, 3, 3, 0);
	assert_int_equal(efd_count(c, 3), 0);
	assert_int_equal(bar_rd(c, PBA_OFF, 4), 1 | 1 << 3);
	program(c, 3, 0x31);
	assert_int_equal(efd_count(c, 3), 1);
	assert_int_equal(bar_rd(c, PBA_OFF, 4), 1);
}

static void test_function_mask_and_enable(void **state)
{
	struct ctx *c = *state;
	unsigned cap;

	enable(c, 0);
	cap = find_cap(c);
	program(c, 1, 0x40);
	entry_wr(c, 1, 3, 0);
	/* MSI-X disabled: nothing is live. */
	assert_int_equal(msix_notify(&c->dev.msix, 1), 0);
	assert_int_equal(efd_count(c, 1), 0);
	assert_int_equal(bar_rd(c, PBA_OFF, 4), 1 << 1);
	/* Enable with the function masked: still pending. */
	cfg_write(c, cap + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL, 2);
	assert_int_equal(efd_count(c, 1), 0);
	assert_int_equal(bar_rd(c, PBA_OFF, 4), 1 << 1);
	/* Function unmasked: delivered. */
	cfg_write(c, cap + 2, MSIX_CTRL_ENABLE, 2);
	assert_int_equal(efd_count(c, 1), 1);
	assert_int_equal(bar_rd(c, PBA_OFF, 4), 0);
	cfg_write(c, cap + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL, 2);
	assert_int_equal(msix_notify(&c->dev.msix, 1), 0);
	assert_int_equal(efd_count(c, 1), 0);
	/* The vector's own mask bit is unchanged by the function mask. */
	assert_int_equal(bar_rd(c, TABLE_OFF + 16 + 12, 4), 0);
}

static void test_init_validation(void **state)
{
	struct ctx *c = *state;
	struct pci_device d;
	struct msix m;

	(void)c;
	assert_int_equal(pci_device_init(&d, NULL, "v", 1, 2, 0, 0), 0);
	assert_int_equal(pci_device_set_bar(&d, 0, PCI_BAR_MEM32, false, 0x1000, NULL, NULL), 0);
	assert_int_equal(pci_device_set_bar(&d, 1, PCI_BAR_IO, false, 0x100, NULL, NULL), 0);
	assert_int_equal(msix_init(&m, &d, 0, 0, 0, 0, 0x800, NULL, -1), -EINVAL);
	assert_int_equal(msix_init(&m, &d, 2049, 0, 0, 0, 0x800, NULL, -1), -EINVAL);
	/* Table past the BAR's end, overlapping PBA, I/O BAR, missing BAR, misaligned. */
	assert_int_equal(msix_init(&m, &d, 256, 0, 0, 0, 0xff0, NULL, -1), -EINVAL);
	assert_int_equal(msix_init(&m, &d, 4, 0, 0, 0, 0x20, NULL, -1), -EINVAL);
	assert_int_equal(msix_init(&m, &d, 4, 1, 0, 0, 0x800, NULL, -1), -EINVAL);
	assert_int_equal(msix_init(&m, &d, 4, 2, 0, 0, 0x800, NULL, -1), -EINVAL);
	assert_int_equal(msix_init(&m, &d, 4, 0, 4, 0, 0x800, NULL, -1), -EINVAL);
	/* 65 vectors: a 16-byte PBA. */
	assert_int_equal(msix_pba_size(65), 16);
	assert_int_equal(msix_table_size(65), 65 * 16);
	assert_int_equal(msix_init(&m, &d, 65, 0, 0, 0, 0x800, NULL, -1), 0);
	assert_ptr_equal(d.msix, &m);
	assert_int_equal(msix_notify(&m, 64), 0);
	assert_int_equal(m.pba[1], 1);
	msix_destroy(&m);
	assert_null(d.msix);
	pci_device_destroy(&d);
}

/* The MSI route the router holds for gsi, or NULL. */
static const struct kvm_irq_routing_entry *route(struct ctx *c, uint32_t gsi)
{
	for (unsigned i = 0; i < c->router.table->nr; i++)
		if (c->router.table->entries[i].gsi == gsi &&
		    c->router.table->entries[i].type == KVM_IRQ_ROUTING_MSI)
			return &c->router.table->entries[i];
	return NULL;
}

static void test_kvm_routing(void **state)
{
	struct ctx *c = *state;
	struct msix_vector *e = &c->dev.msix.vec[2];
	const struct kvm_irq_routing_entry *r;
	int efd = msix_vector_eventfd(&c->dev.msix, 2);
	uint32_t gsi;

	if (!c->have_router)
		skip();
	enable(c, MSIX_CTRL_ENABLE);
	program(c, 2, 0x4022);
	/* Masked: no route, no irqfd yet. */
	assert_int_equal(e->gsi, -1);
	assert_false(e->bound);
	entry_wr(c, 2, 3, 0);
	assert_true(e->bound);
	assert_true(e->gsi >= IRQ_NR_LEGACY_GSIS);
	gsi = (uint32_t)e->gsi;
	r = route(c, gsi);
	assert_non_null(r);
	assert_int_equal(r->u.msi.address_lo, MSG_ADDR);
	assert_int_equal(r->u.msi.address_hi, 0);
	assert_int_equal(r->u.msi.data, 0x4022);
	/* KVM holds the irqfd: binding the same eventfd again is refused. */
	assert_int_equal(irqfd_assign(c->vm, efd, gsi, -1), -EBUSY);
	/* A live vector signals through KVM, not through the VMM. */
	assert_int_equal(msix_notify(&c->dev.msix, 2), 0);
	assert_int_equal(bar_rd(c, PBA_OFF, 4), 0);
	/* Re-targeting a live vector updates its route in place. */
	entry_wr(c, 2, 0, MSG_ADDR | 0x1000);
	entry_wr(c, 2, 2, 0x4023);
	assert_int_equal(e->gsi, gsi);
	r = route(c, gsi);
	assert_int_equal(r->u.msi.address_lo, MSG_ADDR | 0x1000);
	assert_int_equal(r->u.msi.data, 0x4023);
	/* Masked: the irqfd is released (the GSI stays), notifies pend. */
	entry_wr(c, 2, 3, MSIX_VECTOR_MASKED);
	assert_false(e->bound);
	assert_int_equal(irqfd_assign(c->vm, efd, gsi, -1), 0);
	assert_int_equal(irqfd_deassign(c->vm, efd, gsi), 0);
	assert_int_equal(msix_notify(&c->dev.msix, 2), 0);
	assert_int_equal(bar_rd(c, PBA_OFF, 4), 1 << 2);
	/* Disable via the function: unbound; re-enable binds again and drains the PBA. */
	entry_wr(c, 2, 3, 0);
	assert_true(e->bound);
	assert_int_equal(bar_rd(c, PBA_OFF, 4), 0);
	enable(c, 0);
	assert_false(e->bound);
	/* Teardown removes the route. */
	msix_destroy(&c->dev.msix);
	assert_null(route(c, gsi));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_capability, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_access, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_table_accesses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mask_and_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_function_mask_and_enable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_validation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kvm_routing, setup_kvm, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
