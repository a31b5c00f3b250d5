package testutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Limits GitHub code scanning puts on one SARIF upload, past which it
// rejects the file
// (docs.github.com: "SARIF support for code scanning", upload limits).
const (
	GitHubMaxRuns       = 20
	GitHubMaxResults    = 25000
	GitHubMaxRules      = 25000
	GitHubMaxLocations  = 1000
	GitHubMaxTagsOnRule = 20
)

// SARIFSchema compiles the official SARIF 2.1.0 schema from ../shared,
// or skips the test when the development workspace does not have it.
func SARIFSchema(t TB) *jsonschema.Schema {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(self), "..", "..", "..", "shared", "schemas", "sarif-schema-2.1.0.json")
	f, err := os.Open(path)
	if err != nil {
		t.Skip(fmt.Sprintf("SARIF schema not available (%v): it lives in ../shared of the development workspace", err))
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatalf("%v", err)
	}
	schema, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatalf("%v", err)
	}
	return schema
}

// ValidateSARIF checks a SARIF log against the schema.
func ValidateSARIF(t TB, schema *jsonschema.Schema, data []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("sarif is not JSON: %v", err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Errorf("sarif does not validate against the SARIF 2.1.0 schema: %v", err)
	}
}

// gitHubSARIF is what GitHub's upload checks read.
type gitHubSARIF struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID         string `json:"id"`
					Properties struct {
						Tags []string `json:"tags"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex *int   `json:"ruleIndex"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine   int `json:"startLine"`
						StartColumn int `json:"startColumn"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
		} `json:"results"`
	} `json:"runs"`
}

// CheckGitHubSARIF checks what GitHub code scanning requires of an upload
// beyond the schema: at most 20 runs, 25,000 results and rules a run;
// every result names a rule of the run (ruleIndex agreeing), has a message,
// a physical location whose URI is relative to the repository root top and
// names a file that exists there, a start line of at least 1, and
// partialFingerprints. It returns the number of results.
func CheckGitHubSARIF(t TB, data []byte, top string) int {
	t.Helper()
	var log gitHubSARIF
	if err := json.Unmarshal(data, &log); err != nil {
		t.Fatalf("sarif is not JSON: %v", err)
	}
	if log.Version != "2.1.0" {
		t.Errorf("version %q, want 2.1.0", log.Version)
	}
	if len(log.Runs) == 0 || len(log.Runs) > GitHubMaxRuns {
		t.Errorf("%d runs, want 1 to %d", len(log.Runs), GitHubMaxRuns)
	}
	n := 0
	for _, run := range log.Runs {
		if run.Tool.Driver.Name == "" {
			t.Errorf("a run has no tool.driver.name")
		}
		rules := run.Tool.Driver.Rules
		if len(rules) > GitHubMaxRules {
			t.Errorf("%d rules, GitHub takes %d", len(rules), GitHubMaxRules)
		}
		ids := map[string]int{}
		for i, r := range rules {
			ids[r.ID] = i
			if len(r.Properties.Tags) > GitHubMaxTagsOnRule {
				t.Errorf("rule %s has %d tags, GitHub takes %d", r.ID, len(r.Properties.Tags), GitHubMaxTagsOnRule)
			}
		}
		if len(run.Results) > GitHubMaxResults {
			t.Errorf("%d results, GitHub takes %d", len(run.Results), GitHubMaxResults)
		}
		for i, res := range run.Results {
			n++
			where := func() string { return res.RuleID + " " + strings.SplitN(res.Message.Text, "\n", 2)[0] }
			idx, ok := ids[res.RuleID]
			switch {
			case !ok:
				t.Errorf("result %d (%s): rule %q is not in the run's rules", i, where(), res.RuleID)
			case res.RuleIndex != nil && *res.RuleIndex != idx:
				t.Errorf("result %d (%s): ruleIndex %d is rule %d", i, where(), *res.RuleIndex, idx)
			}
			if res.Message.Text == "" {
				t.Errorf("result %d (%s): no message", i, where())
			}
			if len(res.PartialFingerprints) == 0 {
				t.Errorf("result %d (%s): no partialFingerprints", i, where())
			}
			if len(res.Locations) == 0 || len(res.Locations) > GitHubMaxLocations {
				t.Errorf("result %d (%s): %d locations, want 1 to %d", i, where(), len(res.Locations), GitHubMaxLocations)
			}
			for _, loc := range res.Locations {
				uri := loc.PhysicalLocation.ArtifactLocation.URI
				u, err := url.Parse(uri)
				if err != nil || uri == "" || u.IsAbs() || strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "../") {
					t.Errorf("result %d (%s): uri %q is not relative to the repository root", i, where(), uri)
					continue
				}
				if st, err := os.Stat(filepath.Join(top, filepath.FromSlash(u.Path))); err != nil || !st.Mode().IsRegular() {
					t.Errorf("result %d (%s): uri %q is no file of the repository %s", i, where(), uri, top)
				}
				if r := loc.PhysicalLocation.Region; r != nil && r.StartLine < 1 {
					t.Errorf("result %d (%s): startLine %d", i, where(), r.StartLine)
				}
			}
		}
	}
	return n
}
