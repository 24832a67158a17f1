/* SPDX-License-Identifier: MIT */
/*
 * A vCPU: its fd, its shared kvm_run page, and the thread that loops on
 * KVM_RUN and sends each exit where it belongs: PIO/MMIO to the buses, MSR
 * exits to the MSR policy, shutdown/internal errors to a register dump and
 * a crash stop.
 */
#ifndef SLUICE_VCPU_H
#define SLUICE_VCPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct kvm_run;

#define VCPU_STATS_PORTS 0x400 /* per-port counts for the legacy I/O space */

struct vcpu_stats {
	uint64_t exits, pio, mmio, msr, unhandled_pio, unhandled_mmio;
	uint64_t port[VCPU_STATS_PORTS]; /* PIO exits by port (all sizes) */
};

struct vcpu {
	struct vm *vm;
	unsigned index; /* also the APIC ID */
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	struct vcpu_stats stats;
};

int vcpu_create(struct vcpu *vcpu, struct vm *vm, unsigned index);
/* Only the boot vCPU gets register state from the loader; APs wait for SIPI. */
int vcpu_setup_boot(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
/* Make the vCPU leave KVM_RUN soon (from any thread). */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);
/* Log the exit counts (debug log): where a guest's exits go, by kind and port. */
void vcpu_report_stats(const struct vcpu *vcpu);
/* Print registers, and the code bytes at RIP if they can be read. */
void vcpu_dump(struct vcpu *vcpu);

#endif
