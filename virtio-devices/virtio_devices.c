/* SPDX-License-Identifier: MIT */
#include "virtio_devices.h"
#include "log.h"
#include "virtio_blk.h"
#include "virtio_rng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int virtio_devices_add_rng(struct virtio_devices *devs, struct vm *vm)
{
	int ret;

	devs->rng = calloc(1, sizeof(*devs->rng));
	if (!devs->rng) {
		log_err("virtio-rng: out of memory");
		return -ENOMEM;
	}
	ret = virtio_rng_init(devs->rng, &vm->mem, &vm->loop, &vm->gsi, vm->vm_fd);
	if (ret) {
		free(devs->rng);
		devs->rng = NULL;
		return ret;
	}
	ret = pci_root_add_device(&vm->pci, &devs->rng->vdev.pci);
	return ret < 0 ? ret : 0;
}

static int virtio_devices_add_blk(struct virtio_devices *devs, struct vm *vm,
				  const struct vm_disk_config *d)
{
	struct virtio_blk *blk = calloc(1, sizeof(*blk));
	int ret;

	if (!blk) {
		log_err("virtio-blk: out of memory");
		return -ENOMEM;
	}
	ret = virtio_blk_init(blk, d->path, d->readonly, d->num_queues, &vm->mem, &vm->loop,
			      &vm->gsi, vm->vm_fd);
	if (ret) {
		free(blk);
		return ret;
	}
	devs->blk[devs->nr_blk++] = blk;
	ret = pci_root_add_device(&vm->pci, &blk->vdev.pci);
	return ret < 0 ? ret : 0;
}

int virtio_devices_create(struct virtio_devices *devs, struct vm *vm)
{
	int ret = 0;

	memset(devs, 0, sizeof(*devs));
	if (vm->cfg.rng)
		ret = virtio_devices_add_rng(devs, vm);
	for (unsigned i = 0; !ret && i < vm->cfg.nr_disks && i < VM_MAX_DISKS; i++)
		ret = virtio_devices_add_blk(devs, vm, &vm->cfg.disks[i]);
	if (ret)
		virtio_devices_destroy(devs);
	return ret;
}

void virtio_devices_destroy(struct virtio_devices *devs)
{
	for (unsigned i = 0; i < devs->nr_blk; i++) {
		virtio_blk_destroy(devs->blk[i]);
		free(devs->blk[i]);
		devs->blk[i] = NULL;
	}
	devs->nr_blk = 0;
	if (devs->rng) {
		virtio_rng_destroy(devs->rng);
		free(devs->rng);
		devs->rng = NULL;
	}
}
