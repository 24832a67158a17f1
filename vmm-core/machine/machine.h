/* SPDX-License-Identifier: MIT */
/*
 * The machine: sluice's composition root, the one place that depends on
 * every subsystem (the core, virtio-devices, vhost-user, and later vfio,
 * iommu, sriov), so that vmm-core itself depends on no device library.
 *
 * A machine is built in three phases:
 *   1. vm_create: KVM, memory, irqchip, buses, platform devices, PCI root
 *      (guest RAM is a memfd when a configured device's peer must map it:
 *      the machine decides that from the device configs, before RAM exists);
 *   2. devices, kind by kind in the order of the kind table, each instance
 *      built by its kind's create() and its PCI endpoint put on the root by
 *      one generic path (so PCI slots follow that order);
 *   3. vm_finalize: ACPI tables from what was added, the kernel, the vCPUs.
 * Teardown is the reverse: devices last-added first, then the VM.
 *
 * A device kind (struct machine_kind) brings its command-line option (parsed
 * with the core's key=value parser, vmm-core/kv.h), its help text, and
 * create/destroy. Adding a kind is one entry in the table (machine_kinds.c).
 */
#ifndef SLUICE_MACHINE_H
#define SLUICE_MACHINE_H

#include <stdbool.h>
#include <stdio.h>

#include "virtio_blk.h"
#include "virtio_console.h"
#include "virtio_net.h"
#include "virtio_pci.h"
#include "vm.h"

#define MACHINE_MAX_DISKS 8 /* --disk */
#define MACHINE_MAX_NETS  4 /* --net */

/* Everything the command line asks for: the VM's settings and its devices'. */
struct machine_config {
	struct vm_config vm; /* memory, vCPUs, kernel, serial, CPU policy */
	bool rng;	     /* --rng */
	unsigned nr_disks;
	struct virtio_blk_conf disks[MACHINE_MAX_DISKS]; /* --disk */
	unsigned nr_nets;
	struct virtio_net_conf nets[MACHINE_MAX_NETS]; /* --net (TAP or vhost-user) */
	struct virtio_console_conf console;	       /* --console */
};

struct machine;
struct pci_device;

/* A kind of device the machine can add (one entry of the kind table). */
struct machine_kind {
	const char *name;   /* "virtio-blk", for log lines */
	const char *option; /* its command-line option without "--" ("disk"), or NULL */
	bool option_arg;    /* the option takes a value (--disk SPEC); else a flag (--rng) */
	/* Its lines of `sluice --help`. */
	void (*usage)(FILE *f);
	/* One occurrence of the option (arg NULL for a flag): 0, or -EINVAL and one line. */
	int (*parse)(struct machine_config *cfg, const char *arg);
	/* How many instances cfg asks for. */
	unsigned (*count)(const struct machine_config *cfg);
	/* Must guest RAM be a memfd for instance i (its peer maps it)? NULL: never. */
	bool (*needs_shared_memory)(const struct machine_config *cfg, unsigned i);
	/*
	 * Build instance i on m->vm (phase 2): *dev is what destroy() gets, *ep
	 * the PCI endpoint the machine puts on the root. Returns 0 or a
	 * negative errno after one error line; nothing is left built then.
	 */
	int (*create)(struct machine *m, unsigned i, void **dev, struct pci_device **ep);
	/* Undo create(), once the vCPUs are gone (or never ran). */
	void (*destroy)(const struct machine_config *cfg, unsigned i, void *dev);
};

/* The kinds, in the order they are added (and so their PCI slots). */
const struct machine_kind *machine_kinds(size_t *nr);

/* One device the machine added. */
struct machine_dev {
	const struct machine_kind *kind;
	unsigned index; /* instance of its kind */
	void *dev;
	struct pci_device *ep;
};

struct machine {
	struct machine_config cfg;
	struct vm vm;
	struct virtio_env env; /* what every virtio device is built with */
	struct machine_dev *devs;
	unsigned nr_devs;
	bool vm_created;
};

/* Defaults: 256 MiB, one vCPU, COM1 on stdio, no devices. */
void machine_config_init(struct machine_config *cfg);
/*
 * The VM's settings for cfg: cfg->vm, with shared_memory set when any
 * configured device needs guest RAM another process can map.
 */
void machine_vm_config(const struct machine_config *cfg, struct vm_config *out);
/*
 * Build the machine cfg describes (phases 1 to 3; cfg is copied). Returns 0,
 * or a negative errno after one error line with everything torn down.
 */
int machine_create(struct machine *m, const struct machine_config *cfg);
/* Run the guest until it stops; returns the process exit status. */
int machine_run(struct machine *m);
/* Devices in reverse order, then the VM. Safe after a failed create. */
void machine_destroy(struct machine *m);

#endif
