/* SPDX-License-Identifier: MIT */
#include "i8042.h"
#include "log.h"

#include <errno.h>
#include <string.h>

#define STS_OBF	   0x01
#define STS_SYS	   0x04
#define STS_CMD	   0x08 /* last write was to the command port */
#define STS_UNLOCK 0x10 /* keyboard not inhibited */

#define CTR_KBDINT 0x01
#define CTR_SYS	   0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE  0x40

#define CMD_READ_CTR	   0x20
#define CMD_WRITE_CTR	   0x60
#define CMD_AUX_DISABLE	   0xa7
#define CMD_AUX_ENABLE	   0xa8
#define CMD_AUX_TEST	   0xa9
#define CMD_SELF_TEST	   0xaa
#define CMD_KBD_TEST	   0xab
#define CMD_KBD_DISABLE	   0xad
#define CMD_KBD_ENABLE	   0xae
#define CMD_READ_OUTPORT   0xd0
#define CMD_WRITE_OUTPORT  0xd1
#define CMD_WRITE_KBD_OBUF 0xd2
#define CMD_WRITE_AUX_OBUF 0xd3
#define CMD_WRITE_AUX	   0xd4
#define CMD_PULSE_FIRST	   0xf0 /* 0xf0-0xff: pulse output bits 0-3 that are 0 */

#define OUTPORT_RESET_N 0x01 /* system reset, active low */
#define OUTPORT_A20	0x02

#define SELF_TEST_OK	 0x55
#define PORT_TEST_OK	 0x00
#define PORT_TEST_CLK_LO 0x01

static void i8042_push(struct i8042 *k, uint8_t val)
{
	if (k->out_count == I8042_OUT_QUEUE) {
		log_debug("i8042: output buffer full, dropping 0x%02x", val);
		return;
	}
	k->out[(k->out_head + k->out_count) % I8042_OUT_QUEUE] = val;
	k->out_count++;
}

static uint8_t i8042_pop(struct i8042 *k)
{
	uint8_t val;

	if (!k->out_count)
		return 0;
	val = k->out[k->out_head];
	k->out_head = (k->out_head + 1) % I8042_OUT_QUEUE;
	k->out_count--;
	return val;
}

static void i8042_reset_vm(struct i8042 *k)
{
	k->power->request_stop(k->power, VM_STOP_RESET, 0);
}

static void i8042_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_push(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPORT:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		k->pending = cmd;
		break;
	case CMD_AUX_DISABLE:
		k->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		k->ctr &= ~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
		i8042_push(k, PORT_TEST_CLK_LO); /* nothing behind the aux port */
		break;
	case CMD_SELF_TEST:
		k->status |= STS_SYS;
		i8042_push(k, SELF_TEST_OK);
		break;
	case CMD_KBD_TEST:
		i8042_push(k, PORT_TEST_OK);
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= ~CTR_KBDDIS;
		break;
	case CMD_READ_OUTPORT:
		i8042_push(k, k->outport);
		break;
	default:
		if (cmd >= CMD_PULSE_FIRST) {
			if (!(cmd & OUTPORT_RESET_N))
				i8042_reset_vm(k);
		} else {
			log_debug("i8042: ignoring command 0x%02x", cmd);
		}
		break;
	}
}

static void i8042_data(struct i8042 *k, uint8_t val)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = val;
		/* The SYS flag in the status register follows the command byte. */
		k->status = (k->status & ~STS_SYS) | (val & CTR_SYS);
		break;
	case CMD_WRITE_OUTPORT:
		k->outport = val;
		if (!(val & OUTPORT_RESET_N))
			i8042_reset_vm(k);
		break;
	case CMD_WRITE_KBD_OBUF:
		i8042_push(k, val);
		break;
	default:
		/* aux writes, or a byte for the (absent) keyboard */
		break;
	}
}

static void i8042_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct i8042_port *p = opaque;
	struct i8042 *k = p->k;

	memset(data, 0xff, len);
	if (offset != 0 || len != 1)
		return;
	pthread_mutex_lock(&k->lock);
	if (p->port == I8042_PORT_DATA)
		data[0] = i8042_pop(k);
	else
		data[0] = k->status | STS_UNLOCK | (k->out_count ? STS_OBF : 0);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct i8042_port *p = opaque;
	struct i8042 *k = p->k;

	if (offset != 0 || len != 1)
		return;
	pthread_mutex_lock(&k->lock);
	if (p->port == I8042_PORT_DATA) {
		k->status &= ~STS_CMD;
		i8042_data(k, data[0]);
	} else {
		k->status |= STS_CMD;
		k->pending = 0;
		i8042_command(k, data[0]);
	}
	pthread_mutex_unlock(&k->lock);
}

static const struct bus_dev_ops i8042_ops = {
    .read = i8042_read,
    .write = i8042_write,
};

int i8042_init(struct i8042 *k, struct vm_power *power)
{
	int ret;

	memset(k, 0, sizeof(*k));
	if (!power) {
		log_err("i8042: no power controller given");
		return -EINVAL;
	}
	ret = pthread_mutex_init(&k->lock, NULL);
	if (ret) {
		log_err("i8042: cannot initialise mutex: %s", strerror(ret));
		return -ret;
	}
	k->power = power;
	k->ports[0] = (struct i8042_port){.k = k, .port = I8042_PORT_DATA};
	k->ports[1] = (struct i8042_port){.k = k, .port = I8042_PORT_COMMAND};
	/* As left by firmware: self-test passed, translation on, no aux. */
	k->ctr = CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE;
	k->status = STS_SYS;
	k->outport = OUTPORT_RESET_N | OUTPORT_A20;
	return 0;
}

int i8042_attach(struct i8042 *k, struct bus *pio)
{
	int ret;

	/* Two one-port ranges: 0x61-0x63 (port B, PIT gate) belong to others. */
	ret = bus_register(pio, I8042_PORT_DATA, 1, &i8042_ops, &k->ports[0], "i8042");
	if (ret)
		return ret;
	ret = bus_register(pio, I8042_PORT_COMMAND, 1, &i8042_ops, &k->ports[1], "i8042");
	if (ret)
		bus_unregister(pio, I8042_PORT_DATA);
	return ret;
}

void i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}
