/* SPDX-License-Identifier: MIT */
/*
 * Hardware-reduced ACPI power management registers on PIO, which the FADT
 * points at (SLEEP_CONTROL_REG, SLEEP_STATUS_REG, RESET_REG):
 *   0x600  sleep control: SLP_TYP in bits 2-4, SLP_EN bit 5; S5 powers off
 *   0x601  sleep status: WAK_STS bit 7, write 1 to clear (never set: no
 *          sleep state other than S5 is offered in the DSDT)
 *   0x602  reset: writing ACPI_PM_RESET_VALUE resets the VM
 */
#ifndef SLUICE_ACPI_PM_H
#define SLUICE_ACPI_PM_H

#include <pthread.h>
#include <stdint.h>

#include "bus.h"
#include "power.h"

#define ACPI_PM_BASE	    0x600
#define ACPI_PM_NR_PORTS    3
#define ACPI_PM_SLEEP_CTL   (ACPI_PM_BASE + 0)
#define ACPI_PM_SLEEP_STS   (ACPI_PM_BASE + 1)
#define ACPI_PM_RESET	    (ACPI_PM_BASE + 2)
#define ACPI_PM_RESET_VALUE 0x01
#define ACPI_PM_S5_TYP	    5 /* SLP_TYP the DSDT's \_S5_ package holds */

struct acpi_pm {
	pthread_mutex_t lock;
	struct vm_power *power;
	uint8_t sleep_ctl; /* last value written, SLP_EN not kept (write-only) */
	uint8_t sleep_sts;
};

int acpi_pm_init(struct acpi_pm *p, struct vm_power *power);
int acpi_pm_attach(struct acpi_pm *p, struct bus *pio);
void acpi_pm_destroy(struct acpi_pm *p);

#endif
