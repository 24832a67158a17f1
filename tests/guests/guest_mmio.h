/* SPDX-License-Identifier: MIT */
/*
 * MMIO for the C test guests: uncached mappings of device ranges in the
 * identity page tables the guest was entered with (the boot loader maps
 * the low 4 GiB write-back; 64-bit BARs above RAM are not mapped at all),
 * and volatile accessors of a fixed width.
 */
#ifndef SLUICE_GUEST_MMIO_H
#define SLUICE_GUEST_MMIO_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Identity-map [addr, addr + len) with uncached 2 MiB pages, taking new
 * table pages from a small pool; false if the pool runs out or a 1 GiB
 * page is in the way. Flushes the TLB.
 */
bool guest_map_uc(uint64_t addr, uint64_t len);

static inline uint8_t mmio_read8(uint64_t a)
{
	return *(volatile uint8_t *)a;
}

static inline uint16_t mmio_read16(uint64_t a)
{
	return *(volatile uint16_t *)a;
}

static inline uint32_t mmio_read32(uint64_t a)
{
	return *(volatile uint32_t *)a;
}

static inline void mmio_write8(uint64_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}

static inline void mmio_write16(uint64_t a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}

static inline void mmio_write32(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

/* A 64-bit register as two dword writes, low first (virtio 4.1.3.1 allows it). */
static inline void mmio_write64_split(uint64_t a, uint64_t v)
{
	mmio_write32(a, (uint32_t)v);
	mmio_write32(a + 4, (uint32_t)(v >> 32));
}

#endif
