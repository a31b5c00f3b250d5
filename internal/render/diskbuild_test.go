package render

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gitops-lint/gitops-lint/internal/diskcache"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// dumpResult writes everything a render produced that a report could
// show: every object with its position and content, every finding.
func dumpResult(t *testing.T, res *Result) string {
	t.Helper()
	var b strings.Builder
	for _, env := range res.Environments {
		fmt.Fprintf(&b, "env %s %+v\n", env.Name, env.Lockdown)
		// Kustomizations join the environment as their builds finish.
		var ks []string
		for _, k := range env.Kustomizations {
			var kb strings.Builder
			fmt.Fprintf(&kb, "ks %s rendered=%v failed=%v skipped=%d %s:%d:%d\n", k.ID(), k.Rendered, k.Failed, k.Skipped, k.File, k.Line, k.Column)
			for _, o := range k.Objects {
				content, err := json.Marshal(o.Content)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&kb, "  %s:%d:%d %s %s\n", o.File, o.Line, o.Column, o.OriginPath, content)
			}
			ks = append(ks, kb.String())
		}
		slices.Sort(ks)
		b.WriteString(strings.Join(ks, ""))
	}
	// Render leaves the findings in the order its builds finished.
	var fs []string
	for _, f := range res.Findings {
		fs = append(fs, fmt.Sprintf("finding %s %s %s:%d:%d %s\n", f.Environment, f.Rule, f.File, f.Line, f.Column, f.Message))
	}
	slices.Sort(fs)
	return b.String() + strings.Join(fs, "")
}

func renderDump(t *testing.T, root string, c *diskcache.Cache) string {
	t.Helper()
	res, err := Render(context.Background(), Options{Root: root, Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	return dumpResult(t, res)
}

// TestDiskCache holds the persistent cache's promise: a warm run renders
// exactly what a cold one does, reuses every build whose inputs did not
// change, and builds again those a change reaches.
func TestDiskCache(t *testing.T) {
	repo := testutil.CopyTree(t, testutil.Corpus(t, "flux2-kustomize-helm-example"))
	dir := t.TempDir()
	open := func() *diskcache.Cache {
		c, err := diskcache.Open(dir, "test build", 0)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cold := renderDump(t, repo, nil)

	c1 := open()
	if got := renderDump(t, repo, c1); got != cold {
		t.Fatalf("storing run differs from a cold run:\n%s", lineDiff(cold, got))
	}
	hits, _, puts := c1.Stats()
	if hits != 0 || puts == 0 {
		t.Fatalf("first run: %d hits, %d stored; want 0 hits and some stored", hits, puts)
	}

	c2 := open()
	if got := renderDump(t, repo, c2); got != cold {
		t.Fatalf("warm run differs from a cold run:\n%s", lineDiff(cold, got))
	}
	if h, m, _ := c2.Stats(); h != puts || m != 0 {
		t.Fatalf("warm run: %d hits, %d misses; want %d hits, no miss", h, m, puts)
	}

	// A file one overlay patches with changes that overlay's build only.
	values := filepath.Join(repo, "apps", "staging", "podinfo-values.yaml")
	data, err := os.ReadFile(values)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(values, append(data, []byte("  interval: 7m\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	coldChanged := renderDump(t, repo, nil)
	if coldChanged == cold {
		t.Fatal("the change changed nothing: the test proves nothing")
	}
	c3 := open()
	if got := renderDump(t, repo, c3); got != coldChanged {
		t.Fatalf("after a change, the warm run differs from a cold run:\n%s", lineDiff(coldChanged, got))
	}
	if h, m, _ := c3.Stats(); m != 1 || h != puts-1 {
		t.Fatalf("after changing one build's input: %d hits, %d misses; want %d hits, 1 miss", h, m, puts-1)
	}

	// A file appearing in a directory a build lists.
	extra := filepath.Join(repo, "apps", "base", "podinfo", "extra.yaml")
	if err := os.WriteFile(extra, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: podinfo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	kfile := filepath.Join(repo, "apps", "base", "podinfo", "kustomization.yaml")
	kdata, err := os.ReadFile(kfile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kfile, []byte(strings.Replace(string(kdata), "resources:\n", "resources:\n  - extra.yaml\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	coldAdded := renderDump(t, repo, nil)
	if !strings.Contains(coldAdded, `"name":"extra"`) {
		t.Fatal("the new ConfigMap is not rendered: the test proves nothing")
	}
	if got := renderDump(t, repo, open()); got != coldAdded {
		t.Fatalf("after adding a resource, the warm run differs from a cold run:\n%s", lineDiff(coldAdded, got))
	}
}

// TestDiskCacheCorpus renders every corpus repository cold, then twice
// through one cache: the three renders are identical.
func TestDiskCacheCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("renders the corpus three times")
	}
	entries, err := os.ReadDir(filepath.Dir(testutil.Corpus(t, "onedr0p-home-ops")))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			repo := testutil.Corpus(t, e.Name())
			cold := renderDump(t, repo, nil)
			for i := range 2 {
				c, err := diskcache.Open(dir, "test build", 0)
				if err != nil {
					t.Fatal(err)
				}
				if got := renderDump(t, repo, c); got != cold {
					t.Fatalf("run %d through the cache differs from a cold run:\n%s", i+1, lineDiff(cold, got))
				}
				if h, _, p := c.Stats(); i == 1 && (h == 0 || p != 0) {
					t.Fatalf("second run through the cache: %d hits, %d stored; want all hits", h, p)
				}
			}
		})
	}
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)) && b.Len() < 4000; i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d\n- %s\n+ %s\n", i+1, a, c)
		}
	}
	return b.String()
}

// TestEntryRoundTrip: an entry decodes to what was encoded, node for
// node, and aliases are refused.
func TestEntryRoundTrip(t *testing.T) {
	var doc yaml.Node
	src := "# head\napiVersion: v1 # line\nkind: ConfigMap\nmetadata: {name: x, labels: {a: \"1\"}}\ndata:\n  k: |\n    multi\n    line\n  n: 0x1F\n  s: 'quoted'\nlist: [1, 2.5, true, null, ~]\n# foot\n"
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	docs, err := encodeDocs([]*yaml.Node{doc.Content[0], doc.Content[0]})
	if err != nil {
		t.Fatal(err)
	}
	e := &diskEntry{deps: []fsDep{{opRead, "a/b.yaml", "Dabc"}, {opExists, ".", "1"}}, work: 42, docs: docs}
	data := encodeEntry(e)
	got, err := decodeEntry(data)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.deps) != fmt.Sprint(e.deps) || got.work != 42 || string(got.docs) != string(docs) {
		t.Fatalf("decoded %+v", got)
	}
	nodes, err := decodeDocs(got.docs)
	if err != nil || len(nodes) != 2 {
		t.Fatalf("decodeDocs: %d nodes, %v", len(nodes), err)
	}
	var a, b strings.Builder
	dumpNode(&a, doc.Content[0], 0)
	dumpNode(&b, nodes[1], 0)
	if a.String() != b.String() {
		t.Fatalf("node trees differ:\n%s", lineDiff(a.String(), b.String()))
	}
	for i := range data {
		if _, err := decodeEntry(data[:i]); err == nil {
			t.Fatalf("a truncated entry (%d of %d bytes) decoded", i, len(data))
		}
	}
	var aliased yaml.Node
	if err := yaml.Unmarshal([]byte("a: &x {b: 1}\nc: *x\n"), &aliased); err != nil {
		t.Fatal(err)
	}
	if _, err := encodeDocs([]*yaml.Node{aliased.Content[0]}); err == nil {
		t.Fatal("an output with an alias was encoded")
	}
}

func dumpNode(b *strings.Builder, n *yaml.Node, depth int) {
	fmt.Fprintf(b, "%*s%d %d %q %q %q %q %q %q %d:%d\n", depth*2, "", n.Kind, n.Style, n.Tag, n.Value, n.Anchor, n.HeadComment, n.LineComment, n.FootComment, n.Line, n.Column)
	for _, c := range n.Content {
		dumpNode(b, c, depth+1)
	}
}

// FuzzDecodeEntry: whatever a cache file holds, decoding it never panics
// and what decodes encodes back to the same bytes.
func FuzzDecodeEntry(f *testing.F) {
	var doc yaml.Node
	_ = yaml.Unmarshal([]byte("a: [1, {b: c}]\n"), &doc)
	docs, _ := encodeDocs([]*yaml.Node{doc.Content[0]})
	f.Add(encodeEntry(&diskEntry{deps: []fsDep{{opRead, "x", "D0"}}, work: 3, docs: docs}))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeEntry(data)
		if err != nil {
			return
		}
		nodes, err := decodeDocs(e.docs)
		if err != nil {
			t.Fatalf("an entry decoded with docs that do not: %v", err)
		}
		again, err := encodeDocs(nodes)
		if err != nil {
			t.Fatalf("decoded docs do not encode: %v", err)
		}
		if string(encodeEntry(&diskEntry{deps: e.deps, work: e.work, docs: again})) != string(data) {
			t.Fatalf("re-encoded entry differs")
		}
	})
}
