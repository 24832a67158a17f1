#!/usr/bin/env bash
# Install, build, and run every test suite:
#   1. unit + integration tests (test guests under the real /dev/kvm)
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   3. every libFuzzer target for a bounded time (FUZZ_SECONDS, default 30)
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh || exit 1

passed=0 failed=0 skipped=0
tally() { # parse meson's summary from a log file
  local log=$1 ok fail skip to
  ok=$(awk '/^Ok:/ {print $2}' "$log" | tail -1)
  fail=$(awk '/^Fail:/ {print $2}' "$log" | tail -1)
  to=$(awk '/^Timeout:/ {print $2}' "$log" | tail -1)
  skip=$(awk '/^Skipped:/ {print $2}' "$log" | tail -1)
  passed=$((passed + ${ok:-0})); failed=$((failed + ${fail:-0} + ${to:-0}))
  skipped=$((skipped + ${skip:-0}))
}
run_suite() { # name builddir "meson test args" setup-args...
  local name=$1 dir=$2 targs=$3; shift 3
  echo "=== $name ==="
  if [ ! -d "$dir" ]; then
    meson setup "$dir" "$@" >"/tmp/sluice-$name-setup.log" 2>&1 || {
      cat "/tmp/sluice-$name-setup.log"; failed=$((failed + 1)); return; }
  fi
  if ! ninja -C "$dir" >"/tmp/sluice-$name-build.log" 2>&1; then
    tail -50 "/tmp/sluice-$name-build.log"; failed=$((failed + 1)); return
  fi
  # shellcheck disable=SC2086
  meson test -C "$dir" --print-errorlogs $targs 2>&1 | tee "/tmp/sluice-$name-test.log"
  tally "/tmp/sluice-$name-test.log"
}

# Unit and integration tests, then the virtual-host suite (tests/e2e): Linux
# guests, nested KVM, IOMMU and SR-IOV inside QEMU/TCG.
run_suite plain build ""
# The virtual host's step results and measurements, for the CI log.
cat build/e2e/summary.txt build/e2e/summary-bench.txt 2>/dev/null
# The sanitizer build repeats unit and integration tests, not the slow e2e.
run_suite asan build-asan "--no-suite e2e" -Db_sanitize=address,undefined -Db_lundef=false

echo "=== fuzz ==="
if CC=clang meson setup build-fuzz -Dfuzz=true -Dguests=false -Db_sanitize=address,undefined \
     -Db_lundef=false >/tmp/sluice-fuzz-setup.log 2>&1 || [ -d build-fuzz ]; then
  if ninja -C build-fuzz >/tmp/sluice-fuzz-build.log 2>&1; then
    for f in build-fuzz/tests/fuzz/fuzz_*; do
      [ -f "$f" ] && [ -x "$f" ] || continue
      name=$(basename "$f")
      corpus="build-fuzz/corpus-$name"; mkdir -p "$corpus"
      # Seed with real inputs: the test guests for the loaders, policy files
      # for the policy parser.
      case $name in
        fuzz_boot) cp build/tests/guests/*.bin build/tests/guests/*.bzImage \
                     build/tests/guests/pvh.elf build/tests/guests/multiboot_low.elf \
                     "$corpus"/ 2>/dev/null ;;
        fuzz_cpu_policy) cp tests/fuzz/corpus/cpu_policy/* "$corpus"/ 2>/dev/null ;;
        fuzz_vhost_user_msg) cp tests/fuzz/corpus/vhost_user_msg/* "$corpus"/ 2>/dev/null ;;
        fuzz_options) cp tests/fuzz/corpus/options/* "$corpus"/ 2>/dev/null ;;
      esac
      if "$f" -max_total_time="${FUZZ_SECONDS:-30}" -max_len=65536 -print_final_stats=1 \
           "$corpus" >"/tmp/sluice-$name.log" 2>&1; then
        echo "ok: $name ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "/tmp/sluice-$name.log" | grep -o '[0-9]*$') runs)"
        passed=$((passed + 1))
      else
        echo "FAIL: $name"; tail -40 "/tmp/sluice-$name.log"; failed=$((failed + 1))
      fi
    done
  else
    tail -50 /tmp/sluice-fuzz-build.log; failed=$((failed + 1))
  fi
else
  cat /tmp/sluice-fuzz-setup.log; failed=$((failed + 1))
fi

echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
