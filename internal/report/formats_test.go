package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gitops-lint/gitops-lint/internal/testutil"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

func write(t *testing.T, format string, r *Report, opts ...Option) []byte {
	t.Helper()
	w, err := New(format, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := w.Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGitHubEscape(t *testing.T) {
	tests := []struct{ in, data, prop string }{
		{"plain text", "plain text", "plain text"},
		{"100%", "100%25", "100%25"},
		{"%25 stays literal", "%2525 stays literal", "%2525 stays literal"},
		{"a\r\nb\nc", "a%0D%0Ab%0Ac", "a%0D%0Ab%0Ac"},
		{"key: a,b", "key: a,b", "key%3A a%2Cb"},
		{"; and ] are not special", "; and ] are not special", "; and ] are not special"},
	}
	for _, tt := range tests {
		if got := GitHubData(tt.in); got != tt.data {
			t.Errorf("GitHubData(%q) = %q, want %q", tt.in, got, tt.data)
		}
		if got := GitHubProperty(tt.in); got != tt.prop {
			t.Errorf("GitHubProperty(%q) = %q, want %q", tt.in, got, tt.prop)
		}
	}
}

func TestAzureEscape(t *testing.T) {
	tests := []struct{ in, data, prop string }{
		{"plain text", "plain text", "plain text"},
		{"100%", "100%AZP25", "100%AZP25"},
		{"%3B stays literal", "%AZP253B stays literal", "%AZP253B stays literal"},
		{"a\r\nb\nc", "a%0D%0Ab%0Ac", "a%0D%0Ab%0Ac"},
		{"a;b]c", "a;b]c", "a%3Bb%5Dc"},
		{"key: a,b", "key: a,b", "key: a,b"},
	}
	for _, tt := range tests {
		if got := AzureData(tt.in); got != tt.data {
			t.Errorf("AzureData(%q) = %q, want %q", tt.in, got, tt.data)
		}
		if got := AzureProperty(tt.in); got != tt.prop {
			t.Errorf("AzureProperty(%q) = %q, want %q", tt.in, got, tt.prop)
		}
	}
}

// TestCommandsOneLine: whatever a message holds, each finding is exactly
// one logging command, so a message can never inject a command of its own.
func TestCommandsOneLine(t *testing.T) {
	r := fixture()
	r.Findings = append(r.Findings, finding.Finding{Rule: "render/error", Severity: finding.Info,
		Message: "x\n##vso[task.setvariable variable=a]b\n::set-output name=a::b"})
	for _, format := range []string{"github", "azure"} {
		out := string(write(t, format, r))
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		summaryLines := 1
		if format == "azure" {
			summaryLines = 2 // the summary, then task.complete
		}
		if len(lines) != len(r.Findings)+summaryLines {
			t.Errorf("%s: %d lines for %d findings:\n%s", format, len(lines), len(r.Findings), out)
		}
		for _, l := range lines {
			if strings.Count(l, "##vso[") > 1 || strings.HasPrefix(l, "info") && strings.Contains(l, "##vso[") {
				t.Errorf("%s: a message smuggles a command: %s", format, l)
			}
		}
	}
}

func TestNoFileHasNoLocation(t *testing.T) {
	r := &Report{Tool: Tool{Name: "gitops-lint"}, Findings: []finding.Finding{
		{Rule: "render/source-missing", Severity: finding.Warning, Message: "no source"}}}
	if got := string(write(t, "github", r)); !strings.HasPrefix(got, "::warning title=render/source-missing::no source\n") {
		t.Errorf("github = %q", got)
	}
	if got := string(write(t, "azure", r)); !strings.HasPrefix(got, "##vso[task.logissue type=warning;code=render/source-missing]no source\n") {
		t.Errorf("azure = %q", got)
	}
	var log struct {
		Runs []struct {
			Results []map[string]any `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(write(t, "sarif", r), &log); err != nil {
		t.Fatal(err)
	}
	if res := log.Runs[0].Results; len(res) != 1 || res[0]["locations"] != nil {
		t.Errorf("sarif results = %v, want one without locations", res)
	}
}

func TestAzureComplete(t *testing.T) {
	r := fixture()
	if out := string(write(t, "azure", r)); !strings.Contains(out, "\n##vso[task.complete result=Failed;]") {
		t.Errorf("failed run: no task.complete:\n%s", out)
	}
	r.Failed = false
	if out := string(write(t, "azure", r)); strings.Contains(out, "task.complete") {
		t.Errorf("passing run: task.complete written:\n%s", out)
	}
}

// loadSARIFSchema compiles the official SARIF schema, or skips the test.
func loadSARIFSchema(t *testing.T) *jsonschema.Schema { return testutil.SARIFSchema(t) }

// validateSARIF checks out against the SARIF schema.
func validateSARIF(t *testing.T, schema *jsonschema.Schema, out []byte) {
	testutil.ValidateSARIF(t, schema, out)
}

// sarifDoc is the part of a SARIF log the tests read.
type sarifDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID   string `json:"id"`
					Help struct {
						Text string `json:"text"`
					} `json:"help"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Properties          struct {
				Environment   string         `json:"environment"`
				Kustomization string         `json:"kustomization"`
				Object        finding.Object `json:"object"`
			} `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

func decodeSARIF(t *testing.T, out []byte) sarifDoc {
	t.Helper()
	var log sarifDoc
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	return log
}

// TestSARIFSchema validates the SARIF output against the official schema.
func TestSARIFSchema(t *testing.T) {
	schema := loadSARIFSchema(t)
	for name, r := range map[string]*Report{"fixture": fixture(), "empty": empty(), "hostile": hostileReport()} {
		t.Run(name, func(t *testing.T) {
			validateSARIF(t, schema, write(t, "sarif", r))
		})
	}
}

func TestSARIFRulesAndFingerprints(t *testing.T) {
	r := fixture()
	run := decodeSARIF(t, write(t, "sarif", r)).Runs[0]
	if len(run.Tool.Driver.Rules) != len(r.Rules) {
		t.Errorf("%d rules, want %d", len(run.Tool.Driver.Rules), len(r.Rules))
	}
	seen := map[string]bool{}
	for i, res := range run.Results {
		rule := run.Tool.Driver.Rules[res.RuleIndex]
		if rule.ID != res.RuleID || rule.Help.Text == "" {
			t.Errorf("result %d: ruleIndex %d is %q (help %q), want %q with help", i, res.RuleIndex, rule.ID, rule.Help.Text, res.RuleID)
		}
		fp := res.PartialFingerprints[sarifFingerprint]
		if fp == "" || seen[fp] {
			t.Errorf("result %d: fingerprint %q empty or not unique", i, fp)
		}
		seen[fp] = true
	}
}

// TestJUnitCounts parses the JUnit XML back and checks it against the JSON
// summary: a <failure> per error, a testcase per Kustomization.
func TestJUnitCounts(t *testing.T) {
	for name, r := range map[string]*Report{"fixture": fixture(), "empty": empty()} {
		t.Run(name, func(t *testing.T) {
			var doc struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Suites   []struct {
					Name     string `xml:"name,attr"`
					Tests    int    `xml:"tests,attr"`
					Failures int    `xml:"failures,attr"`
					Cases    []struct {
						Name     string     `xml:"name,attr"`
						Failures []struct{} `xml:"failure"`
					} `xml:"testcase"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal(write(t, "junit", r), &doc); err != nil {
				t.Fatal(err)
			}
			var js struct {
				Summary finding.Summary `json:"summary"`
			}
			if err := json.Unmarshal(write(t, "json", r), &js); err != nil {
				t.Fatal(err)
			}
			var failures, failing, tests int
			for _, s := range doc.Suites {
				var sFailing int
				for _, c := range s.Cases {
					failures += len(c.Failures)
					if len(c.Failures) > 0 {
						sFailing++
					}
				}
				if s.Tests != len(s.Cases) || s.Failures != sFailing {
					t.Errorf("suite %s: tests=%d failures=%d, want %d and %d", s.Name, s.Tests, s.Failures, len(s.Cases), sFailing)
				}
				tests += s.Tests
				failing += sFailing
			}
			if failures != js.Summary.Errors {
				t.Errorf("%d <failure> elements, want the summary's %d errors", failures, js.Summary.Errors)
			}
			if doc.Tests != tests || doc.Failures != failing {
				t.Errorf("testsuites tests=%d failures=%d, want %d and %d", doc.Tests, doc.Failures, tests, failing)
			}
			want := 0
			for _, e := range r.Environments {
				want += len(e.Kustomizations)
			}
			var kustomizationCases int
			for _, s := range doc.Suites {
				if s.Name != r.Repository {
					kustomizationCases += len(s.Cases)
				}
			}
			if kustomizationCases != want {
				t.Errorf("%d testcases in environment suites, want one per Kustomization (%d)", kustomizationCases, want)
			}
		})
	}
}

func TestGitHubStepSummary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	if err := os.WriteFile(path, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := fixture()
	write(t, "github", r, WithStepSummary(path))
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "earlier step\n" + string(write(t, "markdown", r))
	if string(got) != want {
		t.Errorf("step summary =\n%s\nwant the earlier content then the markdown report:\n%s", got, want)
	}

	if err := (githubWriter{stepSummary: filepath.Join(t.TempDir(), "missing", "x.md")}).Write(&bytes.Buffer{}, r); err == nil {
		t.Error("no error for an unwritable step summary")
	}
}

func TestMarkdownTrim(t *testing.T) {
	r := fixture()
	for i := range 3000 {
		r.Findings = append(r.Findings, finding.Finding{Rule: "schema/invalid", Severity: finding.Error,
			File: "apps/many.yaml", Line: i + 1, Column: 1, Environment: "dev",
			Message: strings.Repeat("a long message ", 5)})
	}
	out := string(write(t, "markdown", r))
	if len(out) > MarkdownLimit {
		t.Errorf("markdown is %d bytes, want at most %d", len(out), MarkdownLimit)
	}
	if !strings.Contains(out, "findings are not shown") {
		t.Errorf("trimmed markdown has no note:\n%s", out[len(out)-500:])
	}
	if !strings.Contains(out, "| `dev` | 3 | 3002 |") {
		t.Error("the environment table does not count every finding")
	}

	small := string(write(t, "markdown", fixture()))
	if strings.Contains(small, "not shown") {
		t.Error("untrimmed markdown has the trimming note")
	}
}
