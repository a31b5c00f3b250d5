package render

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

const cm = `apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: default
data:
  key: value
`

// What any hostile input may cost the test process: bounds, not
// benchmarks (each test logs what it took).
const (
	hostileTime = 30 * time.Second
	hostileHeap = 1 << 30
)

// renderHostile renders dir and checks the invariants every hostile input
// must keep: no error return, no write to the tree, a bounded run time and
// heap.
func renderHostile(t *testing.T, dir string) *Result {
	t.Helper()
	return renderHostileWith(t, Options{Root: dir})
}

// renderHostileWith is renderHostile with options (small limits).
func renderHostileWith(t *testing.T, opts Options) *Result {
	t.Helper()
	before := testutil.Snapshot(t, opts.Root)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	peak := watchHeap()
	start := time.Now()
	res, err := Render(ctx, opts)
	took, heap := time.Since(start), peak()
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	t.Logf("rendered in %v, peak heap +%d MiB", took.Round(time.Millisecond), heap>>20)
	if took > hostileTime {
		t.Errorf("the render took %v, more than %v", took, hostileTime)
	}
	if heap > hostileHeap {
		t.Errorf("the render grew the heap by %d MiB, more than %d MiB", heap>>20, hostileHeap>>20)
	}
	if after := testutil.Snapshot(t, opts.Root); after != before {
		t.Errorf("the linted tree changed:\n%s", diffLines(before, after))
	}
	return res
}

// watchHeap samples the heap until the returned function is called, which
// returns the peak growth over the heap at the start.
func watchHeap() func() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	done, finished := make(chan struct{}), make(chan struct{})
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > base {
			peak = max(peak, ms.HeapAlloc-base)
		}
	}
	go func() {
		defer close(finished)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			sample()
			select {
			case <-done:
				sample() // what a short render left on the heap
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak
	}
}

// limitFindings returns the render/limit findings of res.
func limitFindings(res *Result) []finding.Finding {
	var out []finding.Finding
	for _, f := range res.Findings {
		if f.Rule == RuleLimit.ID {
			out = append(out, f)
		}
	}
	return out
}

// wantLimit checks that res has exactly one render/limit finding, at
// file:line, whose message contains every part.
func wantLimit(t *testing.T, res *Result, file string, line int, parts ...string) finding.Finding {
	t.Helper()
	fs := limitFindings(res)
	if len(fs) != 1 {
		t.Fatalf("got %d render/limit findings, want 1: %v", len(fs), fs)
	}
	f := fs[0]
	if f.Severity != finding.Error || f.File != file || f.Line != line {
		t.Errorf("render/limit %s at %s:%d, want an error at %s:%d", f.Severity, f.File, f.Line, file, line)
	}
	for _, p := range parts {
		if !strings.Contains(f.Message, p) {
			t.Errorf("render/limit message lacks %q:\n%s", p, f.Message)
		}
	}
	return f
}

// f0 is the file of the first render/limit finding of res.
func f0(res *Result) string {
	if fs := limitFindings(res); len(fs) > 0 {
		return fs[0].File
	}
	return ""
}

// rendered counts the rendered objects of res.
func rendered(res *Result) int {
	n := 0
	for _, env := range res.Environments {
		for _, k := range env.Kustomizations {
			n += len(k.Objects)
		}
	}
	return n
}

// appsTree writes a one-environment repository whose Flux Kustomization
// apps renders ./apps, with files (path → content) added or replacing
// its own, under a new temporary directory, and returns the directory.
func appsTree(t *testing.T, files map[string]string) string {
	t.Helper()
	all := map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(testutil.FluxKustomization, "apps", "./apps"),
	}
	maps.Copy(all, files)
	return testutil.WriteTree(t, t.TempDir(), all)
}

// writeBig writes a file of size bytes made by repeating fill, or a sparse
// file of zeros when fill is empty.
func writeBig(t *testing.T, path string, size int, fill string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if fill == "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(int64(size)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return
	}
	if err := os.WriteFile(path, []byte(strings.Repeat(fill, size/len(fill))), 0o644); err != nil {
		t.Fatal(err)
	}
}

// configMaps is YAML of ConfigMaps named prefix-N, each with a value of
// valueLen bytes, up to size bytes.
func configMaps(prefix string, size, valueLen int) string {
	var b strings.Builder
	value := strings.Repeat("x", valueLen)
	for i := 0; b.Len() < size-valueLen-200; i++ {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-%d\ndata:\n  key: %s\n", prefix, i, value)
	}
	return b.String()
}

func diffLines(a, b string) string {
	al := map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		al[l] = true
	}
	var out []string
	for _, l := range strings.Split(b, "\n") {
		if !al[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// wantFinding checks that res has a rule finding at file:line (a hostile
// input is always reported where it is).
func wantFinding(t *testing.T, res *Result, rule, file string, line int) {
	t.Helper()
	if file == "" || line < 1 {
		t.Fatalf("wantFinding(%s, %q, %d): a finding must name a file and a line", rule, file, line)
	}
	for _, f := range res.Findings {
		if f.Rule == rule && f.File == file && f.Line == line {
			return
		}
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s %s", f.File, f.Line, f.Rule, f.Message))
	}
	t.Errorf("no %s finding at %s:%d; got:\n%s", rule, file, line, strings.Join(got, "\n"))
}

func TestHostileSymlinkOutside(t *testing.T) {
	dir := appsTree(t, map[string]string{
		"apps/kustomization.yaml": "resources:\n- passwd.yaml\n",
	})
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "apps", "passwd.yaml")); err != nil {
		t.Skip(err)
	}
	res := renderHostile(t, dir)
	wantFinding(t, res, RulePathEscape.ID, "apps/passwd.yaml", 1)
	wantFinding(t, res, RuleError.ID, "clusters/dev/apps.yaml", 1)
}

func TestHostileKRMExecFunction(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "executed")
	dir := appsTree(t, map[string]string{
		"apps/kustomization.yaml": "resources:\n- cm.yaml\ntransformers:\n- fn.yaml\n",
		"apps/cm.yaml":            fmt.Sprintf(cm, "a"),
		"apps/fn.yaml": `apiVersion: example.com/v1
kind: Evil
metadata:
  name: evil
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: /bin/sh
        args: ["-c", "touch ` + marker + `"]
`,
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, RuleError.ID, "clusters/dev/apps.yaml", 1)
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the KRM exec function ran")
	}
}

// aliasBomb is a ConfigMap of nine levels of YAML aliases, each nine of
// the one before: 9^9 (387 million) strings once expanded.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		fmt.Fprintf(&b, "  %s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	return b.String()
}

// TestHostileInputs: a repository holding one hostile input renders, and
// the input is reported where it is.
func TestHostileInputs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string // added to appsTree's
		rule  string
		file  string
		line  int
	}{
		{"parent traversal", map[string]string{
			"apps/kustomization.yaml": "resources:\n- ../../../../etc\n",
		}, RulePathEscape.ID, "clusters/dev/apps.yaml", 1},
		{"spec path escape", map[string]string{
			"clusters/dev/apps.yaml": fmt.Sprintf(testutil.FluxKustomization, "apps", "../../etc"),
		}, RulePathEscape.ID, "clusters/dev/apps.yaml", 8},
		{"remote base", map[string]string{
			"apps/kustomization.yaml": "resources:\n- cm.yaml\n- https://github.com/example/repo//deploy?ref=v1.0.0\n",
			"apps/cm.yaml":            fmt.Sprintf(cm, "a"),
		}, RuleRemoteBase.ID, "apps/kustomization.yaml", 3},
		{"remote file", map[string]string{
			"apps/kustomization.yaml": "resources:\n- cm.yaml\npatches:\n- path: http://127.0.0.1:1/patch.yaml\n",
			"apps/cm.yaml":            fmt.Sprintf(cm, "a"),
		}, RuleRemoteBase.ID, "apps/kustomization.yaml", 4},
		{"alias bomb", map[string]string{
			"apps/bomb.yaml": aliasBomb(),
		}, RuleYAMLSyntax.ID, "apps/bomb.yaml", 1},
		// The index checks .yaml files outside the directories it skips;
		// kustomize reads whatever a kustomization lists, and expands
		// aliases.
		{"alias bomb unindexed", map[string]string{
			"apps/kustomization.yaml": "resources:\n- vendor/bomb.yaml\n",
			"apps/vendor/bomb.yaml":   aliasBomb(),
		}, RuleError.ID, "clusters/dev/apps.yaml", 1},
		{"binary YAML", map[string]string{
			"apps/blob.yaml": "apiVersion: v1\nkind: ConfigMap\n\x00\x01\x02\xff\xfe",
		}, RuleYAMLSyntax.ID, "apps/blob.yaml", 3},
		{"duplicate keys", map[string]string{
			"apps/dup.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n  name: again\n",
		}, RuleYAMLSyntax.ID, "apps/dup.yaml", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := renderHostile(t, appsTree(t, tc.files))
			wantFinding(t, res, tc.rule, tc.file, tc.line)
		})
	}
}

func TestHostileHugeFile(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 50<<20; i++ {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  key: %s\n", i, strings.Repeat("x", 4000))
	}
	dir := appsTree(t, map[string]string{
		"apps/huge.yaml": b.String(),
		"apps/cm.yaml":   fmt.Sprintf(cm, "small"),
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, RuleYAMLSyntax.ID, "apps/huge.yaml", 1)
}

func TestHostileSelfInclusion(t *testing.T) {
	dir := appsTree(t, map[string]string{
		// a kustomization listing itself, and two Flux Kustomizations
		// whose paths contain each other
		"apps/kustomization.yaml": "resources:\n- .\n",
		"loop/a/ks.yaml":          fmt.Sprintf(testutil.FluxKustomization, "loop-a", "./loop/b"),
		"loop/b/ks.yaml":          fmt.Sprintf(testutil.FluxKustomization, "loop-b", "./loop/a"),
		"clusters/dev/loop.yaml":  fmt.Sprintf(testutil.FluxKustomization, "loop", "./loop/a"),
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, RuleError.ID, "clusters/dev/apps.yaml", 1)
	if n := len(res.Environments[0].Kustomizations); n != 5 {
		t.Errorf("got %d Kustomizations, want 5 (root, apps, loop, loop-a, loop-b)", n)
	}
}

func TestRemoteDetection(t *testing.T) {
	for _, tc := range []struct {
		ref    string
		remote bool
	}{
		{"https://github.com/example/repo//deploy?ref=v1", true},
		{"http://example.com/manifest.yaml", true},
		{"github.com/example/repo/deploy?ref=main", true},
		{"GitHub.com:example/repo", true},
		{"git@gitlab.example.com:org/repo.git//base", true},
		{"deploy@host.example.com:org/repo", true},
		{"ssh://git@example.com/org/repo", true},
		{"git::https://example.com/org/repo", true},
		{"file:///srv/git/repo", true},
		{"../base", false},
		{"./components/foo.git", false},
		{"base", false},
		{"overlays/prod?x", false},
	} {
		if got := remoteRe.MatchString(tc.ref); got != tc.remote {
			t.Errorf("%q: remote=%v, want %v", tc.ref, got, tc.remote)
		}
	}
}

// TestHostileManyLargeFiles is eight YAML files of 15 MiB (each under the
// per-file limit) at the default limits. Before the limits the run went
// past 120 s: kustomize checks every resource it adds against all it
// holds, so one build of their 30,000 ConfigMaps costs 30,000² steps.
// Now the build is refused before Flux's generator parses the files;
// with tiny documents, each file is refused as too dense to parse.
func TestHostileManyLargeFiles(t *testing.T) {
	for _, tc := range []struct {
		name     string
		valueLen int
	}{
		{"4 KiB values", 4000}, // 3,860 ConfigMaps a file
		{"tiny documents", 1},  // 200,000 ConfigMaps a file
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := appsTree(t, nil)
			for i := range 8 {
				testutil.WriteFile(t, filepath.Join(dir, "apps", fmt.Sprintf("f%d.yaml", i)), configMaps(fmt.Sprintf("f%d", i), 15<<20, tc.valueLen))
			}
			res := renderHostile(t, dir)
			if tc.valueLen > 1 {
				wantLimit(t, res, "clusters/dev/apps.yaml", 1, "kustomize would load", "--limit objects=COUNT", "not rendered (nor what it would create): flux-system/apps")
			} else {
				for i := range 8 {
					wantFinding(t, res, RuleYAMLSyntax.ID, fmt.Sprintf("apps/f%d.yaml", i), 1)
				}
			}
		})
	}
}

// TestHostileTotalBudget spends the run's total byte budget: reading
// stops at the file that does not fit, one render/limit finding names it
// and the limit, and the run ends with what it has.
func TestHostileTotalBudget(t *testing.T) {
	files := map[string]string{}
	for i := range 20 {
		files[fmt.Sprintf("apps/f%02d.yaml", i)] = configMaps(fmt.Sprintf("f%d", i), 900<<10, 4000)
	}
	dir := appsTree(t, files)
	budget := confine.NewBudget(4<<20, confine.LimitTotalBytes)
	limits := confine.Defaults()
	limits.FileBytes, limits.TotalBytes = 1<<20, 4<<20
	res := renderHostileWith(t, Options{Root: dir, Limits: limits, Budget: budget})
	// The walk reads clusters/ after apps/: f00 to f03 fit in 4 MiB.
	wantLimit(t, res, "apps/f04.yaml", 1, "reading stopped at apps/f04.yaml", "total byte limit of 4 MiB", "--limit total-bytes=SIZE")
	if used := budget.Used(); used > 4<<20 || used < 3<<20 {
		t.Errorf("the shared budget was charged %d bytes, want what the four files read", used)
	}
	if n := rendered(res); n != 0 {
		t.Errorf("%d objects rendered after reading stopped", n)
	}

	// A budget already spent in part by the caller's other reads.
	budget = confine.NewBudget(4<<20, confine.LimitTotalBytes)
	budget.Take(3 << 20)
	res = renderHostileWith(t, Options{Root: dir, Limits: limits, Budget: budget})
	wantLimit(t, res, "apps/f01.yaml", 1, "reading stopped at apps/f01.yaml")
}

// TestHostileBudgetInArtifact: what is not YAML is read only when a source
// is packaged, and charged then.
func TestHostileBudgetInArtifact(t *testing.T) {
	dir := appsTree(t, map[string]string{
		"apps/cm.yaml": fmt.Sprintf(cm, "a"),
	})
	writeBig(t, filepath.Join(dir, "apps", "padding.json"), 3<<20, "0123456789abcdef")
	limits := confine.Defaults()
	limits.TotalBytes = 2 << 20
	res := renderHostileWith(t, Options{Root: dir, Limits: limits})
	wantLimit(t, res, "apps/padding.json", 1, "reading stopped at apps/padding.json", "--limit total-bytes=SIZE")
}

// TestHostileTwentyLargeFiles: twenty 60 MiB files that are not YAML were
// read whole into the artifact (2.2 GB); files over the per-file limit
// are now left unread, and a build that reads one says why.
func TestHostileTwentyLargeFiles(t *testing.T) {
	dir := appsTree(t, map[string]string{
		"clusters/dev/big.yaml":  fmt.Sprintf(testutil.FluxKustomization, "big", "./big"),
		"apps/cm.yaml":           fmt.Sprintf(cm, "a"),
		"big/kustomization.yaml": "configMapGenerator:\n- name: big\n  files:\n  - blob-00.json\n",
	})
	for i := range 20 {
		writeBig(t, filepath.Join(dir, "big", fmt.Sprintf("blob-%02d.json", i)), 60<<20, "")
	}
	writeBig(t, filepath.Join(dir, "apps", "huge.yaml"), 60<<20, "")
	res := renderHostile(t, dir)
	wantFinding(t, res, RuleYAMLSyntax.ID, "apps/huge.yaml", 1)
	for _, f := range res.Findings {
		if f.File == "apps/huge.yaml" && !strings.Contains(f.Message, "larger than 16 MiB") || f.File == "apps/huge.yaml" && !strings.Contains(f.Message, "--limit file-bytes=SIZE") {
			t.Errorf("oversized file finding: %s", f.Message)
		}
	}
	wantFinding(t, res, RuleError.ID, "clusters/dev/big.yaml", 1)
	for _, f := range res.Findings {
		if f.File == "clusters/dev/big.yaml" && !strings.Contains(f.Message, "blob-00.json is larger than the limit of 16 MiB (raise it with --limit file-bytes=SIZE)") {
			t.Errorf("the build reading an oversized file does not say why: %s", f.Message)
		}
	}
	if n := len(limitFindings(res)); n != 0 {
		t.Errorf("got %d render/limit findings: unread files cost no budget", n)
	}
}

// TestHostileDenseYAML: a 14 MiB flow list of numbers parses into 7
// million nodes (1.4 GB) although it is under the per-file byte limit.
func TestHostileDenseYAML(t *testing.T) {
	dir := appsTree(t, map[string]string{
		"apps/cm.yaml":    fmt.Sprintf(cm, "a"),
		"apps/dense.yaml": "apiVersion: v1\nkind: List\nitems: [" + strings.Repeat("1,", 7<<20) + "1]\n",
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, RuleYAMLSyntax.ID, "apps/dense.yaml", 1)
	for _, f := range res.Findings {
		if f.File == "apps/dense.yaml" && !strings.Contains(f.Message, "--limit file-bytes=SIZE") {
			t.Errorf("dense file finding: %s", f.Message)
		}
	}
}

// TestHostileParsedNodes: many files of tiny documents, each within the
// per-file bounds, parse into more nodes than the total budget allows.
func TestHostileParsedNodes(t *testing.T) {
	files := map[string]string{}
	for i := range 8 {
		files[fmt.Sprintf("apps/f%d.yaml", i)] = configMaps(fmt.Sprintf("f%d", i), 256<<10, 1) // ~45,000 nodes each
	}
	dir := appsTree(t, files)
	limits := confine.Defaults()
	limits.TotalBytes = 16 << 20 // 131,072 nodes
	res := renderHostileWith(t, Options{Root: dir, Limits: limits})
	wantLimit(t, res, "apps/f2.yaml", 1, "reading stopped at apps/f2.yaml", "parses into more than 131072 nodes", "--limit total-bytes=SIZE")
}

// TestHostileSubstitutionBomb: a 4 MiB postBuild.substitute value used 500
// times expands to 2 GB; the substitution is refused before it runs.
func TestHostileSubstitutionBomb(t *testing.T) {
	var refs strings.Builder
	for i := range 500 {
		fmt.Fprintf(&refs, "  k%d: ${BIG}\n", i)
	}
	ks := fmt.Sprintf(testutil.FluxKustomization, "apps", "./apps") + "  postBuild:\n    substitute:\n      BIG: " + strings.Repeat("x", 4<<20) + "\n"
	dir := appsTree(t, map[string]string{
		"clusters/dev/apps.yaml": ks,
		"apps/cm.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n  namespace: default\ndata:\n" + refs.String(),
		"apps/other.yaml":        fmt.Sprintf(cm, "other"),
	})
	res := renderHostile(t, dir)
	wantLimit(t, res, "clusters/dev/apps.yaml", 1, "post-build substitution of flux-system/apps would produce more than the limit of 16 MiB", "ConfigMap/bomb", "--limit substitution-bytes=SIZE", "flux-system/apps is not rendered")
	for _, k := range res.Environments[0].Kustomizations {
		if k.ID() == "flux-system/apps" && (k.Rendered || len(k.Objects) > 0) {
			t.Error("flux-system/apps was rendered")
		}
	}
}

// TestHostileManyUnsetVariables: every strict-mode miss was found by
// substituting the whole object again and reading its file again.
func TestHostileManyUnsetVariables(t *testing.T) {
	var refs strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&refs, " ${V%d}", i)
	}
	dir := appsTree(t, map[string]string{
		"clusters/dev/apps.yaml": fmt.Sprintf(testutil.FluxKustomization, "apps", "./apps") + "  postBuild:\n    substitute:\n      SET: x\n",
		"apps/cm.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: many\n  namespace: default\ndata:\n  key:" + refs.String() + "\n",
	})
	res := renderHostile(t, dir)
	n := 0
	for _, f := range res.Findings {
		if f.Rule == RuleSubstitution.ID {
			n++
		}
	}
	if n != maxUnsetReported+1 {
		t.Errorf("got %d render/substitution findings, want %d and one saying more are not set", n, maxUnsetReported)
	}
	wantFinding(t, res, RuleSubstitution.ID, "apps/cm.yaml", 7) // ${V0}
}

// TestHostileRenderedBudget: the rendered output of the run is bounded;
// the Kustomizations beyond the bound are not rendered, and named.
func TestHostileRenderedBudget(t *testing.T) {
	files := map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"base/cm.yaml": configMaps("big", 200<<10, 100<<10),
	}
	// Thirty Kustomizations of one base: built once, copied for each.
	for i := range 30 {
		files[fmt.Sprintf("clusters/dev/k%02d.yaml", i)] = strings.Replace(fmt.Sprintf(testutil.FluxKustomization, fmt.Sprintf("k%02d", i), "./base"), "  prune: true\n", fmt.Sprintf("  prune: true\n  targetNamespace: ns%d\n", i), 1)
	}
	dir := testutil.WriteTree(t, t.TempDir(), files)
	limits := confine.Defaults()
	limits.RenderedBytes = 1 << 20
	res := renderHostileWith(t, Options{Root: dir, Limits: limits, Workers: 1})
	// Ten copies fit beside the root's 30 objects; the finding is at the
	// first Kustomization refused (which one depends on scheduling) and
	// lists the 20 not rendered.
	f := wantLimit(t, res, f0(res), 1, "the rendered objects would exceed the limit of 1 MiB", "--limit rendered-bytes=SIZE",
		"not rendered (nor what it would create): flux-system/k", " and 10 more")
	if !strings.HasPrefix(f.File, "clusters/dev/k") {
		t.Errorf("render/limit at %s, want a refused Kustomization", f.File)
	}
	if n := rendered(res); n != 30+10 {
		t.Errorf("%d objects rendered, want 40", n)
	}

	limits = confine.Defaults()
	limits.Objects = 35
	res = renderHostileWith(t, Options{Root: dir, Limits: limits, Workers: 1})
	wantLimit(t, res, f0(res), 1, "the rendered objects would number more than the limit of 35", "--limit objects=COUNT", "not rendered (nor what it would create): flux-system/k", " and 15 more")
	if n := rendered(res); n != 35 {
		t.Errorf("%d objects rendered, want the limit", n)
	}
}

// TestHostileKustomizeWork: one build of many small resources, listed by
// a kustomization file (refused when kustomize reads the list) or found
// by Flux's generator (refused before it parses them).
func TestHostileKustomizeWork(t *testing.T) {
	for _, kfile := range []bool{true, false} {
		t.Run(fmt.Sprintf("kustomization file %v", kfile), func(t *testing.T) {
			files := map[string]string{
				"apps/a.yaml": configMaps("a", 200<<10, 1),
				"apps/b.yaml": configMaps("b", 200<<10, 1),
			}
			if kfile {
				files["apps/kustomization.yaml"] = "resources:\n- a.yaml\n- b.yaml\n"
			}
			dir := appsTree(t, files)
			res := renderHostileWith(t, Options{Root: dir, Limits: confine.Limits{FileBytes: 16 << 20, TotalBytes: 256 << 20, RenderedBytes: 512 << 20, Objects: 1000, SubstitutionBytes: 16 << 20}})
			wantLimit(t, res, "clusters/dev/apps.yaml", 1, "kustomize would load", "(with apps/", "at least 1000", "--limit objects=COUNT")
		})
	}
}

// TestClip: a message quoting a rendered object quotes a bounded part of
// it, cut at a character boundary.
func TestClip(t *testing.T) {
	if got := clip("short", 10); got != "short" {
		t.Errorf("clip(short) = %q", got)
	}
	if got := clip("ééé", 3); got != "é… (4 more bytes)" {
		t.Errorf("clip(ééé, 3) = %q", got)
	}
	if got := clip(strings.Repeat("x", 1<<20), maxQuoted); len(got) > maxQuoted+32 {
		t.Errorf("clipped to %d bytes", len(got))
	}
}

// TestHostileWideMapping: kustomize's YAML library sets each key of a
// mapping by searching the keys before it; 20,000 keys took seconds, the
// 400,000 a 4 MiB file holds would take hours.
func TestHostileWideMapping(t *testing.T) {
	var keys strings.Builder
	for i := range 19000 {
		fmt.Fprintf(&keys, "  k%d: v\n", i)
	}
	dir := appsTree(t, map[string]string{
		"apps/cm.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wide\n  namespace: default\ndata:\n" + keys.String(),
		"apps/wider.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wider\n  namespace: default\ndata:\n" + keys.String() + strings.ReplaceAll(keys.String(), "  k", "  w"),
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, RuleYAMLSyntax.ID, "apps/wider.yaml", 7)
	wantLimit(t, res, "clusters/dev/apps.yaml", 1, "mappings of too many keys (in apps/cm.yaml)", "--limit objects=COUNT")
}

// TestBudgetChargedOnce: the index and the artifact share what they read,
// so every file of the checkout is charged once, YAML or not.
func TestBudgetChargedOnce(t *testing.T) {
	files := map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(testutil.FluxKustomization, "apps", "./apps"),
		"apps/kustomization.yaml":                 "resources:\n- cm.yaml\nconfigMapGenerator:\n- name: data\n  files:\n  - data.json\n",
		"apps/cm.yaml":                            fmt.Sprintf(cm, "a"),
		"apps/data.json":                          `{"key": "value"}`,
		"README.md":                               "# not read by the index, packaged in the artifact\n",
	}
	dir := testutil.WriteTree(t, t.TempDir(), files)
	var want int64
	for _, c := range files {
		want += int64(len(c))
	}
	budget := confine.NewBudget(1<<20, confine.LimitTotalBytes)
	res := renderHostileWith(t, Options{Root: dir, Budget: budget})
	if got := budget.Used(); got != want {
		t.Errorf("charged %d bytes, want %d (each file once)", got, want)
	}
	if n := rendered(res); n != 3 {
		t.Errorf("%d objects rendered, want 3", n)
	}
}

// TestPrefetchTakenOnce: the first run of the prefetched root takes the
// index Prefetch read; a second run with the same Options, or a run of
// another root, reads its own.
func TestPrefetchTakenOnce(t *testing.T) {
	dir := appsTree(t, map[string]string{"apps/cm.yaml": configMaps("cm", 1<<10, 100)})
	pre := Prefetch(dir)
	<-pre.done
	if pre.err != nil {
		t.Fatal(pre.err)
	}
	if x, err := loadIndex(t.TempDir(), newReader(confine.Defaults(), nil), pre); err != nil || x == pre.x {
		t.Errorf("another root took the prefetched index (err %v)", err)
	}
	if x, err := loadIndex(dir, newReader(confine.Defaults(), nil), pre); err != nil || x != pre.x {
		t.Errorf("the first run did not take the prefetched index (err %v)", err)
	}
	if x, err := loadIndex(dir, newReader(confine.Defaults(), nil), pre); err != nil || x == pre.x {
		t.Errorf("a second run took the prefetched index again (err %v)", err)
	}
}

// TestPrefetchWithinLimits: an index Prefetch read within the default
// limits is charged to the run's budget, and read again for a run with
// other limits.
func TestPrefetchWithinLimits(t *testing.T) {
	files := map[string]string{}
	for i := range 4 {
		files[fmt.Sprintf("apps/f%d.yaml", i)] = configMaps(fmt.Sprintf("f%d", i), 600<<10, 4000)
	}
	dir := appsTree(t, files)

	pre := Prefetch(dir)
	budget := confine.NewBudget(256<<20, confine.LimitTotalBytes)
	renderHostileWith(t, Options{Root: dir, Budget: budget, Prefetched: pre})
	if budget.Used() < 4*500<<10 {
		t.Errorf("the prefetched index was not charged: %d bytes", budget.Used())
	}

	pre = Prefetch(dir)
	limits := confine.Defaults()
	limits.TotalBytes = 1 << 20
	res := renderHostileWith(t, Options{Root: dir, Limits: limits, Prefetched: pre})
	wantLimit(t, res, "apps/f1.yaml", 1, "reading stopped at apps/f1.yaml", "total byte limit of 1 MiB")
}

// TestHostileSourceIgnore: a .sourceignore that is a link to an endless
// device (or out of the repository) is never opened: the render completes,
// reports the link, and packages the repository with the default
// exclusions.
func TestHostileSourceIgnore(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(testutil.FluxKustomization, "apps", "./apps"),
		"apps/cm.yaml":                            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n",
	})
	if err := os.Symlink("/dev/urandom", filepath.Join(dir, ".sourceignore")); err != nil {
		t.Fatal(err)
	}
	res := renderHostile(t, dir)
	wantFinding(t, res, RulePathEscape.ID, ".sourceignore", 1)
	k := res.Environments[0].Kustomizations
	if len(k) < 2 || len(findKs(t, res.Environments[0], "flux-system/apps").Objects) != 1 {
		t.Errorf("the repository was not rendered: %+v", res.Environments[0])
	}
}
