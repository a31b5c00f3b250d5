package confine

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "root", "sub"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "root", "a.txt"), []byte("hello"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "root", "sub", "big.txt"), []byte(strings.Repeat("x", 100)), 0o644))
	must(os.WriteFile(filepath.Join(dir, "secret"), []byte("TOKEN=s3cr3t"), 0o644))
	must(os.Symlink("../secret", filepath.Join(dir, "root", "up")))
	must(os.Symlink(filepath.Join(dir, "secret"), filepath.Join(dir, "root", "abs")))
	must(os.Symlink("/proc/self/environ", filepath.Join(dir, "root", "environ")))
	must(os.Symlink("/dev/zero", filepath.Join(dir, "root", "zero")))
	must(os.Symlink("a.txt", filepath.Join(dir, "root", "inside")))
	must(syscall.Mkfifo(filepath.Join(dir, "root", "fifo"), 0o644))
	return filepath.Join(dir, "root")
}

// openTree opens tree(t) as a Root, closed when the test ends.
func openTree(t *testing.T, fileLimit int64, budget *Budget) *Root {
	t.Helper()
	r, err := Open(tree(t), fileLimit, budget)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRootReadFile(t *testing.T) {
	r := openTree(t, 50, nil)
	cases := []struct {
		rel  string
		want error // nil: readable
	}{
		{"a.txt", nil},
		{"inside", nil},
		{"up", ErrOutside},
		{"abs", ErrOutside},
		{"environ", ErrOutside},
		{"zero", ErrOutside},
		{"../secret", ErrOutside},
		{"/etc/passwd", ErrOutside},
		{"sub/../../secret", ErrOutside},
		{"fifo", ErrNotRegular},
		{"sub", ErrNotRegular},
		{"sub/big.txt", ErrTooLarge},
	}
	for _, c := range cases {
		done := make(chan struct{})
		var data []byte
		var err error
		go func() { data, err = r.ReadFile(c.rel); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("ReadFile(%q) hangs", c.rel)
		}
		switch {
		case c.want == nil && err != nil:
			t.Errorf("ReadFile(%q): %v", c.rel, err)
		case c.want != nil && !errors.Is(err, c.want):
			t.Errorf("ReadFile(%q) = %q, %v; want %v", c.rel, data, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("ReadFile(%q) error echoes content: %v", c.rel, err)
		}
	}
}

func TestBudget(t *testing.T) {
	b := NewBudget(8, LimitTotalBytes)
	r := openTree(t, 0, b)
	if _, err := r.ReadFile("a.txt"); err != nil {
		t.Fatal(err)
	}
	_, err := r.ReadFile("a.txt")
	if !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "--limit total-bytes=") {
		t.Fatalf("second read: %v, want a budget refusal naming the setting", err)
	}
	if b.Used() != 5 {
		t.Errorf("used %d, want 5 (a refused read spends nothing)", b.Used())
	}
	b.Give(5)
	if _, err := r.ReadFile("a.txt"); err != nil || b.Used() != 5 {
		t.Errorf("after Give: %v, used %d, want the read again and 5", err, b.Used())
	}
}

func TestWalkSkipsSpecialFiles(t *testing.T) {
	r := openTree(t, 0, nil)
	var got []string
	if err := r.Walk(func(rel string, d fs.DirEntry) error {
		if !d.IsDir() {
			got = append(got, rel)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := "a.txt abs environ inside sub/big.txt up zero"
	if strings.Join(got, " ") != want {
		t.Errorf("Walk = %q, want %q (the FIFO skipped, links listed)", strings.Join(got, " "), want)
	}
}

func TestWithin(t *testing.T) {
	root := tree(t)
	for p, want := range map[string]bool{
		root:                             true,
		filepath.Join(root, "sub"):       true,
		filepath.Join(root, "new/x"):     true,
		filepath.Join(root, "up"):        false,
		filepath.Join(root, "../secret"): false,
		"/":                              false,
	} {
		got, err := Within(root, p)
		if err != nil || got != want {
			t.Errorf("Within(%s) = %v, %v; want %v", p, got, err, want)
		}
	}
}

func TestLimitsSet(t *testing.T) {
	l := Defaults()
	for _, s := range []string{"file-bytes=32MiB", "policy-time=2s", "objects=10", "total-bytes=0"} {
		if err := l.Set(s); err != nil {
			t.Fatalf("Set(%q): %v", s, err)
		}
	}
	if l.FileBytes != 32<<20 || l.PolicyTime != 2*time.Second || l.Objects != 10 || l.TotalBytes != 0 {
		t.Errorf("limits = %+v", l)
	}
	for _, s := range []string{"nope=1", "file-bytes", "file-bytes=-1", "policy-time=soon", "file-bytes=1TB"} {
		if err := l.Set(s); err == nil {
			t.Errorf("Set(%q) accepted", s)
		}
	}
	if FormatBytes(16<<20) != "16 MiB" || FormatBytes(0) != "unlimited" {
		t.Errorf("FormatBytes: %s %s", FormatBytes(16<<20), FormatBytes(0))
	}
}
