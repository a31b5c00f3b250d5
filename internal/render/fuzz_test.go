package render

import (
	"strings"
	"testing"
)

// FuzzParseDocs feeds arbitrary bytes to the YAML indexer: it must return
// documents or a positioned error, never panic or run away.
func FuzzParseDocs(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		"a: &a [1,2]\nb: [*a,*a]\n",
		"a: 1\na: 2\n",
		"---\n---\n- x\n",
		"{{ .Values }}\n",
		"key: |\n  multi\n  line\n",
		"\x00\x01",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, _, err := parseDocs("f.yaml", data)
		if err != nil {
			var pe *posError
			if !asPos(err, &pe) || pe.line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for _, d := range docs {
			if d.Line < 1 || d.Node == nil {
				t.Fatalf("document without position: %+v", d)
			}
			_, _ = d.FieldPos("metadata", "name")
		}
	})
}

func asPos(err error, target **posError) bool {
	p, ok := err.(*posError)
	*target = p
	return ok
}

// FuzzNormalizeURL checks that URL normalisation is total and idempotent,
// for every input.
func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{"ssh://git@github.com/org/repo.git", "https://github.com/org/repo", "git@github.com:org/repo.git", "", "::::", "https://h:8443/a/b/",
		"aaaa /", "0000 .git", "a://b://c", "a@b@c:d:e", "x.git/.git/", "\u023a://h/r", strings.Repeat("a://", 2000) + "h/r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := normalizeURL(s)
		if normalizeURL(n) != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, normalizeURL(n))
		}
	})
}

func TestNormalizeURL(t *testing.T) {
	same := []string{
		"ssh://git@example.com/teams/team-a",
		"ssh://git@example.com:22/teams/team-a.git",
		"git@example.com:teams/team-a.git",
		"https://example.com/teams/team-a.git",
		"https://user@example.com/teams/team-a/",
		"HTTPS://EXAMPLE.COM/teams/team-a",
	}
	for _, u := range same {
		if got := normalizeURL(u); got != "example.com/teams/team-a" {
			t.Errorf("normalizeURL(%q) = %q", u, got)
		}
	}
	// What the fuzzer found: a trimmed suffix left a space, which the next
	// normalisation trimmed.
	for in, want := range map[string]string{"aaaa /": "aaaa", "0000 .git": "0000", "a://b://c": "b//c"} {
		if got := normalizeURL(in); got != want {
			t.Errorf("normalizeURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		glob, path string
		want       bool
	}{
		{"apps/base/**", "apps/base/podinfo/release.yaml", true},
		{"apps/base/**", "apps/base/kustomization.yaml", true},
		{"apps/base/**", "apps/staging/kustomization.yaml", false},
		{"infrastructure/**", "infrastructure/configs/x.yaml", true},
		{"apps/*.yaml", "apps/a.yaml", true},
		{"apps/*.yaml", "apps/sub/a.yaml", false},
		{"**/*.yaml", "a/b/c.yaml", true},
	} {
		if got := globMatch(tc.glob, tc.path); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.glob, tc.path, got)
		}
	}
}
