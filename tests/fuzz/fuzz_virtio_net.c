/* SPDX-License-Identifier: MIT */
/*
 * virtio-net's parsers of guest bytes: the control-queue command parser and
 * the TX header check. Input layout:
 *   byte 0      bit 0: which parser (0 control, 1 TX); bits 1-4: max queue
 *               pairs (control) - 1
 *   bytes 1-8   negotiated feature bits (little-endian)
 *   control:    the rest is the command (class, command, data)
 *   TX:         bytes 9-11 the chain's readable length (little-endian,
 *               24 bits, so frames beyond 65562 happen), then the header
 *               (zero-padded to 12 bytes when short)
 * Each result is checked against the rules the device relies on.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio.h"
#include "virtio_net.h"

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void fuzz_tx(const uint8_t *data, size_t size, uint64_t features)
{
	uint8_t hdr[VIRTIO_NET_HDR_LEN] = {0};
	const char *why = NULL;
	size_t len;
	enum virtio_net_tx_verdict v;

	if (size < 3)
		return;
	len = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16;
	memcpy(hdr, data + 3, size - 3 < sizeof(hdr) ? size - 3 : sizeof(hdr));
	v = virtio_net_tx_check(hdr, len, features, &why);
	if (v != VIRTIO_NET_TX_OK && !why)
		abort();
	if (v == VIRTIO_NET_TX_BROKEN && len >= VIRTIO_NET_HDR_LEN && len <= VIRTIO_NET_MAX_FRAME)
		abort();
	if (v != VIRTIO_NET_TX_OK)
		return;
	if (len < VIRTIO_NET_HDR_LEN || len > VIRTIO_NET_MAX_FRAME)
		abort();
	if (hdr[0] & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		abort();
	if ((hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (!(features & VIRTIO_FEATURE(VIRTIO_NET_F_CSUM)) ||
	     (size_t)le16(hdr + VIRTIO_NET_HDR_CSUM_START) +
		     le16(hdr + VIRTIO_NET_HDR_CSUM_OFFSET) + 2 >
		 len - VIRTIO_NET_HDR_LEN))
		abort();
	if (hdr[1] != VIRTIO_NET_HDR_GSO_NONE &&
	    (!(hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) || !le16(hdr + VIRTIO_NET_HDR_GSO_SIZE)))
		abort();
}

static void fuzz_ctrl(const uint8_t *data, size_t size, uint64_t features, unsigned max_pairs)
{
	const char *why = NULL;
	unsigned pairs = 0;
	uint8_t ack;
	/* A heap copy of exactly size bytes, so any over-read trips ASan. */
	uint8_t *cmd = malloc(size ? size : 1);

	if (!cmd)
		abort();
	memcpy(cmd, data, size);
	ack = virtio_net_ctrl_parse(cmd, size, features, max_pairs, &pairs, &why);
	if (ack != VIRTIO_NET_OK && ack != VIRTIO_NET_ERR)
		abort();
	if (ack == VIRTIO_NET_ERR && (!why || pairs))
		abort();
	if (pairs && (pairs > max_pairs || size != 4 || cmd[0] != VIRTIO_NET_CTRL_MQ ||
		      !(features & VIRTIO_FEATURE(VIRTIO_NET_F_MQ))))
		abort();
	free(cmd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t features = 0;

	if (size < 9)
		return 0;
	for (int i = 0; i < 8; i++)
		features |= (uint64_t)data[1 + i] << (8 * i);
	if (data[0] & 1)
		fuzz_tx(data + 9, size - 9, features);
	else
		fuzz_ctrl(data + 9, size - 9, features, 1 + ((data[0] >> 1) & 0xf));
	return 0;
}
