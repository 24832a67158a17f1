/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user wire protocol (QEMU docs/interop/vhost-user.rst), as spoken
 * by sluice's frontend and by sluice-vswitch. Numbers are native-endian.
 *
 * On the wire a message is a 12-byte header followed by hdr.size payload
 * bytes, so the payload starts at byte 12 and its u64 fields are misaligned.
 * struct vhost_user_msg is therefore NOT the wire image: it keeps the header
 * and a naturally aligned payload apart, and vhost_user_sock.c scatters the
 * bytes into them. Nothing here is packed, so pointers to payload members are
 * safe to pass around.
 */
#ifndef SLUICE_VHOST_USER_PROTO_H
#define SLUICE_VHOST_USER_PROTO_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* Requests on the main socket, sent by the frontend. */
enum vhost_user_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_SET_BACKEND_REQ_FD = 21,
	VHOST_USER_IOTLB_MSG = 22,
	VHOST_USER_SET_VRING_ENDIAN = 23,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_CREATE_CRYPTO_SESSION = 26,
	VHOST_USER_CLOSE_CRYPTO_SESSION = 27,
	VHOST_USER_POSTCOPY_ADVISE = 28,
	VHOST_USER_POSTCOPY_LISTEN = 29,
	VHOST_USER_POSTCOPY_END = 30,
	VHOST_USER_GET_INFLIGHT_FD = 31,
	VHOST_USER_SET_INFLIGHT_FD = 32,
	VHOST_USER_GPU_SET_SOCKET = 33,
	VHOST_USER_RESET_DEVICE = 34,
	VHOST_USER_VRING_KICK = 35,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
	VHOST_USER_SET_STATUS = 39,
	VHOST_USER_GET_STATUS = 40,
	VHOST_USER_GET_SHARED_OBJECT = 41,
	VHOST_USER_SET_DEVICE_STATE_FD = 42,
	VHOST_USER_CHECK_DEVICE_STATE = 43,
	VHOST_USER_REQUEST_MAX, /* one past the last known code */
};

/* Requests on the backend channel (SET_BACKEND_REQ_FD), sent by the backend. */
enum vhost_user_backend_request {
	VHOST_USER_BACKEND_NONE = 0,
	VHOST_USER_BACKEND_IOTLB_MSG = 1,
	VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2,
	VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG = 3,
	VHOST_USER_BACKEND_VRING_CALL = 4,
	VHOST_USER_BACKEND_VRING_ERR = 5,
	VHOST_USER_BACKEND_SHARED_OBJECT_ADD = 6,
	VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE = 7,
	VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP = 8,
	VHOST_USER_BACKEND_REQUEST_MAX,
};

/* Header flags. */
#define VHOST_USER_VERSION_MASK 0x3u
#define VHOST_USER_VERSION	0x1u
#define VHOST_USER_REPLY	(1u << 2)
#define VHOST_USER_NEED_REPLY	(1u << 3)
#define VHOST_USER_FLAGS_KNOWN	(VHOST_USER_VERSION_MASK | VHOST_USER_REPLY | VHOST_USER_NEED_REPLY)

/* Virtio feature bits that belong to vhost itself (GET/SET_FEATURES). */
#define VHOST_F_LOG_ALL		       26
#define VHOST_USER_F_PROTOCOL_FEATURES 30

/* Protocol feature bits (GET/SET_PROTOCOL_FEATURES). */
#define VHOST_USER_PROTOCOL_F_MQ		   0
#define VHOST_USER_PROTOCOL_F_LOG_SHMFD		   1
#define VHOST_USER_PROTOCOL_F_RARP		   2
#define VHOST_USER_PROTOCOL_F_REPLY_ACK		   3
#define VHOST_USER_PROTOCOL_F_NET_MTU		   4
#define VHOST_USER_PROTOCOL_F_BACKEND_REQ	   5
#define VHOST_USER_PROTOCOL_F_CROSS_ENDIAN	   6
#define VHOST_USER_PROTOCOL_F_CRYPTO_SESSION	   7
#define VHOST_USER_PROTOCOL_F_PAGEFAULT		   8
#define VHOST_USER_PROTOCOL_F_CONFIG		   9
#define VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD	   10
#define VHOST_USER_PROTOCOL_F_HOST_NOTIFIER	   11
#define VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD	   12
#define VHOST_USER_PROTOCOL_F_RESET_DEVICE	   13
#define VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS 14
#define VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS  15
#define VHOST_USER_PROTOCOL_F_STATUS		   16
#define VHOST_USER_PROTOCOL_F_XEN_MMAP		   17
#define VHOST_USER_PROTOCOL_F_SHARED_OBJECT	   18
#define VHOST_USER_PROTOCOL_F_DEVICE_STATE	   19

#define VHOST_USER_BIT(b) (1ULL << (b))

/*
 * Limits. 8 fds / 8 regions is what QEMU's SET_MEM_TABLE and DPDK's rte_vhost
 * use; the kick/call/err payload carries the vring index in 8 bits.
 */
#define VHOST_USER_MAX_FDS	   8
#define VHOST_USER_MAX_REGIONS	   8
#define VHOST_USER_MAX_VRINGS	   256
#define VHOST_USER_MAX_QUEUE_SIZE  32768
#define VHOST_USER_MAX_CONFIG_SIZE 256

/* SET_VRING_KICK/CALL/ERR u64 payload: vring index, and "no fd attached". */
#define VHOST_USER_VRING_IDX_MASK 0xffULL
#define VHOST_USER_VRING_NOFD	  (1ULL << 8)

/* SET_VRING_ADDR flags. */
#define VHOST_VRING_F_LOG 0x1u

/* SET_CONFIG flags. */
#define VHOST_USER_CONFIG_WRITABLE  0u
#define VHOST_USER_CONFIG_MIGRATION 1u

/* IOTLB message type and permission (linux/vhost_types.h values). */
#define VHOST_USER_IOTLB_MISS	     1
#define VHOST_USER_IOTLB_UPDATE	     2
#define VHOST_USER_IOTLB_INVALIDATE  3
#define VHOST_USER_IOTLB_ACCESS_FAIL 4
#define VHOST_USER_IOTLB_PERM_RW     3

struct vhost_user_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size; /* payload bytes after the header */
};

struct vhost_user_vring_state {
	uint32_t index;
	uint32_t num;
};

/* Ring addresses are the frontend's user (virtual) addresses. */
struct vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};

struct vhost_user_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

/* SET_MEM_TABLE: only the first nregions entries travel on the wire. */
struct vhost_user_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_mem_region regions[VHOST_USER_MAX_REGIONS];
};

/* ADD_MEM_REG / REM_MEM_REG. */
struct vhost_user_mem_reg {
	uint64_t padding;
	struct vhost_user_mem_region region;
};

/* SET_LOG_BASE with LOG_SHMFD. */
struct vhost_user_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};

/* GET/SET_INFLIGHT_FD. QEMU, DPDK and rust-vmm all send the padded 24 bytes. */
struct vhost_user_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
	uint32_t padding;
};

/* GET/SET_CONFIG: a 12-byte header then `size` bytes of config space. */
struct vhost_user_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VHOST_USER_MAX_CONFIG_SIZE];
};
#define VHOST_USER_CONFIG_HDR_SIZE offsetof(struct vhost_user_config, region)

/* struct vhost_iotlb_msg, padded to 32 bytes as QEMU sends it. */
struct vhost_user_iotlb {
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr;
	uint8_t perm;
	uint8_t type;
	uint8_t padding[6];
};

/* Backend VRING_HOST_NOTIFIER_MSG. u64 is the vring index plus NOFD. */
struct vhost_user_vring_area {
	uint64_t u64;
	uint64_t size;
	uint64_t offset;
};

/* The in-memory layout of the split-ring inflight region (per queue). */
struct vhost_user_inflight_desc_split {
	uint8_t inflight;
	uint8_t padding[5];
	uint16_t next;
	uint64_t counter;
};

struct vhost_user_inflight_split {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t last_batch_head;
	uint16_t used_idx;
	struct vhost_user_inflight_desc_split desc[];
};

union vhost_user_payload {
	uint64_t u64;
	struct vhost_user_vring_state state;
	struct vhost_user_vring_addr addr;
	struct vhost_user_memory memory;
	struct vhost_user_mem_reg mem_reg;
	struct vhost_user_log log;
	struct vhost_user_inflight inflight;
	struct vhost_user_config config;
	struct vhost_user_iotlb iotlb;
	struct vhost_user_vring_area area;
	uint8_t raw[1];
};

struct vhost_user_msg {
	struct vhost_user_hdr hdr;
	union vhost_user_payload payload;
};

#define VHOST_USER_HDR_SIZE sizeof(struct vhost_user_hdr)
/* The largest payload any known message carries (GET/SET_CONFIG). */
#define VHOST_USER_PAYLOAD_MAX	sizeof(struct vhost_user_config)
#define VHOST_USER_MSG_WIRE_MAX (VHOST_USER_HDR_SIZE + VHOST_USER_PAYLOAD_MAX)

static_assert(sizeof(struct vhost_user_hdr) == 12, "vhost-user header is 12 bytes");
static_assert(sizeof(struct vhost_user_vring_state) == 8, "vring state");
static_assert(sizeof(struct vhost_user_vring_addr) == 40, "vring address");
static_assert(sizeof(struct vhost_user_mem_region) == 32, "memory region");
static_assert(sizeof(struct vhost_user_memory) == 8 + 8 * 32, "memory table");
static_assert(offsetof(struct vhost_user_memory, regions) == 8, "memory table header");
static_assert(sizeof(struct vhost_user_mem_reg) == 40, "single memory region");
static_assert(sizeof(struct vhost_user_log) == 16, "log description");
static_assert(sizeof(struct vhost_user_inflight) == 24, "inflight description");
static_assert(offsetof(struct vhost_user_config, region) == 12, "config header");
static_assert(sizeof(struct vhost_user_config) == 12 + 256, "config space");
static_assert(sizeof(struct vhost_user_iotlb) == 32, "iotlb message");
static_assert(offsetof(struct vhost_user_iotlb, type) == 25, "iotlb type");
static_assert(sizeof(struct vhost_user_vring_area) == 24, "vring area");
static_assert(sizeof(struct vhost_user_inflight_desc_split) == 16, "inflight split desc");
static_assert(sizeof(struct vhost_user_inflight_split) == 16, "inflight split header");
static_assert(sizeof(union vhost_user_payload) >= VHOST_USER_PAYLOAD_MAX, "payload fits");
static_assert(VHOST_USER_PAYLOAD_MAX == 268, "largest payload is the config");

#endif
