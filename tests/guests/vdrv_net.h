/* SPDX-License-Identifier: MIT */
/*
 * Ethernet frames for the virtio-net checks of the test guest: an ARP
 * request and an ICMP echo request built byte by byte (checksums computed
 * here: the driver negotiates no offloads), and the checks of the replies
 * the host's network stack sends back. Frames start at the Ethernet header
 * (the 12-byte virtio_net_hdr is the driver's business). IPv4 addresses are
 * host-order integers (10.0.9.1 is 0x0a000901).
 *
 * The checks return NULL or a short reason, and set *ours when the frame is
 * the kind being waited for (an ARP reply from the peer, an echo reply):
 * other frames are traffic to skip, while a frame of the right kind with a
 * wrong field is a failure.
 */
#ifndef SLUICE_VDRV_NET_H
#define SLUICE_VDRV_NET_H

#include <stdbool.h>
#include <stdint.h>

#define VNET_ETH_ALEN	  6
#define VNET_ETH_MIN	  60 /* shorter frames are padded to this */
#define VNET_ARP_FRAME	  VNET_ETH_MIN
#define VNET_ECHO_HDRS	  42 /* Ethernet 14 + IPv4 20 + ICMP 8 */
#define VNET_ECHO_PAYLOAD 32

struct vnet_echo {
	uint16_t id, seq;
	uint8_t payload[VNET_ECHO_PAYLOAD];
};

/* RFC 1071 Internet checksum of len bytes (0 over data that holds its own checksum). */
uint16_t vnet_csum(const uint8_t *p, unsigned len);

/* Broadcast "who-has target_ip tell my_ip" into f (VNET_ARP_FRAME bytes); returns the length. */
unsigned vnet_arp_request(uint8_t *f, const uint8_t mac[VNET_ETH_ALEN], uint32_t my_ip,
			  uint32_t target_ip);
/* A reply from peer_ip to mac/my_ip; on success peer_mac is the peer's hardware address. */
const char *vnet_arp_reply_check(const uint8_t *f, unsigned len, const uint8_t mac[VNET_ETH_ALEN],
				 uint32_t my_ip, uint32_t peer_ip, uint8_t peer_mac[VNET_ETH_ALEN],
				 bool *ours);

/* Echo request from mac/my_ip to peer_mac/peer_ip into f; returns the length. */
unsigned vnet_echo_request(uint8_t *f, const uint8_t mac[VNET_ETH_ALEN],
			   const uint8_t peer_mac[VNET_ETH_ALEN], uint32_t my_ip, uint32_t peer_ip,
			   const struct vnet_echo *e);
/* The echo reply to e: addresses, id/seq/payload, both checksums. */
const char *vnet_echo_reply_check(const uint8_t *f, unsigned len, const uint8_t mac[VNET_ETH_ALEN],
				  const uint8_t peer_mac[VNET_ETH_ALEN], uint32_t my_ip,
				  uint32_t peer_ip, const struct vnet_echo *e, bool *ours);

#endif
