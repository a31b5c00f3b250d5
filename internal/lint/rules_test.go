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
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// TestEveryRuleIsTriggered is the meta-test of the rule registry: every
// rule a lint run can report (the Go rules each package declares in its
// rules.go, collected by Rules, and the rules of the built-in Rego library)
// must have a test that triggers it.
// A rule counts as triggered when
//   - a CLI script (internal/cli/testdata/script, except the rules listing)
//     names it: scripts run the real binary and compare its output; or
//   - a Go test of the package that declares it names its variable, or a
//     Go test of another emitting package (not the report, finding or lint
//     packages, whose tests build findings by hand) names pkg.Variable or
//     its id; or
//   - for a Rego rule, a _test.rego of policies/ evaluates its package's
//     deny/warn/violation rule.
func TestEveryRuleIsTriggered(t *testing.T) {
	root := filepath.Join("..", "..")
	decls, _ := filepath.Glob(filepath.Join(root, "internal", "*", "*.go"))
	vars := map[string]string{} // rule id -> pkg.Variable
	for _, d := range decls {
		if strings.HasSuffix(d, "_test.go") {
			continue
		}
		pkg := filepath.Base(filepath.Dir(d))
		for id, name := range ruleVariables(t, d) {
			vars[id] = pkg + "." + name
		}
	}

	var corpus strings.Builder
	scripts, _ := filepath.Glob(filepath.Join(root, "internal", "cli", "testdata", "script", "*.txtar"))
	for _, s := range scripts {
		if filepath.Base(s) == "rules.txtar" {
			continue
		}
		corpus.WriteString(read(t, s))
	}
	own := map[string]*strings.Builder{} // package -> its tests
	skip := map[string]bool{"report": true, "finding": true, "lint": true}
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && skip[d.Name()] {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, "_test.go") && !strings.HasSuffix(p, "rulesdoc_test.go") {
			src := read(t, p)
			corpus.WriteString(src)
			pkg := filepath.Base(filepath.Dir(p))
			if own[pkg] == nil {
				own[pkg] = &strings.Builder{}
			}
			own[pkg].WriteString(src)
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
	if len(vars) == 0 {
		t.Fatal("no rule declarations found in internal/*/*.go")
	}
	for _, r := range append(Rules(), e.Rules()...) {
		v := vars[r.ID]
		pkg, name, _ := strings.Cut(v, ".")
		switch {
		case regexp.MustCompile(`(^|[^a-z0-9/-])` + regexp.QuoteMeta(r.ID) + `([^a-z0-9-]|$)`).MatchString(text):
		case v != "" && regexp.MustCompile(`\b`+regexp.QuoteMeta(v)+`\b`).MatchString(text):
		case v != "" && own[pkg] != nil && regexp.MustCompile(`\b`+name+`\b`).MatchString(own[pkg].String()):
		case strings.HasPrefix(r.ID, "policy/") && regoPkg[r.ID] != "" &&
			regexp.MustCompile(`\b`+regexp.QuoteMeta(regoPkg[r.ID])+`\.(deny|warn|violation)\b`).MatchString(regoTests):
		default:
			t.Errorf("rule %s has no test that triggers it: add a CLI script, a Go test of its checker, or a Rego test", r.ID)
		}
	}
}

// ruleVariables maps each rule id declared in a Go file
// (Name = rules.Add(finding.Rule{ID: "..."})) to the name of its variable.
func ruleVariables(t *testing.T, file string) map[string]string {
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
		v := vs.Values[0]
		if call, ok := v.(*ast.CallExpr); ok && len(call.Args) == 1 {
			v = call.Args[0]
		}
		cl, ok := v.(*ast.CompositeLit)
		if !ok {
			return true
		}
		for _, el := range cl.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			key, _ := kv.Key.(*ast.Ident)
			lit, _ := kv.Value.(*ast.BasicLit)
			if key != nil && key.Name == "ID" && lit != nil && lit.Kind == token.STRING {
				if id, err := strconv.Unquote(lit.Value); err == nil {
					out[id] = vs.Names[0].Name
				}
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

var ruleIDRe = regexp.MustCompile(`^[a-z]+/[a-z]+(-[a-z]+)*$`)

// TestRulesMetadata checks every Go rule of the registry: sorted, declared
// once, a group/name id, a valid default severity, help and remediation.
func TestRulesMetadata(t *testing.T) {
	rules := Rules()
	if len(rules) == 0 {
		t.Fatal("Rules() is empty")
	}
	seen := map[string]bool{}
	for i, r := range rules {
		if i > 0 && rules[i-1].ID >= r.ID {
			t.Errorf("Rules() not sorted by id, or %s declared twice", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("rule %s declared twice", r.ID)
		}
		seen[r.ID] = true
		if !ruleIDRe.MatchString(r.ID) {
			t.Errorf("rule id %q is not group/name in lowercase kebab-case", r.ID)
		}
		if _, err := finding.ParseSeverity(string(r.Severity)); err != nil || r.Severity.Rank() == 0 {
			t.Errorf("rule %s has invalid severity %q", r.ID, r.Severity)
		}
		if strings.TrimSpace(r.Help) == "" || strings.TrimSpace(r.Remediation) == "" {
			t.Errorf("rule %s needs help and remediation", r.ID)
		}
	}
	rules[0].Help = "changed"
	if Rules()[0].Help == "changed" {
		t.Error("Rules() exposes the declarations; callers can change them")
	}
}

// TestNeedsCoverRender: the checkers together declare every kind of lookup
// render's --changed-since tests exercise (render's everyNeed); a checker
// that stops needing one narrows what --changed-since renders, and this
// test says so.
func TestNeedsCoverRender(t *testing.T) {
	want := render.Needs{RBAC: true, CRDs: true, Namespaces: true, SameName: true, References: true}
	if got := Needs(); got != want {
		t.Errorf("Needs() = %+v, want %+v", got, want)
	}
}
