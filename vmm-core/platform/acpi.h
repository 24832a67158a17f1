/* SPDX-License-Identifier: MIT */
/*
 * ACPI tables for a hardware-reduced ACPI 6 platform, written into guest
 * RAM between BOOT_ACPI_BASE (0xe0000) and 1 MiB, where a guest that is not
 * told the RSDP address finds it by scanning:
 *   RSDP (rev 2) -> XSDT -> FADT (rev 6) -> DSDT
 *                        -> MADT
 *                        -> MCFG (with PCI)
 * The FADT points the sleep and reset registers at acpi_pm's ports; the
 * DSDT holds \_S5_ (so ACPI power-off works), COM1 (PNP0501) and, with PCI,
 * the root bridge \_SB.PCI0 (PNP0A08: bus 0, its windows, INTx routing in
 * _PRT) and a PNP0C02 device reserving the ECAM area, without which Linux
 * does not trust the MCFG.
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
	/* PCI root bridge on bus 0; pci_ecam_base 0 means no PCI (no MCFG, no PCI0). */
	uint64_t pci_ecam_base; /* 1 MiB: bus 0 only */
	uint64_t pci_io_base, pci_io_size;
	uint64_t pci_mem32_base, pci_mem32_size;
	uint64_t pci_mem64_base, pci_mem64_size; /* size 0: none */
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
