# SPDX-License-Identifier: MIT
# budget: 120
# virtio-pci + virtio-rng under the real Linux driver: L2 (sluice --rng)
# loads virtio_pci and virtio_rng, finds 1af4:1044 on its PCI bus, binds the
# driver, makes it the current hwrng, reads 128 non-zero bytes through MSI-X
# interrupts, and powers off.
need_kvm
OUT=/tmp/virtio.out
start=$(uptime_s)
timeout 100 sluice run --kernel /l2/vmlinuz --initrd /l2/initrd.cpio --memory 256M --rng \
	--cmdline "console=ttyS0 quiet panic=-1 l2mods=1 l2=virtio $L2_EXTRA" \
	</dev/null >$OUT 2>/tmp/virtio.err
st=$?
result boot_to_exit_s "$(elapsed "$start")"
echo "--- L2 console ---"
cat $OUT
echo "--- sluice stderr ---"
cat /tmp/virtio.err
tr -d '\r' <$OUT >$OUT.txt
[ "$st" = 0 ] || fail "sluice exited with status $st, expected 0 (guest power-off)"
grep -q "^L2 INSMOD FAILED" $OUT.txt && fail "L2 could not load $(grep '^L2 INSMOD FAILED' $OUT.txt)"
grep -q "^L2 PCI .* 0x1af4 0x1044 0xff0000 driver=virtio-pci$" $OUT.txt ||
	fail "no 1af4:1044 function bound to virtio-pci in L2: $(grep '^L2 PCI' $OUT.txt | tr '\n' ';')"
grep -q "^L2 VIRTIO_RNG_BOUND 1$" $OUT.txt || fail "virtio_rng did not bind: $(grep '^L2 VIRTIO_RNG_BOUND' $OUT.txt)"
grep -q "^L2 RNG_CURRENT virtio_rng" $OUT.txt || fail "hwrng is not virtio_rng: $(grep '^L2 RNG_CURRENT' $OUT.txt)"
grep -q "^L2 RNG_BYTES 128$" $OUT.txt || fail "read from /dev/hwrng: $(grep '^L2 RNG_BYTES' $OUT.txt), expected 128 bytes"
grep -q "^L2 RNG_NONZERO [1-9]" $OUT.txt || fail "the 128 bytes from /dev/hwrng are all zero"
irq=$(grep '^L2 IRQ virtio[0-9]*-input ' $OUT.txt | head -n 1)
echo "$irq" | grep -q " [1-9][0-9]* .*MSI" || fail "no MSI-X interrupts on the rng queue: '$irq'"
result rng_queue_irqs "$(echo "$irq" | awk '{print $4}')"
