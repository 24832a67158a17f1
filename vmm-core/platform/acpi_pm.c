/* SPDX-License-Identifier: MIT */
#include "acpi_pm.h"
#include "log.h"

#include <errno.h>
#include <string.h>

#define SLP_TYP_SHIFT 2
#define SLP_TYP_MASK  0x1c
#define SLP_EN	      0x20
#define WAK_STS	      0x80

static void acpi_pm_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct acpi_pm *p = opaque;

	memset(data, 0, len);
	pthread_mutex_lock(&p->lock);
	for (uint32_t i = 0; i < len; i++) {
		if (offset + i == ACPI_PM_SLEEP_CTL - ACPI_PM_BASE)
			data[i] = p->sleep_ctl;
		else if (offset + i == ACPI_PM_SLEEP_STS - ACPI_PM_BASE)
			data[i] = p->sleep_sts;
		/* the reset register reads as 0 */
	}
	pthread_mutex_unlock(&p->lock);
}

static void acpi_pm_write_one(struct acpi_pm *p, uint64_t offset, uint8_t val)
{
	unsigned typ;

	switch (offset) {
	case ACPI_PM_SLEEP_CTL - ACPI_PM_BASE:
		p->sleep_ctl = val & ~SLP_EN;
		if (!(val & SLP_EN))
			break;
		typ = (val & SLP_TYP_MASK) >> SLP_TYP_SHIFT;
		if (typ == ACPI_PM_S5_TYP)
			p->power->request_stop(p->power, VM_STOP_POWEROFF, 0);
		else
			log_debug("acpi_pm: ignoring request for unsupported sleep type %u", typ);
		break;
	case ACPI_PM_SLEEP_STS - ACPI_PM_BASE:
		p->sleep_sts &= ~(val & WAK_STS);
		break;
	case ACPI_PM_RESET - ACPI_PM_BASE:
		if (val == ACPI_PM_RESET_VALUE)
			p->power->request_stop(p->power, VM_STOP_RESET, 0);
		break;
	}
}

static void acpi_pm_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct acpi_pm *p = opaque;

	/* Registers are 8 bits wide; a wider access is one access per byte. */
	pthread_mutex_lock(&p->lock);
	for (uint32_t i = 0; i < len; i++)
		acpi_pm_write_one(p, offset + i, data[i]);
	pthread_mutex_unlock(&p->lock);
}

static const struct bus_dev_ops acpi_pm_ops = {
    .read = acpi_pm_read,
    .write = acpi_pm_write,
};

int acpi_pm_init(struct acpi_pm *p, struct vm_power *power)
{
	int ret;

	memset(p, 0, sizeof(*p));
	if (!power) {
		log_err("acpi_pm: no power controller given");
		return -EINVAL;
	}
	ret = pthread_mutex_init(&p->lock, NULL);
	if (ret) {
		log_err("acpi_pm: cannot initialise mutex: %s", strerror(ret));
		return -ret;
	}
	p->power = power;
	return 0;
}

int acpi_pm_attach(struct acpi_pm *p, struct bus *pio)
{
	return bus_register(pio, ACPI_PM_BASE, ACPI_PM_NR_PORTS, &acpi_pm_ops, p, "acpi_pm");
}

void acpi_pm_destroy(struct acpi_pm *p)
{
	pthread_mutex_destroy(&p->lock);
}
