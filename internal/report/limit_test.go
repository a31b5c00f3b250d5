package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

func TestTruncatedNote(t *testing.T) {
	if got, want := truncatedNote(997, 64<<20), "… 997 more findings not shown: the report reached its 64 MiB limit (raise it with --limit report-bytes=SIZE)"; got != want {
		t.Errorf("note = %q, want %q", got, want)
	}
	if got, want := truncatedNote(1, 1000), "… 1 more finding not shown: the report reached its 1000 bytes limit (raise it with --limit report-bytes=SIZE)"; got != want {
		t.Errorf("note = %q, want %q", got, want)
	}
}

// manyFindings is a report of n findings over several files, environments
// and Kustomizations, each message tagged "finding NNNN" once.
func manyFindings(n int) *Report {
	var fs []finding.Finding
	sev := []finding.Severity{finding.Error, finding.Warning, finding.Info}
	for i := range n {
		msg := fmt.Sprintf("finding %04d: %s", i, strings.Repeat("lorem ipsum ", 8))
		if i%7 == 0 {
			msg += "\nsecond line of a multi-line message"
		}
		fs = append(fs, finding.Finding{
			Rule:     []string{"schema/invalid", "render/error", "policy/custom-" + fmt.Sprint(i%5)}[i%3],
			Severity: sev[i%3], Message: msg,
			File: fmt.Sprintf("apps/file-%02d.yaml", i/10), Line: i%10 + 1, Column: 1,
			Environment: []string{"dev", "prod", ""}[i%3], Kustomization: []string{"flux-system/apps", "", "flux-system/infra"}[i%3],
		})
	}
	fs = finding.Sort(fs)
	s := finding.Summary{Environments: 2, Kustomizations: 3, Objects: 40, DurationMs: 1234}
	s.Count(fs)
	return &Report{
		Tool: Tool{Name: "gitops-lint", Version: "v0.0.0-test"}, Summary: s, Findings: fs,
		Rules:        testRules(),
		Environments: []Environment{{Name: "dev", Kustomizations: []string{"flux-system/apps"}}, {Name: "prod"}},
		Repository:   "fleet",
		Failed:       true,
	}
}

var findingTag = regexp.MustCompile(`finding (\d{4})`)

// shownTags checks that out shows a prefix of the findings, each once, in
// order unless grouped (JUnit groups them by suite and testcase), and
// returns how many.
func shownTags(t *testing.T, out string, grouped bool) int {
	t.Helper()
	tags := findingTag.FindAllStringSubmatch(out, -1)
	seen := map[string]bool{}
	for i, m := range tags {
		if !grouped && m[1] != fmt.Sprintf("%04d", i) {
			t.Fatalf("finding %d shown as %s: not the first findings in order", i, m[1])
		}
		seen[m[1]] = true
	}
	for i := range len(seen) {
		if !seen[fmt.Sprintf("%04d", i)] {
			t.Fatalf("%d findings shown, but not finding %d", len(seen), i)
		}
	}
	return len(seen)
}

// TestTruncation cuts each format at a size limit and checks that the
// report fits, stays valid, holds as many findings as fit, says how many
// more there are, and still counts all of them.
func TestTruncation(t *testing.T) {
	r := manyFindings(400)
	n := len(r.Findings)
	var limit int64 // per format: what it writes without findings, and 16 KiB
	summaryLine := (&textWriter{}).summary(r.Summary)
	tests := []struct {
		format string
		// check validates out and returns the findings it shows and the
		// number it says are left out.
		check func(t *testing.T, out []byte) (shown, omitted int)
		// marker is about the size of the truncation marker.
		marker int
	}{
		{"text", func(t *testing.T, out []byte) (int, int) {
			shown := shownTags(t, string(out), false)
			note := truncatedNote(n-shown, limit)
			if !strings.HasSuffix(string(out), "\n"+note+"\n\n"+summaryLine+"\n") {
				t.Errorf("text does not end with the note then the summary:\n%s", tail(out))
			}
			return shown, n - shown
		}, 0},
		{"github", func(t *testing.T, out []byte) (int, int) {
			shown := shownTags(t, string(out), false)
			if c := strings.Count(string(out), "\n::"); c+1 != shown || !bytes.HasPrefix(out, []byte("::")) {
				t.Errorf("%d commands for %d findings", c+1, shown)
			}
			if !strings.HasSuffix(string(out), "\n"+truncatedNote(n-shown, limit)+"\n"+summaryLine+"\n") {
				t.Errorf("github does not end with the note then the summary:\n%s", tail(out))
			}
			return shown, n - shown
		}, 0},
		{"azure", func(t *testing.T, out []byte) (int, int) {
			shown := shownTags(t, string(out), false)
			if !strings.Contains(string(out), "\n"+truncatedNote(n-shown, limit)+"\n"+summaryLine+"\n##vso[task.complete result=Failed;]") {
				t.Errorf("azure does not end with the note, the summary and task.complete:\n%s", tail(out))
			}
			return shown, n - shown
		}, 0},
		{"markdown", func(t *testing.T, out []byte) (int, int) {
			shown := shownTags(t, string(out), false)
			if !strings.HasSuffix(string(out), "> [!NOTE]\n> "+truncatedNote(n-shown, limit)+"\n") {
				t.Errorf("markdown does not end with the note:\n%s", tail(out))
			}
			if !strings.Contains(string(out), fmt.Sprintf("| `dev` | 1 | %d |", r.Summary.Errors)) {
				t.Errorf("the environment table does not count every finding")
			}
			return shown, n - shown
		}, 0},
		{"json", func(t *testing.T, out []byte) (int, int) {
			var doc struct {
				Summary struct {
					finding.Summary
					Truncated int `json:"truncated"`
				} `json:"summary"`
				Findings []finding.Finding `json:"findings"`
			}
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("json does not parse: %v", err)
			}
			if doc.Summary.Summary != r.Summary {
				t.Errorf("summary = %+v, want %+v", doc.Summary.Summary, r.Summary)
			}
			for i, f := range doc.Findings {
				if f.Message != r.Findings[i].Message {
					t.Fatalf("finding %d is not the report's", i)
				}
			}
			return len(doc.Findings), doc.Summary.Truncated
		}, len(`,
    "truncated": 399`)},
		{"sarif", func(t *testing.T, out []byte) (int, int) {
			var log struct {
				Runs []struct {
					Results    []json.RawMessage         `json:"results"`
					Properties map[string]map[string]int `json:"properties"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(out, &log); err != nil {
				t.Fatalf("sarif does not parse: %v", err)
			}
			s := log.Runs[0].Properties["summary"]
			if s["errors"] != r.Summary.Errors || s["warnings"] != r.Summary.Warnings || s["infos"] != r.Summary.Infos {
				t.Errorf("summary = %v, want the counts of every finding", s)
			}
			if shown := shownTags(t, string(out), false); shown != len(log.Runs[0].Results) {
				t.Errorf("%d results, %d tags", len(log.Runs[0].Results), shown)
			}
			validateSARIFIfAvailable(t, out)
			return len(log.Runs[0].Results), s["truncated"]
		}, len(`,
          "truncated": 399`)},
		{"junit", func(t *testing.T, out []byte) (int, int) {
			var doc struct {
				Tests  int `xml:"tests,attr"`
				Suites []struct {
					Name    string `xml:"name,attr"`
					Tests   int    `xml:"tests,attr"`
					Skipped int    `xml:"skipped,attr"`
					Cases   []struct {
						Name    string `xml:"name,attr"`
						Skipped *struct {
							Message string `xml:"message,attr"`
						} `xml:"skipped"`
					} `xml:"testcase"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal(out, &doc); err != nil {
				t.Fatalf("junit does not parse: %v", err)
			}
			shown := shownTags(t, string(out), true)
			last := doc.Suites[len(doc.Suites)-1]
			c := last.Cases[len(last.Cases)-1]
			if last.Name != "fleet" || c.Name != junitTruncated || c.Skipped == nil ||
				c.Skipped.Message != truncatedNote(n-shown, limit) || last.Skipped != 1 {
				t.Errorf("no skipped testcase with the note last in the repository's suite: %+v", last)
			}
			return shown, n - shown
		}, len(`
    <testcase name="(report truncated)" classname="fleet">
      <skipped message="`) + len(truncatedNote(399, 1<<20)) + len(`"></skipped>
    </testcase>`)},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			limit = int64(len(write(t, tt.format, r, WithLimit(1)))) + 16<<10
			if full := write(t, tt.format, r); int64(len(full)) <= limit {
				t.Fatalf("fixture too small: %d bytes", len(full))
			}
			out := write(t, tt.format, r, WithLimit(limit))
			if int64(len(out)) > limit {
				t.Errorf("%d bytes, over the %d limit", len(out), limit)
			}
			shown, omitted := tt.check(t, out)
			if shown == 0 || shown+omitted != n {
				t.Errorf("%d shown and %d omitted, want %d in all", shown, omitted, n)
			}
			// As many as fit: one more finding would not (findings here
			// take a few hundred bytes).
			if int64(len(out)) < limit-1500 {
				t.Errorf("%d bytes for a %d limit: the cut is early", len(out), limit)
			}
			{
				more := &Report{}
				*more = *r
				more.Findings = r.Findings[:shown+1]
				marker := int64(tt.marker)
				if marker == 0 { // a line
					marker = int64(len(truncatedNote(n-shown-1, limit)) + 1)
				}
				if full := write(t, tt.format, more); int64(len(full))+marker <= limit {
					t.Errorf("%d findings would fit (%d bytes and the note), %d shown", shown+1, len(full), shown)
				}
			}
		})
	}
}

// TestTruncationBounds: a limit the report meets exactly changes nothing,
// one byte less cuts it, and a limit below the report without findings
// writes that report, valid.
func TestTruncationBounds(t *testing.T) {
	for _, format := range Formats() {
		t.Run(string(format), func(t *testing.T) {
			r := fixture()
			full := write(t, string(format), r)
			if got := write(t, string(format), r, WithLimit(int64(len(full)))); !bytes.Equal(got, full) {
				t.Errorf("at its own size, the report changes:\n%s", got)
			}
			if got := write(t, string(format), r, WithLimit(1<<30)); !bytes.Equal(got, full) {
				t.Errorf("under a large limit, the report changes:\n%s", got)
			}
			less := int64(len(full) - 1)
			cut := write(t, string(format), r, WithLimit(less))
			if int64(len(cut)) > less || !bytes.Contains(cut, []byte("1 more finding not shown")) && !bytes.Contains(cut, []byte(`"truncated": 1`)) {
				t.Errorf("one byte short: %d bytes, want at most %d and one finding left out:\n%s", len(cut), less, cut)
			}
			tiny := write(t, string(format), r, WithLimit(1))
			if !bytes.Contains(tiny, []byte(fmt.Sprintf("%d more findings not shown", len(r.Findings)))) &&
				!bytes.Contains(tiny, []byte(fmt.Sprintf(`"truncated": %d`, len(r.Findings)))) {
				t.Errorf("limit 1: no note for the %d findings:\n%s", len(r.Findings), tiny)
			}
			switch format {
			case FormatJSON:
				var doc map[string]any
				if err := json.Unmarshal(tiny, &doc); err != nil {
					t.Error(err)
				}
			case FormatSARIF:
				validateSARIFIfAvailable(t, tiny)
			case FormatJUnit:
				var doc struct{}
				if err := xml.Unmarshal(tiny, &doc); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestTruncationHostile: a cut report of hostile findings is as safe.
func TestTruncationHostile(t *testing.T) {
	r := hostileReport()
	for _, format := range []string{"text", "github", "azure", "markdown", "junit", "json", "sarif"} {
		out := write(t, format, r, WithLimit(2000))
		if !bytes.Contains(out, []byte("not shown")) && !bytes.Contains(out, []byte(`"truncated"`)) {
			t.Errorf("%s: not cut at 2000 bytes", format)
		}
		if format == "github" || format == "azure" {
			continue // their own commands: TestHostileDisplay
		}
		checkDisplay(t, string(out), false, none)
	}
}

func TestStepSummaryLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	r := manyFindings(400)
	write(t, "github", r, WithStepSummary(path), WithLimit(8<<10))
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 8<<10 || !bytes.Contains(got, []byte("more findings not shown: the report reached its 8 KiB limit")) {
		t.Errorf("step summary of %d bytes, want at most 8 KiB and the note:\n%s", len(got), tail(got))
	}
}

func validateSARIFIfAvailable(t *testing.T, out []byte) {
	t.Helper()
	t.Run("schema", func(t *testing.T) { validateSARIF(t, loadSARIFSchema(t), out) })
}

func tail(b []byte) string {
	return string(b[max(0, len(b)-600):])
}
