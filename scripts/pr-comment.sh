#!/usr/bin/env bash
# pr-comment.sh — gitops-lint's findings and rendered diff as ONE pull request
# comment, updated in place on every push (docs/github.md). action.yml runs
# it after the Lint step when its input `comment` is "true".
#
# The comment starts with a hidden marker; the comment that holds it is
# edited (PATCH), else a new one is posted. When the token cannot comment —
# no token, no gh, a pull request from a fork, HTTP 403/404 ("Resource not
# accessible by integration") or any other gh failure — the same body goes to
# the job summary ($GITHUB_STEP_SUMMARY) with a ::notice:: saying why.
# The script always exits 0: the comment never fails the job.
#
# Environment (action.yml sets it):
#   GITHUB_EVENT_NAME   only pull_request and pull_request_target act
#   GITHUB_REPOSITORY   owner/name of the repository the comment goes to
#   PR_NUMBER           the pull request
#   PR_HEAD_REPO        github.event.pull_request.head.repo.full_name
#   PR_HEAD_SHA         the pull request's head commit (optional, footer)
#   PR_BASE_REF         the base branch: the diff is against origin/PR_BASE_REF
#                       (empty: no diff)
#   GITOPS_LINT_PATH    the linted path, for gitops-lint diff (default .)
#   GITOPS_LINT_REPORT  the Markdown findings report (--format markdown=FILE)
#   GH_TOKEN            the token gh comments with
#   GITHUB_STEP_SUMMARY the job summary file, for the fallback
#   GITHUB_SERVER_URL, GITHUB_RUN_ID  the run the truncation note links to
set -euo pipefail

marker='<!-- gitops-lint:pr-comment -->'
# GitHub refuses a comment body over 65,536 characters. Sizes here are
# bytes, never fewer than characters; the budget leaves room for the note.
comment_max=65536
comment_budget=$((comment_max - 2048))
# A step's summary is limited to 1 MiB.
summary_budget=$((1024 * 1024 - 4096))

log() { printf 'pr-comment: %s\n' "$*"; }
# notice prints a workflow command: its message on one line, % escaped.
notice() { printf '::notice title=gitops-lint PR comment::%s\n' "$(printf '%s' "$*" | tr '\r\n' '  ' | sed 's/%/%25/g')"; }

case "${GITHUB_EVENT_NAME:-}" in
pull_request | pull_request_target) ;;
*)
	log "not a pull request event (${GITHUB_EVENT_NAME:-none}): no comment"
	exit 0
	;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

repo="${GITHUB_REPOSITORY:-}"
pr="${PR_NUMBER:-}"
run_url=""
if [ -n "${GITHUB_RUN_ID:-}" ] && [ -n "$repo" ]; then
	run_url="${GITHUB_SERVER_URL:-https://github.com}/$repo/actions/runs/$GITHUB_RUN_ID"
fi
summary_link="the job summary"
if [ -n "$run_url" ]; then summary_link="the [job summary]($run_url)"; fi

# cut_markdown FILE BUDGET prints FILE's first whole lines within BUDGET
# bytes, then closes a code fence and <details> blocks left open, so that
# what follows renders outside them.
cut_markdown() {
	LC_ALL=C awk -v max="$2" '
		{
			n += length($0) + 1
			if (n > max) exit
			print
			if ($0 ~ /^[ \t]*(```|~~~)/) fence = !fence
			else if (!fence) { open += gsub(/<details/, "&"); open -= gsub(/<\/details>/, "&") }
		}
		END {
			if (fence) print "```"
			while (open-- > 0) print "</details>"
		}' "$1"
}

# The body: marker, findings, rendered diff, footer.
body="$tmp/body.md"
{
	printf '%s\n' "$marker"
	report="${GITOPS_LINT_REPORT:-}"
	if [ -n "$report" ] && [ -s "$report" ]; then
		cat "$report"
	else
		printf '### gitops-lint\n\n_No findings report: gitops-lint stopped before writing it; see the job log._\n'
	fi
	printf '\n'
	if [ -n "${PR_BASE_REF:-}" ]; then
		if gitops-lint diff "${GITOPS_LINT_PATH:-.}" --base "origin/$PR_BASE_REF" --format markdown >"$tmp/diff.md" 2>"$tmp/diff.err"; then
			cat "$tmp/diff.md"
		else
			reason="$(tail -n 1 "$tmp/diff.err" 2>/dev/null || true)"
			# shellcheck disable=SC2016 # the backquotes are Markdown
			printf '### gitops-lint diff\n\n_The rendered diff against `origin/%s` is not available (%s). The diff needs the base branch: check out with `fetch-depth: 0`._\n' \
				"$PR_BASE_REF" "${reason:-gitops-lint diff failed}"
		fi
		printf '\n'
	fi
	printf -- '---\n<sub>gitops-lint'
	if [ -n "${PR_HEAD_SHA:-}" ]; then printf ' · %s' "${PR_HEAD_SHA:0:12}"; fi
	if [ -n "$run_url" ]; then printf ' · [run](%s)' "$run_url"; fi
	printf ' · this comment is updated on every push</sub>\n'
} >"$body"

# to_summary appends the body, within the summary's budget, to the job
# summary (to stdout when there is none).
to_summary() {
	local dest="${GITHUB_STEP_SUMMARY:-/dev/stdout}"
	if [ "$(wc -c <"$body")" -le "$summary_budget" ]; then
		cat "$body" >>"$dest"
	else
		{
			cut_markdown "$body" "$summary_budget"
			printf '\n> [!NOTE]\n> Truncated: a job summary is limited to 1 MiB.\n'
		} >>"$dest"
	fi
}

# fallback REASON: the body goes to the job summary instead; exit 0.
fallback() {
	to_summary
	notice "no pull request comment: $1. The findings and the rendered diff are in the job summary."
	exit 0
}

# gh_failed WHAT: fall back after a failed gh call, saying why.
gh_failed() {
	local msg
	msg="$(grep -v '^[[:space:]]*$' "$tmp/gh.err" | tail -n 1 || true)"
	if grep -Eq 'HTTP 40[34]|Resource not accessible by integration' "$tmp/gh.err"; then
		fallback "the token cannot $1 (${msg:-HTTP 403/404})"
	fi
	fallback "gh could not $1 (${msg:-unknown error})"
}

if [ -z "$repo" ] || [ -z "$pr" ]; then
	fallback "GITHUB_REPOSITORY or the pull request number is missing"
fi
# A pull_request from a fork runs with a read-only token. pull_request_target
# runs with the base repository's token, which can comment.
if [ "$GITHUB_EVENT_NAME" = pull_request ] && [ "${PR_HEAD_REPO:-}" != "$repo" ]; then
	fallback "the pull request comes from the fork ${PR_HEAD_REPO:-(deleted)}, whose token cannot comment on $repo"
fi
if [ -z "${GH_TOKEN:-}" ]; then
	fallback "no token (the input token is empty)"
fi
if ! command -v gh >/dev/null 2>&1; then
	fallback "the GitHub CLI (gh) is not installed on this runner"
fi

# What goes into the comment: the body, or its head and a note.
comment="$tmp/comment.md"
if [ "$(wc -c <"$body")" -le "$comment_budget" ]; then
	cp "$body" "$comment"
else
	{
		cut_markdown "$body" "$comment_budget"
		printf '\n> [!NOTE]\n> Truncated: a pull request comment is limited to %s characters. The full findings and rendered diff are in %s.\n' \
			"65,536" "$summary_link"
	} >"$comment"
	to_summary
	log "the comment is truncated; the full body is in the job summary"
fi

# The comments that hold the marker, oldest first: id and author.
filter=".[] | select((.body // \"\") | contains(\"$marker\")) | \"\\(.id)\\t\\(.user.login)\""
if ! gh api --paginate "repos/$repo/issues/$pr/comments?per_page=100" --jq "$filter" >"$tmp/found" 2>"$tmp/gh.err"; then
	gh_failed "read the comments of #$pr"
fi

id=""
count="$(grep -c . "$tmp/found" || true)"
if [ "$count" -eq 1 ]; then
	id="$(cut -f 1 "$tmp/found")"
elif [ "$count" -gt 1 ]; then
	# Several: prefer the token's own. GITHUB_TOKEN cannot read /user; its
	# comments are github-actions[bot]'s.
	me="$(gh api user --jq .login 2>/dev/null || true)"
	me="${me:-github-actions[bot]}"
	id="$(awk -F '\t' -v me="$me" '$2 == me { print $1; exit }' "$tmp/found")"
	if [ -z "$id" ]; then id="$(head -n 1 "$tmp/found" | cut -f 1)"; fi
fi

if [ -n "$id" ]; then
	if gh api -X PATCH "repos/$repo/issues/comments/$id" -F "body=@$comment" --jq .html_url >"$tmp/url" 2>"$tmp/gh.err"; then
		log "updated $(cat "$tmp/url")"
		exit 0
	fi
	# Deleted since it was listed: post a new one.
	if ! grep -q 'HTTP 404' "$tmp/gh.err"; then
		gh_failed "update comment $id on #$pr"
	fi
fi
if ! gh api -X POST "repos/$repo/issues/$pr/comments" -F "body=@$comment" --jq .html_url >"$tmp/url" 2>"$tmp/gh.err"; then
	gh_failed "comment on #$pr"
fi
log "posted $(cat "$tmp/url")"
