package git

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// TestCatFile: objects come back in order, found or not; content fn leaves
// unread (or a tree's, which it does not want) does not shift the next.
func TestCatFile(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "dir.yaml"), 0o755)
	os.WriteFile(filepath.Join(src, "dir.yaml", "x"), []byte("x\n"), 0o644)
	os.WriteFile(filepath.Join(src, "a.yaml"), []byte("alpha\nbeta\n"), 0o644)
	os.WriteFile(filepath.Join(src, "with space.yaml"), []byte(""), 0o644)
	repo := testutil.GitRepo(t, src, testutil.GitOptions{})
	names := []string{"HEAD:./a.yaml", "HEAD:./gone.yaml", "HEAD:./dir.yaml", "HEAD:./with space.yaml", "HEAD:./missing file.yaml", "HEAD:./a.yaml"}
	var got []string
	err := CatFile(context.Background(), repo, names, func(i int, obj Object, content io.Reader) error {
		if obj.Name != names[i] {
			t.Errorf("object %d is %s, want %s", i, obj.Name, names[i])
		}
		var b []byte
		if i == 0 {
			b = make([]byte, 3) // read a part only
			io.ReadFull(content, b)
		} else if obj.Type == "blob" {
			b, _ = io.ReadAll(content)
		}
		size := obj.Size
		if obj.Type == "tree" {
			size = -1 // depends on the hash algorithm
		}
		got = append(got, fmt.Sprintf("%s %v %d %q", obj.Type, obj.Found(), size, b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`blob true 11 "alp"`,
		`missing false 0 ""`,
		`tree true -1 ""`,
		`blob true 0 ""`,
		`missing false 0 ""`,
		`blob true 11 "alpha\nbeta\n"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// An error of fn ends the read and is returned.
	stop := fmt.Errorf("stop")
	n := 0
	if err := CatFile(context.Background(), repo, names, func(int, Object, io.Reader) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("fn error: got %v after %d objects", err, n)
	}
	if err := CatFile(context.Background(), repo, []string{"HEAD:./a\nb"}, func(int, Object, io.Reader) error { return nil }); err == nil {
		t.Error("a name with a line break was written to git")
	}
}
