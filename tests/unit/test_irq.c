/* SPDX-License-Identifier: MIT */
/* GSI routing, irqfd and ioeventfd against the real /dev/kvm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "irq.h"

struct kvm_fixture {
	int kvm, vm;
};

static int setup(void **state)
{
	static struct kvm_fixture f;

	f.kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (f.kvm < 0)
		return 0; /* tests skip */
	f.vm = ioctl(f.kvm, KVM_CREATE_VM, 0);
	if (f.vm < 0 || ioctl(f.vm, KVM_CREATE_IRQCHIP, 0) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct kvm_fixture *f = *state;

	if (f) {
		close(f->vm);
		close(f->kvm);
	}
	return 0;
}

static void test_router(void **state)
{
	struct kvm_fixture *f = *state;
	struct gsi_router r;
	uint32_t g1, g2, g3;

	if (!f)
		skip();
	assert_int_equal(gsi_router_init(&r, f->vm), 0);
	/* 15 PIC routes + 23 IOAPIC routes (GSI 2 is not a pin of its own). */
	assert_int_equal(r.table->nr, 15 + 23);
	for (unsigned i = 0; i < r.table->nr; i++) {
		const struct kvm_irq_routing_entry *e = &r.table->entries[i];
		if (e->u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC && e->gsi == 0)
			assert_int_equal(e->u.irqchip.pin, 2);
	}
	assert_int_equal(gsi_router_add_msi(&r, 0xfee00000, 0x4021, &g1), 0);
	assert_int_equal(gsi_router_add_msi(&r, 0xfee01000, 0x4022, &g2), 0);
	assert_true(g1 >= IRQ_NR_LEGACY_GSIS);
	assert_int_not_equal(g1, g2);
	assert_int_equal(gsi_router_update_msi(&r, g1, 0xfee00000, 0x4031), 0);
	assert_int_equal(gsi_router_update_msi(&r, 3, 0xfee00000, 0x4031), -ENOENT);
	assert_int_equal(gsi_router_remove(&r, g1), 0);
	assert_int_equal(gsi_router_remove(&r, g1), -ENOENT);
	/* The freed GSI is handed out again. */
	assert_int_equal(gsi_router_add_msi(&r, 0xfee00000, 0x4023, &g3), 0);
	assert_int_equal(g3, g1);
	/* Grow past the initial table capacity. */
	for (unsigned i = 0; i < 100; i++) {
		uint32_t g;
		assert_int_equal(gsi_router_add_msi(&r, 0xfee00000, 0x4040 + i, &g), 0);
	}
	gsi_router_destroy(&r);
}

static void test_irqfd_ioeventfd(void **state)
{
	struct kvm_fixture *f = *state;
	struct gsi_router r;
	uint32_t gsi;
	int efd;

	if (!f)
		skip();
	efd = eventfd(0, EFD_CLOEXEC);
	assert_true(efd >= 0);
	assert_int_equal(gsi_router_init(&r, f->vm), 0);
	assert_int_equal(gsi_router_add_msi(&r, 0xfee00000, 0x4021, &gsi), 0);
	assert_int_equal(irqfd_assign(f->vm, efd, gsi, -1), 0);
	assert_int_equal(irqfd_assign(f->vm, efd, gsi, -1), -EBUSY);
	assert_int_equal(irqfd_deassign(f->vm, efd, gsi), 0);
	assert_int_equal(ioeventfd_assign(f->vm, efd, 0xd0000000, 4, false, false, 0), 0);
	assert_int_equal(ioeventfd_assign(f->vm, efd, 0xd0000000, 4, false, false, 0), -EEXIST);
	assert_int_equal(ioeventfd_deassign(f->vm, efd, 0xd0000000, 4, false, false, 0), 0);
	assert_int_equal(ioeventfd_assign(f->vm, efd, 0x510, 2, true, true, 7), 0);
	assert_int_equal(ioeventfd_deassign(f->vm, efd, 0x510, 2, true, true, 7), 0);
	close(efd);
	gsi_router_destroy(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_router),
	    cmocka_unit_test(test_irqfd_ioeventfd),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
