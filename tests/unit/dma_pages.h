/* SPDX-License-Identifier: MIT */
/*
 * A second DMA space for tests: a page table from IOVA pages to guest RAM
 * pages, a vIOMMU in miniature. It starts as the identity over the first
 * DMA_PAGES_COUNT pages of guest RAM; tests move pages elsewhere (so a
 * buffer contiguous in IOVA becomes several host ranges) or unmap them, and
 * listeners hear of each change the way they will from the vIOMMU.
 *
 * Single-threaded: a test changes mappings only while nothing translates.
 */
#ifndef SLUICE_TEST_DMA_PAGES_H
#define SLUICE_TEST_DMA_PAGES_H

#include <stdint.h>

#include "dma.h"
#include "guest_mem.h"

#define DMA_PAGES_SIZE	 4096ULL
#define DMA_PAGES_COUNT	 4096 /* 16 MiB of IOVA space */
#define DMA_PAGES_ABSENT UINT64_MAX

struct dma_pages {
	struct dma_space space;
	struct guest_mem *gm;
	uint64_t gpa[DMA_PAGES_COUNT]; /* of IOVA page i, or DMA_PAGES_ABSENT */
};

/* Identity over the first DMA_PAGES_COUNT pages of gm (asserts on failure). */
void dma_pages_init(struct dma_pages *p, struct guest_mem *gm);
void dma_pages_destroy(struct dma_pages *p);

/* Page-aligned: IOVA [iova, iova + size) now reaches GPA [gpa, gpa + size); listeners told. */
void dma_pages_map(struct dma_pages *p, uint64_t iova, uint64_t gpa, uint64_t size);
/* Page-aligned: IOVA [iova, iova + size) is unmapped; listeners told. */
void dma_pages_unmap(struct dma_pages *p, uint64_t iova, uint64_t size);

#endif
