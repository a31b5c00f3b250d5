package modzip

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// writeZip builds a module zip in memory: files are relative to the module
// root and get the module@version/ prefix, plus one stray file outside it.
func writeZip(t *testing.T, module, version string, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(module + "@" + version + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tinyZip(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "v1.2.3.zip")
	b := writeZip(t, "example.com/tiny", "v1.2.3", map[string]string{
		"go.mod":                  "module example.com/tiny\n",
		"config/crd/bases/a.yaml": "a: 1\n",
		"config/crd/bases/b.yaml": "b: 2\n",
		"config/crd/other.yaml":   "c: 3\n",
	})
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadFile(t *testing.T) {
	z := tinyZip(t)
	got, err := ReadFile(z, "example.com/tiny", "v1.2.3", "config/crd/bases/a.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "a: 1\n" {
		t.Errorf("ReadFile = %q", got)
	}
	_, err = ReadFile(z, "example.com/tiny", "v1.2.3", "missing.yaml")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: err = %v, want ErrNotFound", err)
	}
	// The version is part of every path: another version's name finds nothing.
	if _, err := ReadFile(z, "example.com/tiny", "v1.2.4", "go.mod"); !errors.Is(err, ErrNotFound) {
		t.Errorf("wrong version: err = %v, want ErrNotFound", err)
	}
}

func TestGlob(t *testing.T) {
	z := tinyZip(t)
	got, err := Glob(z, "example.com/tiny", "v1.2.3", "config/crd/bases/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if names := strings.Join(Names(got), ","); names != "config/crd/bases/a.yaml,config/crd/bases/b.yaml" {
		t.Errorf("Glob names = %s", names)
	}
	if string(got["config/crd/bases/b.yaml"]) != "b: 2\n" {
		t.Errorf("Glob content = %q", got["config/crd/bases/b.yaml"])
	}
	if _, err := Glob(z, "example.com/tiny", "v1.2.3", "nothing/*.yaml"); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty glob: err = %v, want ErrNotFound", err)
	}
	if _, err := Glob(z, "example.com/tiny", "v1.2.3", "[bad"); err == nil {
		t.Error("bad pattern: no error")
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"k8s.io/kubernetes":                "k8s.io/kubernetes",
		"github.com/Masterminds/semver/v3": "github.com/!masterminds/semver/v3",
		"github.com/BurntSushi/toml":       "github.com/!burnt!sushi/toml",
		"v1.0.0-RC1":                       "v1.0.0-!r!c1",
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFetchFromFileProxy runs the real go command against a GOPROXY on disk
// and an empty module cache, so it needs no network.
func TestFetchFromFileProxy(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	const mod, ver = "example.com/tiny", "v1.2.3"
	proxy := t.TempDir()
	dir := filepath.Join(proxy, "example.com", "tiny", "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod := "module example.com/tiny\n"
	for name, content := range map[string][]byte{
		"list":        []byte(ver + "\n"),
		ver + ".info": []byte(`{"Version":"` + ver + `","Time":"2020-01-01T00:00:00Z"}`),
		ver + ".mod":  []byte(gomod),
		ver + ".zip":  writeZip(t, mod, ver, map[string]string{"go.mod": gomod, "data/x.json": "{}"}),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cache := t.TempDir()
	t.Cleanup(func() { makeWritable(cache) })
	t.Setenv("GOPROXY", "file://"+filepath.ToSlash(proxy))
	t.Setenv("GOMODCACHE", cache)
	t.Setenv("GOSUMDB", "off")
	t.Setenv("GONOSUMDB", "")
	t.Setenv("GOPRIVATE", "")

	m, err := Fetch(mod, ver)
	if err != nil {
		t.Fatal(err)
	}
	if m.Path != mod || m.Version != ver || !strings.HasPrefix(m.Sum, "h1:") {
		t.Errorf("Fetch = %+v", m)
	}
	b, err := ReadFile(m.Zip, mod, ver, "data/x.json")
	if err != nil || string(b) != "{}" {
		t.Errorf("ReadFile after Fetch = %q, %v", b, err)
	}
	cached, err := CachedZip(mod, ver)
	if err != nil || cached != m.Zip {
		t.Errorf("CachedZip = %q, %v; want %q", cached, err, m.Zip)
	}
	if _, err := CachedZip(mod, "v9.9.9"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CachedZip of an absent version: err = %v, want fs.ErrNotExist", err)
	}
	if _, err := Download(mod, "v9.9.9"); err == nil {
		t.Error("Download of an absent version: no error")
	}
}

// makeWritable undoes the module cache's read-only modes so that the test's
// temporary directory can be removed.
func makeWritable(root string) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
}
