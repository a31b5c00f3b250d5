package finding

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func obj(kind, ns, name string) *Object {
	return &Object{APIVersion: "v1", Kind: kind, Namespace: ns, Name: name}
}

func TestSortOrder(t *testing.T) {
	// want is in contract order: file, line, rule, environment, object.
	want := []Finding{
		{File: "", Line: 0, Rule: "render/source-missing", Severity: Warning, Message: "no source file"},
		{File: "a.yaml", Line: 1, Rule: "yaml/syntax", Severity: Error},
		{File: "a.yaml", Line: 2, Rule: "render/error", Severity: Error},
		{File: "a.yaml", Line: 10, Rule: "render/error", Severity: Error}, // numeric, not lexical
		{File: "b.yaml", Line: 3, Rule: "render/error", Environment: "prod", Severity: Error},
		{File: "b.yaml", Line: 3, Rule: "render/substitution", Environment: "dev", Severity: Error},
		{File: "b.yaml", Line: 3, Rule: "render/substitution", Environment: "prod", Object: obj("ConfigMap", "a", "x"), Severity: Error},
		{File: "b.yaml", Line: 3, Rule: "render/substitution", Environment: "prod", Object: obj("ConfigMap", "b", "x"), Severity: Error},
		{File: "b.yaml", Line: 3, Rule: "render/substitution", Environment: "prod", Object: obj("Service", "a", "x"), Severity: Error},
		{File: "b.yaml", Line: 3, Rule: "render/substitution", Environment: "test", Severity: Error},
		{File: "dir/a.yaml", Line: 1, Rule: "yaml/syntax", Severity: Error},
	}
	// Every rotation and the reversal must sort back to want.
	inputs := [][]Finding{slices.Clone(want)}
	rev := slices.Clone(want)
	slices.Reverse(rev)
	inputs = append(inputs, rev)
	for i := 1; i < len(want); i++ {
		inputs = append(inputs, append(slices.Clone(want[i:]), want[:i]...))
	}
	for i, in := range inputs {
		got := Sort(in)
		if !slices.EqualFunc(got, want, func(a, b Finding) bool { return Compare(a, b) == 0 }) {
			t.Errorf("input %d: got order\n%s\nwant\n%s", i, dump(got), dump(want))
		}
	}
}

func TestSortTieBreakers(t *testing.T) {
	// Findings equal on the contract keys are still ordered totally, so
	// output is identical whatever order the workers produced them in.
	base := Finding{File: "a.yaml", Line: 1, Rule: "render/error", Environment: "dev", Severity: Error}
	tests := []struct {
		name   string
		first  func(Finding) Finding
		second func(Finding) Finding
	}{
		{"column", func(f Finding) Finding { f.Column = 1; return f }, func(f Finding) Finding { f.Column = 5; return f }},
		{"kustomization", func(f Finding) Finding { f.Kustomization = "flux-system/a"; return f }, func(f Finding) Finding { f.Kustomization = "flux-system/b"; return f }},
		{"message", func(f Finding) Finding { f.Message = "a"; return f }, func(f Finding) Finding { f.Message = "b"; return f }},
		{"severity", func(f Finding) Finding { f.Severity = Warning; return f }, func(f Finding) Finding { f.Severity = Error; return f }},
		{"no object first", func(f Finding) Finding { return f }, func(f Finding) Finding { f.Object = obj("ConfigMap", "", "x"); return f }},
		{"apiVersion", func(f Finding) Finding {
			f.Object = obj("Deployment", "a", "x")
			f.Object.APIVersion = "apps/v1"
			return f
		},
			func(f Finding) Finding {
				f.Object = obj("Deployment", "a", "x")
				f.Object.APIVersion = "extensions/v1beta1"
				return f
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.first(base), tt.second(base)
			if Compare(a, b) >= 0 || Compare(b, a) <= 0 {
				t.Fatalf("Compare does not order %+v before %+v", a, b)
			}
			got := Sort([]Finding{b, a})
			if len(got) != 2 || Compare(got[0], a) != 0 {
				t.Errorf("Sort = %s, want both, %+v first", dump(got), a)
			}
		})
	}
}

func TestSortDedupe(t *testing.T) {
	f := Finding{Rule: "render/substitution", Severity: Error, Message: "m", File: "a.yaml", Line: 3, Column: 1,
		Environment: "dev", Kustomization: "flux-system/apps", Object: obj("ConfigMap", "a", "x")}
	sameObject := f
	sameObject.Object = obj("ConfigMap", "a", "x") // another pointer, same object
	otherEnv := f
	otherEnv.Environment = "prod"
	otherSeverity := f
	otherSeverity.Severity = Warning

	tests := []struct {
		name string
		in   []Finding
		want int
	}{
		{"empty", nil, 0},
		{"one", []Finding{f}, 1},
		{"identical", []Finding{f, f, f}, 1},
		{"identical object by value", []Finding{f, sameObject}, 1},
		{"identical, not adjacent", []Finding{f, otherEnv, f}, 2},
		{"one per environment", []Finding{f, otherEnv}, 2},
		{"severity differs", []Finding{f, otherSeverity}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sort(slices.Clone(tt.in))
			if len(got) != tt.want {
				t.Errorf("Sort kept %d findings, want %d:\n%s", len(got), tt.want, dump(got))
			}
			for i := 1; i < len(got); i++ {
				if Compare(got[i-1], got[i]) >= 0 {
					t.Errorf("findings %d and %d out of order or duplicate", i-1, i)
				}
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	info := Finding{Rule: "x", Severity: Info}
	warn := Finding{Rule: "x", Severity: Warning}
	fail := Finding{Rule: "x", Severity: Error}
	tests := []struct {
		name      string
		findings  []Finding
		threshold FailOn
		want      int
	}{
		{"none, error", nil, FailOnError, ExitOK},
		{"none, warning", nil, FailOnWarning, ExitOK},
		{"none, never", nil, FailOnNever, ExitOK},
		{"info, error", []Finding{info}, FailOnError, ExitOK},
		{"info, warning", []Finding{info}, FailOnWarning, ExitOK},
		{"warning, error", []Finding{info, warn}, FailOnError, ExitOK},
		{"warning, warning", []Finding{info, warn}, FailOnWarning, ExitFindings},
		{"warning, never", []Finding{warn}, FailOnNever, ExitOK},
		{"error, error", []Finding{info, fail}, FailOnError, ExitFindings},
		{"error, warning", []Finding{fail}, FailOnWarning, ExitFindings},
		{"error, never", []Finding{warn, fail}, FailOnNever, ExitOK},
		{"unset threshold means error", []Finding{warn}, "", ExitOK},
		{"unset threshold, error", []Finding{fail}, "", ExitFindings},
		{"unknown severity never fails", []Finding{{Rule: "x"}}, FailOnWarning, ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.findings, tt.threshold); got != tt.want {
				t.Errorf("ExitCode(%s) = %d, want %d", tt.threshold, got, tt.want)
			}
		})
	}
}

func TestExitCodesOfContract(t *testing.T) {
	// docs/contract.md: 0 ok, 1 findings, 2 usage or config, 3 internal.
	for got, want := range map[int]int{ExitOK: 0, ExitFindings: 1, ExitUsage: 2, ExitInternal: 3} {
		if got != want {
			t.Errorf("exit code constant %d, want %d", got, want)
		}
	}
}

func TestParseSeverity(t *testing.T) {
	tests := []struct {
		in      string
		want    Severity
		wantErr bool
	}{
		{"error", Error, false},
		{"warning", Warning, false},
		{"info", Info, false},
		{"ERROR", Error, false},
		{"Warning", Warning, false},
		{"", "", true},
		{"never", "", true},
		{"warn", "", true},
		{"fatal", "", true},
		{" error", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSeverity(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSeverity(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseSeverity(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), "error, warning or info") {
				t.Errorf("error %q does not say what is accepted", err)
			}
		})
	}
}

func TestParseFailOn(t *testing.T) {
	tests := []struct {
		in      string
		want    FailOn
		wantErr bool
	}{
		{"error", FailOnError, false},
		{"warning", FailOnWarning, false},
		{"never", FailOnNever, false},
		{"", "", true},
		{"info", "", true},
		{"warn", "", true},
		{"always", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFailOn(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseFailOn(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseFailOn(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), "error, warning or never") {
				t.Errorf("error %q does not say what is accepted", err)
			}
		})
	}
}

func TestSeverityRank(t *testing.T) {
	if !(Info.Rank() < Warning.Rank() && Warning.Rank() < Error.Rank()) {
		t.Errorf("ranks not increasing: info %d, warning %d, error %d", Info.Rank(), Warning.Rank(), Error.Rank())
	}
	if r := Severity("").Rank(); r != 0 {
		t.Errorf("zero Severity ranks %d, want 0 (invalid)", r)
	}
}

func TestSummaryCount(t *testing.T) {
	tests := []struct {
		name                    string
		findings                []Finding
		errors, warnings, infos int
	}{
		{"none", nil, 0, 0, 0},
		{"mixed", []Finding{{Severity: Error}, {Severity: Warning}, {Severity: Error}, {Severity: Info}, {Severity: Warning}, {Severity: Error}}, 3, 2, 1},
		{"unknown severity is not counted", []Finding{{Severity: ""}, {Severity: "fatal"}, {Severity: Info}}, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Stale counters are reset; the other fields are left alone.
			s := Summary{Environments: 3, Kustomizations: 12, Objects: 240, DurationMs: 830, Errors: 9, Warnings: 9, Infos: 9}
			s.Count(tt.findings)
			want := Summary{Environments: 3, Kustomizations: 12, Objects: 240, DurationMs: 830,
				Errors: tt.errors, Warnings: tt.warnings, Infos: tt.infos}
			if s != want {
				t.Errorf("Count = %+v, want %+v", s, want)
			}
		})
	}
}

func TestObjectString(t *testing.T) {
	tests := []struct {
		o    Object
		want string
	}{
		{Object{APIVersion: "v1", Kind: "Service", Namespace: "team-a", Name: "web"}, "Service/team-a/web"},
		{Object{APIVersion: "v1", Kind: "Namespace", Name: "team-a"}, "Namespace/team-a"},
	}
	for _, tt := range tests {
		if got := tt.o.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestRuleNew(t *testing.T) {
	r := Rule{ID: "group/name", Severity: Warning, Help: "h"}
	f := r.New(Finding{Rule: "other", Severity: Error, Message: "m", File: "a.yaml", Line: 2})
	if f.Rule != "group/name" || f.Severity != Warning || f.Message != "m" || f.File != "a.yaml" || f.Line != 2 {
		t.Errorf("New stamps the rule's id and severity and keeps the rest: %+v", f)
	}
}

func TestSortRules(t *testing.T) {
	rs := SortRules([]Rule{{ID: "b/x"}, {ID: "a/y"}, {ID: "a/x"}})
	if rs[0].ID != "a/x" || rs[1].ID != "a/y" || rs[2].ID != "b/x" {
		t.Errorf("SortRules: %v", rs)
	}
}

func dump(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		o := ""
		if f.Object != nil {
			o = f.Object.String()
		}
		fmt.Fprintf(&b, "  %s:%d %s [%s] %s %s\n", f.File, f.Line, f.Rule, f.Environment, o, f.Severity)
	}
	return b.String()
}
