package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helmcommon "helm.sh/helm/v4/pkg/chart/common"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"sigs.k8s.io/yaml"

	"github.com/gitops-lint/gitops-lint/internal/charts"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// corpusChartsWrite: `go test ./internal/cli -run TestCorpusChartCache
// -args -write DIR` builds the corpus chart cache into DIR
// (scripts/corpus-charts.sh), for `gitops-lint --chart-cache DIR`.
var corpusChartsWrite = flag.String("write", "", "TestCorpusChartCache: build the corpus chart cache into this directory")

// corpusChartsStandIn: with -stand-in, the cache written by -write also
// holds app-template 4.1.1 under the tags the corpus pins (5.1.0, 5.0.1),
// so that onedr0p's and xunholy's app-template HelmReleases render. The
// output is approximate (4.1.1 is not the chart they pin): for measuring
// speed and coverage only, never for asserting fidelity.
var corpusChartsStandIn = flag.Bool("stand-in", false, "TestCorpusChartCache: also store app-template 4.1.1 as 5.1.0 and 5.0.1 (approximate; for benchmarks)")

// appTemplateStandIns are the app-template tags the corpus pins, which
// ../shared/charts does not hold.
var appTemplateStandIns = []string{"5.1.0", "5.0.1"}

// The chart sources of ../shared/charts, under the URLs the corpus pulls
// them from. app-template 4.1.1 is stored under its own tag only: the
// corpus pins 5.1.0 (onedr0p) and 5.0.1 (xunholy), which are not there
// and stay render/helm-chart-missing.
const (
	podinfoHTTP     = "https://stefanprodan.github.io/podinfo"
	podinfoOCI      = "oci://ghcr.io/stefanprodan/charts/podinfo"
	appTemplateOCI  = "oci://ghcr.io/bjw-s-labs/helm/app-template"
	corpusChartTime = "2025-01-01T00:00:00Z" // the mtime of every packaged file
)

var (
	podinfoVersions     = []string{"6.14.0", "6.14.1"}
	appTemplateVersions = []string{"4.1.1"}
)

// sharedCharts is ../shared/charts, skipping the test where it is absent.
func sharedCharts(t *testing.T) string {
	t.Helper()
	p := filepath.Join(filepath.Dir(testutil.Corpus(t, "")), "charts")
	if _, err := os.Stat(filepath.Join(p, "README.md")); err != nil {
		t.Skip("shared charts absent (" + p + "): they are only present in the development workspace and CI")
	}
	return p
}

// packageChart packages a chart directory as `helm package` does (Helm's
// loader and chartutil.Save), every file dated corpusChartTime so that the
// archive, and its digest, is the same on every run.
func packageChart(t *testing.T, dir string) []byte {
	t.Helper()
	return packageChartAs(t, dir, "")
}

// packageChartAs is packageChart with the chart's version set to version
// (when not empty): a stand-in for a version ../shared/charts lacks.
func packageChartAs(t *testing.T, dir, version string) []byte {
	t.Helper()
	c, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	if version != "" {
		c.Metadata.Version = version
	}
	when, _ := time.Parse(time.RFC3339, corpusChartTime)
	var stamp func(c *chartv2.Chart)
	stamp = func(c *chartv2.Chart) {
		c.ModTime, c.SchemaModTime = when, when
		for _, fs := range [][]*helmcommon.File{c.Raw, c.Templates, c.Files} {
			for _, f := range fs {
				f.ModTime = when
			}
		}
		for _, d := range c.Dependencies() {
			stamp(d)
		}
	}
	stamp(c)
	out := t.TempDir()
	file, err := chartutil.Save(c, out)
	if err != nil {
		t.Fatalf("package %s: %v", dir, err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// buildCorpusChartCache writes the chart cache of the corpus into dir:
// podinfo as the HTTP repository and the OCI repository the corpus uses,
// app-template as OCI.
func buildCorpusChartCache(t *testing.T, dir string, standIn bool) {
	t.Helper()
	src := sharedCharts(t)
	idx := charts.Index{APIVersion: "v1", Entries: map[string][]charts.ChartVersion{}}
	archives := map[string][]byte{}
	for _, v := range podinfoVersions {
		tgz := packageChart(t, filepath.Join(src, "podinfo", v))
		file := "podinfo-" + v + ".tgz"
		archives[file] = tgz
		idx.Entries["podinfo"] = append(idx.Entries["podinfo"], charts.ChartVersion{
			Name: "podinfo", Version: v, Created: corpusChartTime, URLs: []string{podinfoHTTP + "/" + file},
			Digest: strings.TrimPrefix(charts.Digest(tgz), "sha256:"),
		})
		if _, err := charts.StoreOCI(dir, podinfoOCI, v, tgz); err != nil {
			t.Fatal(err)
		}
	}
	index, err := yaml.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	if err := charts.StoreHTTP(dir, podinfoHTTP, index, archives); err != nil {
		t.Fatal(err)
	}
	for _, v := range appTemplateVersions {
		tgz := packageChart(t, filepath.Join(src, "app-template", v))
		if _, err := charts.StoreOCI(dir, appTemplateOCI, v, tgz); err != nil {
			t.Fatal(err)
		}
		if !standIn {
			continue
		}
		for _, tag := range appTemplateStandIns {
			if _, err := charts.StoreOCI(dir, appTemplateOCI, tag, packageChartAs(t, filepath.Join(src, "app-template", v), tag)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestCorpusChartCache builds the corpus chart cache (into -write DIR when
// given) and checks that the cache finds what the corpus asks for, and
// nothing it does not hold.
func TestCorpusChartCache(t *testing.T) {
	dir := *corpusChartsWrite
	if dir == "" {
		dir = t.TempDir()
	}
	buildCorpusChartCache(t, dir, *corpusChartsStandIn)
	if *corpusChartsStandIn {
		t.Logf("app-template 4.1.1 stored as %s too (approximate)", strings.Join(appTemplateStandIns, ", "))
		t.Logf("chart cache written to %s", dir)
		return
	}
	cache, err := charts.Open("", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ref  charts.Ref
		want string // "" for not cached
	}{
		{charts.Ref{Kind: charts.KindHelmRepository, URL: "oci://ghcr.io/stefanprodan/charts", Chart: "podinfo", Version: "6.14.0"}, "6.14.0"}, // d1-apps
		{charts.Ref{Kind: charts.KindHelmRepository, URL: podinfoHTTP, Chart: "podinfo", Version: ">=1.0.0"}, "6.14.1"},                        // helm example
		{charts.Ref{Kind: charts.KindHelmRepository, URL: podinfoHTTP + "/", Chart: "podinfo", Version: ">=1.0.0-alpha"}, "6.14.1"},            // dev-team staging
		{charts.Ref{Kind: charts.KindOCIRepository, URL: podinfoOCI, Tag: "6.14.1"}, "6.14.1"},
		{charts.Ref{Kind: charts.KindOCIRepository, URL: appTemplateOCI, Tag: "4.1.1"}, "4.1.1"},
		{charts.Ref{Kind: charts.KindOCIRepository, URL: appTemplateOCI, Tag: "5.1.0"}, ""}, // onedr0p
		{charts.Ref{Kind: charts.KindOCIRepository, URL: appTemplateOCI, Tag: "5.0.1"}, ""}, // xunholy
		{charts.Ref{Kind: charts.KindHelmRepository, URL: podinfoHTTP, Chart: "podinfo", Version: "6.15.0"}, ""},
	} {
		res, err := cache.Find(tc.ref)
		switch {
		case tc.want == "" && !errors.Is(err, charts.ErrNotCached):
			t.Errorf("%s: %v %s, want not cached", tc.ref, err, res.Version)
		case tc.want != "" && err != nil:
			t.Errorf("%s: %v", tc.ref, err)
		case tc.want != "" && res.Version != tc.want:
			t.Errorf("%s: %s, want %s", tc.ref, res.Version, tc.want)
		}
	}
	if *corpusChartsWrite != "" {
		t.Logf("chart cache written to %s", dir)
	}
}

// corpusLint is one in-process lint of a corpus repository.
type corpusLint struct {
	Summary  finding.Summary   `json:"summary"`
	Findings []finding.Finding `json:"findings"`
}

func lintCorpus(t *testing.T, repo, cacheDir string) corpusLint {
	t.Helper()
	var stdout, stderr strings.Builder
	args := []string{"lint", repo, "--format", "json", "--no-config", "--fail-on", "never", "--chart-cache", cacheDir}
	if code := Main(args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("gitops-lint %v: exit %d: %s", args, code, stderr.String())
	}
	var out corpusLint
	if err := json.Unmarshal([]byte(stdout.String()), &out); err != nil {
		t.Fatalf("gitops-lint %v: %v", args, err)
	}
	out.Findings = unfolded(out.Findings)
	return out
}

func (l corpusLint) rule(id string) []finding.Finding {
	var out []finding.Finding
	for _, f := range l.Findings {
		if f.Rule == id {
			out = append(out, f)
		}
	}
	return out
}

// renderCorpus is what `gitops-lint render --kustomization
// HelmRelease/NS/NAME` prints for one HelmRelease of repo.
func renderCorpus(t *testing.T, repo, cacheDir, hr string) string {
	t.Helper()
	var stdout, stderr strings.Builder
	args := []string{"render", repo, "--no-config", "--chart-cache", cacheDir, "--kustomization", "HelmRelease/" + hr}
	if code := Main(args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("gitops-lint %v: exit %d: %s", args, code, stderr.String())
	}
	return stdout.String()
}

// TestCorpusCharts lints each corpus repository that has HelmReleases
// without and with the corpus chart cache: podinfo renders from both its
// HTTP and its OCI repository at the version the HelmRelease resolves to,
// app-template 5.x (not in the cache) stays render/helm-chart-missing,
// and rendering the charts adds no error.
func TestCorpusCharts(t *testing.T) {
	if testing.Short() {
		t.Skip("lints the corpus twice")
	}
	cacheDir := t.TempDir()
	buildCorpusChartCache(t, cacheDir, false)
	empty := t.TempDir()
	for _, name := range []string{
		"controlplaneio-fluxcd-d1-apps",
		"controlplaneio-fluxcd-d1-fleet",
		"controlplaneio-fluxcd-d1-infra",
		"flux2-kustomize-helm-example",
		"flux2-multi-tenancy-dev-team",
		"onedr0p-home-ops",
		"wahooli-gitops-repo",
		"xunholy-k8s-gitops",
	} {
		t.Run(name, func(t *testing.T) {
			repo := testutil.Corpus(t, name)
			before, after := lintCorpus(t, repo, empty), lintCorpus(t, repo, cacheDir)
			missing := func(l corpusLint, chart string) int {
				n := 0
				for _, f := range l.rule("render/helm-chart-missing") {
					if strings.Contains(f.Message, chart) {
						n++
					}
				}
				return n
			}
			t.Logf("helmReleases %d -> %d, chart-missing %d -> %d, objects %d -> %d, errors %d -> %d, warnings %d -> %d",
				before.Summary.HelmReleases, after.Summary.HelmReleases,
				len(before.rule("render/helm-chart-missing")), len(after.rule("render/helm-chart-missing")),
				before.Summary.Objects, after.Summary.Objects,
				before.Summary.Errors, after.Summary.Errors, before.Summary.Warnings, after.Summary.Warnings)

			// Rendering charts adds no error: every error with the cache
			// is one without it.
			was := map[string]bool{}
			for _, f := range before.Findings {
				was[findingKey(f)] = true
			}
			for _, f := range after.Findings {
				if f.Severity == finding.Error && !was[findingKey(f)] {
					t.Errorf("new error with the chart cache: %s %s: %s: %s", f.Rule, f.Object, f.File, f.Message)
				}
			}
			if after.Summary.Errors > before.Summary.Errors {
				t.Errorf("errors %d -> %d with the chart cache", before.Summary.Errors, after.Summary.Errors)
			}
			// Nothing the cache holds is reported missing.
			for _, f := range after.rule("render/helm-chart-missing") {
				if strings.Contains(f.Message, "podinfo") || strings.Contains(f.Message, "4.1.1") {
					t.Errorf("with the chart cache: %s", f.Message)
				}
			}

			switch name {
			case "controlplaneio-fluxcd-d1-apps":
				// podinfo 6.14.0 from the OCI HelmRepository.
				if missing(before, "podinfo") == 0 {
					t.Error("without the cache, podinfo is not render/helm-chart-missing")
				}
				if after.Summary.HelmReleases == 0 || after.Summary.Objects <= before.Summary.Objects {
					t.Errorf("podinfo not rendered: %d HelmReleases, objects %d -> %d", after.Summary.HelmReleases, before.Summary.Objects, after.Summary.Objects)
				}
				out := renderCorpus(t, repo, cacheDir, "frontend/podinfo")
				if !strings.Contains(out, "kind: Deployment") || !strings.Contains(out, "helm.sh/chart: podinfo-6.14.0") {
					t.Errorf("frontend/podinfo does not render podinfo 6.14.0's Deployment:\n%.2000s", out)
				}
			case "flux2-kustomize-helm-example":
				// podinfo ">=1.0.0" from the HTTP HelmRepository: the newest, 6.14.1.
				if missing(before, "podinfo") == 0 || after.Summary.HelmReleases == 0 {
					t.Errorf("podinfo: missing %d without the cache, %d HelmReleases rendered with it", missing(before, "podinfo"), after.Summary.HelmReleases)
				}
				out := renderCorpus(t, repo, cacheDir, "podinfo/podinfo")
				if !strings.Contains(out, "kind: Deployment") || !strings.Contains(out, "helm.sh/chart: podinfo-6.14.1") {
					t.Errorf("podinfo/podinfo does not render podinfo 6.14.1's Deployment:\n%.2000s", out)
				}
			case "onedr0p-home-ops":
				// app-template 5.1.0 is not in the cache: never faked.
				b, a := missing(before, "app-template"), missing(after, "app-template")
				if b == 0 || a != b {
					t.Errorf("app-template render/helm-chart-missing: %d without the cache, %d with it; want the same, > 0", b, a)
				}
				for _, f := range after.rule("render/helm-chart-missing") {
					if strings.Contains(f.Message, "app-template") && !strings.Contains(f.Message, "5.1.0") {
						t.Errorf("app-template, not 5.1.0: %s", f.Message)
					}
				}
			}
		})
	}
}
