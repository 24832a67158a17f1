/* SPDX-License-Identifier: MIT */
#include "rtc.h"
#include "log.h"

#include <errno.h>
#include <string.h>

/* UIP is set for the 244 us before each update, as on the real part. */
#define RTC_UIP_NS 244000L

static bool rtc_bcd(const struct rtc *r)
{
	return !(r->cmos[RTC_REG_B] & RTC_B_DM_BIN);
}

static uint8_t rtc_encode(const struct rtc *r, unsigned v)
{
	return rtc_bcd(r) ? (uint8_t)(((v / 10) << 4) | (v % 10)) : (uint8_t)v;
}

/* -1 if val is not a valid BCD byte in BCD mode. */
static int rtc_decode(const struct rtc *r, uint8_t val)
{
	if (!rtc_bcd(r))
		return val;
	if ((val >> 4) > 9 || (val & 0xf) > 9)
		return -1;
	return (val >> 4) * 10 + (val & 0xf);
}

static void rtc_host_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

/* The guest's current time, or the frozen copy while SET is on. */
static void rtc_now(struct rtc *r, struct tm *tm)
{
	struct timespec ts;
	time_t t;

	if (r->cmos[RTC_REG_B] & RTC_B_SET) {
		*tm = r->set_tm;
		return;
	}
	rtc_host_now(&ts);
	t = (time_t)(ts.tv_sec + r->offset);
	gmtime_r(&t, tm);
}

static void rtc_apply(struct rtc *r, struct tm *tm)
{
	struct timespec ts;
	time_t t = timegm(tm);

	if (t == (time_t)-1) {
		log_debug("rtc: guest wrote an unrepresentable date; ignored");
		return;
	}
	rtc_host_now(&ts);
	r->offset = (int64_t)t - (int64_t)ts.tv_sec;
}

static uint8_t rtc_read_hours(const struct rtc *r, int hour)
{
	unsigned h12;

	if (r->cmos[RTC_REG_B] & RTC_B_24H)
		return rtc_encode(r, (unsigned)hour);
	h12 = hour % 12 ? (unsigned)hour % 12 : 12;
	return rtc_encode(r, h12) | (hour >= 12 ? 0x80 : 0);
}

static uint8_t rtc_read_data(struct rtc *r)
{
	struct timespec ts;
	struct tm tm = {0};
	uint8_t val;

	switch (r->index) {
	case RTC_REG_SECONDS:
	case RTC_REG_MINUTES:
	case RTC_REG_HOURS:
	case RTC_REG_WEEKDAY:
	case RTC_REG_MDAY:
	case RTC_REG_MONTH:
	case RTC_REG_YEAR:
	case RTC_REG_CENTURY:
		rtc_now(r, &tm);
		break;
	default:
		break;
	}
	switch (r->index) {
	case RTC_REG_SECONDS:
		return rtc_encode(r, (unsigned)tm.tm_sec % 60); /* no leap second */
	case RTC_REG_MINUTES:
		return rtc_encode(r, (unsigned)tm.tm_min);
	case RTC_REG_HOURS:
		return rtc_read_hours(r, tm.tm_hour);
	case RTC_REG_WEEKDAY:
		return rtc_encode(r, (unsigned)tm.tm_wday + 1);
	case RTC_REG_MDAY:
		return rtc_encode(r, (unsigned)tm.tm_mday);
	case RTC_REG_MONTH:
		return rtc_encode(r, (unsigned)tm.tm_mon + 1);
	case RTC_REG_YEAR:
		return rtc_encode(r, (unsigned)(tm.tm_year + 1900) % 100);
	case RTC_REG_CENTURY:
		return rtc_encode(r, (unsigned)(tm.tm_year + 1900) / 100 % 100);
	case RTC_REG_A:
		val = r->cmos[RTC_REG_A] & ~RTC_A_UIP;
		if (!(r->cmos[RTC_REG_B] & RTC_B_SET)) {
			rtc_host_now(&ts);
			if (ts.tv_nsec >= 1000000000L - RTC_UIP_NS)
				val |= RTC_A_UIP;
		}
		return val;
	case RTC_REG_C:
		val = r->cmos[RTC_REG_C];
		r->cmos[RTC_REG_C] = 0; /* flags clear on read */
		return val;
	default:
		return r->cmos[r->index];
	}
}

/* A guest write to a time register: decode, check, and set that field. */
static void rtc_write_time(struct rtc *r, uint8_t val)
{
	struct tm tm;
	int v, pm = 0;

	rtc_now(r, &tm);
	if (r->index == RTC_REG_HOURS && !(r->cmos[RTC_REG_B] & RTC_B_24H)) {
		pm = val & 0x80;
		val &= 0x7f;
	}
	v = rtc_decode(r, val);
	switch (r->index) {
	case RTC_REG_SECONDS:
		if (v < 0 || v > 59)
			goto bad;
		tm.tm_sec = v;
		break;
	case RTC_REG_MINUTES:
		if (v < 0 || v > 59)
			goto bad;
		tm.tm_min = v;
		break;
	case RTC_REG_HOURS:
		if (r->cmos[RTC_REG_B] & RTC_B_24H) {
			if (v < 0 || v > 23)
				goto bad;
		} else {
			if (v < 1 || v > 12)
				goto bad;
			v = v % 12 + (pm ? 12 : 0);
		}
		tm.tm_hour = v;
		break;
	case RTC_REG_WEEKDAY:
		if (v < 1 || v > 7)
			goto bad;
		tm.tm_wday = v - 1; /* recomputed from the date when applied */
		break;
	case RTC_REG_MDAY:
		if (v < 1 || v > 31)
			goto bad;
		tm.tm_mday = v;
		break;
	case RTC_REG_MONTH:
		if (v < 1 || v > 12)
			goto bad;
		tm.tm_mon = v - 1;
		break;
	case RTC_REG_YEAR:
		if (v < 0 || v > 99)
			goto bad;
		tm.tm_year = (tm.tm_year + 1900) / 100 * 100 + v - 1900;
		break;
	case RTC_REG_CENTURY:
		if (v < 0 || v > 99)
			goto bad;
		tm.tm_year = v * 100 + (tm.tm_year + 1900) % 100 - 1900;
		break;
	}
	if (r->cmos[RTC_REG_B] & RTC_B_SET)
		r->set_tm = tm;
	else if (r->index != RTC_REG_WEEKDAY)
		rtc_apply(r, &tm);
	return;
bad:
	log_debug("rtc: ignoring invalid value 0x%02x for register 0x%02x", val, r->index);
}

static void rtc_write_data(struct rtc *r, uint8_t val)
{
	struct tm tm;

	switch (r->index) {
	case RTC_REG_SECONDS:
	case RTC_REG_MINUTES:
	case RTC_REG_HOURS:
	case RTC_REG_WEEKDAY:
	case RTC_REG_MDAY:
	case RTC_REG_MONTH:
	case RTC_REG_YEAR:
	case RTC_REG_CENTURY:
		rtc_write_time(r, val);
		break;
	case RTC_REG_A:
		r->cmos[RTC_REG_A] = val & ~RTC_A_UIP;
		break;
	case RTC_REG_B:
		if ((val & RTC_B_SET) && !(r->cmos[RTC_REG_B] & RTC_B_SET)) {
			rtc_now(r, &tm);
			r->set_tm = tm; /* freeze */
		} else if (!(val & RTC_B_SET) && (r->cmos[RTC_REG_B] & RTC_B_SET)) {
			tm = r->set_tm;
			rtc_apply(r, &tm); /* run from the set time */
		}
		r->cmos[RTC_REG_B] = val;
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		r->cmos[r->index] = val;
		break;
	}
}

static void rtc_pio_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	for (uint32_t i = 0; i < len; i++)
		/* The index register is write-only. */
		data[i] = offset + i == 1 ? rtc_read_data(r) : 0xff;
	pthread_mutex_unlock(&r->lock);
}

static void rtc_pio_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	for (uint32_t i = 0; i < len; i++) {
		if (offset + i == 0) {
			r->index = data[i] & 0x7f;
			r->nmi_disabled = data[i] & 0x80;
		} else if (offset + i == 1) {
			rtc_write_data(r, data[i]);
		}
	}
	pthread_mutex_unlock(&r->lock);
}

static const struct bus_dev_ops rtc_ops = {
    .read = rtc_pio_read,
    .write = rtc_pio_write,
};

int rtc_init(struct rtc *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	ret = pthread_mutex_init(&r->lock, NULL);
	if (ret) {
		log_err("rtc: cannot initialise mutex: %s", strerror(ret));
		return -ret;
	}
	r->cmos[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	r->cmos[RTC_REG_B] = RTC_B_24H;
	r->cmos[RTC_REG_D] = RTC_D_VRT; /* battery good */
	return 0;
}

int rtc_attach(struct rtc *r, struct bus *pio)
{
	return bus_register(pio, RTC_PORT_INDEX, 2, &rtc_ops, r, "rtc");
}

void rtc_destroy(struct rtc *r)
{
	pthread_mutex_destroy(&r->lock);
}
