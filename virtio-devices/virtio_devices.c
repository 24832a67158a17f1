/* SPDX-License-Identifier: MIT */
#include "virtio_devices.h"
#include "log.h"
#include "virtio_blk.h"
#include "virtio_console.h"
#include "virtio_net.h"
#include "virtio_rng.h"
#include "vhost_user_net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* --console stdio|file=PATH: guest output there; with stdio, stdin feeds the port too. */
static int virtio_devices_add_console(struct virtio_devices *devs, struct vm *vm)
{
	int out_fd = STDOUT_FILENO, ret;

	if (vm->cfg.vconsole == VCONSOLE_FILE) {
		out_fd =
		    open(vm->cfg.vconsole_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out_fd < 0) {
			ret = -errno;
			log_err("virtio-console: cannot open output file %s: %s",
				vm->cfg.vconsole_path, strerror(errno));
			return ret;
		}
	}
	devs->console = calloc(1, sizeof(*devs->console));
	if (!devs->console) {
		log_err("virtio-console: out of memory");
		ret = -ENOMEM;
	} else {
		ret = virtio_console_init(devs->console, out_fd, &vm->mem, &vm->loop, &vm->gsi,
					  vm->vm_fd);
	}
	if (ret) {
		if (out_fd > STDERR_FILENO)
			close(out_fd);
		free(devs->console);
		devs->console = NULL;
		return ret;
	}
	ret = pci_root_add_device(&vm->pci, &devs->console->vdev.pci);
	if (ret < 0)
		return ret;
	if (vm->cfg.vconsole == VCONSOLE_STDIO) {
		struct console_sink sink;

		virtio_console_sink(devs->console, &sink);
		vm_set_console_sink(vm, &sink);
	}
	return 0;
}

static int virtio_devices_add_vu_net(struct virtio_devices *devs, struct vm *vm,
				     const struct vm_net_config *n)
{
	struct vhost_user_net *net = calloc(1, sizeof(*net));
	int ret;

	if (!net) {
		log_err("vhost-user-net: out of memory");
		return -ENOMEM;
	}
	ret = vhost_user_net_init(net, n, &vm->mem, &vm->loop, &vm->gsi, vm->vm_fd);
	if (ret) {
		free(net);
		return ret;
	}
	devs->vu_net[devs->nr_vu_net++] = net;
	ret = pci_root_add_device(&vm->pci, &net->vdev.pci);
	return ret < 0 ? ret : 0;
}

static int virtio_devices_add_net(struct virtio_devices *devs, struct vm *vm,
				  const struct vm_net_config *n)
{
	struct virtio_net *net;
	int ret;

	if (n->vhost_user[0])
		return virtio_devices_add_vu_net(devs, vm, n);
	net = calloc(1, sizeof(*net));

	if (!net) {
		log_err("virtio-net: out of memory");
		return -ENOMEM;
	}
	ret = virtio_net_init(net, n, &vm->mem, &vm->loop, &vm->gsi, vm->vm_fd);
	if (ret) {
		free(net);
		return ret;
	}
	devs->net[devs->nr_net++] = net;
	ret = pci_root_add_device(&vm->pci, &net->vdev.pci);
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
	for (unsigned i = 0; !ret && i < vm->cfg.nr_nets && i < VM_MAX_NETS; i++)
		ret = virtio_devices_add_net(devs, vm, &vm->cfg.nets[i]);
	if (!ret && vm->cfg.vconsole != VCONSOLE_OFF)
		ret = virtio_devices_add_console(devs, vm);
	if (ret)
		virtio_devices_destroy(devs);
	return ret;
}

void virtio_devices_destroy(struct virtio_devices *devs)
{
	if (devs->console) {
		virtio_console_destroy(devs->console);
		free(devs->console);
		devs->console = NULL;
	}
	for (unsigned i = 0; i < devs->nr_blk; i++) {
		virtio_blk_destroy(devs->blk[i]);
		free(devs->blk[i]);
		devs->blk[i] = NULL;
	}
	devs->nr_blk = 0;
	for (unsigned i = 0; i < devs->nr_net; i++) {
		virtio_net_destroy(devs->net[i]);
		free(devs->net[i]);
		devs->net[i] = NULL;
	}
	devs->nr_net = 0;
	for (unsigned i = 0; i < devs->nr_vu_net; i++) {
		vhost_user_net_destroy(devs->vu_net[i]);
		free(devs->vu_net[i]);
		devs->vu_net[i] = NULL;
	}
	devs->nr_vu_net = 0;
	if (devs->rng) {
		virtio_rng_destroy(devs->rng);
		free(devs->rng);
		devs->rng = NULL;
	}
}
