/* SPDX-License-Identifier: MIT */
#include "pci_config.h"
#include "log.h"

#include <errno.h>
#include <string.h>

void pci_config_init(struct pci_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cap_end = PCI_CONFIG_CAP_START;
}

uint8_t pci_config_get8(const struct pci_config *cfg, uint32_t off)
{
	return off < PCI_CONFIG_EXT_SIZE ? cfg->data[off] : 0xff;
}

uint16_t pci_config_get16(const struct pci_config *cfg, uint32_t off)
{
	return (uint16_t)(pci_config_get8(cfg, off) | pci_config_get8(cfg, off + 1) << 8);
}

uint32_t pci_config_get32(const struct pci_config *cfg, uint32_t off)
{
	return (uint32_t)pci_config_get16(cfg, off) | (uint32_t)pci_config_get16(cfg, off + 2)
							  << 16;
}

static void put_le(uint8_t *p, uint32_t off, uint32_t v, unsigned size)
{
	for (unsigned i = 0; i < size && off + i < PCI_CONFIG_EXT_SIZE; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

void pci_config_set8(struct pci_config *cfg, uint32_t off, uint8_t v)
{
	put_le(cfg->data, off, v, 1);
}

void pci_config_set16(struct pci_config *cfg, uint32_t off, uint16_t v)
{
	put_le(cfg->data, off, v, 2);
}

void pci_config_set32(struct pci_config *cfg, uint32_t off, uint32_t v)
{
	put_le(cfg->data, off, v, 4);
}

void pci_config_set_wmask(struct pci_config *cfg, uint32_t off, uint32_t mask, unsigned size)
{
	put_le(cfg->wmask, off, mask, size);
}

void pci_config_set_w1c(struct pci_config *cfg, uint32_t off, uint32_t mask, unsigned size)
{
	put_le(cfg->w1c, off, mask, size);
}

static int check_access(uint32_t off, uint32_t len)
{
	if ((len != 1 && len != 2 && len != 4) || off >= PCI_CONFIG_EXT_SIZE ||
	    len > PCI_CONFIG_EXT_SIZE - off)
		return -EINVAL;
	return 0;
}

int pci_config_read(const struct pci_config *cfg, uint32_t off, void *data, uint32_t len)
{
	if (check_access(off, len)) {
		log_debug("pci: config read of %u bytes at 0x%x ignored", len, off);
		return -EINVAL;
	}
	memcpy(data, cfg->data + off, len);
	return 0;
}

int pci_config_write(struct pci_config *cfg, uint32_t off, const void *data, uint32_t len)
{
	const uint8_t *in = data;

	if (check_access(off, len)) {
		log_debug("pci: config write of %u bytes at 0x%x ignored", len, off);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < len; i++) {
		uint8_t wm = cfg->wmask[off + i], c = cfg->w1c[off + i];
		uint8_t v = cfg->data[off + i];

		v = (uint8_t)((v & ~wm) | (in[i] & wm));
		v &= (uint8_t) ~(in[i] & c);
		cfg->data[off + i] = v;
	}
	return 0;
}

int pci_config_add_capability(struct pci_config *cfg, uint8_t id, uint32_t len)
{
	uint32_t off = cfg->cap_end;

	if (len < 2 || len > PCI_CONFIG_SIZE) {
		log_err("pci: capability 0x%02x has a bad length %u", id, len);
		return -EINVAL;
	}
	if (off < PCI_CONFIG_CAP_START || len > PCI_CONFIG_SIZE - off) {
		log_err("pci: no room for capability 0x%02x (%u bytes) in config space", id, len);
		return -ENOSPC;
	}
	cfg->data[off] = id;
	cfg->data[off + 1] = 0;
	if (cfg->last_cap)
		cfg->data[cfg->last_cap + 1] = (uint8_t)off;
	else
		cfg->data[PCI_CAPABILITY_LIST] = (uint8_t)off;
	cfg->data[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	cfg->last_cap = (uint8_t)off;
	/* cap_end may reach 0x100, which does not fit a uint8_t: 0 means full. */
	off = (off + len + 3) & ~3U;
	cfg->cap_end = off >= PCI_CONFIG_SIZE ? 0 : (uint8_t)off;
	return (int)cfg->last_cap;
}
