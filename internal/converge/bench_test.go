package converge

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/render"
)

// BenchmarkConvergeOnedr0p measures the convergence checks on the largest
// corpus repository (render excluded).
func BenchmarkConvergeOnedr0p(b *testing.B) {
	root := filepath.Join("..", "..", "..", "shared", "corpus", "onedr0p-home-ops")
	if _, err := os.Stat(root); err != nil {
		b.Skip("shared corpus absent")
	}
	res, err := render.Render(context.Background(), render.Options{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Checker{}.Check(context.Background(), res)
	}
}
