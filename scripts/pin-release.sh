#!/usr/bin/env bash
# pin-release.sh vX.Y.Z — pin the integrations that cannot know their own tag
# to a release, in the release commit (docs/releasing.md): every line marked
# "# release-pin" in action.yml (the version a floating tag such as @v1
# downloads), ci/azure-pipelines/gitops-lint.yml (the version parameter's
# default) and .pre-commit-hooks.yaml (the image of the docker hook).
set -euo pipefail
root="${PIN_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}"
v="${1:-}"
[[ "$v" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || {
	echo "usage: $0 vX.Y.Z (got \"$v\")" >&2
	exit 2
}
for f in action.yml ci/azure-pipelines/gitops-lint.yml .pre-commit-hooks.yaml; do
	n="$(grep -c '# release-pin$' "$root/$f" || true)"
	[ "$n" = 1 ] || {
		echo "$f: want one line marked # release-pin, found $n" >&2
		exit 1
	}
	sed -E -i.bak '/# release-pin$/ s/(latest|v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?) # release-pin$/'"$v"' # release-pin/' "$root/$f"
	rm -f "$root/$f.bak"
	grep -q "$v # release-pin\$" "$root/$f" || {
		echo "$f: could not pin $v" >&2
		exit 1
	}
	echo "$f: $(grep '# release-pin$' "$root/$f" | sed 's/^ *//')"
done
