package schema

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

func corpus(t testing.TB, repo string) string { return testutil.Corpus(t, repo) }

func renderCorpus(t testing.TB, repo string, sources map[string]string) *render.Result {
	t.Helper()
	res, err := render.Render(context.Background(), render.Options{Root: corpus(t, repo), Sources: sources})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestCorpusSchema validates the corpus repositories, which reconcile in
// production: the one error class allowed is onedr0p's Alert listing an
// event source of kind FluxInstance, which the notification-controller CRD's
// enum does not include (an upstream mismatch the apiserver does reject).
func TestCorpusSchema(t *testing.T) {
	c, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range []string{"onedr0p-home-ops", "flux2-kustomize-helm-example", "flux2-multi-tenancy"} {
		t.Run(repo, func(t *testing.T) {
			var src map[string]string
			if repo == "flux2-multi-tenancy" {
				src = map[string]string{"apps/dev-team": corpus(t, "flux2-multi-tenancy-dev-team")}
			}
			res := renderCorpus(t, repo, src)
			objects, invalid, unknown := 0, 0, 0
			for _, env := range res.Environments {
				for _, k := range env.Kustomizations {
					objects += len(k.Objects)
				}
			}
			before := contents(t, res)
			fs := c.Check(context.Background(), res)
			if contents(t, res) != before {
				t.Error("the check modified rendered objects (the render result is shared by every checker)")
			}
			bad := map[string]bool{}
			for _, f := range fs {
				key := f.Environment + " " + f.Kustomization + " " + f.Object.String()
				switch {
				case f.Rule == RuleUnknownKind.ID:
					unknown++
				case f.Severity == finding.Error && !bad[key]:
					bad[key] = true
					invalid++
					if !strings.Contains(f.Message, "/spec/eventSources/0/kind") || f.File != "kubernetes/components/alerts/alertmanager/alert.yaml" {
						t.Errorf("false error %s:%d %s", f.File, f.Line, f.Message)
					}
				}
			}
			t.Logf("%s: %d objects: %d valid, %d invalid, %d of unknown kind", repo, objects, objects-invalid-unknown, invalid, unknown)
		})
	}
}

// contents serializes every rendered object.
func contents(t *testing.T, res *render.Result) string {
	t.Helper()
	var b strings.Builder
	for _, env := range res.Environments {
		for _, k := range env.Kustomizations {
			for _, o := range k.Objects {
				j, err := json.Marshal(o.Content)
				if err != nil {
					t.Fatal(err)
				}
				b.Write(j)
				b.WriteByte('\n')
			}
		}
	}
	return b.String()
}

func BenchmarkSchemaOnedr0p(b *testing.B) {
	res := renderCorpus(b, "onedr0p-home-ops", nil)
	for b.Loop() {
		c, err := Load(Options{})
		if err != nil {
			b.Fatal(err)
		}
		c.Check(context.Background(), res)
	}
}

// TestWarm checks that compiling ahead changes no finding, compiles what it
// is given (built-in kinds and the bundled CRDs' kinds) and stops when
// told.
func TestWarm(t *testing.T) {
	res := renderCorpus(t, "onedr0p-home-ops", nil)
	seen := map[render.TypeMeta]bool{}
	var kinds []render.TypeMeta
	for _, env := range res.Environments {
		for _, k := range env.Kustomizations {
			for _, o := range k.Objects {
				if tm := (render.TypeMeta{APIVersion: o.APIVersion(), Kind: o.Kind()}); !seen[tm] {
					seen[tm] = true
					kinds = append(kinds, tm)
				}
			}
		}
	}
	cold, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	warm, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	warm.Warm(stopped, kinds)
	if n := len(warm.v.compiled); n != 0 {
		t.Fatalf("a cancelled warm-up compiled %d schemas", n)
	}
	warm.Warm(context.Background(), []render.TypeMeta{{APIVersion: "helm.toolkit.fluxcd.io/v2", Kind: "HelmRelease"}, {APIVersion: "apps/v1", Kind: "Deployment"}})
	if n := len(warm.v.compiled); n != 2 {
		t.Errorf("warming HelmRelease and Deployment compiled %d schemas, want 2", n)
	}
	warm.Warm(context.Background(), kinds)
	compiled := len(warm.v.compiled)
	want, got := cold.Check(context.Background(), res), warm.Check(context.Background(), res)
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if string(wj) != string(gj) {
		t.Errorf("warmed checker found otherwise:\ncold: %s\nwarm: %s", wj, gj)
	}
	if len(warm.v.compiled) != compiled {
		t.Errorf("the check compiled %d more schemas after warming every rendered kind", len(warm.v.compiled)-compiled)
	}
	t.Logf("%d kinds, %d schemas compiled ahead, %d findings", len(kinds), compiled, len(got))
}
