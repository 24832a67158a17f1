/* SPDX-License-Identifier: MIT */
/*
 * A VM: the KVM VM fd, guest RAM, the PIO/MMIO buses, interrupt routing,
 * the CPU policy, the platform devices and the vCPU threads.
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

#include "acpi_pm.h"
#include "boot.h"
#include "bus.h"
#include "console.h"
#include "cpu_policy.h"
#include "debug_exit.h"
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

#define VM_MAX_DISKS	   8
#define VM_DISK_PATH_MAX   1024
#define VM_DISK_MAX_QUEUES 16

/* One --disk: a raw image served by virtio-blk (virtio-devices/virtio_blk.c). */
struct vm_disk_config {
	char path[VM_DISK_PATH_MAX];
	bool readonly;
	unsigned num_queues; /* 1..VM_DISK_MAX_QUEUES */
};

#define VM_MAX_NETS	       4
#define VM_NET_MAX_QUEUE_PAIRS 8
#define VM_TAP_NAME_MAX	       16 /* IFNAMSIZ */

#define VM_VHOST_USER_PATH_MAX 108 /* sockaddr_un.sun_path */

/*
 * One --net: virtio-net on a host TAP interface (virtio-devices/virtio_net.c),
 * or, with vhost_user set, on a vhost-user backend (vhost_user_net.c).
 */
struct vm_net_config {
	char tap[VM_TAP_NAME_MAX]; /* interface name, NUL-terminated */
	uint8_t mac[6];
	bool mac_set;		  /* else the device derives a locally administered MAC */
	unsigned num_queue_pairs; /* 1..VM_NET_MAX_QUEUE_PAIRS: one RX + one TX queue each */
	char vhost_user[VM_VHOST_USER_PATH_MAX]; /* backend socket path; "" for a TAP */
	bool vhost_user_server;			 /* sluice listens, the backend connects */
};

/* --console: the virtio-console port (hvc0 in Linux) and where it is connected. */
enum vconsole_mode { VCONSOLE_OFF, VCONSOLE_STDIO, VCONSOLE_FILE };

struct vm_config {
	const char *kernel_path;
	const char *initrd_path;
	const char *cmdline;
	uint64_t mem_size;
	bool hugepages;
	unsigned nr_cpus;
	enum serial_mode serial;
	const char *serial_path;
	const char *cpu_policy_path;
	bool rng; /* virtio-rng (built by virtio-devices/virtio_devices.c) */
	unsigned nr_disks;
	struct vm_disk_config disks[VM_MAX_DISKS];
	unsigned nr_nets;
	struct vm_net_config nets[VM_MAX_NETS];
	enum vconsole_mode vconsole;
	const char *vconsole_path; /* VCONSOLE_FILE */
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
	struct bus pio;
	struct bus mmio;
	struct gsi_router gsi;
	struct irq_sink irq;
	struct vm_power power;

	struct cpu_policy_config cpu_cfg;
	struct kvm_cpuid2 *cpuid; /* VM-wide policy; per-vCPU copies patch APIC IDs */
	struct msr_policy msr;
	struct boot_entry entry;

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

/* Build the whole VM from cfg. On failure everything built is torn down. */
int vm_create(struct vm *vm, const struct vm_config *cfg);
/*
 * Before vm_run: stdin feeds sink (a device's console, e.g. virtio-console)
 * instead of COM1. The sink must outlive vm_run.
 */
void vm_set_console_sink(struct vm *vm, const struct console_sink *sink);
/* Start the vCPUs, serve events until the VM stops; returns the exit status. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

#endif
