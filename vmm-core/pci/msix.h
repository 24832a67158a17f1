/* SPDX-License-Identifier: MIT */
/*
 * MSI-X for an emulated PCI device: the capability in config space, the
 * vector table (16 bytes per vector: address low/high, data, vector control)
 * and the pending-bit array, both served from the device's BARs.
 *
 * Each vector owns an eventfd. While a vector is live (MSI-X enabled,
 * function and vector unmasked, an address in the 0xFEExxxxx range) its
 * eventfd is bound by irqfd to a GSI routed to its message, so a signal goes
 * from the device straight into KVM. Masking a vector unbinds the irqfd:
 * msix_notify() then latches the pending bit instead, and an eventfd written
 * directly (by a backend) stays signalled; both fire when it is unmasked
 * (KVM delivers an eventfd already signalled when the irqfd is bound).
 *
 * With router == NULL (unit tests without KVM) vectors are never routed and
 * msix_notify writes the eventfd of a live vector all the same.
 */
#ifndef SLUICE_MSIX_H
#define SLUICE_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "irq.h"

#define MSIX_MAX_VECTORS   2048
#define MSIX_ENTRY_SIZE	   16
#define MSIX_CAP_LEN	   12
#define MSIX_CTRL_ENABLE   0x8000
#define MSIX_CTRL_MASKALL  0x4000
#define MSIX_VECTOR_MASKED 0x1

struct pci_device;

struct msix_vector {
	uint32_t addr_lo, addr_hi, data, ctrl;
	int efd;
	int64_t gsi;			 /* -1: no route yet */
	uint32_t route_addr, route_data; /* the message the route carries */
	bool bound;			 /* irqfd assigned */
};

struct msix {
	struct pci_device *dev;
	struct gsi_router *router;
	int vm_fd;
	pthread_mutex_t lock;
	unsigned nr;
	uint8_t cap; /* config space offset of the capability */
	unsigned table_bar, pba_bar;
	uint32_t table_off, pba_off;
	bool enabled, masked_all;
	struct msix_vector *vec;
	uint64_t *pba;
};

/* Bytes the table and the PBA take in their BARs. */
uint32_t msix_table_size(unsigned nr_vectors);
uint32_t msix_pba_size(unsigned nr_vectors);

/*
 * Add the capability to dev (before it is added to the root) for
 * nr_vectors (1..2048) vectors; table/PBA offsets must be 8-byte aligned
 * and must not overlap if they share a BAR. All vectors start masked.
 */
int msix_init(struct msix *m, struct pci_device *dev, unsigned nr_vectors, unsigned table_bar,
	      uint32_t table_off, unsigned pba_bar, uint32_t pba_off, struct gsi_router *router,
	      int vm_fd);
void msix_destroy(struct msix *m);

/*
 * A guest access to BAR bar at offset off: true if it hit the table or the
 * PBA (and was served, or ignored if malformed), false if it is the
 * device's own register space.
 */
bool msix_bar_read(struct msix *m, unsigned bar, uint64_t off, uint8_t *data, uint32_t len);
bool msix_bar_write(struct msix *m, unsigned bar, uint64_t off, const uint8_t *data, uint32_t len);

/* The message control word changed (called by the PCI core). */
void msix_control_write(struct msix *m, uint16_t ctrl);

bool msix_enabled(struct msix *m);
/* The vector's eventfd, or -EINVAL. */
int msix_vector_eventfd(struct msix *m, unsigned v);
/* Signal vector v: through its eventfd if live, else set its pending bit. */
int msix_notify(struct msix *m, unsigned v);

#endif
