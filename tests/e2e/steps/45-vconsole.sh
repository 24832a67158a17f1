# SPDX-License-Identifier: MIT
# budget: 120
# virtio-console under Linux's virtio_console: sluice --console stdio with
# the serial port in a file. L2 (l2=vconsole) writes a line to /dev/hvc0,
# which must come out on sluice's stdout; a line fed to sluice's stdin must
# reach L2 through hvc0 (L2 reports it on ttyS0); power-off -> exit 0.
need_kvm
OUT=/tmp/vcons.out
SER=/tmp/vcons.serial
FIFO=/tmp/vcons.in
LINE=sluice-stdin-to-hvc0
rm -f $FIFO $OUT /tmp/vcons.rc
mkfifo $FIFO
trap '' PIPE # sluice gone early: the check below says so, not a signal
start=$(uptime_s)
{
	timeout 100 sluice run --kernel /l2/vmlinuz --initrd /l2/initrd.cpio --memory 256M \
		--console stdio --serial "file=$SER" \
		--cmdline "console=ttyS0 quiet panic=-1 l2mods=1 l2=vconsole $L2_EXTRA" \
		<$FIFO >$OUT 2>/tmp/vcons.err
	echo $? >/tmp/vcons.rc
} &
exec 4>$FIFO
# Type the line once L2 has hvc0 open (its own line on hvc0 says so), as a
# person would: Linux drops what reaches the port before the driver has
# registered it.
i=0
while [ $i -lt 90 ] && ! grep -q hello-from-hvc0 $OUT 2>/dev/null && [ ! -e /tmp/vcons.rc ]; do
	sleep 1
	i=$((i + 1))
done
printf '%s\n' "$LINE" >&4
exec 4>&-
wait
st=$(cat /tmp/vcons.rc)
result boot_to_exit_s "$(elapsed "$start")"
echo "--- L2 serial (ttyS0) ---"
cat $SER
echo "--- L2 hvc0 (sluice stdout) ---"
cat $OUT
echo "--- sluice stderr ---"
cat /tmp/vcons.err
tr -d '\r' <$OUT >$OUT.txt
tr -d '\r' <$SER >$SER.txt
[ "$st" = 0 ] || fail "sluice exited with status $st, expected 0 (guest power-off)"
grep -q "^L2 INSMOD FAILED" $SER.txt && fail "L2 could not load $(grep '^L2 INSMOD FAILED' $SER.txt)"
grep -q "^L2 HVC_BOUND 1$" $SER.txt || fail "virtio_console did not bind: $(grep '^L2 HVC_BOUND' $SER.txt)"
grep -q "^L2 VCONSOLE OUT hello-from-hvc0$" $OUT.txt ||
	fail "the line L2 wrote to hvc0 is not on sluice's stdout: '$(head -c 200 $OUT.txt)'"
grep -q "^L2 HVC_GOT <$LINE>$" $SER.txt ||
	fail "the line on sluice's stdin did not reach L2's hvc0: $(grep '^L2 HVC_GOT' $SER.txt)"
grep -q "^L2 DONE" $SER.txt || fail "L2 did not finish"
