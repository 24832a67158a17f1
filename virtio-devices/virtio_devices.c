/* SPDX-License-Identifier: MIT */
#include "virtio_devices.h"
#include "log.h"
#include "virtio_rng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int virtio_devices_create(struct virtio_devices *devs, struct vm *vm)
{
	int ret;

	memset(devs, 0, sizeof(*devs));
	if (!vm->cfg.rng)
		return 0;
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
	if (ret < 0) {
		virtio_devices_destroy(devs);
		return ret;
	}
	return 0;
}

void virtio_devices_destroy(struct virtio_devices *devs)
{
	if (devs->rng) {
		virtio_rng_destroy(devs->rng);
		free(devs->rng);
		devs->rng = NULL;
	}
}
