package converge

import (
	"context"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// BenchmarkConvergeOnedr0p measures the convergence checks on the largest
// corpus repository (render excluded).
func BenchmarkConvergeOnedr0p(b *testing.B) {
	root := testutil.Corpus(b, "onedr0p-home-ops")
	res, err := render.Render(context.Background(), render.Options{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Checker{}.Check(context.Background(), res)
	}
}
