/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng (virtio 1.2 section 5.4): one request queue; each chain's
 * device-writable buffers are filled from the host's getrandom(), at most
 * VIRTIO_RNG_MAX_PER_CHAIN bytes per chain so a driver offering huge
 * buffers cannot keep the event loop busy.
 */
#ifndef SLUICE_VIRTIO_RNG_H
#define SLUICE_VIRTIO_RNG_H

#include "log.h"
#include "virtio_pci.h"

#define VIRTIO_RNG_QUEUE_SIZE	 256
#define VIRTIO_RNG_MAX_PER_CHAIN (64 * 1024)
#define VIRTIO_RNG_MAX_IOV	 64

struct virtio_rng {
	struct virtio_pci_dev vdev;
	struct log_dev log; /* "virtio-rng" */
	uint64_t bytes_served;
};

/* The device, ready to be added to the PCI root (rng->vdev.pci). */
int virtio_rng_init(struct virtio_rng *rng, const struct virtio_env *env);
void virtio_rng_destroy(struct virtio_rng *rng);

#endif
