package finding

import (
	"fmt"
	"strings"
	"testing"
)

// TestFold: the same rule, severity, position and message reached from
// several contexts is one finding listing them, in order; anything that
// differs stays apart.
func TestFold(t *testing.T) {
	obj := func(ns string) *Object { return &Object{APIVersion: "v1", Kind: "Service", Namespace: ns, Name: "web"} }
	f := func(env, ns, msg string, line int) Finding {
		return Finding{Rule: "policy/x", Severity: Error, File: "base/svc.yaml", Line: line, Column: 3, Environment: env, Kustomization: "flux-system/apps", Object: obj(ns), Message: msg}
	}
	fs := Fold(Sort([]Finding{
		f("prod", "a", "LoadBalancer", 4), f("dev", "a", "LoadBalancer", 4), f("dev", "b", "LoadBalancer", 4),
		f("dev", "a", "other message", 4), f("dev", "a", "LoadBalancer", 9),
	}))
	var got []string
	for _, x := range fs {
		var ctx []string
		for _, c := range x.Contexts {
			ctx = append(ctx, c.String())
		}
		got = append(got, fmt.Sprintf("%d %s ×%d [%s]", x.Line, x.Message, x.Count(), strings.Join(ctx, "; ")))
	}
	want := []string{
		"4 LoadBalancer ×3 [dev flux-system/apps Service/a/web; dev flux-system/apps Service/b/web; prod flux-system/apps Service/a/web]",
		"4 other message ×1 []",
		"9 LoadBalancer ×1 []",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var s Summary
	s.Count(fs)
	if s.Errors != 3 || s.Occurrences != 5 {
		t.Errorf("summary: %d errors, %d occurrences; want 3 and 5", s.Errors, s.Occurrences)
	}
}

// TestFingerprints: stable when lines move or contexts change, distinct per
// rule, file and message, and told apart in order when those repeat.
func TestFingerprints(t *testing.T) {
	base := Finding{Rule: "schema/invalid", File: "a.yaml", Line: 3, Message: "bad", Environment: "dev"}
	moved := base
	moved.Line, moved.Column, moved.Environment = 30, 7, "prod"
	other := base
	other.Message = "worse"
	fs := []Finding{base, moved, other, base}
	Fingerprints(fs)
	if fs[0].Fingerprint == "" || fs[0].Fingerprint == fs[1].Fingerprint || fs[0].Fingerprint == fs[2].Fingerprint {
		t.Errorf("fingerprints %q: want the repeat told apart from the first, the other message distinct", []string{fs[0].Fingerprint, fs[1].Fingerprint, fs[2].Fingerprint})
	}
	again := []Finding{moved}
	Fingerprints(again)
	if again[0].Fingerprint != fs[0].Fingerprint {
		t.Error("a finding whose line and environment changed has a new fingerprint")
	}
	if n := MarkBaseline(fs, map[string]bool{fs[2].Fingerprint: true}); n != 1 || !fs[2].Baseline || fs[0].Baseline {
		t.Errorf("MarkBaseline marked %d", n)
	}
	if ExitCode(fs[2:3], FailOnError) != ExitOK {
		t.Error("a baseline finding fails the run")
	}
}

// TestGather: a group moves to its first member, a file of the repository
// before one with no file, keeping each context.
func TestGather(t *testing.T) {
	fs := Gather([]Finding{
		{Rule: "r", File: "", Message: "no file", Environment: "dev"},
		{Rule: "r", File: "b.yaml", Line: 2, Column: 1, Message: "b", Environment: "dev"},
		{Rule: "r", File: "a.yaml", Line: 9, Column: 5, Message: "a", Environment: "prod"},
		{Rule: "s", File: "z.yaml", Line: 1, Message: "apart"},
	}, func(f Finding) string {
		if f.Rule == "r" {
			return "group"
		}
		return ""
	})
	for _, f := range fs[:3] {
		if f.File != "a.yaml" || f.Line != 9 || f.Column != 5 || f.Message != "a" {
			t.Errorf("gathered %+v, want a.yaml:9:5 with message a", f)
		}
	}
	if fs[1].Environment != "dev" || fs[3].File != "z.yaml" {
		t.Errorf("contexts or other findings changed: %+v", fs)
	}
	if n := len(Fold(Sort(fs))); n != 2 {
		t.Errorf("%d findings after Fold, want 2", n)
	}
}
