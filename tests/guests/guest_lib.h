/* SPDX-License-Identifier: MIT */
/*
 * Runtime shared by the C test guests that boot through lm_head.S: port
 * I/O, the COM1 console, the exit port, the IDT (exception stubs for 0-31
 * from lm_head.S, gates above that for interrupt handlers) and the kernel
 * command line. Each guest defines lm_main() and exc_handler().
 */
#ifndef SLUICE_GUEST_LIB_H
#define SLUICE_GUEST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.h"

/* The frame the exception stubs of lm_head.S push. */
struct exc_frame {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* For __attribute__((interrupt)) handlers. */
struct irq_frame {
	uint64_t rip, cs, rflags, rsp, ss;
};

/* lm_head.S calls lm_main(boot_params) and writes its result to EXIT_PORT. */
unsigned lm_main(const uint8_t *boot_params);
void exc_handler(struct exc_frame *f);

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

__attribute__((noreturn)) void guest_exit(unsigned code);

void con_putc(char c);
void con_puts(const char *s);
/* printf subset: %s %c %u %x %lu %lx. */
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Gates 0-31 go to lm_head.S's exception stubs; loads the IDT. */
void idt_init(void);
/* A 64-bit interrupt gate for vector vec (32..255) to handler. */
void idt_set_gate(unsigned vec, const void *handler);

/* The command line from boot_params (*out NULL: none); false if it is above 4 GiB. */
bool guest_cmdline(const uint8_t *boot_params, const char **out);
bool starts_with(const char *s, const char *prefix);
/* Hex with optional 0x (up to 16 digits); advances *p. */
bool parse_hex(const char **p, uint64_t *out);
/* Decimal; advances *p. */
bool parse_dec(const char **p, uint64_t *out);
bool bytes_equal(const void *a, const void *b, size_t n);

#endif
