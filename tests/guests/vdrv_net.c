/* SPDX-License-Identifier: MIT */
#include "vdrv_net.h"
#include "guest_lib.h"

#define ETH_DST	       0
#define ETH_SRC	       6
#define ETH_TYPE       12
#define ETH_HLEN       14
#define ETH_P_IP       0x0800
#define ETH_P_ARP      0x0806
#define ARP_HTYPE      (ETH_HLEN + 0)
#define ARP_PTYPE      (ETH_HLEN + 2)
#define ARP_HLEN       (ETH_HLEN + 4)
#define ARP_PLEN       (ETH_HLEN + 5)
#define ARP_OP	       (ETH_HLEN + 6)
#define ARP_SHA	       (ETH_HLEN + 8)
#define ARP_SPA	       (ETH_HLEN + 14)
#define ARP_THA	       (ETH_HLEN + 18)
#define ARP_TPA	       (ETH_HLEN + 24)
#define ARP_END	       (ETH_HLEN + 28)
#define ARP_REQUEST    1
#define ARP_REPLY      2
#define IP_VER_IHL     (ETH_HLEN + 0)
#define IP_TOT_LEN     (ETH_HLEN + 2)
#define IP_ID	       (ETH_HLEN + 4)
#define IP_FRAG	       (ETH_HLEN + 6)
#define IP_TTL	       (ETH_HLEN + 8)
#define IP_PROTO       (ETH_HLEN + 9)
#define IP_CSUM	       (ETH_HLEN + 10)
#define IP_SRC	       (ETH_HLEN + 12)
#define IP_DST	       (ETH_HLEN + 16)
#define IP_HLEN	       20
#define IP_DF	       0x4000
#define IP_PROTO_ICMP  1
#define ICMP_HLEN      8
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO      8
/* ICMP fields, from the start of the ICMP header. */
#define ICMP_TYPE 0
#define ICMP_CODE 1
#define ICMP_CSUM 2
#define ICMP_ID	  4
#define ICMP_SEQ  6

static const uint8_t eth_broadcast[VNET_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

uint16_t vnet_csum(const uint8_t *p, unsigned len)
{
	uint32_t sum = 0;
	unsigned i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void eth_header(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f + ETH_DST, dst, VNET_ETH_ALEN);
	memcpy(f + ETH_SRC, src, VNET_ETH_ALEN);
	put16(f + ETH_TYPE, type);
}

unsigned vnet_arp_request(uint8_t *f, const uint8_t mac[VNET_ETH_ALEN], uint32_t my_ip,
			  uint32_t target_ip)
{
	memset(f, 0, VNET_ARP_FRAME);
	eth_header(f, eth_broadcast, mac, ETH_P_ARP);
	put16(f + ARP_HTYPE, 1); /* Ethernet */
	put16(f + ARP_PTYPE, ETH_P_IP);
	f[ARP_HLEN] = VNET_ETH_ALEN;
	f[ARP_PLEN] = 4;
	put16(f + ARP_OP, ARP_REQUEST);
	memcpy(f + ARP_SHA, mac, VNET_ETH_ALEN);
	put32(f + ARP_SPA, my_ip);
	put32(f + ARP_TPA, target_ip); /* THA stays zero */
	return VNET_ARP_FRAME;
}

const char *vnet_arp_reply_check(const uint8_t *f, unsigned len, const uint8_t mac[VNET_ETH_ALEN],
				 uint32_t my_ip, uint32_t peer_ip, uint8_t peer_mac[VNET_ETH_ALEN],
				 bool *ours)
{
	*ours = len >= ARP_END && get16(f + ETH_TYPE) == ETH_P_ARP &&
		get16(f + ARP_OP) == ARP_REPLY && get32(f + ARP_SPA) == peer_ip;
	if (!*ours)
		return "not an ARP reply from the peer";
	if (get16(f + ARP_HTYPE) != 1 || get16(f + ARP_PTYPE) != ETH_P_IP ||
	    f[ARP_HLEN] != VNET_ETH_ALEN || f[ARP_PLEN] != 4)
		return "ARP reply is not Ethernet/IPv4";
	if (!bytes_equal(f + ETH_DST, mac, VNET_ETH_ALEN))
		return "ARP reply not sent to the guest's MAC";
	if (!bytes_equal(f + ARP_THA, mac, VNET_ETH_ALEN) || get32(f + ARP_TPA) != my_ip)
		return "ARP reply's target is not the guest";
	if (!bytes_equal(f + ETH_SRC, f + ARP_SHA, VNET_ETH_ALEN))
		return "ARP reply's Ethernet source differs from its sender address";
	if (f[ARP_SHA] & 1)
		return "ARP reply's sender address is multicast";
	memcpy(peer_mac, f + ARP_SHA, VNET_ETH_ALEN);
	return NULL;
}

unsigned vnet_echo_request(uint8_t *f, const uint8_t mac[VNET_ETH_ALEN],
			   const uint8_t peer_mac[VNET_ETH_ALEN], uint32_t my_ip, uint32_t peer_ip,
			   const struct vnet_echo *e)
{
	uint8_t *icmp = f + ETH_HLEN + IP_HLEN;

	eth_header(f, peer_mac, mac, ETH_P_IP);
	f[IP_VER_IHL] = 0x45;
	f[IP_VER_IHL + 1] = 0; /* TOS */
	put16(f + IP_TOT_LEN, IP_HLEN + ICMP_HLEN + VNET_ECHO_PAYLOAD);
	put16(f + IP_ID, e->seq);
	put16(f + IP_FRAG, IP_DF);
	f[IP_TTL] = 64;
	f[IP_PROTO] = IP_PROTO_ICMP;
	put16(f + IP_CSUM, 0);
	put32(f + IP_SRC, my_ip);
	put32(f + IP_DST, peer_ip);
	put16(f + IP_CSUM, vnet_csum(f + ETH_HLEN, IP_HLEN));

	icmp[ICMP_TYPE] = ICMP_ECHO;
	icmp[ICMP_CODE] = 0;
	put16(icmp + ICMP_CSUM, 0);
	put16(icmp + ICMP_ID, e->id);
	put16(icmp + ICMP_SEQ, e->seq);
	memcpy(icmp + ICMP_HLEN, e->payload, VNET_ECHO_PAYLOAD);
	put16(icmp + ICMP_CSUM, vnet_csum(icmp, ICMP_HLEN + VNET_ECHO_PAYLOAD));
	return VNET_ECHO_HDRS + VNET_ECHO_PAYLOAD;
}

const char *vnet_echo_reply_check(const uint8_t *f, unsigned len, const uint8_t mac[VNET_ETH_ALEN],
				  const uint8_t peer_mac[VNET_ETH_ALEN], uint32_t my_ip,
				  uint32_t peer_ip, const struct vnet_echo *e, bool *ours)
{
	unsigned ihl, tot;
	const uint8_t *icmp;

	*ours = false;
	if (len < ETH_HLEN + IP_HLEN + ICMP_HLEN || get16(f + ETH_TYPE) != ETH_P_IP ||
	    f[IP_VER_IHL] >> 4 != 4 || f[IP_PROTO] != IP_PROTO_ICMP)
		return "not ICMP over IPv4";
	ihl = (f[IP_VER_IHL] & 15u) * 4;
	if (ihl < IP_HLEN || len < ETH_HLEN + ihl + ICMP_HLEN)
		return "IPv4 header length out of range";
	icmp = f + ETH_HLEN + ihl;
	if (icmp[ICMP_TYPE] != ICMP_ECHOREPLY)
		return "not an echo reply";
	*ours = true;
	tot = get16(f + IP_TOT_LEN);
	if (tot < ihl + ICMP_HLEN || tot > len - ETH_HLEN)
		return "IPv4 total length disagrees with the frame";
	if (vnet_csum(f + ETH_HLEN, ihl))
		return "bad IPv4 header checksum";
	if (get16(f + IP_FRAG) & 0x3fff)
		return "echo reply is a fragment";
	if (get32(f + IP_SRC) != peer_ip || get32(f + IP_DST) != my_ip)
		return "echo reply's IPv4 addresses are not peer to guest";
	if (!bytes_equal(f + ETH_DST, mac, VNET_ETH_ALEN) ||
	    !bytes_equal(f + ETH_SRC, peer_mac, VNET_ETH_ALEN))
		return "echo reply's Ethernet addresses are not peer to guest";
	if (vnet_csum(icmp, tot - ihl))
		return "bad ICMP checksum";
	if (icmp[ICMP_CODE] != 0 || get16(icmp + ICMP_ID) != e->id ||
	    get16(icmp + ICMP_SEQ) != e->seq)
		return "echo reply's code, id or sequence differs from the request";
	if (tot - ihl != ICMP_HLEN + VNET_ECHO_PAYLOAD ||
	    !bytes_equal(icmp + ICMP_HLEN, e->payload, VNET_ECHO_PAYLOAD))
		return "echo reply's payload differs from the request";
	return NULL;
}
