package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitops-lint/gitops-lint/policies"
)

// FuzzLoadPolicy writes the fuzzed bytes as a policy file and loads it:
// whatever a repository puts there, Load returns (an engine or an error
// that quotes no source line) without panicking or hanging.
func FuzzLoadPolicy(f *testing.F) {
	entries, err := policies.FS.ReadDir(".")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if data, err := policies.FS.ReadFile(e.Name()); err == nil && !strings.HasSuffix(e.Name(), "_test.rego") {
			f.Add(data)
		}
	}
	for _, expr := range disallowed {
		f.Add([]byte("package main\n\ndeny contains msg if {\n\t" + expr + "\n\tmsg := sprintf(\"%v\", [r])\n}\n"))
	}
	for _, s := range []string{
		"",
		"package main\n",
		okPolicy,
		"SECRET=1\x00PATH=/bin\x00",
		"root:x:0:0:root:/root:/bin/bash\n",
		"package main\nx := \"unterminated\n",
		"package main\n\ndeny contains msg if { x := numbers.range(1, 1e9); msg := sprintf(\"%d\", [count(x)]) }\n",
		"package main\n\ndeny contains msg if { x := net.cidr_expand(\"0.0.0.0/0\"); msg := sprintf(\"%d\", [count(x)]) }\n",
		"package main\nimport rego.v1\n\ndeny[msg] { input.kind == \"Pod\"; msg := \"v0\" }\n",
		"package main\n\nx := 1e99999999999\n",
		"# METADATA\n# custom:\n#   severity: [\n package main\n",
		"package main\n\ndeny contains $\"{input.kind}\" if true\n",
		"\xff\xfe\x00p\x00a\x00c\x00k\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "fuzz.rego"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := Load(context.Background(), Options{Dirs: []string{dir}})
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil && strings.Contains(err.Error(), "rego_parse_error") && strings.ContainsAny(err.Error(), "\n\t") {
				t.Errorf("parse error quotes source: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Load hung")
		}
	})
}
