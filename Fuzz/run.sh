#!/usr/bin/env bash
# Runs each msab-fuzz target for SECONDS under libFuzzer + AddressSanitizer and prints one line per
# target (executions, corpus size, result). The committed seeds stay as they are: new inputs go
# to a working corpus under the build folder. A crash leaves its input in Fuzz/crashes/ and makes
# the run fail; replay it with `.build/debug/msab-fuzz TARGET Fuzz/crashes/FILE` and add it to
# the target's seeds (or a unit test) once fixed.
#   usage: Fuzz/run.sh BINARY SECONDS TARGET…
set -uo pipefail
binary="$1"; seconds="$2"; shift 2
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(dirname "$binary")/fuzz-corpus"
mkdir -p "$root/Fuzz/crashes"
failed=0
printf '%-16s %12s %8s %8s  %s\n' target executions exec/s corpus result
for target in "$@"; do
    mkdir -p "$work/$target"
    log="$work/$target.log"
    # -rss_limit_mb / -malloc_limit_mb: one input may not take more than 512 MB (a decoder that
    # allocates what a length field claims is a finding). -timeout: one input may not take 10 s.
    MSAB_FUZZ_TARGET="$target" ASAN_OPTIONS=detect_leaks=0 "$binary" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$root/Fuzz/crashes/$target-" \
        "$work/$target" "$root/Fuzz/corpus/$target" >"$log" 2>&1
    status=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    corpus=$(ls "$work/$target" | wc -l)
    if [ "$status" -eq 0 ]; then result=ok; else result="FAILED (exit $status, log $log)"; failed=1; fi
    printf '%-16s %12s %8s %8s  %s\n' "$target" "${runs:-?}" "${speed:-?}" "$corpus" "$result"
    if [ "$status" -ne 0 ]; then grep -E 'ERROR|SUMMARY|Fatal error|==[0-9]+==' "$log" | head -8; fi
done
exit $failed
