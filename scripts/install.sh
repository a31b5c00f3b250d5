#!/usr/bin/env bash
# install.sh — download a gitops-lint release, verify it, install it.
#
# Used by the GitHub Action (action.yml) and the Azure DevOps template
# (ci/azure-pipelines/gitops-lint.yml); runnable by hand. It downloads the
# release archive for this OS and architecture and the release's
# checksums.txt, and installs the binary only if the archive's SHA-256 is the
# one checksums.txt lists for it: a mismatch, a missing entry or a failed
# download installs nothing and exits non-zero (fail closed).
#
#   scripts/install.sh [VERSION]
#
# VERSION is a release tag (v1.2.3; "1.2.3" is accepted) or "latest".
# Environment (all optional):
#   GITOPS_LINT_VERSION       the version when no argument is given (default latest)
#   GITOPS_LINT_INSTALL_DIR   where to put the binary (default $HOME/.local/bin)
#   GITOPS_LINT_ARCHIVE_DIR   keep verified archives here and reuse them:
#                             a cached archive is verified again before use
#                             (GITOPS_LINT_CACHE_DIR, its former name, is read
#                             when it is unset; gitops-lint itself reads that
#                             one as --cache-dir, its build cache)
#   GITOPS_LINT_RELEASE_URL   the releases base URL (default
#                             https://github.com/gitops-lint/gitops-lint/releases);
#                             files are read from BASE/download/TAG/FILE and
#                             "latest" from BASE/latest/download/FILE
#   GITOPS_LINT_GO_INSTALL    "true": build with `go install …@VERSION` instead
#                             of downloading (the fallback; needs Go)
#   GITOPS_LINT_OS, GITOPS_LINT_ARCH  override the detected platform
# It prints the installed binary's path on its last line of stdout.
set -euo pipefail

repo_module="github.com/gitops-lint/gitops-lint/cmd/gitops-lint"
version="${1:-${GITOPS_LINT_VERSION:-latest}}"
base="${GITOPS_LINT_RELEASE_URL:-https://github.com/gitops-lint/gitops-lint/releases}"
base="${base%/}"
install_dir="${GITOPS_LINT_INSTALL_DIR:-${HOME:-/tmp}/.local/bin}"
cache_dir="${GITOPS_LINT_ARCHIVE_DIR:-${GITOPS_LINT_CACHE_DIR:-}}"

die() {
	echo "install.sh: $*" >&2
	exit 1
}

case "$version" in
*[!0-9A-Za-z.+-]* | v) die "version must be a release tag (v1.2.3) or latest, got \"$version\"" ;;
latest | v[0-9]*) ;;
[0-9]*) version="v$version" ;;
*) die "version must be a release tag (v1.2.3) or latest, got \"$version\"" ;;
esac

if [ "${GITOPS_LINT_GO_INSTALL:-false}" = "true" ]; then
	command -v go >/dev/null || die "GITOPS_LINT_GO_INSTALL=true needs Go on PATH"
	mkdir -p "$install_dir"
	echo "install.sh: building gitops-lint $version from source (go install), this takes minutes" >&2
	CGO_ENABLED=0 GOBIN="$(cd "$install_dir" && pwd)" go install -trimpath -tags kustomize_disable_go_plugin_support "$repo_module@$version"
	bin="$install_dir/gitops-lint"
	[ -x "$bin" ] || bin="$install_dir/gitops-lint.exe"
	"$bin" version >&2
	echo "$bin"
	exit 0
fi

os="${GITOPS_LINT_OS:-$(uname -s)}"
arch="${GITOPS_LINT_ARCH:-$(uname -m)}"
case "$os" in
Linux | linux) os=linux ;;
Darwin | darwin) os=darwin ;;
MINGW* | MSYS* | CYGWIN* | Windows_NT | windows) os=windows ;;
*) die "no release archive for OS $os (set GITOPS_LINT_GO_INSTALL=true to build from source)" ;;
esac
case "$arch" in
x86_64 | amd64 | X64) arch=amd64 ;;
aarch64 | arm64 | ARM64) arch=arm64 ;;
*) die "no release archive for architecture $arch (set GITOPS_LINT_GO_INSTALL=true to build from source)" ;;
esac
ext=tar.gz
exe=gitops-lint
if [ "$os" = windows ]; then
	ext=zip
	exe=gitops-lint.exe
fi

if command -v curl >/dev/null; then
	fetch() { curl -fsSL --retry 3 --proto '=https,http' -o "$2" "$1"; }
elif command -v wget >/dev/null; then
	fetch() { wget -q -O "$2" "$1"; }
else
	die "needs curl or wget"
fi
if command -v sha256sum >/dev/null; then
	sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null; then
	sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
	die "needs sha256sum or shasum to verify the download"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [ "$version" = latest ]; then
	download="$base/latest/download"
else
	download="$base/download/$version"
fi
# checksums.txt is read fresh every time: it is what the cache is checked
# against.
fetch "$download/checksums.txt" "$tmp/checksums.txt" || die "cannot download $download/checksums.txt"

if [ "$version" = latest ]; then
	# The archive names carry the version: find this platform's.
	archive="$(awk -v suffix="_${os}_${arch}.${ext}" '{ n = $2; sub(/^\*/, "", n) } substr(n, length(n) - length(suffix) + 1) == suffix { print n; exit }' "$tmp/checksums.txt")"
	[ -n "$archive" ] || die "checksums.txt of the latest release lists no ${os}_${arch} archive"
else
	archive="gitops-lint_${version#v}_${os}_${arch}.${ext}"
fi
case "$archive" in
*/* | .*) die "refusing archive name \"$archive\"" ;;
esac

want="$(awk -v name="$archive" '{ n = $2; sub(/^\*/, "", n) } n == name { print $1; exit }' "$tmp/checksums.txt")"
[ -n "$want" ] || die "checksums.txt lists no $archive: refusing to install an unverified archive"
case "$want" in
*[!0-9a-fA-F]* | "") die "checksums.txt has a malformed SHA-256 for $archive" ;;
esac
[ "${#want}" -eq 64 ] || die "checksums.txt has a malformed SHA-256 for $archive"
want="$(printf '%s' "$want" | tr 'A-F' 'a-f')"

got=""
if [ -n "$cache_dir" ] && [ -f "$cache_dir/$archive" ]; then
	got="$(sha256 "$cache_dir/$archive")"
	if [ "$got" = "$want" ]; then
		cp "$cache_dir/$archive" "$tmp/$archive"
		echo "install.sh: $archive from the cache ($cache_dir), SHA-256 verified" >&2
	else
		echo "install.sh: cached $archive does not match checksums.txt; downloading it again" >&2
		got=""
	fi
fi
if [ -z "$got" ]; then
	fetch "$download/$archive" "$tmp/$archive" || die "cannot download $download/$archive"
	got="$(sha256 "$tmp/$archive")"
	if [ "$got" != "$want" ]; then
		die "SHA-256 mismatch for $archive: checksums.txt says $want, the download is $got; nothing installed"
	fi
	echo "install.sh: downloaded $archive, SHA-256 verified" >&2
	if [ -n "$cache_dir" ]; then
		mkdir -p "$cache_dir"
		cp "$tmp/$archive" "$cache_dir/$archive.partial" && mv "$cache_dir/$archive.partial" "$cache_dir/$archive"
	fi
fi

mkdir "$tmp/x"
if [ "$ext" = zip ]; then
	command -v unzip >/dev/null || die "needs unzip for the Windows archive"
	unzip -q "$tmp/$archive" "$exe" -d "$tmp/x" || die "$archive holds no $exe"
else
	tar -xzf "$tmp/$archive" -C "$tmp/x" "$exe" || die "$archive holds no $exe"
fi
[ -f "$tmp/x/$exe" ] && [ ! -L "$tmp/x/$exe" ] || die "$archive holds no regular file $exe"

mkdir -p "$install_dir"
# Copy beside the destination, then rename: a reader never sees half a file.
cp "$tmp/x/$exe" "$install_dir/.$exe.partial"
chmod 755 "$install_dir/.$exe.partial"
mv -f "$install_dir/.$exe.partial" "$install_dir/$exe"
echo "install.sh: installed $install_dir/$exe" >&2
echo "$install_dir/$exe"
