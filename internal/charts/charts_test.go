package charts

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/gitops-lint/gitops-lint/internal/confine"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var versions = []chartSpec{
	{name: "app", version: "1.0.0"},
	{name: "app", version: "1.2.0"},
	{name: "app", version: "1.2.5"},
	{name: "app", version: "1.3.0"},
	{name: "app", version: "2.0.0"},
	{name: "app", version: "2.1.0-rc.1"},
	{name: "other", version: "0.1.0"},
}

func TestChartSelectVersion(t *testing.T) {
	all := []string{"1.0.0", "1.2.0", "1.2.5", "1.3.0", "2.0.0", "2.1.0-rc.1", "not-semver"}
	for _, tc := range []struct{ constraint, want string }{
		{"1.2.0", "1.2.0"},           // exact
		{"~1.2", "1.2.5"},            // patch range
		{">=1.0 <2.0", "1.3.0"},      // range
		{">=1.0.0, <2.0.0", "1.3.0"}, // comma form
		{"", "2.0.0"},                // latest: no prerelease
		{"*", "2.0.0"},               // same
		{">=2.0.0", "2.0.0"},         // no prerelease unless asked
		{">=2.1.0-0", "2.1.0-rc.1"},  // a prerelease constraint allows them
		{"2.1.0-rc.1", "2.1.0-rc.1"}, // exact prerelease
		{"^1", "1.3.0"},              // caret
		{"1.x", "1.3.0"},             // wildcard
		{"not-semver", "not-semver"}, // an exact string match comes first (Helm)
		{"^3", ""},                   // none
	} {
		got, err := selectVersion(all, tc.constraint)
		if tc.want == "" {
			if !errors.Is(err, errNoVersion) {
				t.Errorf("%q: got %q, %v; want no version", tc.constraint, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.constraint, got, err, tc.want)
		}
	}
	if _, err := selectVersion(all, ">>1"); err == nil || errors.Is(err, errNoVersion) {
		t.Errorf("invalid constraint: got %v", err)
	}
}

func TestChartPullHTTPThenFind(t *testing.T) {
	repo := newHelmRepo(t, versions...)
	dir := t.TempDir()
	cache, err := Open("", dir)
	if err != nil {
		t.Fatal(err)
	}
	client := testClient(repo.srv)
	for _, tc := range []struct{ constraint, want string }{
		{"1.2.0", "1.2.0"}, {"~1.2", "1.2.5"}, {">=1.0 <2.0", "1.3.0"}, {"", "2.0.0"}, {">=2.1.0-0", "2.1.0-rc.1"},
	} {
		ref := repo.ref("app", tc.constraint)
		if _, err := cache.Find(ref); !errors.Is(err, ErrNotCached) {
			t.Fatalf("%q before pull: %v, want ErrNotCached", tc.constraint, err)
		}
		pulled, err := PullAll(context.Background(), []Ref{ref}, cache, client)
		if err != nil {
			t.Fatal(err)
		}
		if got := pulled[0].Resolved.Version; got != tc.want {
			t.Errorf("pull %q: %s, want %s", tc.constraint, got, tc.want)
		}
		res, err := cache.Find(ref)
		if err != nil {
			t.Fatalf("find %q: %v", tc.constraint, err)
		}
		want := repo.archives["app-"+tc.want+".tgz"]
		if res.Version != tc.want || res.Digest != Digest(want) || string(res.Archive) != string(want) || res.From != dir {
			t.Errorf("find %q: %s %s from %s", tc.constraint, res.Version, res.Digest, res.From)
		}
	}
	// The layout: http/<repo-dir>/index.yaml and <chart>-<version>.tgz.
	rd, _ := RepoDir(repo.url())
	for _, f := range []string{"index.yaml", "app-1.2.5.tgz"} {
		if _, err := os.Stat(filepath.Join(dir, "http", rd, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := PullAll(context.Background(), []Ref{repo.ref("app", "^3")}, cache, client); err == nil {
		t.Error("^3: pulled")
	}
	if _, err := PullAll(context.Background(), []Ref{repo.ref("nope", "")}, cache, client); err == nil {
		t.Error("unknown chart: pulled")
	}
}

func TestChartPullOCIThenFind(t *testing.T) {
	reg := newRegistry(t)
	reg.push(t, "charts/app", "app", "0.1.0")
	d020 := reg.push(t, "charts/app", "app", "0.2.0")
	reg.push(t, "charts/app", "app", "0.3.0-beta.1")
	reg.push(t, "charts/app", "app", "0.2.1+build.7") // tag 0.2.1_build.7
	dir := t.TempDir()
	cache, _ := Open("", dir)
	client := testClient(reg.srv)
	base := "oci://" + reg.host + "/charts"
	refs := []Ref{
		{Kind: KindHelmRepository, URL: base, Chart: "app"},                           // latest stable
		{Kind: KindHelmRepository, URL: base, Chart: "app", Version: "~0.1"},          // 0.1.0
		{Kind: KindOCIRepository, URL: base + "/app", Tag: "0.2.0"},                   // tag
		{Kind: KindOCIRepository, URL: base + "/app", Version: ">=0.3.0-0"},           // prerelease semver
		{Kind: KindOCIRepository, URL: base + "/app", Digest: d020},                   // digest pin
		{Kind: KindOCIRepository, URL: base + "/app", Tag: "0.2.0", Version: "0.1.x"}, // semver wins over tag
	}
	want := []string{"0.2.1+build.7", "0.1.0", "0.2.0", "0.3.0-beta.1", "0.2.0", "0.1.0"}
	pulled, err := PullAll(context.Background(), refs, cache, client)
	if err != nil {
		t.Fatal(err)
	}
	for i, ref := range refs {
		if got := pulled[i].Resolved.Version; got != want[i] {
			t.Errorf("pull %s: %s, want %s", ref, got, want[i])
		}
		res, err := cache.Find(ref)
		if err != nil {
			t.Fatalf("find %s: %v", ref, err)
		}
		if res.Version != want[i] || res.Digest != Digest(res.Archive) || !strings.HasPrefix(res.ManifestDigest, "sha256:") {
			t.Errorf("find %s: %+v", ref, res.Version)
		}
		if !strings.Contains(string(mustGunzipNames(t, res.Archive)), "app/Chart.yaml") {
			t.Errorf("find %s: not a chart", ref)
		}
	}
	res, _ := cache.Find(refs[4])
	if res.ManifestDigest != d020 {
		t.Errorf("digest pin: manifest %s, want %s", res.ManifestDigest, d020)
	}
	if got := TrackedVersion(res.Version, res.ManifestDigest); got != "0.2.0+"+strings.TrimPrefix(d020, "sha256:")[:12] {
		t.Errorf("TrackedVersion: %s", got)
	}
	// The cache is a valid OCI image layout for go-containerregistry.
	lp, err := layout.FromPath(filepath.Join(dir, "oci", strings.ReplaceAll(reg.host, ":", "_"), "charts", "app"))
	if err != nil {
		t.Fatal(err)
	}
	ii, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, _ := ii.IndexManifest()
	if len(im.Manifests) != 4 {
		t.Errorf("index.json has %d manifests, want 4", len(im.Manifests))
	}
	// Missing tag: ErrNotCached.
	if _, err := cache.Find(Ref{Kind: KindOCIRepository, URL: base + "/app"}); !errors.Is(err, ErrNotCached) {
		t.Errorf("tag latest: %v", err)
	}
}

func TestChartVendorWins(t *testing.T) {
	repo := newHelmRepo(t, versions...)
	cacheDir := t.TempDir()
	cache, _ := Open("", cacheDir)
	ref := repo.ref("app", "1.2.0")
	if _, err := PullAll(context.Background(), []Ref{ref}, cache, testClient(repo.srv)); err != nil {
		t.Fatal(err)
	}
	// A vendored copy of the same repository, with its own index listing
	// only 1.2.0 (no digest) and another archive.
	root := t.TempDir()
	rd, _ := RepoDir(repo.url())
	vdir := filepath.Join(root, filepath.FromSlash(VendorDir), "http", rd)
	os.MkdirAll(vdir, 0o755)
	vendored := chartTgz(t, "app", "1.2.0", 100)
	os.WriteFile(filepath.Join(vdir, "index.yaml"), []byte("apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.2.0\n"), 0o644)
	os.WriteFile(filepath.Join(vdir, "app-1.2.0.tgz"), vendored, 0o644)
	c, err := Open(root, cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Find(ref)
	if err != nil {
		t.Fatal(err)
	}
	if res.From != VendorDir || res.Digest != Digest(vendored) {
		t.Errorf("from %s, digest %s: want the vendor directory's", res.From, res.Digest)
	}
	// What the vendor directory lacks comes from the cache.
	if err := os.Remove(filepath.Join(vdir, "app-1.2.0.tgz")); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Find(ref); err != nil || res.From != cacheDir {
		t.Errorf("fallback: from %q, %v", res.From, err)
	}
	// A symbolic link out of the vendor directory is refused, not followed.
	outside := filepath.Join(t.TempDir(), "evil.tgz")
	os.WriteFile(outside, vendored, 0o644)
	os.Symlink(outside, filepath.Join(vdir, "app-1.2.0.tgz"))
	if _, err := c.Find(ref); !errors.Is(err, confine.ErrOutside) {
		t.Errorf("symlink out: %v, want ErrOutside", err)
	}
	// A vendor directory that is a link out of the repository is refused.
	root2 := t.TempDir()
	os.MkdirAll(filepath.Join(root2, ".gitops-lint"), 0o755)
	os.Symlink(filepath.Join(root, filepath.FromSlash(VendorDir)), filepath.Join(root2, filepath.FromSlash(VendorDir)))
	if _, err := Open(root2, cacheDir); !errors.Is(err, confine.ErrOutside) {
		t.Errorf("vendor dir linked out: %v, want ErrOutside", err)
	}
}

func TestChartDigestMismatch(t *testing.T) {
	repo := newHelmRepo(t, chartSpec{name: "app", version: "1.0.0", badDigest: true})
	dir := t.TempDir()
	cache, _ := Open("", dir)
	_, err := PullAll(context.Background(), []Ref{repo.ref("app", "")}, cache, testClient(repo.srv))
	if !errors.Is(err, ErrDigest) {
		t.Fatalf("pull: %v, want ErrDigest", err)
	}
	rd, _ := RepoDir(repo.url())
	if _, err := os.Stat(filepath.Join(dir, "http", rd, "app-1.0.0.tgz")); !os.IsNotExist(err) {
		t.Errorf("the mismatching archive was written: %v", err)
	}
	// A cached archive altered after the pull is refused by Find.
	good := newHelmRepo(t, chartSpec{name: "app", version: "1.0.0"})
	ref := good.ref("app", "")
	if _, err := PullAll(context.Background(), []Ref{ref}, cache, testClient(good.srv)); err != nil {
		t.Fatal(err)
	}
	rd, _ = RepoDir(good.url())
	os.WriteFile(filepath.Join(dir, "http", rd, "app-1.0.0.tgz"), []byte("tampered"), 0o644)
	if _, err := cache.Find(ref); !errors.Is(err, ErrDigest) {
		t.Errorf("find tampered: %v, want ErrDigest", err)
	}
	// A pinned digest that differs.
	ref.Digest = "sha256:" + strings.Repeat("1", 64)
	if _, err := PullAll(context.Background(), []Ref{ref}, cache, testClient(good.srv)); !errors.Is(err, ErrDigest) {
		t.Errorf("pinned: %v, want ErrDigest", err)
	}
}

func TestChartOversize(t *testing.T) {
	repo := newHelmRepo(t, chartSpec{name: "big", version: "1.0.0", pad: 64 << 10})
	reg := newRegistry(t)
	dir := t.TempDir()
	cache, _ := Open("", dir, Limits{ArchiveBytes: 8 << 10, IndexBytes: 1 << 20})
	_, err := PullAll(context.Background(), []Ref{repo.ref("big", "")}, cache, testClient(repo.srv, reg.srv))
	if !errors.Is(err, confine.ErrTooLarge) {
		t.Errorf("http: %v, want ErrTooLarge", err)
	}
	small, _ := Open("", dir, Limits{IndexBytes: 100})
	if _, err := PullAll(context.Background(), []Ref{repo.ref("big", "")}, small, testClient(repo.srv)); !errors.Is(err, confine.ErrTooLarge) {
		t.Errorf("index: %v, want ErrTooLarge", err)
	}
	// OCI: the layer's size in the manifest is checked before download.
	tiny, _ := Open("", dir, Limits{ArchiveBytes: 100})
	reg.push(t, "charts/app", "app", "1.0.0")
	_, err = PullAll(context.Background(), []Ref{{Kind: KindOCIRepository, URL: "oci://" + reg.host + "/charts/app", Tag: "1.0.0"}}, tiny, testClient(reg.srv))
	if !errors.Is(err, confine.ErrTooLarge) {
		t.Errorf("oci: %v, want ErrTooLarge", err)
	}
}

func TestChartNotCached(t *testing.T) {
	c, err := Open(t.TempDir(), filepath.Join(t.TempDir(), "none"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []Ref{
		{Kind: KindHelmRepository, URL: "https://charts.example.com/", Chart: "app", Version: "~1.2"},
		{Kind: KindHelmRepository, URL: "oci://ghcr.io/org/charts", Chart: "app"},
		{Kind: KindOCIRepository, URL: "oci://ghcr.io/org/charts/app", Tag: "1.0.0"},
	} {
		if _, err := c.Find(ref); !errors.Is(err, ErrNotCached) {
			t.Errorf("%s: %v, want ErrNotCached", ref, err)
		}
	}
	got := PullCommand(Ref{Kind: KindHelmRepository, URL: "https://charts.example.com/", Chart: "app", Version: ">=1.0 <2.0"})
	if want := "gitops-lint charts pull --url https://charts.example.com/ --chart app --version '>=1.0 <2.0'"; got != want {
		t.Errorf("PullCommand:\n got %s\nwant %s", got, want)
	}
	got = PullCommand(Ref{Kind: KindOCIRepository, URL: "oci://ghcr.io/org/app", Digest: "sha256:abc"})
	if want := "gitops-lint charts pull --url oci://ghcr.io/org/app --kind OCIRepository --digest sha256:abc"; got != want {
		t.Errorf("PullCommand:\n got %s\nwant %s", got, want)
	}
}

func TestChartConcurrentPulls(t *testing.T) {
	repo := newHelmRepo(t, versions...)
	reg := newRegistry(t)
	reg.push(t, "charts/app", "app", "1.0.0")
	reg.push(t, "charts/app", "app", "1.1.0")
	dir := t.TempDir()
	refs := []Ref{
		repo.ref("app", ""), repo.ref("app", "~1.2"), repo.ref("other", ""),
		{Kind: KindHelmRepository, URL: "oci://" + reg.host + "/charts", Chart: "app"},
		{Kind: KindOCIRepository, URL: "oci://" + reg.host + "/charts/app", Tag: "1.0.0"},
	}
	client := testClient(repo.srv, reg.srv)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cache, _ := Open("", dir) // each its own Cache, as two processes
			for range 3 {
				if _, err := PullAll(context.Background(), refs, cache, client); err != nil {
					errs[i] = err
					return
				}
				for _, ref := range refs {
					if _, err := cache.Find(ref); err != nil {
						errs[i] = err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

func TestChartNormalizeURL(t *testing.T) {
	same := []string{"https://Charts.Example.com/stable", "https://charts.example.com:443/stable/", "HTTPS://charts.example.com/stable//", "https://u:p@charts.example.com/stable#x"}
	want, _ := RepoDir(same[0])
	for _, u := range same {
		n, err := NormalizeURL(u)
		if err != nil || n != "https://charts.example.com/stable" {
			t.Errorf("NormalizeURL(%q) = %q, %v", u, n, err)
		}
		if d, _ := RepoDir(u); d != want {
			t.Errorf("RepoDir(%q) = %q, want %q", u, d, want)
		}
	}
	if !strings.HasPrefix(want, "charts.example.com_stable-") || len(want) != len("charts.example.com_stable-")+12 {
		t.Errorf("RepoDir: %q", want)
	}
	for _, u := range []string{"http://charts.example.com/stable", "https://charts.example.com:8443/stable", "https://charts.example.com/Stable"} {
		if d, _ := RepoDir(u); d == want {
			t.Errorf("RepoDir(%q) collides with %q", u, same[0])
		}
	}
	for _, bad := range []string{"", "ftp://x/y", "file:///etc", "https://"} {
		if _, err := RepoDir(bad); err == nil {
			t.Errorf("RepoDir(%q): no error", bad)
		}
	}
	for _, bad := range []Ref{{Kind: KindOCIRepository, URL: "oci://r.io/../x"}, {Kind: KindOCIRepository, URL: "oci://r.io/A/b"}, {Kind: KindHelmRepository, URL: "oci://r.io/c", Chart: "../x"}} {
		if _, err := ociRepoOf(bad); err == nil {
			t.Errorf("ociRepoOf(%+v): no error", bad)
		}
	}
}

func TestChartLockGolden(t *testing.T) {
	entries := []LockEntry{
		{Environment: "prod", HelmRelease: "apps/web", Kind: KindOCIRepository, URL: "oci://ghcr.io/org/charts/web", Chart: "web", Tag: "1.0.0", Resolved: "1.0.0", Digest: "sha256:" + strings.Repeat("a", 64), ManifestDigest: "sha256:" + strings.Repeat("b", 64)},
		{Environment: "dev", HelmRelease: "monitoring/prom", Kind: KindHelmRepository, URL: "https://prometheus-community.github.io/helm-charts", Chart: "kube-prometheus-stack", Version: ">=50.0 <60.0", Resolved: "58.1.0", Digest: "sha256:" + strings.Repeat("c", 64)},
		{Environment: "dev", HelmRelease: "apps/web", Kind: KindHelmRepository, URL: "oci://ghcr.io/org/charts", Chart: "web", Version: "~1.2", Resolved: "1.2.3", Digest: "sha256:" + strings.Repeat("d", 64), ManifestDigest: "sha256:" + strings.Repeat("e", 64)},
	}
	var a, b Lock
	a.Update(nil, entries)
	b.Update(nil, []LockEntry{entries[2], entries[0], entries[1]})
	ga, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	gb, _ := b.Marshal()
	if string(ga) != string(gb) {
		t.Fatalf("not deterministic:\n%s\n%s", ga, gb)
	}
	golden := filepath.Join("testdata", "charts.lock.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, ga, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(ga) != string(want) {
		t.Errorf("charts.lock differs from %s (-update rewrites it):\n%s", golden, ga)
	}
	// WriteLock, ReadLock round trip; unchanged content is not rewritten;
	// --env keeps the other environments.
	root := t.TempDir()
	if changed, err := WriteLock(root, &a); err != nil || !changed {
		t.Fatalf("WriteLock: %v %v", changed, err)
	}
	back, err := ReadLock(root)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := WriteLock(root, back); err != nil || changed {
		t.Errorf("rewrite of the same lock: %v %v", changed, err)
	}
	back.Update([]string{"dev"}, nil)
	if len(back.Charts) != 1 || back.Charts[0].Environment != "prod" {
		t.Errorf("Update(dev): %+v", back.Charts)
	}
	// A symbolic link is not followed.
	link := t.TempDir()
	target := filepath.Join(t.TempDir(), "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	os.Symlink(target, filepath.Join(link, LockFile))
	if _, err := WriteLock(link, &a); err == nil {
		t.Error("WriteLock followed a symbolic link")
	}
	if data, _ := os.ReadFile(target); string(data) != "keep" {
		t.Error("the link's target was changed")
	}
}

func TestChartReleases(t *testing.T) {
	objs := []map[string]any{
		obj2("source.toolkit.fluxcd.io/v1", "HelmRepository", "flux-system", "bitnami", map[string]any{"url": "https://charts.bitnami.com/bitnami", "secretRef": map[string]any{"name": "creds"}}),
		obj2("source.toolkit.fluxcd.io/v1", "HelmRepository", "flux-system", "ghcr", map[string]any{"url": "oci://ghcr.io/org/charts", "type": "oci"}),
		obj2("source.toolkit.fluxcd.io/v1beta2", "OCIRepository", "apps", "podinfo", map[string]any{"url": "oci://ghcr.io/stefanprodan/charts/podinfo", "ref": map[string]any{"semver": ">=6.0.0", "tag": "latest"}}),
		obj2("helm.toolkit.fluxcd.io/v2", "HelmRelease", "apps", "redis", map[string]any{"chart": map[string]any{"spec": map[string]any{"chart": "redis", "version": "*", "sourceRef": map[string]any{"kind": "HelmRepository", "name": "bitnami", "namespace": "flux-system"}}}}),
		obj2("helm.toolkit.fluxcd.io/v2", "HelmRelease", "apps", "web", map[string]any{"chart": map[string]any{"spec": map[string]any{"chart": "web", "version": "~1.2", "sourceRef": map[string]any{"kind": "HelmRepository", "name": "ghcr", "namespace": "flux-system"}}}}),
		obj2("helm.toolkit.fluxcd.io/v2", "HelmRelease", "apps", "podinfo", map[string]any{"chartRef": map[string]any{"kind": "OCIRepository", "name": "podinfo"}}),
		obj2("helm.toolkit.fluxcd.io/v2", "HelmRelease", "apps", "local", map[string]any{"chart": map[string]any{"spec": map[string]any{"chart": "./charts/local", "sourceRef": map[string]any{"kind": "GitRepository", "name": "flux-system", "namespace": "flux-system"}}}}),
		obj2("helm.toolkit.fluxcd.io/v2", "HelmRelease", "apps", "lost", map[string]any{"chart": map[string]any{"spec": map[string]any{"chart": "x", "sourceRef": map[string]any{"kind": "HelmRepository", "name": "missing"}}}}),
	}
	rels, notices := Releases("dev", objs)
	want := []Release{
		{"dev", "apps", "podinfo", Ref{Kind: KindOCIRepository, URL: "oci://ghcr.io/stefanprodan/charts/podinfo", Chart: "podinfo", Version: ">=6.0.0", Tag: "latest"}},
		{"dev", "apps", "redis", Ref{Kind: KindHelmRepository, URL: "https://charts.bitnami.com/bitnami", Chart: "redis"}},
		{"dev", "apps", "web", Ref{Kind: KindHelmRepository, URL: "oci://ghcr.io/org/charts", Chart: "web", Version: "~1.2"}},
	}
	if len(rels) != len(want) {
		t.Fatalf("got %+v", rels)
	}
	for i := range want {
		if rels[i] != want[i] {
			t.Errorf("release %d:\n got %+v\nwant %+v", i, rels[i], want[i])
		}
	}
	joined := strings.Join(notices, "\n")
	for _, s := range []string{"secretRef is ignored", "GitRepository flux-system/flux-system is not pulled", "HelmRepository apps/missing is not in the environment"} {
		if !strings.Contains(joined, s) {
			t.Errorf("notices lack %q:\n%s", s, joined)
		}
	}
}

func obj2(apiVersion, kind, ns, name string, spec map[string]any) map[string]any {
	return map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"namespace": ns, "name": name}, "spec": spec}
}

func FuzzChartIndex(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.2.3\n    digest: abc\n    urls: [app-1.2.3.tgz]\n"), "app", "~1.2")
	f.Add([]byte("apiVersion: v1\nentries: {}\n"), "x", "")
	f.Add([]byte("entries: [1, 2]"), "", ">=1.0 <2.0")
	f.Add([]byte("apiVersion: v1\nentries:\n  a:\n  - version: 1.0.0-rc.1\n  - version: 'v2'\n  - version: ~\n"), "a", ">=1.0.0-0")
	f.Fuzz(func(t *testing.T, data []byte, chart, constraint string) {
		idx, err := ParseIndex(data)
		if err != nil {
			return
		}
		cv, err := idx.Select(chart, constraint)
		if err == nil && cv.Version == "" && constraint != "" {
			t.Errorf("selected an empty version for %q", constraint)
		}
	})
}

// TestChartFindLocked: a release that charts.lock records resolves to the
// locked version, whatever newer versions the cache holds, and its digest
// must be the recorded one; a release or request the lock does not record
// resolves as Find does.
func TestChartFindLocked(t *testing.T) {
	repo := newHelmRepo(t, versions...)
	dir := t.TempDir()
	root := t.TempDir()
	client := testClient(repo.srv)
	ref := repo.ref("app", ">=1.0 <2.0")
	cache, err := Open(root, dir)
	if err != nil {
		t.Fatal(err)
	}
	// Pull everything, the lock pinned to 1.2.0.
	for _, v := range []string{"1.2.0", "1.3.0"} {
		if _, err := PullAll(context.Background(), []Ref{repo.ref("app", v)}, cache, client); err != nil {
			t.Fatal(err)
		}
	}
	old := Digest(repo.archives["app-1.2.0.tgz"])
	lock := &Lock{APIVersion: LockAPIVersion, Charts: []LockEntry{{
		Environment: "prod", HelmRelease: "apps/web", Kind: ref.Kind, URL: ref.URL, Chart: "app", Version: ref.Version,
		Resolved: "1.2.0", Digest: old,
	}}}
	if _, err := WriteLock(root, lock); err != nil {
		t.Fatal(err)
	}
	find := func(env, rel string, ref Ref) (Resolved, error) {
		c, err := Open(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		return c.FindLocked(env, rel, ref)
	}
	if res, err := find("prod", "apps/web", ref); err != nil || res.Version != "1.2.0" || res.Digest != old {
		t.Errorf("locked: %s %s %v, want 1.2.0 %s", res.Version, res.Digest, err, old)
	}
	for _, tc := range []struct {
		env, rel string
		ref      Ref
	}{{"dev", "apps/web", ref}, {"prod", "apps/api", ref}, {"prod", "apps/web", repo.ref("app", "~1.3")}} {
		if res, err := find(tc.env, tc.rel, tc.ref); err != nil || res.Version != "1.3.0" {
			t.Errorf("%s %s %s (not locked): %s %v, want 1.3.0", tc.env, tc.rel, tc.ref.Version, res.Version, err)
		}
	}
	// The lock names a digest the cache does not have: not cached (the
	// lint names the command that fetches it again).
	lock.Charts[0].Digest = "sha256:" + strings.Repeat("0", 64)
	if _, err := WriteLock(root, lock); err != nil {
		t.Fatal(err)
	}
	if _, err := find("prod", "apps/web", ref); !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), LockFile) {
		t.Errorf("digest mismatch: %v", err)
	}
	// The locked version is not cached: not cached, not another version.
	lock.Charts[0].Resolved, lock.Charts[0].Digest = "1.1.0", ""
	if _, err := WriteLock(root, lock); err != nil {
		t.Fatal(err)
	}
	if _, err := find("prod", "apps/web", ref); !errors.Is(err, ErrNotCached) {
		t.Errorf("locked version not cached: %v, want ErrNotCached", err)
	}
	// A charts.lock that does not parse is an error of Open (a usage
	// error of the lint), not a silent Find.
	os.WriteFile(filepath.Join(root, LockFile), []byte("apiVersion: nope\n"), 0o644)
	if _, err := Open(root, dir); err == nil || !strings.Contains(err.Error(), LockFile) {
		t.Errorf("a malformed charts.lock: %v", err)
	}
}
