package charts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoreHTTPThenFind: what StoreHTTP writes is what a pull of the same
// repository writes, and Find resolves from it.
func TestStoreHTTPThenFind(t *testing.T) {
	repo := newHelmRepo(t, versions...)
	dir := t.TempDir()
	if err := StoreHTTP(dir, repo.url(), repo.index, repo.archives); err != nil {
		t.Fatal(err)
	}
	cache, _ := Open("", dir)
	for _, tc := range []struct{ constraint, want string }{
		{"1.2.0", "1.2.0"}, {"~1.2", "1.2.5"}, {">=1.0 <2.0", "1.3.0"}, {"", "2.0.0"},
	} {
		res, err := cache.Find(repo.ref("app", tc.constraint))
		if err != nil {
			t.Fatalf("find %q: %v", tc.constraint, err)
		}
		if res.Version != tc.want || res.Digest != Digest(repo.archives["app-"+tc.want+".tgz"]) {
			t.Errorf("find %q: %s %s", tc.constraint, res.Version, res.Digest)
		}
	}
	if _, err := cache.Find(repo.ref("app", "^3")); !errors.Is(err, ErrNotCached) {
		t.Errorf("^3: %v, want ErrNotCached", err)
	}

	// A pull of the same repository writes the same files.
	pullDir := t.TempDir()
	pc, _ := Open("", pullDir)
	var refs []Ref
	for _, s := range versions {
		refs = append(refs, repo.ref(s.name, s.version))
	}
	if _, err := PullAll(context.Background(), refs, pc, testClient(repo.srv)); err != nil {
		t.Fatal(err)
	}
	rd, _ := RepoDir(repo.url())
	for _, f := range append([]string{"index.yaml"}, keys(repo.archives)...) {
		a, err := os.ReadFile(filepath.Join(dir, "http", rd, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(pullDir, "http", rd, f))
		if err != nil {
			t.Fatal(err)
		}
		if string(a) != string(b) {
			t.Errorf("%s differs from what a pull writes", f)
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestStoreHTTPRefuses(t *testing.T) {
	repo := newHelmRepo(t, chartSpec{name: "app", version: "1.0.0"})
	good := repo.archives["app-1.0.0.tgz"]
	for name, archives := range map[string]map[string][]byte{
		"wrong digest":   {"app-1.0.0.tgz": chartTgz(t, "app", "1.0.0", 10)},
		"unlisted":       {"app-9.9.9.tgz": good},
		"path traversal": {"../app-1.0.0.tgz": good},
	} {
		dir := t.TempDir()
		if err := StoreHTTP(dir, repo.url(), repo.index, archives); err == nil {
			t.Errorf("%s: stored", name)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: wrote %v", name, entries)
		}
	}
	if err := StoreHTTP(t.TempDir(), repo.url(), []byte("entries: {}\n"), nil); err == nil {
		t.Error("index without apiVersion: stored")
	}
}

// TestStoreOCIThenFind: StoreOCI writes the layout a pull of the same
// pushed chart writes (same manifest digest, same index.json), and Find
// resolves it from an OCI HelmRepository and an OCIRepository.
func TestStoreOCIThenFind(t *testing.T) {
	reg := newRegistry(t)
	var pushed []string
	for _, v := range []string{"0.1.0", "0.2.0", "0.2.1+build.7"} {
		pushed = append(pushed, reg.push(t, "charts/app", "app", v))
	}
	base := "oci://" + reg.host + "/charts"
	dir := t.TempDir()
	for i, v := range []string{"0.1.0", "0.2.0", "0.2.1+build.7"} {
		d, err := StoreOCI(dir, base+"/app", versionTag(v), chartTgz(t, "app", v, 0))
		if err != nil {
			t.Fatal(err)
		}
		if d != pushed[i] {
			t.Errorf("%s: manifest %s, helm push gives %s", v, d, pushed[i])
		}
	}
	cache, _ := Open("", dir)
	refs := []Ref{
		{Kind: KindHelmRepository, URL: base, Chart: "app"},
		{Kind: KindHelmRepository, URL: base, Chart: "app", Version: "~0.1"},
		{Kind: KindOCIRepository, URL: base + "/app", Tag: "0.2.0"},
	}
	for i, want := range []string{"0.2.1+build.7", "0.1.0", "0.2.0"} {
		res, err := cache.Find(refs[i])
		if err != nil {
			t.Fatalf("find %s: %v", refs[i], err)
		}
		if res.Version != want || res.Digest != Digest(chartTgz(t, "app", want, 0)) {
			t.Errorf("find %s: %s", refs[i], res.Version)
		}
	}
	if _, err := cache.Find(Ref{Kind: KindOCIRepository, URL: base + "/app", Tag: "0.3.0"}); !errors.Is(err, ErrNotCached) {
		t.Errorf("tag 0.3.0: %v, want ErrNotCached", err)
	}

	pullDir := t.TempDir()
	pc, _ := Open("", pullDir)
	var prefs []Ref
	for _, v := range []string{"0.1.0", "0.2.0", "0.2.1_build.7"} {
		prefs = append(prefs, Ref{Kind: KindOCIRepository, URL: base + "/app", Tag: v})
	}
	if _, err := PullAll(context.Background(), prefs, pc, testClient(reg.srv)); err != nil {
		t.Fatal(err)
	}
	rel := filepath.Join("oci", strings.ReplaceAll(reg.host, ":", "_"), "charts", "app", "index.json")
	a, _ := os.ReadFile(filepath.Join(dir, rel))
	b, _ := os.ReadFile(filepath.Join(pullDir, rel))
	if len(a) == 0 || string(a) != string(b) {
		t.Errorf("index.json differs from what a pull writes:\n%s\n---\n%s", a, b)
	}
}

func TestStoreOCIRefuses(t *testing.T) {
	tgz := chartTgz(t, "app", "1.0.0", 0)
	for name, tc := range map[string]struct {
		url, tag string
		archive  []byte
	}{
		"tag is not the version": {"oci://r.example/charts/app", "2.0.0", tgz},
		"not the chart's name":   {"oci://r.example/charts/other", "1.0.0", tgz},
		"not an archive":         {"oci://r.example/charts/app", "1.0.0", []byte("nope")},
		"not oci":                {"https://r.example/charts/app", "1.0.0", tgz},
	} {
		dir := t.TempDir()
		if _, err := StoreOCI(dir, tc.url, tc.tag, tc.archive); err == nil {
			t.Errorf("%s: stored", name)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: wrote %v", name, entries)
		}
	}
}
