/* SPDX-License-Identifier: MIT */
#include "irq.h"
#include "log.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

static int router_commit(struct gsi_router *r)
{
	if (ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, r->table) < 0) {
		int ret = -errno;
		log_err("KVM_SET_GSI_ROUTING (%u entries) failed: %s", r->table->nr,
			strerror(errno));
		return ret;
	}
	return 0;
}

static void add_irqchip(struct kvm_irq_routing *t, uint32_t gsi, uint32_t chip, uint32_t pin)
{
	struct kvm_irq_routing_entry *e = &t->entries[t->nr++];

	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

int gsi_router_init(struct gsi_router *r, int vm_fd)
{
	struct kvm_irq_routing *t;

	memset(r, 0, sizeof(*r));
	r->vm_fd = vm_fd;
	r->capacity = 64;
	t = calloc(1, sizeof(*t) + r->capacity * sizeof(t->entries[0]));
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->table = t;
	/* The PC wiring: ISA IRQs to both PICs and the IOAPIC, except that the
	 * PIT's IRQ 0 is IOAPIC pin 2 (the MADT says so with an override). */
	for (uint32_t i = 0; i < 16; i++) {
		if (i == 2)
			continue;
		add_irqchip(t, i, i < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, i % 8);
	}
	for (uint32_t i = 0; i < IRQ_NR_LEGACY_GSIS; i++) {
		if (i == 2)
			continue;
		add_irqchip(t, i, KVM_IRQCHIP_IOAPIC, i == 0 ? 2 : i);
	}
	return router_commit(r);
}

void gsi_router_destroy(struct gsi_router *r)
{
	free(r->table);
	r->table = NULL;
	pthread_mutex_destroy(&r->lock);
}

static void fill_msi(struct kvm_irq_routing_entry *e, uint32_t gsi, uint64_t addr, uint32_t data)
{
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
}

static struct kvm_irq_routing_entry *find_msi(struct gsi_router *r, uint32_t gsi)
{
	for (uint32_t i = 0; i < r->table->nr; i++)
		if (r->table->entries[i].gsi == gsi &&
		    r->table->entries[i].type == KVM_IRQ_ROUTING_MSI)
			return &r->table->entries[i];
	return NULL;
}

int gsi_router_add_msi(struct gsi_router *r, uint64_t addr, uint32_t data, uint32_t *gsi)
{
	struct kvm_irq_routing *t;
	uint32_t g;
	int ret;

	pthread_mutex_lock(&r->lock);
	for (g = IRQ_NR_LEGACY_GSIS; g < IRQ_MAX_GSIS && r->msi_used[g]; g++)
		;
	if (g == IRQ_MAX_GSIS) {
		log_err("no free GSI for an MSI route (%d in use)", IRQ_MAX_GSIS);
		ret = -ENOSPC;
		goto out;
	}
	if (r->table->nr == r->capacity) {
		unsigned cap = r->capacity * 2;
		t = realloc(r->table, sizeof(*t) + cap * sizeof(t->entries[0]));
		if (!t) {
			ret = -ENOMEM;
			goto out;
		}
		r->table = t;
		r->capacity = cap;
	}
	fill_msi(&r->table->entries[r->table->nr++], g, addr, data);
	ret = router_commit(r);
	if (ret) {
		r->table->nr--;
		goto out;
	}
	r->msi_used[g] = 1;
	*gsi = g;
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int gsi_router_update_msi(struct gsi_router *r, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry *e, old;
	int ret;

	pthread_mutex_lock(&r->lock);
	e = find_msi(r, gsi);
	if (!e) {
		log_err("GSI %u is not an MSI route", gsi);
		ret = -ENOENT;
		goto out;
	}
	old = *e;
	fill_msi(e, gsi, addr, data);
	ret = router_commit(r);
	if (ret)
		*e = old;
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int gsi_router_remove(struct gsi_router *r, uint32_t gsi)
{
	struct kvm_irq_routing_entry *e;
	int ret;

	pthread_mutex_lock(&r->lock);
	e = find_msi(r, gsi);
	if (!e) {
		log_err("GSI %u is not an MSI route", gsi);
		ret = -ENOENT;
		goto out;
	}
	*e = r->table->entries[--r->table->nr];
	r->msi_used[gsi] = 0;
	ret = router_commit(r);
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irqfd_assign(int vm_fd, int efd, uint32_t gsi, int resample_fd)
{
	struct kvm_irqfd f = {.fd = (uint32_t)efd, .gsi = gsi};

	if (resample_fd >= 0) {
		f.flags = KVM_IRQFD_FLAG_RESAMPLE;
		f.resamplefd = (uint32_t)resample_fd;
	}
	if (ioctl(vm_fd, KVM_IRQFD, &f) < 0) {
		int ret = -errno;
		log_err("KVM_IRQFD gsi %u failed: %s", gsi, strerror(errno));
		return ret;
	}
	return 0;
}

int irqfd_deassign(int vm_fd, int efd, uint32_t gsi)
{
	struct kvm_irqfd f = {.fd = (uint32_t)efd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN};

	if (ioctl(vm_fd, KVM_IRQFD, &f) < 0) {
		int ret = -errno;
		log_err("KVM_IRQFD deassign gsi %u failed: %s", gsi, strerror(errno));
		return ret;
	}
	return 0;
}

static int ioeventfd(int vm_fd, int efd, uint64_t addr, uint32_t len, bool pio, bool match_data,
		     uint64_t data, bool deassign)
{
	struct kvm_ioeventfd io = {.datamatch = data, .addr = addr, .len = len, .fd = efd};

	if (pio)
		io.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (match_data)
		io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (deassign)
		io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	if (ioctl(vm_fd, KVM_IOEVENTFD, &io) < 0) {
		int ret = -errno;
		log_err("KVM_IOEVENTFD %s 0x%llx/%u %s failed: %s", pio ? "pio" : "mmio",
			(unsigned long long)addr, len, deassign ? "deassign" : "assign",
			strerror(errno));
		return ret;
	}
	return 0;
}

int ioeventfd_assign(int vm_fd, int efd, uint64_t addr, uint32_t len, bool pio, bool match_data,
		     uint64_t data)
{
	return ioeventfd(vm_fd, efd, addr, len, pio, match_data, data, false);
}

int ioeventfd_deassign(int vm_fd, int efd, uint64_t addr, uint32_t len, bool pio, bool match_data,
		       uint64_t data)
{
	return ioeventfd(vm_fd, efd, addr, len, pio, match_data, data, true);
}
