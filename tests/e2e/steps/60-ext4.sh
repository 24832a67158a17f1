# SPDX-License-Identifier: MIT
# budget: 150
# ext4 on virtio-blk under the real Linux drivers: L1 makes a 64 MiB ext4
# image (/usr/sbin/mke2fs: busybox has an applet of that name) with one file put in from outside (debugfs write); L2
# (sluice --disk, l2=ext4, ext4 + virtio_blk insmodded) mounts it, checks that
# file, writes five files of random data (1000 B .. 16 MiB, one in a
# subdirectory), syncs, unmounts, remounts and reads them back, unmounts and
# powers off. After sluice exits 0, L1 checks from outside the image: e2fsck
# finds it clean, and the files debugfs dumps have the md5sums L2 wrote.
need_kvm
IMG=/tmp/ext4.img
OUT=/tmp/ext4.out
rm -f $IMG
truncate -s 64M $IMG || fail "cannot create $IMG"
/usr/sbin/mke2fs -q -F -t ext4 -L sluice-e2e $IMG >/tmp/ext4.mkfs 2>&1 || fail "mke2fs: $(cat /tmp/ext4.mkfs)"
head -c 200000 /dev/urandom >/tmp/ext4.hostfile
host_md5=$(md5sum </tmp/ext4.hostfile | cut -d' ' -f1)
/usr/sbin/debugfs -w -R "write /tmp/ext4.hostfile hostfile" $IMG >/tmp/ext4.dbg 2>&1 ||
	fail "debugfs write: $(cat /tmp/ext4.dbg)"
start=$(uptime_s)
timeout 160 sluice run --kernel /l2/vmlinuz --initrd /l2/initrd.cpio --memory 256M --cpus 2 \
	--disk path=$IMG \
	--cmdline "console=ttyS0 quiet panic=-1 l2mods=1 l2=ext4 $L2_EXTRA" \
	</dev/null >$OUT 2>/tmp/ext4.err
st=$?
result boot_to_exit_s "$(elapsed "$start")"
echo "--- L2 console ---"
cat $OUT
echo "--- sluice stderr ---"
cat /tmp/ext4.err
tr -d '\r' <$OUT >$OUT.txt
[ "$st" = 0 ] || fail "sluice exited with status $st, expected 0 (guest power-off)"
grep -q "^L2 INSMOD FAILED" $OUT.txt && fail "L2 could not load $(grep '^L2 INSMOD FAILED' $OUT.txt)"
for k in MOUNT UMOUNT REMOUNT UMOUNT2; do
	grep -q "^L2 EXT4_$k 0$" $OUT.txt || fail "L2 $k failed: '$(grep "^L2 EXT4_$k " $OUT.txt)'"
done
got=$(sed -n 's/^L2 EXT4_HOSTFILE //p' $OUT.txt)
[ "$got" = "$host_md5" ] || fail "L2 read /hostfile as $got, L1 wrote $host_md5"
# The filesystem as L2 left it must be consistent (-f: check even if clean).
/usr/sbin/e2fsck -fn $IMG >/tmp/ext4.fsck 2>&1 || { cat /tmp/ext4.fsck; fail "e2fsck finds the image inconsistent"; }
files=0
while read -r _ _ f sum; do
	read_back=$(grep "^L2 EXT4_READ $f " $OUT.txt | cut -d' ' -f4)
	[ "$read_back" = "$sum" ] || fail "$f: L2 wrote $sum, read back $read_back after remount"
	rm -f /tmp/ext4.dump
	/usr/sbin/debugfs -R "dump /$f /tmp/ext4.dump" $IMG >/tmp/ext4.dbg 2>&1
	outside=$(md5sum </tmp/ext4.dump | cut -d' ' -f1)
	[ "$outside" = "$sum" ] || fail "$f: L2 wrote $sum, the image holds $outside ($(cat /tmp/ext4.dbg))"
	echo "$f $sum ok ($(stat -c %s /tmp/ext4.dump) bytes)"
	files=$((files + 1))
done <<EOF
$(grep "^L2 EXT4_WROTE " $OUT.txt)
EOF
[ "$files" = 5 ] || fail "L2 reported $files written files, expected 5"
result files_checked "$files"
