package lint

import (
	"context"
	"reflect"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/pool"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// TestWorkersBoundTheRun: --workers N is one limiter shared by the render
// (YAML parses, kustomize builds), the loading of the checkers and every
// checker's work, so at no moment do more than N goroutines do CPU work —
// and the findings are the same whatever N.
func TestWorkersBoundTheRun(t *testing.T) {
	// The platform fixture renders its tenants' sources lazily, inside
	// builds (a load that must not wait for a slot its build holds).
	workersBound(t, testutil.FixturePath(t, "platform"), map[string]string{
		"team-a/team-a": testutil.FixturePath(t, "team-a"),
		"team-b/team-b": testutil.FixturePath(t, "team-b"),
	}, 3)
}

// TestWorkersBoundOnedr0p: the same on a large real repository with
// findings of every checker.
func TestWorkersBoundOnedr0p(t *testing.T) {
	workersBound(t, testutil.Corpus(t, "onedr0p-home-ops"), nil, 1)
}

func workersBound(t *testing.T, platform string, sources map[string]string, envs int) {
	t.Helper()
	run := func(n int) (*Result, *pool.Limiter) {
		cpu := pool.NewLimiter(n)
		r, err := Run(context.Background(), Config{
			Scope: func(context.Context) (Scope, error) {
				return Scope{Render: render.Options{Root: platform, Sources: sources, CPU: cpu}}, nil
			},
			Render:   render.Render,
			Checkers: func() ([]Checker, error) { return NewCheckers(Settings{Root: platform, CPU: cpu}) },
			Where:    "platform",
		})
		if err != nil {
			t.Fatal(err)
		}
		return r, cpu
	}
	want, _ := run(8)
	if len(want.Render.Environments) != envs {
		t.Fatalf("want %d environments, got %d", envs, len(want.Render.Environments))
	}
	for _, n := range []int{1, 2} {
		got, cpu := run(n)
		if p := cpu.Peak(); p < 1 || p > n {
			t.Errorf("--workers %d: %d slots were held at once", n, p)
		}
		if !reflect.DeepEqual(got.Findings, want.Findings) {
			t.Errorf("--workers %d: findings differ from --workers 8", n)
		}
		t.Logf("--workers %d: peak %d slots, %d findings", n, cpu.Peak(), len(got.Findings))
	}
}
