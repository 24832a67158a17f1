#!/bin/bash
# SPDX-License-Identifier: MIT
# Minimal virtio driver guest (tests/guests/vdrv_main.c) under the real
# /dev/kvm: it finds virtio-blk and virtio-rng by PCI enumeration, reads a
# pattern this script put in the disk image, writes a sector, flushes,
# reads the rng, and completes every request through MSI-X. Then the same
# guest on a read-only disk: its write must fail with VIRTIO_BLK_S_IOERR
# and the image must stay as it was.
. "$(dirname "$0")/lib.sh"
VDRV=$1
SECTORS=2048
WRITE_SECTOR=6 # WRITE_SECTOR in vdrv_main.c
IMG=$TEST_TMP/disk.img
ORIG=$TEST_TMP/disk.orig
WANT=$TEST_TMP/disk.want

# Sectors 0-3: 32 copies each of the 16-byte line "vdrv-sector-NN:\n"; the rest zero.
for s in 0 1 2 3; do
	for i in $(seq 32); do printf 'vdrv-sector-%02d:\n' "$s"; done
done >"$ORIG"
truncate -s $((SECTORS * 512)) "$ORIG"
cp "$ORIG" "$WANT"
for i in $(seq 32); do printf 'vdrv-written-%02d\n' "$WRITE_SECTOR"; done |
	dd of="$WANT" bs=512 seek="$WRITE_SECTOR" conv=notrunc status=none

# Read-write disk.
cp "$ORIG" "$IMG"
run_sluice run --kernel "$VDRV" --rng --disk "path=$IMG" --cmdline "vdrv.sectors=$SECTORS" \
	--serial stdio
expect_vdrv_checks cmdline pci-enum ecam blk-probe rng-probe lapic blk-init rng-init blk-config \
	blk-read blk-write blk-readback blk-flush msix-mask rng-read msix-count
expect_status "$(debug_status 0)" "all guest checks passed"
cmp "$WANT" "$IMG" || fail "the image is not the original with sector $WRITE_SECTOR written"
echo "  image: sector $WRITE_SECTOR written, the rest unchanged"

# Read-only disk: the write fails with IOERR, nothing reaches the image.
cp "$ORIG" "$IMG"
run_sluice run --kernel "$VDRV" --rng --disk "path=$IMG,readonly=on" \
	--cmdline "vdrv.sectors=$SECTORS vdrv.ro=1" --serial stdio
expect_vdrv_checks cmdline pci-enum ecam blk-probe rng-probe lapic blk-init rng-init blk-config \
	blk-read blk-write-ro msix-mask rng-read msix-count
expect_stdout "VDRV blk-write-ro ioerr"
expect_status "$(debug_status 0)" "all guest checks passed"
cmp "$ORIG" "$IMG" || fail "a read-only disk's image changed"
echo "  image unchanged"

pass "virtio driver guest: PCI, virtio-blk read/write/flush (and IOERR read-only), virtio-rng, MSI-X"
