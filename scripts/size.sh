#!/usr/bin/env bash
# size.sh — where the bytes of the stripped gitops-lint binary go.
#
# Builds the release binary (CGO_ENABLED=0 -trimpath -ldflags='-s -w' and the
# release's build tags, as .goreleaser.yaml does) for its size and the
# same build with symbols for the breakdown, attributes every symbol that
# takes file space (text, read-only data, data; not bss) to the Go module of
# its package, and prints the top modules, the pc-line tables (runtime
# metadata kept by -s -w) and the total. What no symbol covers (ELF headers,
# dynamic symbol tables, section padding) is "unattributed".
#
#   scripts/size.sh [TOP]     (make size; TOP defaults to 15)
set -euo pipefail
cd "$(dirname "$0")/.."
top="${1:-15}"
go="${GO:-go}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# SIZE_STRIPPED and SIZE_SYMBOLS name binaries built already (to compare
# two revisions without rebuilding).
stripped="${SIZE_STRIPPED:-$tmp/stripped}"
symbols="${SIZE_SYMBOLS:-$tmp/symbols}"
# The release build's settings (.goreleaser.yaml).
export CGO_ENABLED=0
tags="${SIZE_TAGS-kustomize_disable_go_plugin_support}"
[ -n "${SIZE_STRIPPED:-}" ] || "$go" build -trimpath -tags "$tags" -ldflags='-s -w' -o "$stripped" ./cmd/gitops-lint
[ -n "${SIZE_SYMBOLS:-}" ] || "$go" build -trimpath -tags "$tags" -o "$symbols" ./cmd/gitops-lint
"$go" list -tags "$tags" -deps -f '{{.ImportPath}} {{if .Module}}{{.Module.Path}}{{else}}std{{end}}' ./cmd/gitops-lint >"$tmp/pkgs"
"$go" tool nm -size "$symbols" >"$tmp/nm"
total="$(wc -c <"$stripped" | tr -d ' ')"

awk -v total="$total" -v top="$top" '
function pkgof(name,   s, i, j, rest) {
	s = name
	sub(/^local\./, "", s) # static symbols
	sub(/^type:/, "", s)
	while (s ~ /^(\*|\[\]|\[[0-9]+\])/) sub(/^(\*|\[\]|\[[0-9]+\])/, "", s)
	i = index(s, "["); if (i > 0) s = substr(s, 1, i - 1)
	j = 0
	for (i = length(s); i > 0; i--) if (substr(s, i, 1) == "/") { j = i; break }
	rest = substr(s, j + 1)
	i = index(rest, "."); if (i == 0) return ""
	s = substr(s, 1, j + i - 1)
	gsub(/%2e/, ".", s)
	return s
}
# hex converts a hexadecimal address (POSIX awk has no strtonum).
function hex(h,   i, n) {
	h = tolower(h); n = 0
	for (i = 1; i <= length(h); i++) n = n * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
	return n
}
function moduleof(pkg,   p, best, m) {
	if (pkg in modOf) return modOf[pkg]
	best = ""
	for (m in isMod) if ((pkg == m || index(pkg, m "/") == 1) && length(m) > length(best)) best = m
	if (best != "") return best
	if (pkg != "" && index(pkg, ".") == 0 && split(pkg, p, "/") > 0 && index(p[1], ".") == 0) return "std"
	return ""
}
FNR == NR { modOf[$1] = $2; if ($2 != "std") isMod[$2] = 1; next }
# nm lines: ADDRESS SIZE TYPE NAME; bss (B/b) takes no file space.
NF >= 4 && $3 != "U" && $3 != "B" && $3 != "b" {
	addr = $1; size = $2 + 0; name = $4
	for (k = 5; k <= NF; k++) name = name " " $k
	if (name == "runtime.bss") bssStart = hex(addr)
	if (name == "runtime.enoptrbss") bssEnd = hex(addr)
	if (name == "runtime.rodata") roStart = hex(addr)
	if (name == "runtime.erodata") roEnd = hex(addr)
	if (name == "runtime.pclntab") pcStart = hex(addr)
	if (name == "runtime.epclntab") pcEnd = hex(addr)
	# A binary that exports its symbols lists each twice (NAME and
	# local.NAME, same address): count an address once.
	if (size == 0 || seen[addr]++) next
	n++; A[n] = hex(addr); S[n] = size; N[n] = name
}
END {
	for (k = 1; k <= n; k++) {
		if (bssEnd > 0 && A[k] >= bssStart && A[k] < bssEnd) continue
		# go:func.* and friends live inside .gopclntab, counted whole below.
		if (pcEnd > 0 && A[k] >= pcStart && A[k] < pcEnd) continue
		name = N[k]
		if (name ~ /^(local\.)?go:(func|string)\./ || name ~ /^type:\.|^go:itab|^go:cuinfo|^runtime\.(pclntab|findfunctab|itablink|typelink)/) { m = "(runtime metadata: type/func tables)" }
		else { m = moduleof(pkgof(name)); if (m == "") m = "(runtime metadata: type/func tables)" }
		bytes[m] += S[k]; sum += S[k]
		if (A[k] >= roStart && A[k] < roEnd) ro += S[k]
	}
	for (m in bytes) printf "%s\t%d\n", m, bytes[m]
	# Type descriptors and string data sit in .rodata without symbols of
	# their own.
	if (roEnd > roStart + ro) printf "%s\t%d\n", "(rodata without symbols: type descriptors, strings)", roEnd - roStart - ro
	if (pcEnd > pcStart) printf "%s\t%d\n", "(pc-line tables: .gopclntab, for stack traces)", pcEnd - pcStart
}' "$tmp/pkgs" "$tmp/nm" | sort -t"$(printf '\t')" -k2,2nr >"$tmp/rows"

printf '%-60s %12s %6s\n' module bytes share
head -n "$top" "$tmp/rows" | awk -F'\t' -v total="$total" '{ printf "%-60s %12d %5.1f%%\n", $1, $2, 100 * $2 / total }'
rest="$(tail -n +"$((top + 1))" "$tmp/rows" | awk -F'\t' '{ s += $2; n++ } END { printf "%d %d", s, n }')"
attributed="$(awk -F'\t' '{ s += $2 } END { print s + 0 }' "$tmp/rows")"
read -r restBytes restCount <<<"$rest"
awk -v t="$total" -v rb="$restBytes" -v rc="$restCount" -v at="$attributed" 'BEGIN {
	printf "%-60s %12d %5.1f%%\n", "(" rc " more modules)", rb, 100 * rb / t
	printf "%-60s %12d %5.1f%%\n", "unattributed (ELF headers, dynamic symbols, padding)", t - at, 100 * (t - at) / t
	printf "%-60s %12d (%.1f MB)\n", "total, stripped (-trimpath -ldflags=\"-s -w\")", t, t / 1e6
}'
