#!/usr/bin/env bash
# Run every fuzz target for N seconds each from its seed corpus.
#   fuzz/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=${1:?build dir (CC=clang meson setup BUILD -Dfuzz=true)}
secs=${2:-60}
cd "$(dirname "$0")/.."
for target in policy deny http socks5 scan term cred; do
	out=fuzz/corpus-out/$target
	mkdir -p "$out" "fuzz/corpus/$target"
	dict=()
	[ -f "fuzz/$target.dict" ] && dict=(-dict="fuzz/$target.dict")
	"$build/fuzz/fuzz_$target" "${dict[@]}" -max_total_time="$secs" \
		-print_final_stats=1 "$out" "fuzz/corpus/$target"
done
