/* SPDX-License-Identifier: MIT */
/*
 * How a device ends the VM (reset, power-off, debug-exit) without reaching
 * into the VM: it holds a struct vm_power * and calls request_stop(). The VM
 * implements it; the first request wins, later ones are ignored.
 */
#ifndef SLUICE_POWER_H
#define SLUICE_POWER_H

enum vm_stop_reason {
	VM_STOP_NONE,
	VM_STOP_RESET,	    /* i8042 0xFE, ACPI reset register, KVM system event */
	VM_STOP_POWEROFF,   /* ACPI S5 */
	VM_STOP_DEBUG_EXIT, /* value written to the isa-debug-exit port */
	VM_STOP_CRASH,	    /* triple fault, KVM internal error, failed entry */
	VM_STOP_ERROR,	    /* the VMM itself failed */
};

struct vm_power {
	/* code: for VM_STOP_DEBUG_EXIT the value written; otherwise 0. */
	void (*request_stop)(struct vm_power *p, enum vm_stop_reason reason, unsigned code);
};

#endif
