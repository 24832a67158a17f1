/* SPDX-License-Identifier: MIT */
/*
 * Page tables are built by hand in a 64 MiB guest: tables are allocated from
 * TABLES_BASE upwards, data pages live elsewhere, so every expected GPA is
 * computed independently of the walker.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guest_mem.h"
#include "pgwalk.h"

#define RAM_SIZE    (64ULL << 20)
#define TABLES_BASE 0x100000ULL

/* Entry bits (also what a guest kernel would write). */
#define P   (1ULL << 0)
#define RW  (1ULL << 1)
#define US  (1ULL << 2)
#define PS  (1ULL << 7)
#define XD  (1ULL << 63)
#define ALL (P | RW | US)

#define CR0_PE 1ULL

struct env {
	struct guest_mem gm;
	uint64_t next_table;
};

static int setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));

	if (!env || guest_mem_init(&env->gm, RAM_SIZE, false)) {
		free(env);
		return -1;
	}
	env->next_table = TABLES_BASE;
	*state = env;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	guest_mem_destroy(&e->gm);
	free(e);
	return 0;
}

static uint64_t table_alloc(struct env *e)
{
	uint64_t t = e->next_table;

	e->next_table += 0x1000;
	assert_true(e->next_table < RAM_SIZE / 2);
	return t;
}

static void set64(struct env *e, uint64_t table, uint64_t index, uint64_t val)
{
	assert_int_equal(guest_mem_write(&e->gm, table + index * 8, &val, 8), 0);
}

static void set32(struct env *e, uint64_t table, uint64_t index, uint32_t val)
{
	assert_int_equal(guest_mem_write(&e->gm, table + index * 4, &val, 4), 0);
}

static struct pgwalk_cpu cpu_32bit(uint64_t cr3, bool pse)
{
	return (struct pgwalk_cpu){
	    .cr0 = CR0_PE | PGWALK_CR0_PG, .cr3 = cr3, .cr4 = pse ? PGWALK_CR4_PSE : 0};
}

static struct pgwalk_cpu cpu_pae(uint64_t cr3, bool nxe)
{
	return (struct pgwalk_cpu){.cr0 = CR0_PE | PGWALK_CR0_PG,
				   .cr3 = cr3,
				   .cr4 = PGWALK_CR4_PAE,
				   .efer = nxe ? PGWALK_EFER_NXE : 0};
}

static struct pgwalk_cpu cpu_long(uint64_t cr3, bool la57)
{
	return (struct pgwalk_cpu){.cr0 = CR0_PE | PGWALK_CR0_PG,
				   .cr3 = cr3,
				   .cr4 = PGWALK_CR4_PAE | (la57 ? PGWALK_CR4_LA57 : 0),
				   .efer =
				       (1ULL << 8) /* LME */ | PGWALK_EFER_LMA | PGWALK_EFER_NXE};
}

/* Index of gva at a 64-bit-format level (1 = PT ... 5 = PML5). */
static uint64_t idx(uint64_t gva, unsigned level)
{
	return (gva >> (12 + 9 * (level - 1))) & 0x1ff;
}

/*
 * Map gva with a long-mode style walk of `levels` tables ending in a page of
 * page_size at gpa. `flags[i]` are the bits of the entry at level levels-i.
 * Returns the top table (CR3).
 */
static uint64_t map_long(struct env *e, unsigned levels, uint64_t gva, uint64_t gpa,
			 uint64_t page_size, const uint64_t *flags)
{
	uint64_t top = table_alloc(e), table = top;
	unsigned leaf = page_size == 0x1000 ? 1 : page_size == 0x200000 ? 2 : 3;

	for (unsigned level = levels, i = 0; level >= leaf; level--, i++) {
		if (level == leaf) {
			set64(e, table, idx(gva, level), gpa | flags[i] | (leaf > 1 ? PS : 0));
			break;
		}
		uint64_t next = table_alloc(e);
		set64(e, table, idx(gva, level), next | flags[i]);
		table = next;
	}
	return top;
}

static const uint64_t all_flags[5] = {ALL, ALL, ALL, ALL, ALL};

static void test_paging_off(void **state)
{
	struct env *e = *state;
	struct pgwalk_cpu cpu = {.cr0 = CR0_PE, .cr4 = PGWALK_CR4_PAE, .cr3 = 0x5000};
	struct pgwalk_result r;

	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 0x12345678, &r), 0);
	assert_int_equal(r.gpa, 0x12345678);
	assert_int_equal(r.levels, 0);
	assert_int_equal(r.page_size, 0x1000);
	assert_true(r.writable);
	assert_true(r.user);
	assert_false(r.nx);

	cpu.cr0 = 0; /* real mode too */
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 0xffffffff, &r), 0);
	assert_int_equal(r.gpa, 0xffffffff);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 0x100000000ULL, &r), -EINVAL);
}

static void test_32bit_4k(void **state)
{
	struct env *e = *state;
	uint64_t pd = table_alloc(e), pt = table_alloc(e);
	uint64_t gva = 0xc0401abcULL; /* PDE 0x301, PTE 0x001 */
	struct pgwalk_cpu cpu = cpu_32bit(pd | 0x18 /* PWT|PCD: ignored */, true);
	struct pgwalk_result r;

	set32(e, pd, gva >> 22, (uint32_t)(pt | ALL));
	set32(e, pt, (gva >> 12) & 0x3ff, 0x345000 | ALL);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(r.gpa, 0x345abc);
	assert_int_equal(r.levels, 2);
	assert_int_equal(r.page_size, 0x1000);
	assert_true(r.writable);
	assert_true(r.user);
	assert_false(r.nx);

	/* Read-only supervisor PTE under a writable user PDE. */
	set32(e, pt, (gva >> 12) & 0x3ff, 0x345000 | P);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_false(r.writable);
	assert_false(r.user);

	/* Not present at the PTE, then at the PDE. */
	set32(e, pt, (gva >> 12) & 0x3ff, 0x345000 | RW | US);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), -EFAULT);
	set32(e, pt, (gva >> 12) & 0x3ff, 0x345000 | ALL);
	set32(e, pd, gva >> 22, (uint32_t)(pt | RW | US));
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), -EFAULT);

	/* A PDE pointing at a PT beyond RAM. */
	set32(e, pd, gva >> 22, 0x7ffff000 | ALL);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), -EFAULT);

	/* CR3 beyond RAM. */
	cpu.cr3 = 0x80000000;
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), -EFAULT);
}

static void test_32bit_4m(void **state)
{
	struct env *e = *state;
	uint64_t pd = table_alloc(e), pt = table_alloc(e);
	uint64_t gva = 0x80312345ULL; /* PDE 0x200 */
	struct pgwalk_cpu cpu = cpu_32bit(pd, true);
	struct pgwalk_result r;

	set32(e, pd, gva >> 22, 0x01c00000 | PS | P | RW);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(r.gpa, 0x01c00000 + 0x312345);
	assert_int_equal(r.levels, 1);
	assert_int_equal(r.page_size, 4ULL << 20);
	assert_true(r.writable);
	assert_false(r.user);

	/* PSE-36: PDE bits 20:13 give physical bits 39:32. */
	set32(e, pd, gva >> 22, 0x01c00000 | (0xa5u << 13) | PS | ALL);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(r.gpa, (0xa5ULL << 32) | 0x01c00000 | 0x312345);

	/* Without CR4.PSE the PS bit is ignored: the PDE points at a PT. */
	set32(e, pd, gva >> 22, (uint32_t)(pt | PS | ALL));
	set32(e, pt, (gva >> 12) & 0x3ff, 0x777000 | ALL);
	cpu = cpu_32bit(pd, false);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(r.gpa, 0x777345);
	assert_int_equal(r.page_size, 0x1000);
	assert_int_equal(r.levels, 2);
}

static void test_pae(void **state)
{
	struct env *e = *state;
	/* The PDPT is 32-byte aligned, not page aligned: put it mid-page. */
	uint64_t pdpt = table_alloc(e) + 0x7e0, pd = table_alloc(e), pt = table_alloc(e);
	uint64_t gva = 0xbfe03456ULL; /* PDPTE 2, PDE 0x1ff, PTE 0x003 */
	struct pgwalk_cpu cpu = cpu_pae(pdpt, true);
	struct pgwalk_result r;

	/* PAE PDPTEs have no R/W or U/S: only P. Leaving them clear must not
	 * make the mapping read-only or supervisor. */
	set64(e, pdpt, 2, pd | P);
	set64(e, pd, 0x1ff, pt | ALL);
	set64(e, pt, 3, 0x2468000ULL | ALL | XD);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(r.gpa, 0x2468456);
	assert_int_equal(r.levels, 3);
	assert_int_equal(r.page_size, 0x1000);
	assert_true(r.writable);
	assert_true(r.user);
	assert_true(r.nx);

	/* Without EFER.NXE there is no execute-disable. */
	cpu = cpu_pae(pdpt, false);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_false(r.nx);

	/* A 2 MiB page; PAE physical addresses can exceed 4 GiB. */
	set64(e, pd, 0x1ff, 0x123400000ULL | PS | P | US);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(r.gpa, 0x123400000ULL + 0x3456);
	assert_int_equal(r.levels, 2);
	assert_int_equal(r.page_size, 2ULL << 20);
	assert_false(r.writable);
	assert_true(r.user);

	/* Not present at each level. */
	set64(e, pd, 0x1ff, pt | ALL);
	set64(e, pt, 3, 0x2468000ULL | RW);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), -EFAULT);
	set64(e, pt, 3, 0x2468000ULL | ALL);
	set64(e, pd, 0x1ff, pt | RW | US);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), -EFAULT);
	set64(e, pd, 0x1ff, pt | ALL);
	set64(e, pdpt, 2, pd);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), -EFAULT);

	/* PAE has no 1 GiB pages: PS in a PDPTE is not a page size. */
	set64(e, pdpt, 2, pd | PS | P);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(r.gpa, 0x2468456);
	assert_int_equal(r.page_size, 0x1000);

	/* PAE linear addresses are 32-bit. */
	set64(e, pdpt, 2, pd | P);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva | (1ULL << 32), &r), -EINVAL);
}

static void test_long_4k(void **state)
{
	struct env *e = *state;
	uint64_t gva = 0xffff8880012345abULL; /* the kernel's direct map */
	uint64_t cr3 = map_long(e, 4, gva, 0x3456000, 0x1000, all_flags);
	struct pgwalk_cpu cpu = cpu_long(cr3, false);
	struct pgwalk_result r;

	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(r.gpa, 0x34565ab);
	assert_int_equal(r.levels, 4);
	assert_int_equal(r.page_size, 0x1000);
	assert_true(r.writable);
	assert_true(r.user);
	assert_false(r.nx);

	/* A neighbouring page is not mapped. */
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva + 0x1000, &r), -EFAULT);
}

static void test_long_2m_1g(void **state)
{
	struct env *e = *state;
	uint64_t gva2m = 0x00007f1234b6789aULL, gva1g = 0x00007f12c0abcdefULL;
	uint64_t cr3 = map_long(e, 4, gva2m, 0x1200000, 2ULL << 20, all_flags);
	struct pgwalk_cpu cpu = cpu_long(cr3, false);
	struct pgwalk_result r;

	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva2m, &r), 0);
	assert_int_equal(r.gpa, 0x1200000 + (gva2m & 0x1fffff));
	assert_int_equal(r.levels, 3);
	assert_int_equal(r.page_size, 2ULL << 20);

	cr3 = map_long(e, 4, gva1g, 0x3c0000000ULL, 1ULL << 30, all_flags);
	cpu = cpu_long(cr3, false);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva1g, &r), 0);
	assert_int_equal(r.gpa, 0x3c0000000ULL + (gva1g & 0x3fffffff));
	assert_int_equal(r.levels, 2);
	assert_int_equal(r.page_size, 1ULL << 30);

	/* PS in a PML4E is reserved, not a 512 GiB page: the walk continues
	 * through it as a table pointer. */
	uint64_t pml4e;
	assert_int_equal(guest_mem_read(&e->gm, cr3 + idx(gva1g, 4) * 8, &pml4e, 8), 0);
	set64(e, cr3, idx(gva1g, 4), pml4e | PS);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva1g, &r), 0);
	assert_int_equal(r.page_size, 1ULL << 30);
	assert_int_equal(r.levels, 2);
}

static void test_five_level(void **state)
{
	struct env *e = *state;
	uint64_t gva = 0xff5a3c0012345678ULL; /* canonical for 57 bits only */
	struct pgwalk_cpu cpu;
	struct pgwalk_result r;
	static const struct {
		uint64_t size;
		unsigned levels;
	} sizes[] = {{0x1000, 5}, {2ULL << 20, 4}, {1ULL << 30, 3}};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t gpa = 0x40000000ULL * 3; /* aligned for every size */
		uint64_t cr3 = map_long(e, 5, gva, gpa, sizes[i].size, all_flags);

		cpu = cpu_long(cr3, true);
		assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
		assert_int_equal(r.gpa, gpa + (gva & (sizes[i].size - 1)));
		assert_int_equal(r.levels, sizes[i].levels);
		assert_int_equal(r.page_size, sizes[i].size);
	}
	/* Not canonical for 4 levels. */
	cpu.cr4 &= ~PGWALK_CR4_LA57;
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), -EINVAL);
}

/* The same CR3 and tables mean different things with and without LA57. */
static void test_five_vs_four(void **state)
{
	struct env *e = *state;
	uint64_t t[6];
	struct pgwalk_cpu cpu;
	struct pgwalk_result r;

	for (int i = 0; i < 6; i++)
		t[i] = table_alloc(e);
	/* A chain t0 -> t1 -> ... -> t5 through entry 0 of each table. */
	for (int i = 0; i < 5; i++)
		set64(e, t[i], 0, t[i + 1] | ALL);

	cpu = cpu_long(t[0], false);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 0x123, &r), 0);
	assert_int_equal(r.gpa, t[4] + 0x123);
	assert_int_equal(r.levels, 4);

	cpu = cpu_long(t[0], true);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 0x123, &r), 0);
	assert_int_equal(r.gpa, t[5] + 0x123);
	assert_int_equal(r.levels, 5);

	/* Bits 56:48 select the PML5 entry: entry 1 is empty in 5-level. With 4
	 * levels that address is not canonical. */
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 1ULL << 48, &r), -EFAULT);
	cpu.cr4 &= ~PGWALK_CR4_LA57;
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 1ULL << 48, &r), -EINVAL);
}

static void test_permissions(void **state)
{
	struct env *e = *state;
	uint64_t gva = 0x0000123456789000ULL;
	struct pgwalk_result r;

	/* Clear one bit at one level at a time, over 5 levels with 4K pages. */
	for (unsigned lvl = 0; lvl < 5; lvl++) {
		uint64_t f[5] = {ALL, ALL, ALL, ALL, ALL};
		uint64_t cr3;
		struct pgwalk_cpu cpu;

		f[lvl] = P | US;
		cr3 = map_long(e, 5, gva, 0x5000, 0x1000, f);
		cpu = cpu_long(cr3, true);
		assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
		assert_false(r.writable);
		assert_true(r.user);
		assert_false(r.nx);

		f[lvl] = P | RW;
		cr3 = map_long(e, 5, gva, 0x5000, 0x1000, f);
		cpu = cpu_long(cr3, true);
		assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
		assert_true(r.writable);
		assert_false(r.user);
		assert_false(r.nx);

		f[lvl] = ALL | XD;
		cr3 = map_long(e, 5, gva, 0x5000, 0x1000, f);
		cpu = cpu_long(cr3, true);
		assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
		assert_true(r.writable);
		assert_true(r.user);
		assert_true(r.nx);
		assert_int_equal(r.gpa, 0x5000);

		/* Without NXE, XD is not reported. */
		cpu.efer &= ~PGWALK_EFER_NXE;
		assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
		assert_false(r.nx);
	}
}

static void test_not_present_each_level(void **state)
{
	struct env *e = *state;
	uint64_t gva = 0x00007fffdeadb000ULL;
	struct pgwalk_result r;

	for (unsigned top = 4; top <= 5; top++) {
		for (unsigned lvl = 0; lvl < top; lvl++) {
			uint64_t f[5] = {ALL, ALL, ALL, ALL, ALL};
			struct pgwalk_cpu cpu;
			uint64_t cr3;

			f[lvl] = RW | US; /* everything but P */
			cr3 = map_long(e, top, gva, 0x6000, 0x1000, f);
			cpu = cpu_long(cr3, top == 5);
			assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), -EFAULT);
			/* And the same chain with P is fine (the test is not vacuous). */
			f[lvl] = ALL;
			cr3 = map_long(e, top, gva, 0x6000, 0x1000, f);
			cpu = cpu_long(cr3, top == 5);
			assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
			assert_int_equal(r.gpa, 0x6000);
		}
	}
}

static void test_outside_ram(void **state)
{
	struct env *e = *state;
	uint64_t gva = 0x0000000040201000ULL;
	uint64_t cr3 = map_long(e, 4, gva, 0x7000, 0x1000, all_flags);
	struct pgwalk_cpu cpu = cpu_long(cr3, false);
	struct pgwalk_result r;
	uint64_t e4, e3;
	uint8_t b;

	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(guest_mem_read(&e->gm, cr3 + idx(gva, 4) * 8, &e4, 8), 0);
	e4 &= 0x000ffffffffff000ULL;
	assert_int_equal(guest_mem_read(&e->gm, e4 + idx(gva, 3) * 8, &e3, 8), 0);

	/* CR3 just past the end of RAM, in the PCI hole, and at the top of the
	 * physical address space. */
	cpu.cr3 = RAM_SIZE;
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), -EFAULT);
	cpu.cr3 = 0xfee00000ULL;
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), -EFAULT);
	cpu.cr3 = 0x000ffffffffff000ULL;
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), -EFAULT);

	/* An intermediate entry pointing outside RAM. */
	cpu.cr3 = cr3;
	set64(e, e4, idx(gva, 3), 0xc0000000ULL | ALL);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), -EFAULT);
	/* A PD in the last page of RAM is fine. */
	uint64_t pde, last = RAM_SIZE - 0x1000;
	assert_int_equal(
	    guest_mem_read(&e->gm, (e3 & 0x000ffffffffff000ULL) + idx(gva, 2) * 8, &pde, 8), 0);
	set64(e, last, idx(gva, 2), pde);
	set64(e, e4, idx(gva, 3), last | ALL);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(r.gpa, 0x7000);

	/* A leaf pointing outside RAM translates (it may be MMIO), but reading
	 * through it fails. */
	uint64_t cr3b = map_long(e, 4, gva, 0xfed00000ULL, 0x1000, all_flags);
	cpu.cr3 = cr3b;
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(r.gpa, 0xfed00000ULL);
	assert_int_equal(pgwalk_read(&e->gm, &cpu, gva, &b, 1), -EFAULT);
}

static void test_non_canonical(void **state)
{
	struct env *e = *state;
	uint64_t cr3 = map_long(e, 4, 0, 0x8000, 0x1000, all_flags);
	struct pgwalk_cpu cpu = cpu_long(cr3, false);
	struct pgwalk_result r;
	static const uint64_t bad4[] = {0x0000800000000000ULL, 0xffff7fffffffffffULL,
					0x8000000000000000ULL, 0x0001000000000000ULL};
	static const uint64_t bad5[] = {0x0100000000000000ULL, 0xfeffffffffffffffULL,
					0x8000000000000000ULL};

	for (size_t i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++)
		assert_int_equal(pgwalk_translate(&e->gm, &cpu, bad4[i], &r), -EINVAL);
	/* The edges of the canonical halves walk (and are not present). */
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 0x00007fffffffffffULL, &r), -EFAULT);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 0xffff800000000000ULL, &r), -EFAULT);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 0, &r), 0);

	cpu.cr4 |= PGWALK_CR4_LA57;
	for (size_t i = 0; i < sizeof(bad5) / sizeof(bad5[0]); i++)
		assert_int_equal(pgwalk_translate(&e->gm, &cpu, bad5[i], &r), -EINVAL);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 0x00ffffffffffffffULL, &r), -EFAULT);
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 0xff00000000000000ULL, &r), -EFAULT);
}

static void test_reserved_bits_masked(void **state)
{
	struct env *e = *state;
	uint64_t gva = 0x0000000080604123ULL;
	/* Bits 62:52 (protection key, ignored) set in every entry. */
	const uint64_t hi = 0x7ff0000000000000ULL;
	const uint64_t f[5] = {ALL | hi, ALL | hi, ALL | hi, ALL | hi, ALL | hi};
	uint64_t cr3 = map_long(e, 4, gva, 0x9000, 0x1000, f);
	struct pgwalk_cpu cpu = cpu_long(cr3 | 0x123 /* PCID */, false);
	struct pgwalk_result r;

	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(r.gpa, 0x9123);
	assert_false(r.nx);

	/* A 2 MiB page entry with PAT (bit 12) and high bits set: the frame is
	 * bits 51:21 only. */
	cr3 = map_long(e, 4, gva, 0x600000 | (1ULL << 12), 2ULL << 20, f);
	cpu.cr3 = cr3;
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(r.gpa, 0x600000 + (gva & 0x1fffff));

	/* Likewise a 1 GiB page: bits 29:12 of the entry are PAT/reserved. */
	cr3 = map_long(e, 4, gva, 0x40000000ULL | 0x3ffff000ULL, 1ULL << 30, f);
	cpu.cr3 = cr3;
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, gva, &r), 0);
	assert_int_equal(r.gpa, 0x40000000ULL + (gva & 0x3fffffff));
}

static void test_inconsistent_mode(void **state)
{
	struct env *e = *state;
	struct pgwalk_cpu cpu = cpu_long(TABLES_BASE, false);
	struct pgwalk_result r;

	cpu.cr4 &= ~PGWALK_CR4_PAE; /* LMA without PAE cannot happen */
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 0, &r), -EINVAL);
	cpu = cpu_long(TABLES_BASE, false);
	cpu.cr0 &= ~PGWALK_CR0_PG;
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 0, &r), -EINVAL);
}

static void test_result_untouched_on_error(void **state)
{
	struct env *e = *state;
	struct pgwalk_cpu cpu = cpu_long(TABLES_BASE, false);
	struct pgwalk_result r, saved;

	memset(&r, 0xa5, sizeof(r));
	saved = r;
	assert_int_equal(pgwalk_translate(&e->gm, &cpu, 0x1000, &r), -EFAULT);
	assert_memory_equal(&r, &saved, sizeof(r));
}

static void test_read_across_pages(void **state)
{
	struct env *e = *state;
	/* g1 and g2 are adjacent and also straddle a PDE boundary. */
	const uint64_t g1 = 0x3ff000, g2 = 0x400000;
	const uint64_t pages[2] = {0x700000, 0x500000}; /* reversed, non-adjacent */
	uint64_t top = table_alloc(e), pdpt = table_alloc(e), pd = table_alloc(e),
		 pt = table_alloc(e), pt2 = table_alloc(e);
	uint8_t buf[16], want[16];
	struct pgwalk_cpu cpu = cpu_long(top, false);

	set64(e, top, 0, pdpt | ALL);
	set64(e, pdpt, 0, pd | ALL);
	set64(e, pd, 1, pt | ALL);
	set64(e, pd, 2, pt2 | ALL);
	set64(e, pt, 0x1ff, pages[0] | ALL);
	set64(e, pt2, 0, pages[1] | ALL);
	for (int i = 0; i < 16; i++)
		want[i] = (uint8_t)(0x40 + i);
	assert_int_equal(guest_mem_write(&e->gm, pages[0] + 0xff8, want, 8), 0);
	assert_int_equal(guest_mem_write(&e->gm, pages[1], want + 8, 8), 0);
	/* Poison what a physically contiguous (wrong) read would pick up. */
	assert_int_equal(guest_mem_write(&e->gm, pages[0] + 0x1000, "XXXXXXXX", 8), 0);

	memset(buf, 0, sizeof(buf));
	assert_int_equal(pgwalk_read(&e->gm, &cpu, g1 + 0xff8, buf, 16), 0);
	assert_memory_equal(buf, want, 16);

	/* Within one page, and len 0 (touches nothing, even unmapped). */
	assert_int_equal(pgwalk_read(&e->gm, &cpu, g2 + 2, buf, 3), 0);
	assert_memory_equal(buf, want + 10, 3);
	assert_int_equal(pgwalk_read(&e->gm, &cpu, 0xdead000, buf, 0), 0);

	/* The second page not present: the read fails, the first part is in buf. */
	set64(e, pt2, 0, pages[1]);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(pgwalk_read(&e->gm, &cpu, g1 + 0xff8, buf, 16), -EFAULT);
	assert_memory_equal(buf, want, 8);

	/* gva + len wrapping. */
	assert_int_equal(pgwalk_read(&e->gm, &cpu, 0xfffffffffffffff8ULL, buf, 16), -EINVAL);
}

/* The last page of the lower canonical half is mapped; the next is a hole. */
static void test_read_off_canonical(void **state)
{
	struct env *e = *state;
	const uint64_t gva = 0x00007ffffffff000ULL;
	struct pgwalk_cpu cpu = cpu_long(map_long(e, 4, gva, 0xa000, 0x1000, all_flags), false);
	uint8_t buf[32];

	assert_int_equal(guest_mem_write(&e->gm, 0xaff0, "0123456789abcdef", 16), 0);
	assert_int_equal(pgwalk_read(&e->gm, &cpu, gva + 0xff0, buf, 16), 0);
	assert_memory_equal(buf, "0123456789abcdef", 16);
	assert_int_equal(pgwalk_read(&e->gm, &cpu, gva + 0xff0, buf, 32), -EINVAL);
}

static void test_read_32bit_across_4m(void **state)
{
	struct env *e = *state;
	uint64_t pd = table_alloc(e);
	struct pgwalk_cpu cpu = cpu_32bit(pd, true);
	uint8_t buf[8];

	/* gva 0x00000000-0x007fffff: two 4 MiB pages mapped in reverse order. */
	set32(e, pd, 0, 0x01000000 | PS | ALL);
	set32(e, pd, 1, 0x00800000 | PS | ALL);
	assert_int_equal(guest_mem_write(&e->gm, 0x01000000 + 0x3ffffc, "abcd", 4), 0);
	assert_int_equal(guest_mem_write(&e->gm, 0x00800000, "efgh", 4), 0);
	assert_int_equal(pgwalk_read(&e->gm, &cpu, 0x3ffffc, buf, 8), 0);
	assert_memory_equal(buf, "abcdefgh", 8);

	/* Linear addresses end at 4 GiB outside long mode: a read running past
	 * the last (mapped) page fails instead of reading a 64-bit address. */
	set32(e, pd, 0x3ff, 0x01400000 | PS | ALL);
	assert_int_equal(guest_mem_write(&e->gm, 0x017ffffc, "ijkl", 4), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(pgwalk_read(&e->gm, &cpu, 0xfffffffcULL, buf, 4), 0);
	assert_memory_equal(buf, "ijkl", 4);
	assert_int_equal(pgwalk_read(&e->gm, &cpu, 0xfffffffcULL, buf, 8), -EINVAL);
	cpu.cr0 &= ~PGWALK_CR0_PG;
	/* Paging off: identity. */
	assert_int_equal(pgwalk_read(&e->gm, &cpu, 0x00800000, buf, 4), 0);
	assert_memory_equal(buf, "efgh", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_paging_off, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_32bit_4k, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_32bit_4m, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pae, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_4k, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_2m_1g, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_five_level, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_five_vs_four, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_present_each_level, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outside_ram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_non_canonical, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reserved_bits_masked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inconsistent_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_result_untouched_on_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_across_pages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_off_canonical, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_32bit_across_4m, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
