#!/usr/bin/env bash
# How many generated files one small change to one emitter touches, shared modules apart
# from version modules: the review cost of an emitter change. Each case edits one emitter
# (a derive order, an attribute), regenerates, counts the changed files and restores
# everything. Run from the repository root on a clean tree:
#
#   tests/bench/emitter-diffs.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! git diff --quiet -- generator generated; then
    echo "generator/ or generated/ has changes; commit or stash them first" >&2
    exit 1
fi
cargo build -q -p xtask

# name | emitter file | text | replacement (python string literals, \n allowed)
cases=(
    "model struct|generator/src/emit/models.rs|#[derive(Debug, Clone, PartialEq, Default)]|#[derive(Clone, Debug, PartialEq, Default)]"
    "params struct|generator/src/emit/params.rs|#[derive(Debug, Clone, Default, PartialEq)]|#[derive(Clone, Debug, Default, PartialEq)]"
    "request builder|generator/src/emit/client.rs|#[inline]\n        pub fn #name(#(#args),*)|#[inline(always)]\n        pub fn #name(#(#args),*)"
    "outcome enum|generator/src/emit/client.rs|#[derive(Debug, Clone, PartialEq)]\n        pub enum|#[derive(Clone, Debug, PartialEq)]\n        pub enum"
    "client method|generator/src/emit/client.rs|#[inline]\n            pub fn #name(&self|#[inline(always)]\n            pub fn #name(&self"
    "server request and reply|generator/src/emit/server.rs|quote!(#[derive(Debug, Clone, PartialEq)])|quote!(#[derive(Clone, Debug, PartialEq)])"
    "server trait method|generator/src/emit/server.rs|            #deprecated\n            fn #method(&self|            #deprecated\n            #[allow(unused_variables)]\n            fn #method(&self"
    "roundtrip decoder|generator/src/emit/roundtrip.rs|        #doc\n        pub fn #name(status: u16|        #doc\n        #[must_use]\n        pub fn #name(status: u16"
)

restore() { git checkout -q -- generator generated && git clean -qfd -- generated; }
trap restore EXIT

printf '| emitter changed | shared files | version files |\n|---|---:|---:|\n'
for case in "${cases[@]}"; do
    IFS='|' read -r name file from to <<<"$case"
    python3 - "$file" "$from" "$to" <<'EOF'
import sys
path, old, new = sys.argv[1], sys.argv[2].replace("\\n", "\n"), sys.argv[3].replace("\\n", "\n")
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"{path}: expected exactly one `{old}`, found {text.count(old)}")
open(path, "w").write(text.replace(old, new))
EOF
    cargo build -q -p xtask
    target/debug/xtask codegen >/dev/null
    changed=$(git status --porcelain -- generated/src)
    shared=$(grep -c ' generated/src/shared/' <<<"$changed" || true)
    versions=$(grep -c ' generated/src/v1_' <<<"$changed" || true)
    printf '| %s | %s | %s |\n' "$name" "$shared" "$versions"
    restore
done
