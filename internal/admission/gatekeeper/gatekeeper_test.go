package gatekeeper

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/objects"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// readSources decodes a multi-document YAML file, each document with the
// line of its first non-comment line.
func readSources(t testing.TB, path string) []Source {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := splitSources(filepath.ToSlash(path), data)
	if err != nil {
		t.Fatal(err)
	}
	return srcs
}

func splitSources(name string, data []byte) ([]Source, error) {
	var out []Source
	lines := strings.SplitAfter(string(data), "\n")
	start := 0
	flush := func(end int) error {
		doc := strings.Join(lines[start:end], "")
		first := 0
		for i := start; i < end; i++ {
			l := strings.TrimSpace(lines[i])
			if l != "" && !strings.HasPrefix(l, "#") {
				first = i + 1
				break
			}
		}
		objs, err := objects.Decode([]byte(doc))
		if err != nil {
			return err
		}
		for _, o := range objs {
			out = append(out, Source{Object: o, File: name, Line: first})
		}
		return nil
	}
	for i, l := range lines {
		if strings.TrimRight(l, "\r\n") == "---" {
			if err := flush(i); err != nil {
				return nil, err
			}
			start = i + 1
		}
	}
	if err := flush(len(lines)); err != nil {
		return nil, err
	}
	return out, nil
}

func policySources(t testing.TB) []Source {
	var srcs []Source
	for _, f := range []string{"templates.yaml", "broken.yaml", "constraints.yaml"} {
		srcs = append(srcs, readSources(t, filepath.Join("testdata", "policy", f))...)
	}
	return srcs
}

func loadPolicy(t testing.TB) (*Policy, []Problem) {
	t.Helper()
	p, probs, err := Load(context.Background(), policySources(t))
	if err != nil {
		t.Fatal(err)
	}
	return p, probs
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -run %s -update):\n--- got\n%s\n--- want\n%s", name, t.Name(), got, want)
	}
}

func TestLoadProblems(t *testing.T) {
	p, probs := loadPolicy(t)
	var b strings.Builder
	for _, pr := range probs {
		fmt.Fprintln(&b, pr.String())
	}
	golden(t, "problems.golden", b.String())

	if got := p.Constraints(); got != 5 {
		t.Errorf("constraints loaded = %d, want 5", got)
	}
	want := map[string]struct {
		kind ProblemKind
		line int
		text string
	}{
		"ConstraintTemplate/k8sbrokenrego":        {ProblemInvalid, 2, "rego line 5: rego_parse_error"},
		"ConstraintTemplate/k8suniqueingresshost": {ProblemNotEvaluated, 20, "data.inventory"},
		"ConstraintTemplate/k8sphonehome":         {ProblemRefused, 41, "http.send"},
		"K8sNoSuchTemplate/orphan":                {ProblemInvalid, 61, "no ConstraintTemplate defines kind K8sNoSuchTemplate"},
		"K8sUniqueIngressHost/unique-hosts":       {ProblemNotEvaluated, 71, "data.inventory"},
		"K8sRequiredLabels/bad-action":            {ProblemInvalid, 76, `"block"`},
		"K8sRequiredLabels/bad-parameters":        {ProblemInvalid, 85, "parameters.labels"},
		"ConstraintTemplate/k8scelonly":           {ProblemNotEvaluated, 93, "not CEL"},
	}
	if len(probs) != len(want) {
		t.Errorf("%d problems, want %d", len(probs), len(want))
	}
	for _, pr := range probs {
		w, ok := want[pr.Object]
		if !ok {
			t.Errorf("unexpected problem %s", pr)
			continue
		}
		if pr.Kind != w.kind || pr.Line != w.line || pr.File != "testdata/policy/broken.yaml" || !strings.Contains(pr.Message, w.text) {
			t.Errorf("problem %s: want kind %q at broken.yaml:%d mentioning %q", pr, w.kind, w.line, w.text)
		}
	}
}

// reviewAll reviews every workload, as alice unless the object says
// otherwise, and renders the verdicts.
func reviewAll(t *testing.T, p *Policy, user string) string {
	t.Helper()
	nss := map[string]map[string]any{}
	for _, s := range readSources(t, filepath.Join("testdata", "objects", "namespaces.yaml")) {
		nss[objects.NestedString(s.Object, "metadata", "name")] = s.Object
	}
	var b strings.Builder
	for _, obj := range readSources(t, filepath.Join("testdata", "objects", "workloads.yaml")) {
		ns := nss[objects.NestedString(obj.Object, "metadata", "namespace")]
		vs, skips, err := p.Review(context.Background(), obj, ns, user, []string{"system:authenticated"})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%d %s %s/%s\n", obj.File, obj.Line, objects.NestedString(obj.Object, "kind"),
			objects.NestedString(obj.Object, "metadata", "namespace"), objects.NestedString(obj.Object, "metadata", "name"))
		for _, v := range vs {
			fmt.Fprintf(&b, "  %s %s/%s action=%s scoped=%v (%s:%d)\n    %s\n", v.Severity, v.ConstraintKind, v.ConstraintName,
				v.EnforcementAction, v.ScopedActions, v.ConstraintFile, v.ConstraintLine, v.Message)
		}
		for _, s := range skips {
			fmt.Fprintf(&b, "  skipped %s/%s: %s\n", s.Kind, s.Name, s.Reason)
		}
		if d := Denial(vs); d != "" {
			fmt.Fprintf(&b, "  denial: %q\n", d)
		}
	}
	return b.String()
}

func TestReviewMessages(t *testing.T) {
	p, _ := loadPolicy(t)
	golden(t, "messages.golden", reviewAll(t, p, "alice@example.com"))
}

func TestReviewUserInfo(t *testing.T) {
	p, _ := loadPolicy(t)
	golden(t, "messages-intern.golden", reviewAll(t, p, "intern@example.com"))
}

func TestReviewVerdicts(t *testing.T) {
	p, _ := loadPolicy(t)
	objs := readSources(t, filepath.Join("testdata", "objects", "workloads.yaml"))
	teamA := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "team-a", "labels": map[string]any{"env": "prod"}}}
	vs, skips, err := p.Review(context.Background(), objs[0], teamA, "alice@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(skips) != 0 {
		t.Errorf("skips = %v", skips)
	}
	got := map[string]Violation{}
	for _, v := range vs {
		got[v.ConstraintName] = v
	}
	deny := got["team-a-must-have-team"]
	if want := `admission webhook "validation.gatekeeper.sh" denied the request: [team-a-must-have-team] you must provide labels: {"team"}`; deny.Message != want {
		t.Errorf("deny message\n got %q\nwant %q", deny.Message, want)
	}
	if deny.Severity != SeverityError || deny.ConstraintLine != 1 {
		t.Errorf("deny = %+v", deny)
	}
	if w := got["internal-registry"]; w.Severity != SeverityWarning || !strings.HasPrefix(w.Message, "[internal-registry] container <nginx>") {
		t.Errorf("warn = %+v", w)
	}
	if d := got["owner-label-audit"]; d.Severity != SeverityInfo || d.EnforcementAction != "dryrun" {
		t.Errorf("dryrun = %+v", d)
	}
	if _, ok := got["no-latest-in-prod"]; !ok {
		t.Errorf("no-latest-in-prod not violated: %+v", vs)
	}
	// In a dev namespace the namespaceSelector does not match.
	teamA["metadata"].(map[string]any)["labels"] = map[string]any{"env": "dev"}
	vs, _, err = p.Review(context.Background(), objs[0], teamA, "alice@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.ConstraintName == "no-latest-in-prod" {
			t.Errorf("no-latest-in-prod matched a dev namespace")
		}
	}
}

func TestReviewDeadline(t *testing.T) {
	tmpl := `apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sslow
spec:
  crd:
    spec:
      names:
        kind: K8sSlow
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sslow
        violation[{"msg": "slow"}] {
          n := numbers.range(1, 20000)
          count([x | x := n[_]; y := n[_]; x == y + 30000]) == 0
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sSlow
metadata:
  name: slow
`
	srcs, err := splitSources("slow.yaml", []byte(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	p, probs, err := Load(context.Background(), srcs)
	if err != nil || len(probs) != 0 {
		t.Fatal(err, probs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	obj := Source{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x"}}, File: "x.yaml", Line: 1}
	start := time.Now()
	_, _, err = p.Review(ctx, obj, nil, "alice", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("review took %v after a 100ms deadline", d)
	}
}

func TestReviewNoKind(t *testing.T) {
	p, _ := loadPolicy(t)
	_, _, err := p.Review(context.Background(), Source{Object: map[string]any{"metadata": map[string]any{}}}, nil, "", nil)
	if !errors.Is(err, ErrNoVersion) {
		t.Errorf("err = %v", err)
	}
}

func TestLoadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Load(ctx, policySources(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestWildcard(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"kube-*", "kube-system", true},
		{"kube-*", "team-a", false},
		{"*-system", "kube-system", true},
		{"*ube*", "kube-system", true},
		{"*", "anything", true},
		{"team-a", "team-a", true},
		{"team-a", "team-ab", false},
	}
	for _, c := range cases {
		if got := wildcard(c.p, c.s); got != c.want {
			t.Errorf("wildcard(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

func FuzzLoad(f *testing.F) {
	for _, name := range []string{"templates.yaml", "broken.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "policy", name))
		if err != nil {
			f.Fatal(err)
		}
		for _, doc := range strings.Split(string(data), "\n---\n") {
			f.Add(doc)
		}
	}
	f.Add("apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nspec: 3\n")
	f.Add("apiVersion: templates.gatekeeper.sh/v1beta1\nkind: ConstraintTemplate\nmetadata: {name: x}\nspec: {crd: {spec: {names: {kind: X}, validation: {openAPIV3Schema: {type: 7}}}}}\n")
	f.Fuzz(func(t *testing.T, doc string) {
		objs, err := objects.Decode([]byte(doc))
		if err != nil {
			return
		}
		var srcs []Source
		for _, o := range objs {
			srcs = append(srcs, Source{Object: o, File: "fuzz.yaml", Line: 1})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p, _, err := Load(ctx, srcs)
		if err != nil {
			return
		}
		obj := Source{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "x", "namespace": "y"}}}
		_, _, _ = p.Review(ctx, obj, nil, "u", nil)
	})
}

// TestReviewConcurrent reviews the workloads from several goroutines: the
// verdicts are those of a sequential review (run with -race).
func TestReviewConcurrent(t *testing.T) {
	p, _ := loadPolicy(t)
	objs := readSources(t, filepath.Join("testdata", "objects", "workloads.yaml"))
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "team-a", "labels": map[string]any{"env": "prod"}}}
	want := make([]int, len(objs))
	for i, o := range objs {
		vs, _, err := p.Review(context.Background(), o, ns, "intern@example.com", nil)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = len(vs)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for i, o := range objs {
				vs, _, err := p.Review(context.Background(), o, ns, "intern@example.com", nil)
				if err == nil && len(vs) != want[i] {
					err = fmt.Errorf("object %d: %d violations, want %d", i, len(vs), want[i])
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
