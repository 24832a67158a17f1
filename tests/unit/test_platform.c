/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acpi_pm.h"
#include "bus.h"
#include "debug_exit.h"
#include "i8042.h"
#include "power.h"
#include "rtc.h"

struct fake_power {
	struct vm_power p;
	unsigned calls;
	enum vm_stop_reason reason;
	unsigned code;
};

static void fake_request_stop(struct vm_power *p, enum vm_stop_reason reason, unsigned code)
{
	struct fake_power *f = (struct fake_power *)p;

	f->calls++;
	f->reason = reason;
	f->code = code;
}

struct ctx {
	struct bus pio;
	struct fake_power power;
	struct i8042 kbd;
	struct rtc rtc;
	struct debug_exit dbg;
	struct acpi_pm pm;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->power.p.request_stop = fake_request_stop;
	assert_int_equal(bus_init(&c->pio, "pio"), 0);
	assert_int_equal(i8042_init(&c->kbd, &c->power.p), 0);
	assert_int_equal(i8042_attach(&c->kbd, &c->pio), 0);
	assert_int_equal(rtc_init(&c->rtc), 0);
	assert_int_equal(rtc_attach(&c->rtc, &c->pio), 0);
	assert_int_equal(debug_exit_init(&c->dbg, &c->power.p), 0);
	assert_int_equal(debug_exit_attach(&c->dbg, &c->pio, DEBUG_EXIT_PORT), 0);
	assert_int_equal(acpi_pm_init(&c->pm, &c->power.p), 0);
	assert_int_equal(acpi_pm_attach(&c->pm, &c->pio), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	i8042_destroy(&c->kbd);
	rtc_destroy(&c->rtc);
	acpi_pm_destroy(&c->pm);
	bus_destroy(&c->pio);
	free(c);
	return 0;
}

static uint8_t in8(struct ctx *c, uint16_t port)
{
	uint8_t v = 0;

	assert_true(bus_read(&c->pio, port, &v, 1));
	return v;
}

static void out8(struct ctx *c, uint16_t port, uint8_t v)
{
	assert_true(bus_write(&c->pio, port, &v, 1));
}

/* --- i8042 --- */

static void test_i8042_controller(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(in8(c, 0x64) & 0x07, 0x04); /* SYS, no OBF, no IBF */
	out8(c, 0x64, 0xaa);
	assert_int_equal(in8(c, 0x64) & 0x09, 0x09); /* OBF, last write was a command */
	assert_int_equal(in8(c, 0x60), 0x55);
	assert_int_equal(in8(c, 0x64) & 0x01, 0);

	out8(c, 0x64, 0x20);
	assert_int_equal(in8(c, 0x60), 0x65);
	out8(c, 0x64, 0x60);
	out8(c, 0x60, 0x47);
	assert_int_equal(in8(c, 0x64) & 0x08, 0); /* last write was data */
	out8(c, 0x64, 0x20);
	assert_int_equal(in8(c, 0x60), 0x47);

	out8(c, 0x64, 0xab);
	assert_int_equal(in8(c, 0x60), 0x00);
	out8(c, 0x64, 0xa9);
	assert_int_equal(in8(c, 0x60), 0x01); /* no aux port */

	out8(c, 0x64, 0xd2);
	out8(c, 0x60, 0x5a);
	assert_int_equal(in8(c, 0x60), 0x5a);

	/* Bytes for the (absent) keyboard produce nothing. */
	out8(c, 0x60, 0xff);
	assert_int_equal(in8(c, 0x64) & 0x01, 0);

	/* The output queue is bounded. */
	for (unsigned i = 0; i < 40; i++)
		out8(c, 0x64, 0xaa);
	for (unsigned i = 0; i < I8042_OUT_QUEUE; i++)
		assert_int_equal(in8(c, 0x60), 0x55);
	assert_int_equal(in8(c, 0x64) & 0x01, 0);
	assert_int_equal(c->power.calls, 0);

	/* Port B and friends are not claimed. */
	uint8_t v;
	assert_false(bus_read(&c->pio, 0x61, &v, 1));
	assert_false(bus_read(&c->pio, 0x63, &v, 1));
}

static void test_i8042_reset(void **state)
{
	struct ctx *c = *state;

	/* Output port writes that keep the reset line high are harmless. */
	out8(c, 0x64, 0xd1);
	out8(c, 0x60, 0x03);
	out8(c, 0x64, 0xd0);
	assert_int_equal(in8(c, 0x60), 0x03);
	out8(c, 0x64, 0xff); /* pulse nothing */
	assert_int_equal(c->power.calls, 0);

	out8(c, 0x64, 0xfe);
	assert_int_equal(c->power.calls, 1);
	assert_int_equal(c->power.reason, VM_STOP_RESET);

	out8(c, 0x64, 0xd1);
	out8(c, 0x60, 0x02); /* reset line low */
	assert_int_equal(c->power.calls, 2);
	assert_int_equal(c->power.reason, VM_STOP_RESET);
}

/* --- RTC --- */

static uint8_t cmos_read(struct ctx *c, uint8_t reg)
{
	out8(c, 0x70, reg);
	return in8(c, 0x71);
}

static void cmos_write(struct ctx *c, uint8_t reg, uint8_t val)
{
	out8(c, 0x70, reg);
	out8(c, 0x71, val);
}

static unsigned from_bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

/* Guest time as read from the RTC in its current mode. */
static time_t rtc_guest_time(struct ctx *c)
{
	uint8_t b = cmos_read(c, RTC_REG_B);
	unsigned (*dec)(uint8_t) = NULL;
	struct tm tm = {0};
	uint8_t hour;

	if (b & RTC_B_DM_BIN)
		dec = NULL;
	else
		dec = from_bcd;
#define DEC(v) (dec ? dec(v) : (v))
	tm.tm_sec = DEC(cmos_read(c, RTC_REG_SECONDS));
	tm.tm_min = DEC(cmos_read(c, RTC_REG_MINUTES));
	hour = cmos_read(c, RTC_REG_HOURS);
	if (b & RTC_B_24H) {
		tm.tm_hour = DEC(hour);
	} else {
		tm.tm_hour = DEC(hour & 0x7f) % 12 + ((hour & 0x80) ? 12 : 0);
		assert_true(DEC(hour & 0x7f) >= 1 && DEC(hour & 0x7f) <= 12);
	}
	tm.tm_mday = DEC(cmos_read(c, RTC_REG_MDAY));
	tm.tm_mon = DEC(cmos_read(c, RTC_REG_MONTH)) - 1;
	tm.tm_year =
	    DEC(cmos_read(c, RTC_REG_CENTURY)) * 100 + DEC(cmos_read(c, RTC_REG_YEAR)) - 1900;
#undef DEC
	return timegm(&tm);
}

static void assert_near(time_t a, time_t b)
{
	long d = (long)(a - b);

	assert_true(d >= -2 && d <= 2);
}

static void test_rtc_registers(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(cmos_read(c, RTC_REG_A) & 0x7f, 0x26);
	assert_int_equal(cmos_read(c, RTC_REG_B), RTC_B_24H);
	assert_int_equal(cmos_read(c, RTC_REG_C), 0);
	assert_int_equal(cmos_read(c, RTC_REG_D), RTC_D_VRT);
	cmos_write(c, RTC_REG_D, 0);
	cmos_write(c, RTC_REG_C, 0xff);
	assert_int_equal(cmos_read(c, RTC_REG_D), RTC_D_VRT);
	assert_int_equal(cmos_read(c, RTC_REG_C), 0);
	cmos_write(c, RTC_REG_A, 0xa6); /* UIP is read-only */
	assert_int_equal(cmos_read(c, RTC_REG_A) & 0x7f, 0x26);

	/* CMOS RAM, index with the NMI-disable bit. */
	cmos_write(c, 0x80 | 0x40, 0xab);
	assert_true(c->rtc.nmi_disabled);
	assert_int_equal(c->rtc.index, 0x40);
	cmos_write(c, 0x7f, 0xcd);
	assert_false(c->rtc.nmi_disabled);
	assert_int_equal(cmos_read(c, 0x40), 0xab);
	assert_int_equal(cmos_read(c, 0x7f), 0xcd);
	assert_int_equal(cmos_read(c, 0x01), 0x00); /* alarm seconds: plain RAM */
	cmos_write(c, 0x01, 0x30);
	assert_int_equal(cmos_read(c, 0x01), 0x30);

	/* The index port is write-only. */
	assert_int_equal(in8(c, 0x70), 0xff);
}

static void test_rtc_host_time_formats(void **state)
{
	struct ctx *c = *state;
	struct tm tm;
	time_t now;
	uint8_t h;

	/* BCD, 24 h (default) */
	assert_near(rtc_guest_time(c), time(NULL));
	assert_true((cmos_read(c, RTC_REG_SECONDS) & 0xf) <= 9);
	/* binary, 24 h */
	cmos_write(c, RTC_REG_B, RTC_B_24H | RTC_B_DM_BIN);
	assert_near(rtc_guest_time(c), time(NULL));
	/* BCD, 12 h */
	cmos_write(c, RTC_REG_B, 0);
	assert_near(rtc_guest_time(c), time(NULL));
	now = time(NULL);
	gmtime_r(&now, &tm);
	h = cmos_read(c, RTC_REG_HOURS);
	if (tm.tm_min < 59) { /* avoid an hour boundary between the two reads */
		assert_int_equal(!!(h & 0x80), tm.tm_hour >= 12);
		assert_int_equal(from_bcd(h & 0x7f), tm.tm_hour % 12 ? tm.tm_hour % 12 : 12);
	}
	/* Weekday 1..7, Sunday = 1. */
	cmos_write(c, RTC_REG_B, RTC_B_24H | RTC_B_DM_BIN);
	now = time(NULL);
	gmtime_r(&now, &tm);
	assert_int_equal(cmos_read(c, RTC_REG_WEEKDAY), tm.tm_wday + 1);
}

static void test_rtc_set_time(void **state)
{
	struct ctx *c = *state;
	struct tm want = {.tm_year = 2099 - 1900,
			  .tm_mon = 11,
			  .tm_mday = 31,
			  .tm_hour = 23,
			  .tm_min = 59,
			  .tm_sec = 50};
	time_t target = timegm(&want);

	/* Linux's sequence: SET, write the registers (BCD), clear SET. */
	cmos_write(c, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	cmos_write(c, RTC_REG_SECONDS, 0x50);
	cmos_write(c, RTC_REG_MINUTES, 0x59);
	cmos_write(c, RTC_REG_HOURS, 0x23);
	cmos_write(c, RTC_REG_MDAY, 0x31);
	cmos_write(c, RTC_REG_MONTH, 0x12);
	cmos_write(c, RTC_REG_YEAR, 0x99);
	cmos_write(c, RTC_REG_CENTURY, 0x20);
	cmos_write(c, RTC_REG_MONTH, 0x13); /* invalid: ignored */
	cmos_write(c, RTC_REG_MDAY, 0x3a);  /* invalid BCD: ignored */
	/* Frozen while SET. */
	assert_int_equal(cmos_read(c, RTC_REG_SECONDS), 0x50);
	assert_int_equal(cmos_read(c, RTC_REG_MONTH), 0x12);
	assert_int_equal(cmos_read(c, RTC_REG_MDAY), 0x31);
	assert_int_equal(cmos_read(c, RTC_REG_A) & RTC_A_UIP, 0);
	cmos_write(c, RTC_REG_B, RTC_B_24H);
	assert_near(rtc_guest_time(c), target);

	/* 12 h mode write: 11 PM in binary. */
	cmos_write(c, RTC_REG_B, RTC_B_DM_BIN);
	cmos_write(c, RTC_REG_HOURS, 0x80 | 11);
	cmos_write(c, RTC_REG_B, RTC_B_DM_BIN | RTC_B_24H);
	assert_int_equal(cmos_read(c, RTC_REG_HOURS), 23);
	cmos_write(c, RTC_REG_B, RTC_B_DM_BIN);
	cmos_write(c, RTC_REG_HOURS, 12); /* 12 AM = 0 h */
	cmos_write(c, RTC_REG_B, RTC_B_DM_BIN | RTC_B_24H);
	assert_int_equal(cmos_read(c, RTC_REG_HOURS), 0);

	/* The offset is per RTC: a fresh one reads host time. */
	struct rtc other;
	assert_int_equal(rtc_init(&other), 0);
	assert_int_equal(other.offset, 0);
	rtc_destroy(&other);
}

/* --- debug exit --- */

static void test_debug_exit(void **state)
{
	struct ctx *c = *state;
	uint8_t w2[2] = {0x34, 0x12}, w4[4] = {0xef, 0xbe, 0xad, 0xde}, r[4];

	out8(c, DEBUG_EXIT_PORT, 0x31);
	assert_int_equal(c->power.calls, 1);
	assert_int_equal(c->power.reason, VM_STOP_DEBUG_EXIT);
	assert_int_equal(c->power.code, 0x31);
	assert_true(bus_write(&c->pio, DEBUG_EXIT_PORT, w2, 2));
	assert_int_equal(c->power.code, 0x1234);
	assert_true(bus_write(&c->pio, DEBUG_EXIT_PORT, w4, 4));
	assert_int_equal(c->power.code, 0xdeadbeef);
	assert_int_equal(c->power.calls, 3);
	/* Not at the port itself: ignored. */
	out8(c, DEBUG_EXIT_PORT + 1, 1);
	assert_int_equal(c->power.calls, 3);
	assert_true(bus_read(&c->pio, DEBUG_EXIT_PORT, r, 4));
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);

	struct debug_exit d;
	assert_int_equal(debug_exit_init(&d, NULL), -EINVAL);
	assert_int_equal(debug_exit_init(&d, &c->power.p), 0);
	assert_int_equal(debug_exit_attach(&d, &c->pio, 0xfffe), -EINVAL);
	assert_int_equal(debug_exit_attach(&d, &c->pio, DEBUG_EXIT_PORT + 2), -EEXIST);
}

/* --- ACPI PM --- */

static void test_acpi_pm(void **state)
{
	struct ctx *c = *state;
	uint8_t w[2] = {0x34, 0x00};

	/* SLP_TYP=5 without SLP_EN, or SLP_EN with another type: nothing. */
	out8(c, ACPI_PM_SLEEP_CTL, 5 << 2);
	out8(c, ACPI_PM_SLEEP_CTL, (3 << 2) | 0x20);
	assert_int_equal(in8(c, ACPI_PM_SLEEP_CTL), 3 << 2); /* SLP_EN is write-only */
	out8(c, ACPI_PM_RESET, ACPI_PM_RESET_VALUE + 1);
	assert_int_equal(c->power.calls, 0);

	/* Linux's hardware-reduced S5: clear WAK_STS, write SLP_TYP | SLP_EN. */
	out8(c, ACPI_PM_SLEEP_STS, 0x80);
	assert_int_equal(in8(c, ACPI_PM_SLEEP_STS), 0);
	out8(c, ACPI_PM_SLEEP_CTL, (ACPI_PM_S5_TYP << 2) | 0x20);
	assert_int_equal(c->power.calls, 1);
	assert_int_equal(c->power.reason, VM_STOP_POWEROFF);

	/* A 16-bit write at the control register is byte-wise. */
	assert_true(bus_write(&c->pio, ACPI_PM_SLEEP_CTL, w, 2));
	assert_int_equal(c->power.calls, 2);
	assert_int_equal(c->power.reason, VM_STOP_POWEROFF);

	out8(c, ACPI_PM_RESET, ACPI_PM_RESET_VALUE);
	assert_int_equal(c->power.calls, 3);
	assert_int_equal(c->power.reason, VM_STOP_RESET);
	assert_int_equal(in8(c, ACPI_PM_RESET), 0);

	struct acpi_pm p;
	assert_int_equal(acpi_pm_init(&p, NULL), -EINVAL);
	assert_int_equal(acpi_pm_init(&p, &c->power.p), 0);
	assert_int_equal(acpi_pm_attach(&p, &c->pio), -EEXIST);
	acpi_pm_destroy(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_i8042_controller, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_i8042_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rtc_registers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rtc_host_time_formats, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rtc_set_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_debug_exit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_acpi_pm, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
