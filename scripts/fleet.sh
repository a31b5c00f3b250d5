#!/usr/bin/env bash
# Writes a synthetic Flux fleet of N application Kustomizations into DIR
# (internal/testutil/fleet.go: two clusters, 50 team namespaces, three
# objects per Kustomization), for measuring how gitops-lint scales:
#
#   scripts/fleet.sh 5000 /tmp/fleet-5k
#   gitops-lint lint /tmp/fleet-5k
#
# It runs the Go code of the tests (TestFleet in internal/render), which is
# not part of the product.
#
# Usage: scripts/fleet.sh N DIR
set -euo pipefail

if [ $# -ne 2 ] || ! [[ "$1" =~ ^[0-9]+$ ]]; then
	echo "usage: $0 N DIR" >&2
	exit 2
fi
mkdir -p "$2"
dir="$(cd "$2" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="$(go test ./internal/render -run '^TestFleet$' -count=1 -v -args -fleet "$1" -fleet-dir "$dir" 2>&1)" || {
	printf '%s\n' "$out" >&2
	exit 1
}
grep -q 'written to' <<<"$out" || {
	printf '%s\n' "$out" >&2
	exit 1
}
echo "fleet of $1 Kustomizations written to $dir"
