/* SPDX-License-Identifier: MIT */
/*
 * MC146818 CMOS RTC on ports 0x70 (index, bit 7 = NMI disable) and 0x71
 * (data). The time registers show the host's CLOCK_REALTIME (UTC) at the
 * moment of the read, plus an offset the guest sets by writing them, in BCD
 * or binary and 12- or 24-hour format as register B says. While B.SET is
 * set the clock reads frozen and writes go to the frozen copy; clearing SET
 * starts it from there. Register 0x32 is the century (FADT CENTURY points
 * at it). The rest of the 128 bytes are plain CMOS RAM. No interrupts:
 * register C always reads 0.
 */
#ifndef SLUICE_RTC_H
#define SLUICE_RTC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bus.h"

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA  0x71

#define RTC_REG_SECONDS 0x00
#define RTC_REG_MINUTES 0x02
#define RTC_REG_HOURS	0x04
#define RTC_REG_WEEKDAY 0x06
#define RTC_REG_MDAY	0x07
#define RTC_REG_MONTH	0x08
#define RTC_REG_YEAR	0x09
#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c
#define RTC_REG_D	0x0d
#define RTC_REG_CENTURY 0x32
#define RTC_CMOS_SIZE	128

#define RTC_A_UIP    0x80
#define RTC_B_SET    0x80
#define RTC_B_DM_BIN 0x04 /* 1: binary, 0: BCD */
#define RTC_B_24H    0x02
#define RTC_D_VRT    0x80

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;		     /* selected register, 0..127 */
	bool nmi_disabled;	     /* bit 7 of the last index write */
	uint8_t cmos[RTC_CMOS_SIZE]; /* A-D and RAM; time registers are computed */
	int64_t offset;		     /* guest time - host time, seconds */
	struct tm set_tm;	     /* the frozen clock while B.SET is set */
};

int rtc_init(struct rtc *r);
int rtc_attach(struct rtc *r, struct bus *pio);
void rtc_destroy(struct rtc *r);

#endif
