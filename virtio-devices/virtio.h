/* SPDX-License-Identifier: MIT */
/*
 * virtio 1.x constants shared by the virtqueue library, the virtio-pci
 * transport and the devices (virtio 1.2 spec, sections 2.1, 5 and 6).
 */
#ifndef SLUICE_VIRTIO_H
#define SLUICE_VIRTIO_H

/* Device status field (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER	  2
#define VIRTIO_STATUS_DRIVER_OK	  4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED	  128

/* Feature bit numbers (6: reserved feature bits). */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX	    29
#define VIRTIO_F_VERSION_1	    32
#define VIRTIO_F_ACCESS_PLATFORM    33

#define VIRTIO_FEATURE(bit) (1ULL << (bit))

/* Device IDs (5). */
#define VIRTIO_ID_NET	  1
#define VIRTIO_ID_BLOCK	  2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG	  4

#endif
