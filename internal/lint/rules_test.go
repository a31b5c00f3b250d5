package lint

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/policy"
)

// TestEveryRuleIsTriggered is the meta-test of the rule registry: every
// rule a lint run can report (the Go rules of internal/finding and the
// rules of the built-in Rego library) must have a test that triggers it.
// A rule counts as triggered when
//   - a CLI script (internal/cli/testdata/script, except the rules listing)
//     names it: scripts run the real binary and compare its output; or
//   - a Go test of an emitting package (not the report, finding or lint
//     packages, whose tests build findings by hand) names its constant or
//     its id; or
//   - for a Rego rule, a _test.rego of policies/ evaluates its package's
//     deny/warn/violation rule.
func TestEveryRuleIsTriggered(t *testing.T) {
	root := filepath.Join("..", "..")
	consts := ruleConstants(t, filepath.Join(root, "internal", "finding", "rules.go"))

	var corpus strings.Builder
	scripts, _ := filepath.Glob(filepath.Join(root, "internal", "cli", "testdata", "script", "*.txtar"))
	for _, s := range scripts {
		if filepath.Base(s) == "rules.txtar" {
			continue
		}
		corpus.WriteString(read(t, s))
	}
	skip := map[string]bool{"report": true, "finding": true, "lint": true}
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && skip[d.Name()] {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, "_test.go") && !strings.HasSuffix(p, "rulesdoc_test.go") {
			corpus.WriteString(read(t, p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	text := corpus.String()

	regoTests := regoTestText(t, filepath.Join(root, "policies"))
	regoPkg := regoPackages(t, filepath.Join(root, "policies"))

	e, err := policy.Load(context.Background(), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append(finding.Rules(), e.Rules()...) {
		switch {
		case regexp.MustCompile(`(^|[^a-z0-9/-])` + regexp.QuoteMeta(r.ID) + `([^a-z0-9-]|$)`).MatchString(text):
		case consts[r.ID] != "" && strings.Contains(text, "finding."+consts[r.ID]):
		case strings.HasPrefix(r.ID, "policy/") && regoPkg[r.ID] != "" &&
			regexp.MustCompile(`\b`+regexp.QuoteMeta(regoPkg[r.ID])+`\.(deny|warn|violation)\b`).MatchString(regoTests):
		default:
			t.Errorf("rule %s has no test that triggers it: add a CLI script, a Go test of its checker, or a Rego test", r.ID)
		}
	}
}

// ruleConstants maps each rule id to the name of its constant in rules.go.
func ruleConstants(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 {
			return true
		}
		if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if id, err := strconv.Unquote(lit.Value); err == nil {
				out[id] = vs.Names[0].Name
			}
		}
		return true
	})
	return out
}

// regoPackages maps each built-in policy rule id to the last segment of the
// package that defines it (the METADATA custom id, else the package name).
func regoPackages(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.rego"))
	pkgRE := regexp.MustCompile(`(?m)^package\s+(\S+)`)
	idRE := regexp.MustCompile(`(?m)^#\s+id:\s*(\S+)`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.rego") {
			continue
		}
		src := read(t, f)
		m := pkgRE.FindStringSubmatch(src)
		if m == nil {
			continue
		}
		leaf := m[1][strings.LastIndex(m[1], ".")+1:]
		ids := []string{strings.ReplaceAll(leaf, "_", "-")}
		for _, im := range idRE.FindAllStringSubmatch(src, -1) {
			ids = append(ids, im[1])
		}
		for _, id := range ids {
			out["policy/"+id] = leaf
		}
	}
	return out
}

func regoTestText(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*_test.rego"))
	var b strings.Builder
	for _, f := range files {
		b.WriteString(read(t, f))
	}
	return b.String()
}

func read(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
