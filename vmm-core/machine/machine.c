/* SPDX-License-Identifier: MIT */
#include "machine.h"
#include "cli.h"
#include "log.h"
#include "pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void machine_config_init(struct machine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vm.mem_size = CLI_DEFAULT_MEMORY;
	cfg->vm.nr_cpus = 1;
	cfg->vm.serial = SERIAL_STDIO;
	cfg->console.mode = VIRTIO_CONSOLE_OFF;
}

void machine_vm_config(const struct machine_config *cfg, struct vm_config *out)
{
	size_t nr;
	const struct machine_kind *kinds = machine_kinds(&nr);

	*out = cfg->vm;
	for (size_t k = 0; k < nr; k++) {
		if (!kinds[k].needs_shared_memory)
			continue;
		for (unsigned i = 0; i < kinds[k].count(cfg); i++)
			if (kinds[k].needs_shared_memory(cfg, i))
				out->shared_memory = true;
	}
}

/* The one path that puts a device on the machine: build it, record it, give it a PCI slot. */
static int machine_add(struct machine *m, const struct machine_kind *kind, unsigned i)
{
	struct machine_dev *d = &m->devs[m->nr_devs];
	int ret;

	*d = (struct machine_dev){.kind = kind, .index = i};
	if ((ret = kind->create(m, i, &d->dev, &d->ep)))
		return ret;
	m->nr_devs++;
	/* pci_root_add_device logs its failures and returns the slot. */
	ret = pci_root_add_device(&m->vm.pci, d->ep);
	if (ret < 0)
		return ret;
	log_debug("%s %u: PCI slot %d", kind->name, i, ret);
	return 0;
}

/* Phase 2: every configured device, kind by kind in the table's order. */
static int machine_add_devices(struct machine *m)
{
	size_t nr;
	const struct machine_kind *kinds = machine_kinds(&nr);
	unsigned total = 0;
	int ret;

	for (size_t k = 0; k < nr; k++)
		total += kinds[k].count(&m->cfg);
	if (!total)
		return 0;
	m->devs = calloc(total, sizeof(*m->devs));
	if (!m->devs) {
		log_err("out of memory for %u devices", total);
		return -ENOMEM;
	}
	for (size_t k = 0; k < nr; k++)
		for (unsigned i = 0; i < kinds[k].count(&m->cfg); i++)
			if ((ret = machine_add(m, &kinds[k], i)))
				return ret;
	return 0;
}

int machine_create(struct machine *m, const struct machine_config *cfg)
{
	struct vm_config vm_cfg;
	int ret;

	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	/* Phase 1. Whether RAM is a memfd is decided now: it cannot change later. */
	machine_vm_config(&m->cfg, &vm_cfg);
	if ((ret = vm_create(&m->vm, &vm_cfg)))
		return ret;
	m->vm_created = true;
	/* Every device DMAs through the VM's identity space over guest RAM. */
	m->env = (struct virtio_env){
	    .dma = &m->vm.dma,
	    .loop = &m->vm.loop,
	    .router = &m->vm.gsi,
	    .vm_fd = m->vm.vm_fd,
	};
	/* Phase 2, then 3: the ACPI tables describe what phase 2 added. */
	if ((ret = machine_add_devices(m)) || (ret = vm_finalize(&m->vm))) {
		machine_destroy(m);
		return ret;
	}
	return 0;
}

int machine_run(struct machine *m)
{
	return vm_run(&m->vm);
}

void machine_destroy(struct machine *m)
{
	/* vm_run has joined the vCPUs (or none ran): nothing touches the devices any more. */
	while (m->nr_devs) {
		struct machine_dev *d = &m->devs[--m->nr_devs];

		d->kind->destroy(&m->cfg, d->index, d->dev);
	}
	free(m->devs);
	m->devs = NULL;
	if (m->vm_created)
		vm_destroy(&m->vm);
	m->vm_created = false;
}
