/* SPDX-License-Identifier: MIT */
#include "guest_mem.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef PR_SET_VMA
#define PR_SET_VMA	     0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

#define HUGE_PAGE_SIZE (2ULL * MiB)

/*
 * Map `size` bytes of fd (-1: private anonymous memory) read-write at a
 * 2 MiB-aligned address: reserve the size plus 2 MiB of address space, put
 * the mapping on the aligned address inside it and give back the slack.
 * Returns NULL with errno set.
 */
static uint8_t *guest_mem_map(uint64_t size, int fd)
{
	size_t span = (size_t)size + HUGE_PAGE_SIZE;
	int flags = fd >= 0 ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS;
	uint8_t *resv, *base;
	int err;

	resv = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return NULL;
	base =
	    (uint8_t *)(((uintptr_t)resv + HUGE_PAGE_SIZE - 1) & ~(uintptr_t)(HUGE_PAGE_SIZE - 1));
	/* MAP_NORESERVE: RAM the guest never touches costs the host nothing. */
	if (mmap(base, size, PROT_READ | PROT_WRITE, flags | MAP_NORESERVE | MAP_FIXED, fd, 0) ==
	    MAP_FAILED) {
		err = errno;
		munmap(resv, span);
		errno = err;
		return NULL;
	}
	if (base > resv)
		munmap(resv, (size_t)(base - resv));
	if (resv + span > base + size)
		munmap(base + size, (size_t)(resv + span - (base + size)));
	return base;
}

int guest_mem_init(struct guest_mem *gm, uint64_t size, unsigned flags)
{
	bool hugepages = flags & GUEST_MEM_HUGETLB;
	bool shared = hugepages || (flags & GUEST_MEM_SHARED);
	uint64_t page = hugepages ? HUGE_PAGE_SIZE : 4096;
	uint64_t low;
	int ret;

	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	if (flags & ~(GUEST_MEM_HUGETLB | GUEST_MEM_SHARED)) {
		log_err("guest memory: unknown flags 0x%x", flags);
		return -EINVAL;
	}
	if (size == 0 || size % page) {
		log_err("guest memory size %llu is not a positive multiple of %llu bytes",
			(unsigned long long)size, (unsigned long long)page);
		return -EINVAL;
	}
	if (size > SIZE_MAX / 2) { /* and the 2 MiB of alignment slack cannot overflow */
		log_err("guest memory size %llu is too large", (unsigned long long)size);
		return -EINVAL;
	}
	if (shared) {
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
	}
	gm->base = guest_mem_map(size, gm->fd);
	if (!gm->base) {
		ret = -errno;
		log_err("cannot map %llu MiB of guest RAM: %s", (unsigned long long)(size / MiB),
			strerror(errno));
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
		/* Transparent huge pages where the host allows them (enabled=
		 * madvise or always; for a memfd, shmem_enabled) let KVM map
		 * guest RAM with 2 MiB pages: far fewer nested page faults. A
		 * host with THP off just ignores the advice. */
		madvise(gm->base, size, MADV_HUGEPAGE);
	}
	if (!shared) {
		/* A forked child would share private RAM copy-on-write: every
		 * guest write after the fork would copy a page. */
		if (madvise(gm->base, size, MADV_DONTFORK) < 0) {
			ret = -errno;
			log_err("madvise(MADV_DONTFORK) on guest RAM failed: %s", strerror(errno));
			goto err;
		}
		/* [anon:sluice-ram] in /proc/PID/maps where the kernel has
		 * CONFIG_ANON_VMA_NAME; nothing depends on it. */
		prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)gm->base,
		      (unsigned long)size, (unsigned long)"sluice-ram");
	}
	gm->size = size;
	gm->page_size = page;
	gm->hugepages = hugepages;
	gm->backing = hugepages ? GUEST_MEM_HUGETLBFS : shared ? GUEST_MEM_MEMFD : GUEST_MEM_ANON;

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
	log_debug("guest RAM: %llu MiB, %s, at %p", (unsigned long long)(size / MiB),
		  guest_mem_backing_name(gm), (void *)gm->base);
	return 0;
err:
	if (gm->base)
		munmap(gm->base, size);
	if (gm->fd >= 0)
		close(gm->fd);
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	return ret;
}

bool guest_mem_has_fd(const struct guest_mem *gm)
{
	return gm->fd >= 0;
}

const char *guest_mem_backing_name(const struct guest_mem *gm)
{
	switch (gm->backing) {
	case GUEST_MEM_MEMFD:
		return "memfd";
	case GUEST_MEM_HUGETLBFS:
		return "hugetlbfs";
	case GUEST_MEM_ANON:
		break;
	}
	return "anonymous";
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
