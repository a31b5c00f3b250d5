package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteTree(t *testing.T) {
	files := map[string]string{"a.yaml": "a\n", "deep/er/b.go": "package b\n"}
	dir := WriteTree(t, t.TempDir(), files)
	for rel, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", rel, got, err, want)
		}
	}
}
