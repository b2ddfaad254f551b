#!/usr/bin/env bash
# What emitting operations once per set of identical versions costs and saves, side by
# side with a checkout from before (issue 11's targets), in one run on this machine:
#
#   tests/bench/operation-classes.sh BEFORE_CHECKOUT [RUNS] [HEAVY_RUNS]
#
# Codegen and the one-version build run RUNS times (3), clippy and rustdoc of every version
# HEAVY_RUNS times (1: a minute or two each): one pair of those can be off by a third on a
# shared machine, so ask for 3 when the ratio matters.
#
# Each checkout builds into its own target directory: cargo names a workspace member's
# artifacts by its path inside the workspace, so two checkouts sharing one target directory
# overwrite each other's and may take the other's as fresh. The contenders alternate run by
# run, so both see the same drift of a shared machine; every figure is reported as the
# median with its range. Peak memory is the largest resident set of the measured step
# (rustc of moby-api with every version), from GNU time.
set -euo pipefail

after=$(cd "$(dirname "$0")/../.." && pwd)
before=$(cd "${1:?usage: $0 BEFORE_CHECKOUT [RUNS] [HEAVY_RUNS]}" && pwd)
runs=${2:-3}
heavy_runs=${3:-1}
# Whole compiles of the crate, as CI and a user's first build see them: an incremental
# build after touching lib.rs reuses most of the previous one.
export CARGO_INCREMENTAL=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

lines() { find "$1/generated/src" -name '*.rs' -print0 | xargs -0 cat | wc -l; }
versions() { ls -d "$1"/generated/src/v1_* | wc -l; }

# `measure NAME DIR CMD...`: wall seconds and peak KiB of CMD run in DIR, appended to NAME.
measure() {
    local name=$1 dir=$2
    shift 2
    (cd "$dir" && /usr/bin/time -f '%e %M' -o "$out/last" "$@" >/dev/null 2>&1)
    cat "$out/last" >>"$out/$name"
}

# The build steps recompile moby-api only: its lib.rs is touched first.
touched() { touch "$1/generated/src/lib.rs"; }

for dir in "$before" "$after"; do
    (cd "$dir" && cargo build -q -p xtask && cargo clippy -q -p moby-api --all-features && cargo doc -q -p moby-api --all-features --no-deps \
        && cargo build -q -p moby-api --no-default-features --features client,server,v1_41) >/dev/null 2>&1
done

for run in $(seq "$runs"); do
    for side in before after; do
        dir=${!side}
        # codegen's own timer: the generator, not cargo's start-up.
        (cd "$dir" && cargo xtask codegen 2>&1 | sed -n 's/.* in \([0-9.]*\)\(m\?s\) .*/\1 \2/p') >>"$out/codegen-$side"
        touched "$dir"; measure "one-$side" "$dir" cargo build -p moby-api --no-default-features --features client,server,v1_41
        if [ "$run" -le "$heavy_runs" ]; then
            touched "$dir"; measure "clippy-$side" "$dir" cargo clippy -p moby-api --all-features
            # rustdoc reads and rewrites the whole search index it finds in target/doc, of
            # every crate documented there before: a stale one of 36 MB made it 2.5 GB.
            rm -rf "$dir/target/doc"
            touched "$dir"; measure "doc-$side" "$dir" cargo doc -p moby-api --all-features --no-deps
        fi
    done
done

# `stats FILE COLUMN [SCALE]`: "median (min–max)" of a column.
stats() {
    awk -v c="$2" -v s="${3:-1}" '{print $c*s}' "$1" | sort -g | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.2f (%.2f–%.2f)", m, v[1], v[NR]}'
}
ms() { awk '{print ($2=="ms") ? $1/1000 : $1}' "$1" >"$1.s"; stats "$1.s" 1; }

echo "| | before ($(git -C "$before" rev-parse --short HEAD)) | after ($(git -C "$after" rev-parse --short HEAD)) |"
echo "|---|---:|---:|"
echo "| versions | $(versions "$before") | $(versions "$after") |"
echo "| generated lines | $(lines "$before") | $(lines "$after") |"
echo "| codegen, s | $(ms "$out/codegen-before") | $(ms "$out/codegen-after") |"
echo "| clippy of moby-api, every version, s | $(stats "$out/clippy-before" 1) | $(stats "$out/clippy-after" 1) |"
echo "| its peak memory, MiB | $(stats "$out/clippy-before" 2 0.0009765625) | $(stats "$out/clippy-after" 2 0.0009765625) |"
echo "| rustdoc of moby-api, every version, s | $(stats "$out/doc-before" 1) | $(stats "$out/doc-after" 1) |"
echo "| its peak memory, MiB | $(stats "$out/doc-before" 2 0.0009765625) | $(stats "$out/doc-after" 2 0.0009765625) |"
echo "| build of v1_41 + client + server, s | $(stats "$out/one-before" 1) | $(stats "$out/one-after" 1) |"
echo "| its peak memory, MiB | $(stats "$out/one-before" 2 0.0009765625) | $(stats "$out/one-after" 2 0.0009765625) |"
