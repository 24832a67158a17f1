/* SPDX-License-Identifier: MIT */
/*
 * Interrupts. Devices see only two things:
 *  - struct irq_sink: raise/lower a legacy GSI line (UART, INTx), done by
 *    the VM with KVM_IRQ_LINE into the in-kernel PIC/IOAPIC;
 *  - the GSI router: allocate a GSI routed to an MSI message and bind an
 *    eventfd to it (irqfd), which is how PCI MSI-X, virtio and VFIO will
 *    deliver interrupts without a trip through the VMM.
 * KVM_SET_GSI_ROUTING replaces the whole table, so the router owns it: the
 * default legacy routes (PIC + IOAPIC, GSI 0 -> IOAPIC pin 2 as on a PC) plus
 * every MSI route handed out.
 */
#ifndef SLUICE_IRQ_H
#define SLUICE_IRQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IRQ_NR_LEGACY_GSIS 24 /* IOAPIC pins */
#define IRQ_MAX_GSIS	   1024

struct irq_sink {
	int (*set_level)(struct irq_sink *sink, uint32_t gsi, int level);
};

struct kvm_irq_routing;

struct gsi_router {
	int vm_fd;
	pthread_mutex_t lock;
	struct kvm_irq_routing *table; /* legacy entries first, then MSI */
	unsigned capacity;
	uint8_t msi_used[IRQ_MAX_GSIS]; /* 1 if GSI is an allocated MSI route */
};

/* Install the default legacy routing; vm_fd must have an in-kernel irqchip. */
int gsi_router_init(struct gsi_router *r, int vm_fd);
void gsi_router_destroy(struct gsi_router *r);

/* Allocate a GSI >= IRQ_NR_LEGACY_GSIS routed to the given MSI message. */
int gsi_router_add_msi(struct gsi_router *r, uint64_t addr, uint32_t data, uint32_t *gsi);
int gsi_router_update_msi(struct gsi_router *r, uint32_t gsi, uint64_t addr, uint32_t data);
int gsi_router_remove(struct gsi_router *r, uint32_t gsi);

/* Bind/unbind an eventfd to a GSI (KVM_IRQFD); resample_fd < 0 for edge. */
int irqfd_assign(int vm_fd, int efd, uint32_t gsi, int resample_fd);
int irqfd_deassign(int vm_fd, int efd, uint32_t gsi);

/* Bind an eventfd to guest writes of an MMIO/PIO address (KVM_IOEVENTFD). */
int ioeventfd_assign(int vm_fd, int efd, uint64_t addr, uint32_t len, bool pio, bool match_data,
		     uint64_t data);
int ioeventfd_deassign(int vm_fd, int efd, uint64_t addr, uint32_t len, bool pio, bool match_data,
		       uint64_t data);

#endif
