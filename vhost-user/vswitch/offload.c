/* SPDX-License-Identifier: MIT */
/*
 * Checksum and TSO pass-through. A frame a frontend sent with a partial
 * checksum or as one large TCP frame (virtio NEEDS_CSUM / GSO) reaches a
 * receiver that negotiated the matching offload unchanged: its receive flags
 * become transmit flags, from which rte_vhost writes the receiver's
 * virtio_net_hdr. Every other receiver (an ethdev, a frontend without
 * GUEST_CSUM/GUEST_TSO4, or a flood to several ports) gets the frame
 * completed here: segmented with rte_gso, then checksummed in software.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_net.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vswitch.h"

#define TX_OL_BITS                                                                                 \
	(RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IP_CKSUM |                  \
	 RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6)

/*
 * Turn the frame's receive flags into transmit flags and header lengths.
 * Returns the VSW_OL_* bits its receiver must take, or -1 if the frame asks
 * for something the switch could not complete (then it must be dropped).
 * Everything checked here is the sender's word.
 */
int vsw_offload_parse(struct rte_mbuf *m)
{
	struct rte_net_hdr_lens hl;
	uint64_t rx = m->ol_flags;
	uint32_t ptype, l4, hdrs, l3len;
	bool v4;
	int need = VSW_OL_CSUM;

	m->ol_flags &= ~(RTE_MBUF_F_RX_L4_CKSUM_MASK | RTE_MBUF_F_RX_LRO | TX_OL_BITS);
	ptype =
	    rte_net_get_ptype(m, &hl, RTE_PTYPE_L2_MASK | RTE_PTYPE_L3_MASK | RTE_PTYPE_L4_MASK);
	l4 = ptype & RTE_PTYPE_L4_MASK;
	v4 = RTE_ETH_IS_IPV4_HDR(ptype);
	if ((!v4 && !RTE_ETH_IS_IPV6_HDR(ptype)) ||
	    (l4 != RTE_PTYPE_L4_TCP && l4 != RTE_PTYPE_L4_UDP))
		return -1;
	/* The checksum is written in place: every header in the first buffer. */
	hdrs = hl.l2_len + hl.l3_len + hl.l4_len;
	if (hdrs > rte_pktmbuf_data_len(m))
		return -1;
	/* The pseudo header is the IP header's: no IPv6 extension headers. */
	if (!v4 && hl.l3_len != sizeof(struct rte_ipv6_hdr))
		return -1;
	/* The checksum covers what the IP header says; it must be in the frame. */
	if (v4)
		l3len = rte_be_to_cpu_16(
		    rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, hl.l2_len)->total_length);
	else
		l3len =
		    sizeof(struct rte_ipv6_hdr) +
		    rte_be_to_cpu_16(
			rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, hl.l2_len)->payload_len);
	if (l3len < hl.l3_len + hl.l4_len || l3len > rte_pktmbuf_pkt_len(m) - hl.l2_len)
		return -1;
	m->l2_len = hl.l2_len;
	m->l3_len = hl.l3_len;
	m->l4_len = hl.l4_len;
	m->ol_flags |= (v4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6) |
		       (l4 == RTE_PTYPE_L4_TCP ? RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM);
	if (rx & RTE_MBUF_F_RX_LRO) {
		if (l4 != RTE_PTYPE_L4_TCP || m->tso_segsz == 0 || hdrs + m->tso_segsz > UINT16_MAX)
			return -1;
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
		need |= v4 ? VSW_OL_TSO4 : VSW_OL_TSO6;
	}
	return need;
}

/* The complete L4 checksum (and, after segmentation, the IPv4 header's). */
static void sw_csum(struct rte_mbuf *m, bool ip_too)
{
	void *l3 = rte_pktmbuf_mtod_offset(m, void *, m->l2_len);
	uint16_t off = m->l2_len + m->l3_len;
	/* Where the checksum field is in the TCP or UDP header (packed structs). */
	uint16_t at = off + ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM
				 ? offsetof(struct rte_tcp_hdr, cksum)
				 : offsetof(struct rte_udp_hdr, dgram_cksum));
	uint8_t *ck = rte_pktmbuf_mtod_offset(m, uint8_t *, at);
	uint16_t sum;

	memset(ck, 0, 2);
	if (m->ol_flags & RTE_MBUF_F_TX_IPV4) {
		struct rte_ipv4_hdr *ip = l3;

		if (ip_too) {
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		}
		sum = rte_ipv4_udptcp_cksum_mbuf(m, ip, off);
	} else {
		sum = rte_ipv6_udptcp_cksum_mbuf(m, l3, off);
	}
	memcpy(ck, &sum, 2);
	m->ol_flags &= ~TX_OL_BITS;
}

/*
 * Complete a parsed frame for a receiver without offloads. Returns the number
 * of frames put in out (at most VSW_GSO_SEGS: the frame itself, or its
 * segments, the frame then released), or -1 with the frame freed.
 */
int vsw_offload_complete(struct vsw_worker *w, struct rte_mbuf *m, struct rte_mbuf **out)
{
	int n;

	if (!(m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)) {
		sw_csum(m, false);
		out[0] = m;
		return 1;
	}
	/* 22.11's rte_gso cuts TCP/IPv4 only (the vhost ports do not offer TSO6). */
	if (!(m->ol_flags & RTE_MBUF_F_TX_IPV4)) {
		rte_pktmbuf_free(m);
		return -1;
	}
	w->gso.gso_size = m->l2_len + m->l3_len + m->l4_len + m->tso_segsz;
	n = rte_gso_segment(m, &w->gso, out, VSW_GSO_SEGS);
	if (n < 0) {
		rte_pktmbuf_free(m);
		return -1;
	}
	if (n == 0) { /* no larger than one segment */
		m->ol_flags &= ~RTE_MBUF_F_TX_TCP_SEG;
		sw_csum(m, false);
		out[0] = m;
		return 1;
	}
	/* The segments hold references to the frame's data. */
	rte_pktmbuf_free(m);
	for (int i = 0; i < n; i++)
		sw_csum(out[i], true);
	return n;
}

void vsw_offload_gso_init(struct vsw_worker *w)
{
	w->gso = (struct rte_gso_ctx){
	    .direct_pool = w->vsw->pool,
	    .indirect_pool = w->vsw->pool,
	    .gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO,
	};
}
