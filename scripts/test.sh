#!/usr/bin/env bash
# Sets up the machine if needed, builds both targets and runs every test.
#
# The shared library's unit tests run twice, natively and as WebAssembly
# under Node; the run fails if the two report different test counts.
# Then the browser console runs in headless Chromium against the real
# server (tests/browser, Node's test runner with playwright-core). Logs go to
# build/test-logs/, the browser tests' screenshots to
# build/test-artefacts/browser/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}

"$root/scripts/setup.sh"
"$root/scripts/build.sh"

logs="$root/build/test-logs"
mkdir -p "$logs"
status=0
passed=0
failed=0

run_ctest() {
  local name=$1 dir=$2
  echo "== $name tests"
  if ctest --test-dir "$dir" --output-on-failure -V >"$logs/$name.log" 2>&1; then
    echo "$name: all tests passed"
  else
    echo "$name: FAILED (log: $logs/$name.log)"
    status=1
  fi
  # ctest's summary: "100% tests passed, 0 tests failed out of 3".
  local summary
  summary=$(grep -E "tests passed, [0-9]+ tests failed out of" "$logs/$name.log" | tail -n 1 || true)
  echo "$summary"
  if [[ $summary =~ ([0-9]+)\ tests\ failed\ out\ of\ ([0-9]+) ]]; then
    failed=$((failed + BASH_REMATCH[1]))
    passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
  else
    status=1
  fi
}

run_ctest native "$root/build/native"
run_ctest wasm "$root/build/wasm"

# The same test sources must produce the same number of test cases on both
# targets. A difference means a test was compiled out on one of them.
count_cases() {
  grep -E "\[doctest\] test cases:" "$1" | head -n 1 | sed -E 's/.*test cases: *([0-9]+).*/\1/'
}
native_cases=$(count_cases "$logs/native.log")
wasm_cases=$(count_cases "$logs/wasm.log")
echo "shared unit tests: native ${native_cases:-?} test cases, WebAssembly ${wasm_cases:-?} test cases"
if [[ -z $native_cases || $native_cases != "$wasm_cases" ]]; then
  echo "the native and WebAssembly runs of the shared tests differ in test count"
  status=1
fi

# The console in headless Chromium against the real server (tests/browser).
echo "== browser tests"
browser_log="$logs/browser.log"
if (cd "$root/tests/browser" &&
    RECLAIM_SERVER="$root/build/native/sync-server/reclaim-server" \
    RECLAIM_WEB_ROOT="$root/build/wasm/web" \
    RECLAIM_ARTEFACTS="$root/build/test-artefacts/browser" \
    node --test --test-concurrency=1 --test-reporter=tap .) >"$browser_log" 2>&1; then
  echo "browser: all tests passed (screenshots: build/test-artefacts/browser)"
else
  echo "browser: FAILED (log: $browser_log)"
  status=1
fi
browser_pass=$(grep -E "^# pass [0-9]+" "$browser_log" | tail -n 1 | awk '{print $3}')
browser_fail=$(grep -E "^# fail [0-9]+" "$browser_log" | tail -n 1 | awk '{print $3}')
if [[ -z $browser_pass || -z $browser_fail ]]; then
  echo "browser: no test summary in $browser_log"
  status=1
else
  echo "browser: $browser_pass passed, $browser_fail failed"
  passed=$((passed + browser_pass))
  failed=$((failed + browser_fail))
fi

echo "tests: $passed passed, $failed failed"
exit $status
