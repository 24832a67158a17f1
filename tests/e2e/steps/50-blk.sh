# SPDX-License-Identifier: MIT
# budget: 120
# virtio-blk under the real Linux driver: L1 makes a raw image of random
# bytes, L2 (sluice --disk, two queues, two vCPUs since Linux uses at most
# one queue per CPU) reads /dev/vda and reports the md5sum
# of its first 4 MiB, writes a marker at 6 MiB and syncs; after sluice exits
# the sums must match and the marker must be in the image.
need_kvm
IMG=/tmp/blk.img
OUT=/tmp/blk.out
dd if=/dev/urandom of=$IMG bs=1M count=8 2>/dev/null || fail "cannot create $IMG"
want=$(dd if=$IMG bs=1M count=4 2>/dev/null | md5sum | cut -d' ' -f1)
start=$(uptime_s)
timeout 100 sluice run --kernel /l2/vmlinuz --initrd /l2/initrd.cpio --memory 256M --cpus 2 \
	--disk path=$IMG,num_queues=2 \
	--cmdline "console=ttyS0 quiet panic=-1 l2mods=1 l2=blk $L2_EXTRA" \
	</dev/null >$OUT 2>/tmp/blk.err
st=$?
result boot_to_exit_s "$(elapsed "$start")"
echo "--- L2 console ---"
cat $OUT
echo "--- sluice stderr ---"
cat /tmp/blk.err
tr -d '\r' <$OUT >$OUT.txt
[ "$st" = 0 ] || fail "sluice exited with status $st, expected 0 (guest power-off)"
grep -q "^L2 INSMOD FAILED" $OUT.txt && fail "L2 could not load $(grep '^L2 INSMOD FAILED' $OUT.txt)"
grep -q "^L2 BLK_SECTORS 16384$" $OUT.txt || fail "/dev/vda size: $(grep '^L2 BLK_SECTORS' $OUT.txt), expected 16384 sectors"
grep -q "^L2 BLK_SERIAL blk.img$" $OUT.txt || fail "serial (GET_ID): $(grep '^L2 BLK_SERIAL' $OUT.txt), expected blk.img"
grep -q "^L2 BLK_MQ 2$" $OUT.txt || fail "queues: $(grep '^L2 BLK_MQ' $OUT.txt), expected 2"
got=$(sed -n 's/^L2 BLK_MD5 //p' $OUT.txt)
[ "$got" = "$want" ] || fail "md5 of /dev/vda in L2 '$got' != image's '$want'"
grep -q "^L2 BLK_WRITTEN 0$" $OUT.txt || fail "L2 write/sync failed: $(grep '^L2 BLK_WRITTEN' $OUT.txt)"
marker=$(dd if=$IMG bs=512 skip=12288 count=1 2>/dev/null | head -c 17)
[ "$marker" = SLUICE-BLK-MARKER ] || fail "marker not in the image after exit: '$marker'"
result md5 "$got"
