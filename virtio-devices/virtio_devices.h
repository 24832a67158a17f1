/* SPDX-License-Identifier: MIT */
/*
 * The virtio devices a VM's configuration asks for (--rng, ...), built on
 * the VM's PCI root after vm_create() and torn down after vm_run() has
 * joined the vCPUs, before vm_destroy(). They live here, not in vm.c,
 * because vmm-core is built before (and without) the virtio library.
 */
#ifndef SLUICE_VIRTIO_DEVICES_H
#define SLUICE_VIRTIO_DEVICES_H

#include "vm.h"

struct virtio_rng;
struct virtio_blk;
struct virtio_net;
struct virtio_console;
struct vhost_user_net;

struct virtio_devices {
	struct virtio_rng *rng;
	unsigned nr_blk;
	struct virtio_blk *blk[VM_MAX_DISKS];
	unsigned nr_net;
	struct virtio_net *net[VM_MAX_NETS]; /* --net tap= */
	unsigned nr_vu_net;
	struct vhost_user_net *vu_net[VM_MAX_NETS]; /* --net vhost_user= */
	struct virtio_console *console;		    /* --console */
};

int virtio_devices_create(struct virtio_devices *devs, struct vm *vm);
void virtio_devices_destroy(struct virtio_devices *devs);

#endif
