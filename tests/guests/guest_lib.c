/* SPDX-License-Identifier: MIT */
/*
 * Runtime shared by the C test guests (see guest_lib.h). Freestanding: the
 * IDT is the one piece of static state, as the CPU needs it at a fixed place.
 */
#include <stdarg.h>

#include "guest_lib.h"

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));

extern const char exc_stubs[];

void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

void guest_exit(unsigned code)
{
	outb(EXIT_PORT, (uint8_t)code);
	outb(I8042_CMD, I8042_RESET);
	for (;;)
		cpu_relax();
}

static void putc_raw(char c)
{
	for (unsigned i = 0; !(inb(COM1_LSR) & LSR_THRE); i++)
		if (i > 0x10000)
			guest_exit(EXIT_SERIAL_STUCK);
	outb(COM1_THR, (uint8_t)c);
}

void con_putc(char c)
{
	if (c == '\n')
		putc_raw('\r');
	putc_raw(c);
}

void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

static void con_putnum(uint64_t v, unsigned base)
{
	char buf[24];
	int i = 0;

	do {
		buf[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i--)
		con_putc(buf[i]);
}

void con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		bool is_long = false;

		if (*fmt != '%') {
			con_putc(*fmt);
			continue;
		}
		if (*++fmt == 'l') {
			is_long = true;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			con_puts(va_arg(ap, const char *));
			break;
		case 'c':
			con_putc((char)va_arg(ap, int));
			break;
		case 'u':
			con_putnum(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10);
			break;
		case 'x':
			con_putnum(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16);
			break;
		case '\0':
			fmt--;
			break;
		default:
			con_putc('%');
			con_putc(*fmt);
			break;
		}
	}
	va_end(ap);
}

void idt_set_gate(unsigned vec, const void *handler)
{
	uint64_t a = (uint64_t)handler;

	if (vec >= 256)
		return;
	idt[vec] = (struct idt_gate){
	    .off_lo = (uint16_t)a,
	    .sel = 0x08,
	    .type = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
	    .off_mid = (uint16_t)(a >> 16),
	    .off_hi = (uint32_t)(a >> 32),
	};
}

void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) desc = {sizeof(idt) - 1, (uint64_t)idt};

	for (unsigned v = 0; v < 32; v++)
		idt_set_gate(v, exc_stubs + 16 * v);
	__asm__ volatile("lidt %0" : : "m"(desc));
}

/* boot_params: cmd_line_ptr at 0x228, ext_cmd_line_ptr at 0x0c8. */
bool guest_cmdline(const uint8_t *bp, const char **out)
{
	uint64_t addr;

	*out = NULL;
	if (!bp)
		return true;
	addr = *(const uint32_t *)(bp + 0x228) | (uint64_t) * (const uint32_t *)(bp + 0xc8) << 32;
	if (addr >= 0x100000000ULL)
		return false;
	*out = addr ? (const char *)addr : NULL;
	return true;
}

bool starts_with(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	return true;
}

bool parse_hex(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (;; s++, n++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		if (n == 16)
			return false;
		v = v << 4 | d;
	}
	*p = s;
	*out = v;
	return n > 0;
}

bool parse_dec(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int n = 0;

	for (; *s >= '0' && *s <= '9'; s++, n++) {
		if (n == 19)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*out = v;
	return n > 0;
}

bool bytes_equal(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	while (n--)
		if (*x++ != *y++)
			return false;
	return true;
}
