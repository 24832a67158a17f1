#!/bin/bash
# Bad command lines end with one error line and status 1, before any socket
# is created; a query of a switch that is not there fails.
. "$(dirname "$0")/lib.sh"

run() { # expected-substring args...
	local want=$1
	shift
	"$VSW" "${EAL_COMMON[@]}" --file-prefix "vswbad$$" --lcores "$LCORES" -- "$@" \
		> "$T/bad.log" 2>&1
	local rc=$?
	[ $rc -eq 1 ] || fail "'$*': status $rc, expected 1"
	grep -q "$want" "$T/bad.log" || fail "'$*': no '$want' in: $(grep sluice "$T/bad.log")"
	ok "'$*' refused: $(grep -m1 "sluice: error" "$T/bad.log")"
}

run "expected xconnect or switch" --mode bogus --vhost "$T/x"
run "unknown option 'tcp'" --vhost "$T/x,tcp"
run "socket path empty" --vhost ""
run "longer than" --vhost "$T/$(printf 'x%.0s' $(seq 1 120))"
run "given twice" --vhost "$T/x" --vhost "$T/x"
run "no ports" --mode switch
run "bad value" --vhost "$T/x" --mac-age 0
run "unexpected argument" --vhost "$T/x" stray
run "expected on or off" --vhost "$T/x" --offloads maybe
run "bad value" --vhost "$T/x" --idle-us 1000000
[ -e "$T/x" ] && fail "a refused command line left a socket"
ok "no socket created"

# One lcore: nobody to forward.
"$VSW" "${EAL_COMMON[@]}" --file-prefix "vswbad$$" -l 0 -- --vhost "$T/x" > "$T/bad.log" 2>&1
[ $? -eq 1 ] && grep -q "no worker lcore" "$T/bad.log" || fail "one lcore accepted"
ok "one lcore refused"

"$VSW" query "$T/nothing" > "$T/bad.log" 2>&1 && fail "query of a missing switch succeeded"
ok "query of a missing switch fails"
