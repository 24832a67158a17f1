/* SPDX-License-Identifier: MIT */
/*
 * A VM: the KVM VM fd, guest RAM, the PIO/MMIO buses, interrupt routing,
 * the CPU policy, the platform devices and the vCPU threads.
 *
 * Built in three phases, so that devices exist before what describes them:
 *   1. vm_create: KVM, CPU policy, guest RAM, buses, GSI router, platform
 *      devices, the PCI root, signals; the kernel file is read and its
 *      format checked here, so a bad kernel fails before any device is built;
 *   2. the machine layer (vmm-core/machine/) adds devices on vm->pci, in
 *      its defined order; they may add to vm->acpi;
 *   3. vm_finalize: ACPI tables from vm->acpi, the kernel loaded, the vCPUs
 *      created with the boot vCPU's entry state.
 * Then vm_run; teardown is the reverse: devices, then vm_destroy.
 *
 * Threads: one per vCPU (KVM_RUN loop, exits dispatched to the buses), plus
 * the main thread running the event loop (console input, stop requests,
 * signals). A stop request from any thread (a device, a vCPU seeing a triple
 * fault, SIGTERM) records the first reason, kicks every vCPU out of KVM_RUN
 * and wakes the event loop, which then joins the vCPUs and returns.
 */
#ifndef SLUICE_VM_H
#define SLUICE_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "acpi.h"
#include "acpi_pm.h"
#include "boot/boot.h"
#include "bus.h"
#include "host_console.h"
#include "cpu_policy.h"
#include "debug_exit.h"
#include "dma.h"
#include "evloop.h"
#include "guest_mem.h"
#include "i8042.h"
#include "irq.h"
#include "msr.h"
#include "pci.h"
#include "power.h"
#include "rtc.h"
#include "serial.h"

struct vcpu;
struct kvm_cpuid2;

enum serial_mode { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };

#define VM_PATH_MAX 4096 /* PATH_MAX */

/*
 * VM-wide settings. Devices are not here: their configurations live with
 * them (virtio_blk.h, virtio_net.h, ...) and the machine layer
 * (vmm-core/machine/) adds them between vm_create() and vm_finalize().
 */
struct vm_config {
	const char *kernel_path;
	const char *initrd_path;
	const char *cmdline;
	uint64_t mem_size;
	bool hugepages; /* hugetlbfs memfd */
	/*
	 * A memfd that another process can map: --memory shared=on, or set by
	 * the machine layer when a device's peer maps guest RAM (vhost-user).
	 */
	bool shared_memory;
	unsigned nr_cpus;
	enum serial_mode serial;
	char serial_path[VM_PATH_MAX]; /* SERIAL_FILE */
	const char *cpu_policy_path;
};

/* Process exit statuses besides 0 and the debug-exit port's (v << 1) | 1. */
#define VM_STATUS_SETUP_ERROR 2 /* bad input, or the VM could not be built */
#define VM_STATUS_VMM_ERROR   3 /* the VMM failed while running */
#define VM_STATUS_GUEST_CRASH 4 /* triple fault, KVM internal error */

struct vm {
	struct vm_config cfg;
	int kvm_fd;
	int vm_fd;
	int run_size; /* KVM_GET_VCPU_MMAP_SIZE */

	struct guest_mem mem;
	struct dma_space dma; /* identity over mem: what devices' DMA goes through */
	struct bus pio;
	struct bus mmio;
	struct gsi_router gsi;
	struct irq_sink irq;
	struct vm_power power;

	struct cpu_policy_config cpu_cfg;
	struct kvm_cpuid2 *cpuid; /* VM-wide policy; per-vCPU copies patch APIC IDs */
	struct msr_policy msr;
	bool xcr0_preset; /* the host is a TCG guest: vCPUs start with the full XCR0 (vcpu.c) */
	struct boot_entry entry;
	uint8_t *kernel, *initrd; /* read by vm_create, loaded by vm_finalize */
	size_t kernel_size, initrd_size;
	/*
	 * What the ACPI tables describe: CPUs and the PCI root's windows (phase
	 * 1), and what devices added in phase 2 need (a vIOMMU's DMAR).
	 */
	struct acpi_config acpi;
	bool finalized;

	unsigned nr_vcpus;
	struct vcpu *vcpus;

	struct serial com1;
	struct i8042 i8042;
	struct rtc rtc;
	struct debug_exit debug_exit;
	struct acpi_pm acpi_pm;
	struct pci_root pci;
	int serial_out_fd;
	bool com1_ready, msr_ready, pci_ready; /* what vm_destroy must undo */

	struct evloop loop;
	struct console console;		  /* started by vm_run */
	struct console_sink console_sink; /* what stdin feeds: COM1 unless vm_set_console_sink() */
	bool console_stdin;		  /* stdin is read at all */

	pthread_mutex_t stop_lock;
	enum vm_stop_reason stop_reason;
	unsigned stop_code;
	int stop_efd;	      /* eventfd: wakes the event loop */
	atomic_bool stopping; /* read by vCPU threads without the lock */
	int signal_fd;
};

/*
 * Phase 1: build the VM up to its PCI root from cfg. On failure everything
 * built is torn down. Guest RAM is private anonymous memory unless another
 * process must map it: hugepages or shared_memory give a memfd (the
 * machine layer sets shared_memory when a device needs it).
 */
int vm_create(struct vm *vm, const struct vm_config *cfg);
/*
 * Phase 3, after the devices are added: ACPI tables, kernel, vCPUs and the
 * boot vCPU's state. On failure the caller removes its devices, then calls
 * vm_destroy.
 */
int vm_finalize(struct vm *vm);
/*
 * Before vm_run: stdin feeds sink (a device's console, e.g. virtio-console)
 * instead of COM1. The sink must outlive vm_run.
 */
void vm_set_console_sink(struct vm *vm, const struct console_sink *sink);
/*
 * After vm_finalize: start the vCPUs, serve events until the VM stops;
 * returns the exit status.
 */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

#endif
