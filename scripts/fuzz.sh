#!/usr/bin/env bash
# Fuzzes the codecs and every decoder fed by the network or the disk: the cargo-fuzz targets of
# fuzz/ (their seeds in fuzz/corpus/<target>/, built from real data by fuzz/seed_corpus.py).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Builds the targets with `cargo +nightly fuzz build` (address sanitizer, debug assertions and
# overflow checks on), installing cargo-fuzz first if it is missing, then runs each named target
# (all of them when none is named) for SECONDS_PER_TARGET seconds (default 600), one after the
# other, and prints one line per target: executions, corpus size, crashes (with the paths of
# their inputs). Exits non-zero when any target crashed, hung or ran out of memory.
#
# Inputs the fuzzer finds go to fuzz/target/corpus/<target>/ (not to the committed seeds);
# crashing inputs to fuzz/artifacts/<target>/; each run's output to
# fuzz/target/fuzz-logs/<target>.log. Reproduce a crash with
#   fuzz/target/<triple>/release/<target> <artifact>
#
# Environment:
#   FUZZ_JOBS     cargo build jobs (default 1)
#   FUZZ_NICE     niceness of the build and the runs (default 19)
#   FUZZ_TIMEOUT  seconds one input may take before it counts as a hang (default 10)
#   FUZZ_ARGS     more libFuzzer arguments for every run, e.g. "-fork=1 -ignore_crashes=1" to go
#                 on after a crash
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-600}
if [[ ! "$seconds" =~ ^[0-9]+$ ]] || ((seconds == 0)); then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi
shift || true
jobs=${FUZZ_JOBS:-1}
niceness=${FUZZ_NICE:-19}
timeout=${FUZZ_TIMEOUT:-10}
read -r -a extra_args <<< "${FUZZ_ARGS:-}"

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    CARGO_BUILD_JOBS=$jobs nice -n "$niceness" cargo install cargo-fuzz --locked
fi

mapfile -t all_targets < <(cargo +nightly fuzz list)
if (($# > 0)); then
    targets=("$@")
    for target in "${targets[@]}"; do
        if [[ ! " ${all_targets[*]} " == *" $target "* ]]; then
            echo "unknown target $target; targets: ${all_targets[*]}" >&2
            exit 2
        fi
    done
else
    targets=("${all_targets[@]}")
fi

echo "== cargo +nightly fuzz build"
if ((${#targets[@]} == 1)); then
    CARGO_BUILD_JOBS=$jobs nice -n "$niceness" cargo +nightly fuzz build -a "${targets[0]}"
else
    CARGO_BUILD_JOBS=$jobs nice -n "$niceness" cargo +nightly fuzz build -a
fi
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin_dir=target/$triple/release

# Inputs larger than libFuzzer's default 4 KiB that a target reads whole.
max_len_of() {
    case $1 in
        store_recovery) echo 65537 ;;  # option byte + 64 KiB of commit log
        index_file) echo 43048 ;;      # one index file of 512 slots and 2,048 items
        consume_queue) echo 18000 ;;   # three consume queue files of 300 entries
        replica_append) echo 16386 ;;  # two option bytes + 16 KiB streamed to a slave
        kv_config) echo 65536 ;;       # a kvConfig.json of up to 64 KiB
        checkpoint) echo 8192 ;;       # the checkpoint page and what follows
        *) echo 0 ;;
    esac
}

# Scratch directories (fuzz/common/scratch.rs) of fuzz processes that are gone.
clean_scratch() {
    local dir pid
    for dir in /dev/shm/rmq-fuzz-* "${RMQ_FUZZ_SCRATCH:-${TMPDIR:-/tmp}}"/rmq-fuzz-*; do
        [[ -d "$dir" ]] || continue
        pid=${dir##*-}
        if [[ "$pid" =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then
            rm -rf "$dir"
        fi
    done
}

mkdir -p target/fuzz-logs
summary=()
failed=0
for target in "${targets[@]}"; do
    work=target/corpus/$target
    seeds=corpus/$target
    artifacts=artifacts/$target
    log=target/fuzz-logs/$target.log
    mkdir -p "$work" "$seeds" "$artifacts"
    args=(
        "-max_total_time=$seconds"
        "-timeout=$timeout"
        "-print_final_stats=1"
        "-artifact_prefix=$artifacts/"
    )
    max_len=$(max_len_of "$target")
    if ((max_len > 0)); then args+=("-max_len=$max_len"); fi
    if [[ -f "dicts/$target.dict" ]]; then args+=("-dict=dicts/$target.dict"); fi
    args+=("${extra_args[@]}")

    echo "== $target: ${seconds}s"
    marker=$(mktemp)
    status=0
    # A backstop: libFuzzer ends the run itself after -max_total_time, unless an input hangs
    # where its -timeout alarm cannot see it (targets that start threads have a watchdog).
    hard_limit=$((seconds + 10 * timeout + 120))
    timeout -k 30 "$hard_limit" nice -n "$niceness" "$bin_dir/$target" "${args[@]}" "$work" "$seeds" \
        > "$log" 2>&1 || status=$?
    clean_scratch

    # Executions: the final stats, else the last status line (a crash skips the final stats).
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [[ -z "$execs" ]]; then
        execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
    fi
    corpus=$(grep -oE 'corp: [0-9]+(/[0-9]+[a-zA-Z]*)?' "$log" | tail -1 | sed 's/corp: //' || true)
    mapfile -t crashes < <(find "$artifacts" -maxdepth 1 -type f -newer "$marker" \
        \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort)
    rm -f "$marker"
    if ((${#crashes[@]} > 0)); then
        failed=1
        found="${#crashes[@]}: ${crashes[*]/#/fuzz/}"
    elif ((status == 124 || status == 137)); then
        failed=1
        found="killed after ${hard_limit}s, an input hung (none saved); see fuzz/$log"
    elif ((status != 0)); then
        # libFuzzer failed without leaving an input (bad arguments, a crash while loading).
        failed=1
        found="libFuzzer exited with $status, no input saved; see fuzz/$log"
    else
        found=0
    fi
    line=$(printf '%-20s executions %12s  corpus %-14s crashes %s' \
        "$target" "${execs:-?}" "${corpus:-?}" "$found")
    echo "$line"
    summary+=("$line")
done

echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit "$failed"
