#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, ACCORD_FUZZ=1, build path .build-fuzz) and runs each for
# RUNS executions from the committed seed corpus (new inputs go to a scratch folder, not the
# repository). A crash, a leak, an allocation over 64 MiB or a run over RSS 2 GiB fails it;
# libFuzzer then leaves the input that did it in the scratch folder and says where.
# Usage: Tools/fuzz.sh [RUNS] [TARGET...]     RUNS default 1000000; targets default all four.
# FUZZ_CONFIG=release builds optimized (a clean build takes minutes; long runs go ~10x faster).
# FUZZ_MAX_SECONDS=N stops each target after N seconds if its runs are not done (a smoke run).
# FUZZ_MAX_LEN=N bounds an input (default 1024 bytes: past that, runs slow down more than
# coverage grows).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${1:-1000000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzFrames FuzzMessages FuzzICESheet FuzzInflate)
SWIFT=${SWIFT:-swift}
config=${FUZZ_CONFIG:-debug}
for target in "${targets[@]}"; do
    ACCORD_FUZZ=1 "$SWIFT" build -c "$config" --build-path .build-fuzz --product "$target" 2>&1 | grep -E "error|warning: unsafe|Compiling|Build" | grep -v Compiling || true
done
bin=$(ACCORD_FUZZ=1 "$SWIFT" build -c "$config" --build-path .build-fuzz --show-bin-path)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
    [ -x "$bin/$target" ] || { echo "fuzz.sh: $bin/$target was not built" >&2; exit 1; }
    mkdir -p "$scratch/$target"
    echo "fuzz.sh: $target, $runs runs" >&2
    start=$(date +%s)
    if ! "$bin/$target" -runs="$runs" -max_total_time="${FUZZ_MAX_SECONDS:-0}" -max_len="${FUZZ_MAX_LEN:-1024}" -malloc_limit_mb=64 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$scratch/$target/" "$scratch/$target" "Fuzz/corpus/$target" > "$scratch/$target.log" 2>&1; then
        tail -40 "$scratch/$target.log" >&2
        mkdir -p fuzz-failures && cp "$scratch/$target"/crash-* "$scratch/$target"/leak-* "$scratch/$target"/oom-* \
            "$scratch/$target"/malloc-* fuzz-failures/ 2>/dev/null || true
        echo "fuzz.sh: $target failed; the input that did it is in fuzz-failures/" >&2
        exit 1
    fi
    executed=$(grep -o 'stat::number_of_executed_units:[[:space:]]*[0-9]*' "$scratch/$target.log" | grep -o '[0-9]*$')
    peak=$(grep -o 'stat::peak_rss_mb:[[:space:]]*[0-9]*' "$scratch/$target.log" | grep -o '[0-9]*$')
    coverage=$(grep -o 'cov: [0-9]*' "$scratch/$target.log" | tail -1 | grep -o '[0-9]*$')
    echo "$target ($config): $executed executions in $(( $(date +%s) - start )) s, no crash, no leak; coverage $coverage edges; peak RSS $peak MB"
done
