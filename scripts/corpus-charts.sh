#!/usr/bin/env bash
# Builds the chart cache of the shared corpus from the chart sources in
# ../shared/charts (podinfo 6.14.0 and 6.14.1, app-template 4.1.1), offline,
# so that the corpus can be linted with its HelmReleases rendered:
#
#   scripts/corpus-charts.sh /tmp/corpus-charts
#   gitops-lint lint ../shared/corpus/controlplaneio-fluxcd-d1-apps --chart-cache /tmp/corpus-charts
#
# Each chart directory is packaged as `helm package` does and written in
# the layout of docs/charts.md under the URLs the corpus uses: podinfo as
# the HTTP repository https://stefanprodan.github.io/podinfo and as
# oci://ghcr.io/stefanprodan/charts/podinfo, app-template as
# oci://ghcr.io/bjw-s-labs/helm/app-template:4.1.1. The corpus pins
# app-template 5.1.0 and 5.0.1, which are not there: those HelmReleases stay
# render/helm-chart-missing.
#
# It runs the Go code of the tests (TestCorpusChartCache in internal/cli),
# which is not part of the product. Fails when ../shared/charts is absent.
#
# --stand-in also stores app-template 4.1.1 under the tags the corpus pins
# (5.1.0, 5.0.1), so that those HelmReleases render too. That output is
# approximate (4.1.1 is not the chart they pin): use it to measure speed and
# coverage (make bench), never to judge findings.
#
# Usage: scripts/corpus-charts.sh [--stand-in] DIR
set -euo pipefail

standin=()
if [ "${1:-}" = "--stand-in" ]; then
	standin=(-stand-in)
	shift
fi
if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 [--stand-in] DIR" >&2
	exit 2
fi
mkdir -p "$1"
dir="$(cd "$1" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

out="$(go test ./internal/cli -run '^TestCorpusChartCache$' -count=1 -v -args -write "$dir" "${standin[@]}" 2>&1)" || {
	printf '%s\n' "$out" >&2
	exit 1
}
if ! grep -q 'chart cache written to' <<<"$out"; then
	printf '%s\n' "$out" >&2
	echo "$0: no chart cache written (is ../shared/charts present?)" >&2
	exit 1
fi
echo "chart cache written to $dir; lint with: gitops-lint lint PATH --chart-cache $dir"
