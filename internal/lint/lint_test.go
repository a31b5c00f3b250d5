package lint

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

func TestRunCheckers(t *testing.T) {
	res := &render.Result{}
	mk := func(rule string) Checker {
		return CheckerFunc(func(context.Context, *render.Result) []finding.Finding {
			return []finding.Finding{{Rule: rule, Severity: finding.Error}}
		})
	}
	got, err := RunCheckers(context.Background(), []Checker{mk("b"), mk("a")}, res)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Rule != "b" || got[1].Rule != "a" {
		t.Errorf("RunCheckers = %+v, want the findings of b then a", got)
	}

	boom := CheckerFunc(func(context.Context, *render.Result) []finding.Finding { panic("boom") })
	_, err = RunCheckers(context.Background(), []Checker{mk("a"), boom}, res)
	if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Errorf("a panicking checker: error = %v, want one naming the panic", err)
	}
	if finding.IsUsage(err) {
		t.Error("a panicking checker must be an internal error, not a usage error")
	}
}

// warmer records what it was warmed with.
type warmer struct {
	mu    sync.Mutex
	kinds []render.TypeMeta
}

func (w *warmer) Warm(_ context.Context, kinds []render.TypeMeta) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.kinds = kinds
}

func (w *warmer) Check(context.Context, *render.Result) []finding.Finding { return nil }

// TestWarmers: the checkers start loading while render runs (once the
// repository is read), and those that can warm up get the kinds beside
// the changed files.
func TestWarmers(t *testing.T) {
	root := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"apps/web/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
		"apps/web/svc.yaml":    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n",
		"apps/db/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: db}\n",
	})
	w := &warmer{}
	loading := make(chan struct{})
	_, err := Run(context.Background(), Config{
		Scope: func(context.Context) (Scope, error) {
			return Scope{Render: render.Options{Root: root, ChangedOnly: true, Changed: []string{"apps/web/svc.yaml"}}, Changed: []string{"apps/web/svc.yaml"}}, nil
		},
		Render: func(ctx context.Context, o render.Options) (*render.Result, error) {
			res, err := render.Render(ctx, o)
			select {
			case <-loading:
			case <-time.After(30 * time.Second):
				t.Error("the checkers did not start loading during render")
			}
			return res, err
		},
		Checkers: func() ([]Checker, error) {
			close(loading)
			return []Checker{w}, nil
		},
		Where: root,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []render.TypeMeta{{APIVersion: "apps/v1", Kind: "Deployment"}, {APIVersion: "v1", Kind: "Service"}}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !slices.Equal(w.kinds, want) {
		t.Errorf("warmed with %v, want %v", w.kinds, want)
	}
}
