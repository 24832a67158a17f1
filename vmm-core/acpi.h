/* SPDX-License-Identifier: MIT */
/*
 * ACPI tables for a hardware-reduced ACPI 6 platform, written into guest
 * RAM between BOOT_ACPI_BASE (0xe0000) and 1 MiB, where a guest that is not
 * told the RSDP address finds it by scanning:
 *   RSDP (rev 2) -> XSDT -> FADT (rev 6) -> DSDT
 *                        -> MADT
 * The FADT points the sleep and reset registers at acpi_pm's ports; the
 * DSDT holds \_S5_ (so ACPI power-off works) and COM1 (PNP0501).
 */
#ifndef SLUICE_ACPI_H
#define SLUICE_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

#define ACPI_MAX_CPUS	 255 /* xAPIC IDs; UID 0xff means "all" in LAPIC NMI */
#define ACPI_LAPIC_ADDR	 0xfee00000U
#define ACPI_IOAPIC_ADDR 0xfec00000U
#define ACPI_IOAPIC_ID	 0
#define ACPI_SCI_IRQ	 9

struct acpi_config {
	unsigned nr_cpus; /* 1..ACPI_MAX_CPUS; APIC ID = processor UID = index */
			  /* The PCI work (issue 4) adds the MCFG window and host bridge here. */
};

/*
 * Write all tables and return the RSDP's guest-physical address. Fails with
 * -EINVAL for a bad config and -ENOSPC if guest RAM does not cover
 * [BOOT_ACPI_BASE, 1 MiB) or the tables do not fit there.
 */
int acpi_build(struct guest_mem *gm, const struct acpi_config *cfg, uint64_t *rsdp_gpa);

/* Byte that makes the sum of [data, data+len) zero modulo 256. */
uint8_t acpi_checksum(const void *data, size_t len);

#endif
