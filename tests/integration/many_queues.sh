#!/bin/bash
# SPDX-License-Identifier: MIT
# Configurations larger than a fixed table would hold: four virtio-blk disks
# of 16 queues each register 4 x 17 event-loop handlers (a kick eventfd per
# queue plus the INTx eventfd), besides the rng's and the VM's own. The event
# loop used to have room for 64 and refused the fourth disk ("event loop
# full", exit 2); now it grows. The vdrv guest enumerates the bus (rng, then
# the disks in command-line order), reads and writes the first disk and
# reads the rng (it drives queue 0 of the first disk; the rest stay idle,
# registered all the same).
. "$(dirname "$0")/lib.sh"
VDRV=$1
SECTORS=2048
WRITE_SECTOR=6 # WRITE_SECTOR in vdrv_main.c
ORIG=$TEST_TMP/disk.orig
WANT=$TEST_TMP/disk.want

# The pattern vdrv.sh uses: sectors 0-3 hold "vdrv-sector-NN:\n" lines.
for s in 0 1 2 3; do
	for i in $(seq 32); do printf 'vdrv-sector-%02d:\n' "$s"; done
done >"$ORIG"
truncate -s $((SECTORS * 512)) "$ORIG"
cp "$ORIG" "$WANT"
for i in $(seq 32); do printf 'vdrv-written-%02d\n' "$WRITE_SECTOR"; done |
	dd of="$WANT" bs=512 seek="$WRITE_SECTOR" conv=notrunc status=none

DISKS=()
for d in 0 1 2 3; do
	cp "$ORIG" "$TEST_TMP/disk$d.img"
	DISKS+=(--disk "path=$TEST_TMP/disk$d.img,num_queues=16")
done
run_sluice run --kernel "$VDRV" --rng "${DISKS[@]}" --cmdline "vdrv.sectors=$SECTORS" \
	--serial stdio
if grep -q "event loop full" "$ERR"; then
	fail "the event loop has no room for four 16-queue disks"
fi
expect_vdrv_checks cmdline pci-enum ecam blk-probe rng-probe lapic blk-init rng-init blk-config \
	blk-read blk-write blk-readback blk-flush msix-mask rng-read msix-count
expect_status "$(debug_status 0)" "all guest checks passed"
# Slot 0 the host bridge, 1 the rng, 2-5 the disks: the machine's kind order.
expect_stdout "00:1.0 1af4:1044"
for slot in 2 3 4 5; do
	expect_stdout "00:$slot.0 1af4:1042"
done
expect_stdout "6 functions on bus 0"
cmp "$WANT" "$TEST_TMP/disk0.img" || fail "the first disk is not the original with sector $WRITE_SECTOR written"
for d in 1 2 3; do
	cmp "$ORIG" "$TEST_TMP/disk$d.img" || fail "disk $d changed, though the guest only wrote the first"
done
echo "  first disk: sector $WRITE_SECTOR written; the other three unchanged"

pass "four 16-queue virtio-blk disks and virtio-rng: 72 event-loop handlers; the guest's virtio checks pass"
