package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The fake gh of TestPRComment: it logs every call (one line, arguments
// joined by spaces) to $FAKE_DIR/gh.log, keeps every body it is sent
// (-F body=@FILE) as $FAKE_DIR/body-N.md, and answers from canned JSON:
// $FAKE_DIR/comments.json for the list of comments, the created or edited
// comment for POST and PATCH, $FAKE_GH_LOGIN for /user (403 when empty, as
// for GITHUB_TOKEN). --jq is applied with the real jq, as gh would. A call
// whose line contains $FAKE_GH_FAIL fails with $FAKE_GH_ERR on stderr.
const fakeGh = `set -eu
printf '%s\n' "$*" >> "$FAKE_DIR/gh.log"
n=$(wc -l < "$FAKE_DIR/gh.log")
if [ -n "${FAKE_GH_FAIL:-}" ]; then
	case "$*" in *"$FAKE_GH_FAIL"*) printf '%s\n' "$FAKE_GH_ERR" >&2; exit 1 ;; esac
fi
[ "$1" = api ] || { echo "fake gh: only api" >&2; exit 2; }
shift
method=GET path= jqexpr= body=
while [ $# -gt 0 ]; do
	case "$1" in
	-X) method=$2; shift ;;
	--jq) jqexpr=$2; shift ;;
	-F) case "$2" in body=@*) body=${2#body=@} ;; esac; shift ;;
	--paginate) ;;
	-*) echo "fake gh: unexpected flag $1" >&2; exit 2 ;;
	*) path=$1 ;;
	esac
	shift
done
if [ -n "$body" ]; then cp "$body" "$FAKE_DIR/body-$n.md"; fi
case "$method $path" in
"GET user")
	if [ -z "${FAKE_GH_LOGIN:-}" ]; then echo "gh: Resource not accessible by integration (HTTP 403)" >&2; exit 1; fi
	resp="{\"login\": \"$FAKE_GH_LOGIN\"}" ;;
"GET repos/"*"/comments?per_page=100") resp=$(cat "$FAKE_DIR/comments.json") ;;
"PATCH repos/"*"/issues/comments/"*) id=${path##*/}; resp="{\"id\": $id, \"html_url\": \"https://github.test/pull/7#issuecomment-$id\"}" ;;
"POST repos/"*"/comments") resp='{"id": 999, "html_url": "https://github.test/pull/7#issuecomment-999"}' ;;
*) echo "fake gh: unexpected call $method $path" >&2; exit 2 ;;
esac
if [ -n "$jqexpr" ]; then printf '%s' "$resp" | jq -r "$jqexpr"; else printf '%s\n' "$resp"; fi
`

// The fake gitops-lint: `diff` prints $FAKE_DIR/diff.md, or fails like a
// missing base branch when there is none; a lint copies
// $FAKE_DIR/report.md to its --format markdown=FILE and exits
// $FAKE_LINT_CODE.
const fakeGitopsLint = `set -eu
printf 'cache=%s\n' "${GITOPS_LINT_CHART_CACHE:-}" >> "$FAKE_DIR/gitops-lint.env"
printf '%s\n' "$*" >> "$FAKE_DIR/gitops-lint.log"
if [ "$1" = diff ]; then
	if [ -f "$FAKE_DIR/diff.md" ]; then cat "$FAKE_DIR/diff.md"; exit 0; fi
	echo 'gitops-lint: unknown revision "origin/main" in .' >&2
	exit 2
fi
for a in "$@"; do
	case "$a" in markdown=*) cp "$FAKE_DIR/report.md" "${a#markdown=}" ;; esac
done
exit "${FAKE_LINT_CODE:-0}"
`

const prMarker = "<!-- gitops-lint:pr-comment -->"

const prReport = "<!-- gitops-lint -->\n### gitops-lint: ✖ 1 error, 0 warnings\n\n| line | severity | rule |\n|--:|---|---|\n| 3:1 | ❌ error | `schema/namespace-missing` |\n"

const prDiff = "### gitops-lint diff: origin/main → working tree\n\n<details><summary>dev: 1 changed</summary>\n\n```diff\n-  replicas: 1\n+  replicas: 2\n```\n\n</details>\n"

type prRun struct {
	dir            string // the fake's directory: logs and kept bodies
	summary        string // $GITHUB_STEP_SUMMARY
	code           int
	stdout, stderr string
}

// ghCalls are the logged gh calls.
func (r prRun) ghCalls(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, "gh.log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// body is the body sent with gh call n (1-based).
func (r prRun) body(t *testing.T, n int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, "body-"+strconv.Itoa(n)+".md"))
	if err != nil {
		t.Fatalf("gh call %d sent no body: %v", n, err)
	}
	return string(b)
}

func (r prRun) summaryText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(r.summary)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// prFakes lays out the fakes in a new directory: bin/gh and
// bin/gitops-lint, the canned comments, the findings report, and diff ("" =
// gitops-lint diff fails). It returns the directory and bash.
func prFakes(t *testing.T, comments, diff string) (dir, bash string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("scripts/pr-comment.sh needs bash, which is not on PATH")
	}
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("the fake gh applies --jq with jq, which is not on PATH")
	}
	dir = t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, script := range map[string]string{"gh": fakeGh, "gitops-lint": fakeGitopsLint} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!"+bash+"\n"+script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("comments.json", comments)
	write("report.md", prReport)
	if diff != "" {
		write("diff.md", diff)
	}
	return dir, bash
}

// prEnv is the environment of a pull request's job, with the fakes first
// on PATH.
func prEnv(dir string) []string {
	return []string{
		"PATH=" + filepath.Join(dir, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + dir,
		"FAKE_DIR=" + dir,
		"FAKE_GH_ERR=gh: Resource not accessible by integration (HTTP 403)",
		"GITHUB_EVENT_NAME=pull_request",
		"GITHUB_REPOSITORY=acme/fleet",
		"GITHUB_STEP_SUMMARY=" + filepath.Join(dir, "summary.md"),
		"GITHUB_SERVER_URL=https://github.test",
		"GITHUB_RUN_ID=4242",
	}
}

// runBash runs bash with args in dir and env; its exit code and output.
func runBash(t *testing.T, bash, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bash, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("run bash %v: %v", args, err)
		}
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	return 0, stdout.String(), stderr.String()
}

// runPRComment runs scripts/pr-comment.sh as action.yml does, with the fake
// gh and gitops-lint first on PATH; comments is the canned list of the pull
// request's comments, diff the fake's diff ("" = the diff fails), env more
// variables (later ones win).
func runPRComment(t *testing.T, comments, diff string, env ...string) prRun {
	t.Helper()
	dir, bash := prFakes(t, comments, diff)
	r := prRun{dir: dir, summary: filepath.Join(dir, "summary.md")}
	full := append(prEnv(dir),
		"GH_TOKEN=fake-token",
		"PR_NUMBER=7",
		"PR_HEAD_REPO=acme/fleet",
		"PR_HEAD_SHA=0123456789abcdef0123",
		"PR_BASE_REF=main",
		"GITOPS_LINT_PATH=.",
		"GITOPS_LINT_REPORT="+filepath.Join(dir, "report.md"),
	)
	r.code, r.stdout, r.stderr = runBash(t, bash, dir, append(full, env...), filepath.Join(moduleRoot(t), "scripts", "pr-comment.sh"))
	return r
}

// wantComplete checks a body: the marker first, the findings, the diff.
func wantComplete(t *testing.T, body string) {
	t.Helper()
	if !strings.HasPrefix(body, prMarker+"\n") {
		t.Errorf("body does not start with the marker:\n%.200s", body)
	}
	for _, want := range []string{prReport, prDiff, "0123456789ab", "https://github.test/acme/fleet/actions/runs/4242"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func wantExit0(t *testing.T, r prRun) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, want 0 (the comment never fails the job)\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
}

const (
	otherComment = `{"id": 5, "body": "LGTM", "user": {"login": "alice"}}`
	botComment   = `{"id": 42, "body": "` + prMarker + `\nold findings", "user": {"login": "github-actions[bot]"}}`
	// Someone else's comment that holds the marker too, posted earlier.
	quoteComment = `{"id": 41, "body": "copied: ` + prMarker + `", "user": {"login": "alice"}}`
)

// TestPRComment runs scripts/pr-comment.sh (action.yml's comment input)
// against a fake gh: one comment per pull request, edited in place, and the
// job summary when the token cannot comment.
func TestPRComment(t *testing.T) {
	t.Run("no comment yet: POST once", func(t *testing.T) {
		r := runPRComment(t, "["+otherComment+"]", prDiff)
		wantExit0(t, r)
		calls := r.ghCalls(t)
		if len(calls) != 2 || !strings.HasPrefix(calls[0], "api --paginate repos/acme/fleet/issues/7/comments?per_page=100 --jq ") ||
			!strings.HasPrefix(calls[1], "api -X POST repos/acme/fleet/issues/7/comments -F body=@") {
			t.Fatalf("gh calls %q, want the list then one POST", calls)
		}
		wantComplete(t, r.body(t, 2))
		if s := r.summaryText(t); s != "" {
			t.Errorf("a posted comment also went to the job summary:\n%s", s)
		}
		if !strings.Contains(r.stdout, "posted https://github.test/pull/7#issuecomment-999") || strings.Contains(r.stdout, "::notice") {
			t.Errorf("stdout %q", r.stdout)
		}
		if b, _ := os.ReadFile(filepath.Join(r.dir, "gitops-lint.log")); string(b) != "diff . --base origin/main --format markdown\n" {
			t.Errorf("gitops-lint calls %q", b)
		}
	})

	t.Run("existing comment: PATCH it, no POST", func(t *testing.T) {
		r := runPRComment(t, "["+otherComment+","+botComment+"]", prDiff)
		wantExit0(t, r)
		calls := r.ghCalls(t)
		if len(calls) != 2 || !strings.HasPrefix(calls[1], "api -X PATCH repos/acme/fleet/issues/comments/42 -F body=@") {
			t.Fatalf("gh calls %q, want the list then PATCH 42", calls)
		}
		wantComplete(t, r.body(t, 2))
		if !strings.Contains(r.stdout, "updated https://github.test/pull/7#issuecomment-42") {
			t.Errorf("stdout %q", r.stdout)
		}
	})

	t.Run("several with the marker: the token's own", func(t *testing.T) {
		// GITHUB_TOKEN cannot read /user: github-actions[bot]'s comment.
		r := runPRComment(t, "["+quoteComment+","+botComment+"]", prDiff)
		wantExit0(t, r)
		calls := r.ghCalls(t)
		if len(calls) != 3 || calls[1] != "api user --jq .login" || !strings.HasPrefix(calls[2], "api -X PATCH repos/acme/fleet/issues/comments/42 ") {
			t.Fatalf("gh calls %q, want list, user, PATCH 42", calls)
		}
		// A personal token's user.
		r = runPRComment(t, "["+quoteComment+","+botComment+"]", prDiff, "FAKE_GH_LOGIN=alice")
		wantExit0(t, r)
		if calls := r.ghCalls(t); len(calls) != 3 || !strings.HasPrefix(calls[2], "api -X PATCH repos/acme/fleet/issues/comments/41 ") {
			t.Fatalf("gh calls %q, want PATCH 41 (alice's)", calls)
		}
	})

	t.Run("403: job summary, notice, exit 0", func(t *testing.T) {
		for _, fail := range []string{"-X POST", "--paginate"} {
			r := runPRComment(t, "[]", prDiff, "FAKE_GH_FAIL="+fail)
			wantExit0(t, r)
			calls := r.ghCalls(t)
			if last := calls[len(calls)-1]; !strings.Contains(last, fail) {
				t.Errorf("%s: gh calls %q: gh went on after the failure", fail, calls)
			}
			wantComplete(t, r.summaryText(t))
			if !strings.Contains(r.stdout, "::notice title=gitops-lint PR comment::no pull request comment: the token cannot ") ||
				!strings.Contains(r.stdout, "Resource not accessible by integration (HTTP 403)") {
				t.Errorf("%s: stdout %q, want a ::notice:: with the reason", fail, r.stdout)
			}
		}
		// Any other gh failure falls back too.
		r := runPRComment(t, "[]", prDiff, "FAKE_GH_FAIL=-X POST", "FAKE_GH_ERR=gh: 100% Server Error (HTTP 502)")
		wantExit0(t, r)
		if !strings.Contains(r.stdout, "::notice title=gitops-lint PR comment::no pull request comment: gh could not comment on #7 (gh: 100%25 Server Error (HTTP 502))") {
			t.Errorf("stdout %q", r.stdout)
		}
		wantComplete(t, r.summaryText(t))
	})

	t.Run("fork: no gh call, job summary", func(t *testing.T) {
		r := runPRComment(t, "[]", prDiff, "PR_HEAD_REPO=someone/fleet")
		wantExit0(t, r)
		if calls := r.ghCalls(t); calls != nil {
			t.Errorf("gh calls %q on a fork's pull request", calls)
		}
		wantComplete(t, r.summaryText(t))
		if !strings.Contains(r.stdout, "::notice") || !strings.Contains(r.stdout, "fork someone/fleet") {
			t.Errorf("stdout %q", r.stdout)
		}
		// pull_request_target runs with the base repository's token.
		r = runPRComment(t, "[]", prDiff, "PR_HEAD_REPO=someone/fleet", "GITHUB_EVENT_NAME=pull_request_target")
		wantExit0(t, r)
		if calls := r.ghCalls(t); len(calls) != 2 || !strings.Contains(calls[1], "-X POST") {
			t.Errorf("pull_request_target: gh calls %q, want a POST", calls)
		}
	})

	t.Run("no token: no gh call, job summary", func(t *testing.T) {
		r := runPRComment(t, "[]", prDiff, "GH_TOKEN=")
		wantExit0(t, r)
		if calls := r.ghCalls(t); calls != nil {
			t.Errorf("gh calls %q without a token", calls)
		}
		wantComplete(t, r.summaryText(t))
		if !strings.Contains(r.stdout, "::notice") || !strings.Contains(r.stdout, "no token") {
			t.Errorf("stdout %q", r.stdout)
		}
	})

	t.Run("not a pull request: nothing", func(t *testing.T) {
		r := runPRComment(t, "[]", prDiff, "GITHUB_EVENT_NAME=push")
		wantExit0(t, r)
		if calls := r.ghCalls(t); calls != nil {
			t.Errorf("gh calls %q on push", calls)
		}
		if s := r.summaryText(t); s != "" {
			t.Errorf("summary on push:\n%s", s)
		}
	})

	t.Run("no diff: the findings and why", func(t *testing.T) {
		r := runPRComment(t, "[]", "")
		wantExit0(t, r)
		body := r.body(t, 2)
		if !strings.Contains(body, prReport) || !strings.Contains(body, "not available (gitops-lint: unknown revision") {
			t.Errorf("body:\n%s", body)
		}
	})

	t.Run("huge diff: truncated under 65,536 characters", func(t *testing.T) {
		var diff strings.Builder
		diff.WriteString("### gitops-lint diff: origin/main → working tree\n\n<details><summary>dev: 1 changed</summary>\n\n```diff\n")
		for i := 0; diff.Len() < 300_000; i++ {
			diff.WriteString("+  key-" + strings.Repeat("é", 20) + ": value ✓\n")
		}
		diff.WriteString("+  last-line: the end\n```\n\n</details>\n")
		r := runPRComment(t, "[]", diff.String())
		wantExit0(t, r)
		body := r.body(t, 2)
		if n := utf8.RuneCountInString(body); n >= 65536 || len(body) >= 65536 {
			t.Errorf("comment of %d characters, %d bytes: over GitHub's limit", n, len(body))
		}
		if !utf8.ValidString(body) {
			t.Error("the truncated comment is not valid UTF-8")
		}
		if !strings.HasPrefix(body, prMarker+"\n"+prReport) || strings.Contains(body, "last-line") {
			t.Errorf("body starts %.300q", body)
		}
		// The note renders after the fence and the <details> it cut.
		note := strings.Index(body, "Truncated: a pull request comment is limited to 65,536 characters")
		if note < 0 || !strings.Contains(body[note:], "[job summary](https://github.test/acme/fleet/actions/runs/4242)") {
			t.Fatalf("no truncation note pointing at the job summary:\n%s", body[max(0, len(body)-600):])
		}
		if head := body[:note]; strings.Count(head, "```")%2 != 0 || strings.Count(head, "<details>") != strings.Count(head, "</details>") {
			t.Errorf("the cut leaves a fence or <details> open before the note:\n%s", body[max(0, note-300):])
		}
		// The job summary has it all.
		if s := r.summaryText(t); !strings.Contains(s, "last-line: the end") || !strings.HasPrefix(s, prMarker) {
			t.Errorf("job summary of %d bytes lacks the full diff", len(s))
		}
	})
}

// actionStep is a step of action.yml.
type actionStep struct {
	Name string            `yaml:"name"`
	ID   string            `yaml:"id"`
	If   string            `yaml:"if"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
}

var actionExpression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// TestActionPRCommentSteps runs action.yml's Lint, comment and last steps
// as written, with the expressions GitHub would fill in, the fake
// gitops-lint finding errors (exit 1) and the fake gh: the comment is
// posted, and only then the job fails with the lint's exit code.
func TestActionPRCommentSteps(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Steps []actionStep `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(b, &action); err != nil {
		t.Fatal(err)
	}
	if d := action.Inputs["comment"].Default; d != "true" {
		t.Errorf("input comment defaults to %q, want true", d)
	}
	if d := action.Inputs["token"].Default; d != "${{ github.token }}" {
		t.Errorf("input token defaults to %q, want the job's token", d)
	}
	steps := action.Runs.Steps
	find := func(match func(actionStep) bool) (int, actionStep) {
		t.Helper()
		for i, s := range steps {
			if match(s) {
				return i, s
			}
		}
		t.Fatal("step not found in action.yml")
		return 0, actionStep{}
	}
	il, lint := find(func(s actionStep) bool { return s.ID == "lint" })
	ic, comment := find(func(s actionStep) bool { return strings.Contains(s.Run, "scripts/pr-comment.sh") })
	ie, exit := find(func(s actionStep) bool {
		return strings.Contains(s.Run, "steps.lint.outputs.exit-code") || s.Env["CODE"] != ""
	})
	if il >= ic || ic >= ie || ie != len(steps)-1 {
		t.Fatalf("steps lint %d, comment %d, exit %d of %d: want them in that order, the exit last", il, ic, ie, len(steps))
	}
	for _, want := range []string{"inputs.comment == 'true'", "github.event_name == 'pull_request'", "github.event_name == 'pull_request_target'"} {
		if !strings.Contains(comment.If, want) {
			t.Errorf("the comment step's if %q lacks %s", comment.If, want)
		}
	}
	if lint.If != "" || exit.If != "" {
		t.Errorf("if: lint %q, exit %q: both must run whenever the action does", lint.If, exit.If)
	}

	for _, tc := range []struct {
		lintCode int
		event    string
		posted   bool
	}{{1, "pull_request", true}, {0, "pull_request", true}, {2, "pull_request", true}, {1, "push", false}} {
		dir, bash := prFakes(t, "[]", prDiff)
		temp := t.TempDir()
		output := filepath.Join(temp, "github_output")
		values := map[string]string{
			"inputs.path":                      ".",
			"inputs.args":                      "--env dev",
			"inputs.promotion":                 "dev,test,main",
			"inputs.new-from-rev":              "origin/main",
			"inputs.sarif-file":                "",
			"inputs.fail-on":                   "error",
			"inputs.cache":                     "true",
			"inputs.token":                     "fake-token",
			"runner.temp":                      temp,
			"github.event.pull_request.number": "7",
			"github.event.pull_request.head.repo.full_name": "acme/fleet",
			"github.event.pull_request.head.sha":            "0123456789abcdef0123",
			"github.event.pull_request.base.ref":            "main",
		}
		env := func(s actionStep) []string {
			e := append(prEnv(dir), "GITHUB_ACTION_PATH="+moduleRoot(t), "GITHUB_OUTPUT="+output,
				"FAKE_LINT_CODE="+strconv.Itoa(tc.lintCode), "GITHUB_EVENT_NAME="+tc.event)
			for k, v := range s.Env {
				e = append(e, k+"="+actionExpression.ReplaceAllStringFunc(v, func(m string) string {
					key := actionExpression.FindStringSubmatch(m)[1]
					v, ok := values[key]
					if !ok {
						t.Fatalf("unknown expression %s in step %q: teach the test its value", m, s.Name)
					}
					return v
				}))
			}
			return e
		}

		code, stdout, stderr := runBash(t, bash, dir, env(lint), "-c", lint.Run)
		if code != 0 {
			t.Fatalf("lint %d: the Lint step exits %d, want 0 (the exit comes last)\n%s%s", tc.lintCode, code, stdout, stderr)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "gitops-lint.log")); !strings.Contains(string(b), ". --format github --format markdown="+temp) ||
			!strings.Contains(string(b), " --new-from-rev origin/main") || !strings.HasSuffix(string(b), " --env dev\n") {
			t.Errorf("gitops-lint called as %q", b)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "gitops-lint.env")); !strings.Contains(string(b), "cache="+temp+"/gitops-lint-charts\n") {
			t.Errorf("gitops-lint ran with %q, want the action's chart cache", b)
		}
		out, _ := os.ReadFile(output)
		if want := "exit-code=" + strconv.Itoa(tc.lintCode) + "\n"; string(out) != want {
			t.Fatalf("GITHUB_OUTPUT %q, want %q", out, want)
		}
		values["steps.lint.outputs.exit-code"] = strconv.Itoa(tc.lintCode)

		// GitHub skips the step on push (its if); the script does nothing
		// there either.
		code, stdout, stderr = runBash(t, bash, dir, env(comment), "-c", comment.Run)
		if code != 0 {
			t.Fatalf("the comment step exits %d\n%s%s", code, stdout, stderr)
		}
		r := prRun{dir: dir}
		calls := r.ghCalls(t)
		if !tc.posted {
			if calls != nil {
				t.Errorf("%s: gh calls %q", tc.event, calls)
			}
		} else if len(calls) != 2 || !strings.Contains(calls[1], "-X POST repos/acme/fleet/issues/7/comments") {
			t.Errorf("lint %d: gh calls %q, want a POST", tc.lintCode, calls)
		} else {
			wantComplete(t, r.body(t, 2))
		}

		code, _, stderr = runBash(t, bash, dir, env(exit), "-c", exit.Run)
		if code != tc.lintCode {
			t.Errorf("the last step exits %d, want the lint's %d\n%s", code, tc.lintCode, stderr)
		}
	}
}
