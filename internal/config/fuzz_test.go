package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the config loader the way a pull
// request would: as the repository's .gitops-lint.yaml. Load must never
// panic, every error must point into the file, and whatever loads must pass
// or fail Confine without escaping the repository.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"", "failOn: warning\n", "format: [text, json=out.json]\n", "format: json=../x\n",
		"sources: {a/b: ../c}\ncrdDirs: [/]\n", "environments: [{name: dev, path: clusters/dev}]\n",
		"rules: {policy/x: {severity: info, params: {a: [1, 2]}}}\n", "promotion: dev,main\n",
		"a: &a [*a, *a]\n", "- a\n", "---\n---\n", "workers: -1\n", "ignore: [{}]\n",
		"provides: [{kind: MyDB, group: example.com, produces: {kind: Secret, nameFrom: spec.a}}, {produces: {kind: Secret, name: x}}]\n",
		"workers: many\n", "workers: 1.5\n", "environments: foo\n", "promotion: 5\n", "promotion: {dev: test}\n",
		"rules: {a: {disabled: maybe, params: [1]}}\n", "rules: &r {a: {params: *r}}\n", "crdDirs: &d [a]\nworkers: *d\n",
		"rules: {a: {params: {e: &e [{name: dev, path: p}], p: &p [{produces: {kind: S, name: n}}]}}}\nenvironments: *e\nprovides: *p\nignore: *p\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		repo := filepath.Join(t.TempDir(), "repo")
		if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(repo, FileName)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), p+":") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := cfg.Confine(nil); err != nil {
			return
		}
		for _, spec := range cfg.Format {
			_, file, ok := strings.Cut(spec, "=")
			if !ok || file == "" || file == "-" {
				continue
			}
			rel, err := cfg.Destination(file)
			if err != nil || strings.HasPrefix(rel, "..") || strings.HasPrefix(strings.ToLower(rel), ".git") {
				t.Fatalf("accepted destination %q -> %q, %v", file, rel, err)
			}
		}
	})
}
