/* SPDX-License-Identifier: MIT */
#include "guest_mem.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

#define HUGE_PAGE_SIZE (2ULL * MiB)

int guest_mem_init(struct guest_mem *gm, uint64_t size, bool hugepages)
{
	uint64_t page = hugepages ? HUGE_PAGE_SIZE : 4096;
	uint64_t low;
	int ret;

	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	if (size == 0 || size % page) {
		log_err("guest memory size %llu is not a positive multiple of %llu bytes",
			(unsigned long long)size, (unsigned long long)page);
		return -EINVAL;
	}
	gm->fd = memfd_create(hugepages ? "sluice-ram-huge" : "sluice-ram",
			      MFD_CLOEXEC | (hugepages ? MFD_HUGETLB : 0));
	if (gm->fd < 0) {
		ret = -errno;
		log_err("memfd_create for guest RAM failed: %s", strerror(errno));
		return ret;
	}
	if (ftruncate(gm->fd, (off_t)size) < 0) {
		ret = -errno;
		log_err("cannot size guest RAM to %llu bytes: %s", (unsigned long long)size,
			strerror(errno));
		goto err;
	}
	gm->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, gm->fd, 0);
	if (gm->base == MAP_FAILED) {
		ret = -errno;
		gm->base = NULL;
		log_err("cannot map guest RAM: %s", strerror(errno));
		goto err;
	}
	if (hugepages) {
		/* Reserve every huge page now: a host without enough free huge
		 * pages fails here with a message instead of SIGBUS-ing a vCPU. */
		if (madvise(gm->base, size, MADV_POPULATE_WRITE) < 0) {
			ret = errno == EFAULT ? -ENOMEM : -errno;
			if (ret == -ENOMEM)
				log_err(
				    "the host has too few free 2 MiB huge pages for %llu MiB of "
				    "guest RAM (see /proc/sys/vm/nr_hugepages)",
				    (unsigned long long)(size / MiB));
			else
				log_err("cannot populate huge pages for guest RAM: %s",
					strerror(-ret));
			goto err;
		}
	} else {
		/* Transparent huge pages for shmem (where the host allows them:
		 * /sys/kernel/mm/transparent_hugepage/shmem_enabled) let KVM map
		 * guest RAM with 2 MiB pages: far fewer nested page faults. */
		madvise(gm->base, size, MADV_HUGEPAGE);
	}
	gm->size = size;
	gm->page_size = page;
	gm->hugepages = hugepages;

	low = size < GUEST_MEM_HOLE_START ? size : GUEST_MEM_HOLE_START;
	gm->regions[0] = (struct guest_mem_region){.gpa = 0, .size = low, .hva = gm->base};
	gm->nr_regions = 1;
	if (size > low) {
		gm->regions[1] = (struct guest_mem_region){.gpa = GUEST_MEM_HIGH_START,
							   .size = size - low,
							   .hva = gm->base + low,
							   .fd_offset = low};
		gm->nr_regions = 2;
	}
	return 0;
err:
	if (gm->base)
		munmap(gm->base, size);
	close(gm->fd);
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	return ret;
}

void guest_mem_destroy(struct guest_mem *gm)
{
	if (gm->base)
		munmap(gm->base, gm->size);
	if (gm->fd >= 0)
		close(gm->fd);
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
}

void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	uint64_t last;

	if (len == 0)
		len = 1;
	if (__builtin_add_overflow(gpa, len - 1, &last))
		return NULL;
	for (unsigned i = 0; i < gm->nr_regions; i++) {
		const struct guest_mem_region *r = &gm->regions[i];
		if (gpa >= r->gpa && last - r->gpa < r->size && gpa - r->gpa < r->size)
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *buf, uint64_t len)
{
	void *p = guest_mem_ptr(gm, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *buf, uint64_t len)
{
	void *p = guest_mem_ptr(gm, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

uint64_t guest_mem_low_end(const struct guest_mem *gm)
{
	return gm->nr_regions ? gm->regions[0].size : 0;
}
