package render

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fluxcd/pkg/envsubst"
	"github.com/fluxcd/pkg/envsubst/parse"
	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/resource"
	syaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// substituter runs kustomize-controller's post-build substitution for one
// Kustomization, reading substituteFrom ConfigMaps and Secrets from what the
// environment renders instead of from a cluster.
type substituter struct {
	run    *envRun
	k      *Kustomization
	ks     map[string]any
	active bool
	strict bool
	always bool
	// complete is false when a substituteFrom object is not rendered in the
	// environment (created outside git): its variables are unknown, so they
	// are left as written instead of being reported or blanked.
	complete bool
	vars     map[string]string
	// produced bounds what the substitution produced so far (the values
	// its expressions expand to); unset counts the variables reported
	// not set.
	produced int64
	unset    int
	// quickVars is set when the variables allow substituting scalar by
	// scalar (substquick.go).
	quickVars bool
}

func (run *envRun) newSubstituter(k *Kustomization, ks map[string]any) *substituter {
	s := &substituter{run: run, k: k, ks: ks, complete: true}
	if _, ok := objects.Nested(ks, "spec", "postBuild").(map[string]any); !ok {
		return s
	}
	s.active = true
	s.strict = run.env.Lockdown.StrictSubstitution
	s.always = objects.NestedString(ks, "spec", "postBuild", "substituteStrategy") == "Always"
	s.vars = map[string]string{}
	for _, ref := range substituteFrom(ks) {
		data, ok := run.lookupVars(ref.Kind, k.Namespace, ref.Name)
		if !ok {
			if !ref.Optional {
				s.complete = false
			}
			continue
		}
		for kk, v := range data {
			s.vars[kk] = strings.ReplaceAll(v, "\n", "")
		}
	}
	if sub, ok := objects.Nested(ks, "spec", "postBuild", "substitute").(map[string]any); ok {
		for kk, v := range sub {
			s.vars[kk] = strings.ReplaceAll(str(v), "\n", "")
		}
	}
	s.quickVars = quickOK(s.vars)
	return s
}

// lookupVars returns the data of a rendered ConfigMap or Secret as the
// controller would read it (Secret values decoded, stringData merged as the
// apiserver merges it). Values of a SOPS-encrypted Secret cannot be known:
// each is given as its own ${name} reference so that it stays as written.
func (run *envRun) lookupVars(kind, ns, name string) (map[string]string, bool) {
	run.mu.Lock()
	obj, ok := run.objs[objKey(kind, ns, name)]
	run.mu.Unlock()
	if !ok || (kind != "ConfigMap" && kind != "Secret") {
		return nil, false
	}
	out := map[string]string{}
	_, encrypted := obj["sops"]
	data, _ := obj["data"].(map[string]any)
	for k, v := range data {
		switch {
		case encrypted:
			out[k] = "${" + k + "}"
		case kind == "Secret":
			b, err := base64.StdEncoding.DecodeString(str(v))
			if err != nil {
				out[k] = "${" + k + "}"
				continue
			}
			out[k] = string(b)
		default:
			out[k] = str(v)
		}
	}
	if kind == "Secret" {
		sd, _ := obj["stringData"].(map[string]any)
		for k, v := range sd {
			if encrypted {
				out[k] = "${" + k + "}"
			} else {
				out[k] = str(v)
			}
		}
	}
	return out, true
}

// Get serves ConfigMaps and Secrets to Flux's substitution code.
func (c varClient) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		data, ok := c.run.lookupVars("ConfigMap", key.Namespace, key.Name)
		if !ok {
			return apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, key.Name)
		}
		o.Data = data
	case *corev1.Secret:
		data, ok := c.run.lookupVars("Secret", key.Namespace, key.Name)
		if !ok {
			return apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, key.Name)
		}
		o.Data = map[string][]byte{}
		for k, v := range data {
			o.Data[k] = []byte(v)
		}
	default:
		return fmt.Errorf("gitops-lint serves only ConfigMaps and Secrets, not %T", obj)
	}
	return nil
}

// varClient is the read-only client Flux's substitution receives; every
// method but Get is left unimplemented on purpose (nil interface).
type varClient struct {
	client.Client
	run *envRun
}

var bareVarRe = regexp.MustCompile(`\$\{([_a-zA-Z][_a-zA-Z0-9]*)\}`)

var varNotSetRe = regexp.MustCompile(`variable not set \(strict mode\): "([^"]+)"`)

// apply substitutes variables in res, or returns the object's content
// when it worked that out without changing res (substquick.go).
// Strict-mode misses become render/substitution findings at the line that
// holds the variable; the object is then rendered with the variable left
// as written.
func (s *substituter) apply(ctx context.Context, res *resource.Resource, obj *Object) (map[string]any, error) {
	if !s.active {
		return nil, nil
	}
	if !hasDollar(res.YNode(), 0) {
		// envsubst would return the text unchanged: the only effect left is
		// the controller's YAML→JSON round trip, which changes nothing of
		// the object's content (the fidelity tests hold that). Nor is there
		// anything to bound: every expression starts with '$'.
		return nil, nil
	}
	if substitutionDisabled(res) {
		return nil, nil // Flux leaves the object as it is
	}
	if err := s.bound(res); err != nil {
		return nil, err
	}
	if s.complete {
		if len(s.vars) == 0 && !s.always {
			return nil, nil // Flux substitutes nothing
		}
		if m, err := s.quick(res); err == nil {
			return m, nil
		}
		u := unstructured.Unstructured{Object: s.ks}
		_, err := fluxkustomize.SubstituteVariables(ctx, varClient{run: s.run}, u, res,
			fluxkustomize.SubstituteWithStrict(s.strict),
			fluxkustomize.SubstituteWithAlways(s.always))
		if err == nil {
			return nil, nil
		}
		m := varNotSetRe.FindStringSubmatch(err.Error())
		if m == nil {
			return nil, fmt.Errorf("post build failed for '%s/%s': %w", res.GetGvk(), res.GetName(), err)
		}
		s.reportUnset(res, obj)
	}
	return nil, s.lenient(res)
}

// substitutionDisabled reports whether res opts out of post-build
// substitution (a label or annotation kustomize.toolkit.fluxcd.io/substitute:
// disabled), as Flux checks it before anything else.
func substitutionDisabled(res *resource.Resource) bool {
	const key = "kustomize.toolkit.fluxcd.io/substitute"
	return res.GetLabels()[key] == "disabled" || res.GetAnnotations()[key] == "disabled"
}

// maxUnsetReported bounds the variables reported not set for one
// Kustomization: each costs a few bytes of input and a finding.
const maxUnsetReported = 100

// reportUnset reports every variable of res that strict mode rejects, in
// the order envsubst evaluates them.
func (s *substituter) reportUnset(res *resource.Resource, obj *Object) {
	data, err := res.AsYAML()
	if err != nil {
		return
	}
	t, err := parse.Parse(string(data))
	if err != nil {
		return
	}
	for _, name := range unsetVars(t.Root, s.vars) {
		if s.unset++; s.unset > maxUnsetReported {
			if s.unset == maxUnsetReported+1 {
				s.run.r.add(s.run.finding(s.k, RuleSubstitution, "", 0, 0,
					fmt.Sprintf("post build failed for %s: more variables are not set (strict mode); only the first %d are reported", s.k.ID(), maxUnsetReported)))
			}
			return
		}
		file, line, col := s.run.varPos(obj, name)
		f := s.run.finding(s.k, RuleSubstitution, file, line, col,
			fmt.Sprintf("post build failed for '%s/%s': envsubst error: variable substitution failed: variable not set (strict mode): %q — set it in spec.postBuild.substitute or a substituteFrom ConfigMap/Secret of %s, or give it a default: ${%s:=value}",
				res.GetGvk(), res.GetName(), name, s.k.ID(), name))
		f.Object = &finding.Object{APIVersion: res.GetApiVersion(), Kind: res.GetKind(), Namespace: res.GetNamespace(), Name: res.GetName()}
		s.run.r.add(f)
	}
}

// unsetVars lists, once each, the variables strict substitution rejects
// in the template below n: those without a value, unless their operator
// supplies one (${v:=default}, ${v-default}, ${v:+alt}, ${v?msg}, ...).
// envsubst evaluates an expression's arguments before its variable, so
// the list is in that order, the order its errors come in.
func unsetVars(n parse.Node, vars map[string]string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.FuncNode:
			for _, a := range n.Args {
				walk(a)
			}
			if _, ok := vars[n.Param]; ok || seen[n.Param] {
				return
			}
			switch n.Name {
			case "-", "+", "=", "?", ":-", ":+", ":=", ":?":
				return
			}
			seen[n.Param] = true
			out = append(out, n.Param)
		}
	}
	walk(n)
	return out
}

// bound refuses to substitute res when the values its expressions expand
// to would take the Kustomization's substitution past its limit, before
// anything is expanded: a large value used many times (or replaced into
// itself) is small on disk and huge once expanded.
func (s *substituter) bound(res *resource.Resource) error {
	n, ok := expansionBound(res.YNode(), s.valueLen)
	if !ok {
		// An expression spans several scalars: bound it over the text
		// envsubst reads.
		data, err := res.AsYAML()
		if err != nil {
			return nil
		}
		t, err := parse.Parse(string(data))
		if err != nil {
			return nil // envsubst fails on it too, expanding nothing
		}
		n = templateBound(t.Root, s.valueLen)
	}
	if n == 0 {
		return nil
	}
	r := s.run.r
	if l := r.limits.SubstitutionBytes; l > 0 && sat(s.produced, n) > l {
		return &limitError{key: confine.LimitSubstitutionBytes + "\x00" + s.k.ID(),
			msg: fmt.Sprintf("post-build substitution of %s would produce more than the limit of %s (at %s/%s, whose variables expand to up to %d bytes; raise it with --limit %s=SIZE)",
				s.k.ID(), confine.FormatBytes(l), res.GetKind(), res.GetName(), sat(s.produced, n), confine.LimitSubstitutionBytes)}
	}
	if !r.rendered.Take(n) {
		return r.renderedLimit()
	}
	s.produced += n
	return nil
}

// valueLen is the longest a variable can expand to: its value, or, when
// it is unknown and left as written, its reference.
func (s *substituter) valueLen(name string) int64 {
	return max(int64(len(s.vars[name])), int64(len(name)+3))
}

// expansionBound bounds what the expressions in the scalars (and
// comments) below n expand to; false when a "${" does not close within
// its scalar.
func expansionBound(n *syaml.Node, val func(string) int64) (int64, bool) {
	if n == nil {
		return 0, true
	}
	var total int64
	for _, text := range []string{n.Value, n.HeadComment, n.LineComment, n.FootComment} {
		if !strings.Contains(text, "${") {
			continue
		}
		t, err := parse.Parse(text)
		if err != nil {
			return 0, false
		}
		total = sat(total, templateBound(t.Root, val))
	}
	for _, c := range n.Content {
		b, ok := expansionBound(c, val)
		if !ok {
			return 0, false
		}
		total = sat(total, b)
	}
	return total, true
}

// templateBound bounds what the expressions of a template expand to (its
// literal text is not counted: it is there before substitution).
func templateBound(n parse.Node, val func(string) int64) int64 {
	return exprBound(n, val, false)
}

// hasDollar reports whether the text kustomize writes for n (keys,
// values, comments) holds a '$', that envsubst may expand ($VAR or
// ${...}); past a nesting depth it answers yes.
func hasDollar(n *syaml.Node, depth int) bool {
	if n == nil {
		return false
	}
	if depth > 500 {
		return true
	}
	for _, text := range []string{n.Value, n.HeadComment, n.LineComment, n.FootComment, n.Anchor} {
		if strings.IndexByte(text, '$') >= 0 {
			return true
		}
	}
	for _, c := range n.Content {
		if hasDollar(c, depth+1) {
			return true
		}
	}
	return false
}

// funcBound bounds the expansion of one ${...} expression: its value, at
// most tripled by case mapping, lengthened by the replacement of every
// character for ${v//x/y}, joined with its arguments for the others.
func funcBound(n *parse.FuncNode, val func(string) int64) int64 {
	v := val(n.Param)
	var args int64
	for _, a := range n.Args {
		args = sat(args, exprLen(a, val))
	}
	switch {
	case n.Name == "," || n.Name == ",," || n.Name == "^" || n.Name == "^^":
		return satMul(v, 3)
	case n.Name == "#" && len(n.Args) == 0:
		return 20
	case strings.HasPrefix(n.Name, "/"):
		return sat(v, satMul(v+1, args))
	}
	return sat(v, args)
}

// exprLen bounds the text an argument evaluates to.
func exprLen(n parse.Node, val func(string) int64) int64 {
	return exprBound(n, val, true)
}

// exprBound bounds what the expressions below n expand to, with its
// literal text when text is set.
func exprBound(n parse.Node, val func(string) int64, text bool) int64 {
	switch n := n.(type) {
	case *parse.TextNode:
		if text {
			return int64(len(n.Value))
		}
	case *parse.ListNode:
		var total int64
		for _, c := range n.Nodes {
			total = sat(total, exprBound(c, val, text))
		}
		return total
	case *parse.FuncNode:
		return funcBound(n, val)
	}
	return 0
}

// lenient substitutes known variables and leaves unknown ones as written.
func (s *substituter) lenient(res *resource.Resource) error {
	if len(s.vars) == 0 && !s.always && s.complete {
		return nil
	}
	data, err := res.AsYAML()
	if err != nil {
		return err
	}
	// Variables written bare (${NAME}) with no known value stay as written;
	// those with an operator (${NAME:=default}) get their default.
	bare := map[string]bool{}
	for _, m := range bareVarRe.FindAllStringSubmatch(string(data), -1) {
		bare[m[1]] = true
	}
	out, err := envsubst.Eval(string(data), func(name string) (string, bool) {
		if v, ok := s.vars[name]; ok {
			return v, true
		}
		if bare[name] {
			return "${" + name + "}", true
		}
		return "", false
	})
	if err != nil {
		return fmt.Errorf("post build failed for '%s/%s': envsubst error: %w", res.GetGvk(), res.GetName(), err)
	}
	j, err := yaml.YAMLToJSON([]byte(out))
	if err != nil {
		return fmt.Errorf("post build failed for '%s/%s': YAMLToJSON: %w", res.GetGvk(), res.GetName(), err)
	}
	return res.UnmarshalJSON(j)
}

// varPos finds the ${name} reference in the object's source document (the
// first at or after the document's line), falling back to the document
// itself.
func (run *envRun) varPos(obj *Object, name string) (file string, line, col int) {
	if obj.File == "" {
		return "", 0, 0
	}
	lines := run.r.varLines(obj.File)
	if lines == nil {
		return obj.File, obj.Line, obj.Column
	}
	data := run.r.lint.content(obj.File)
	var at []int
	if wordOnly(name) {
		at = lines[name]
	} else {
		at = scanVarLines(data, name)
	}
	if len(at) == 0 {
		return obj.File, obj.Line, obj.Column
	}
	line = at[0]
	if i, _ := slices.BinarySearch(at, obj.Line); i < len(at) {
		line = at[i]
	}
	return obj.File, line, varColumn(data, line, name)
}

// varRef matches a reference to the variable name: ${name followed by
// the end of the name.
func varRef(name string) *regexp.Regexp {
	return regexp.MustCompile(`\$\{` + regexp.QuoteMeta(name) + `\b`)
}

// varColumn returns the column of the first reference to name on line of
// data (1 if there is none).
func varColumn(data []byte, line int, name string) int {
	for ; line > 1; line-- {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return 1
		}
		data = data[i+1:]
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	loc := varRef(name).FindIndex(data)
	if loc == nil {
		return 1
	}
	return 1 + utf8.RuneCount(data[:loc[0]])
}

// varLines maps every variable referenced in file (as ${name...}) to the
// lines that reference it, read once per run.
func (r *renderer) varLines(file string) map[string][]int {
	if m, ok := r.varRefs.Load(file); ok {
		return m.(map[string][]int)
	}
	data := r.lint.content(file)
	if data == nil {
		return nil
	}
	refs := map[string][]int{}
	line := 1
	for i := 0; i < len(data); i++ {
		switch {
		case data[i] == '\n':
			line++
		case data[i] == '$' && i+1 < len(data) && data[i+1] == '{':
			j := i + 2
			for j < len(data) && isWordByte(data[j]) {
				j++
			}
			if j > i+2 {
				name := string(data[i+2 : j])
				if at := refs[name]; len(at) == 0 || at[len(at)-1] != line {
					refs[name] = append(at, line)
				}
			}
			i = j - 1
		}
	}
	m, _ := r.varRefs.LoadOrStore(file, refs)
	return m.(map[string][]int)
}

// scanVarLines lists the lines of data that reference ${name} (for names
// that are not plain words).
func scanVarLines(data []byte, name string) []int {
	re := varRef(name)
	var out []int
	for n, l := range bytes.Split(data, []byte("\n")) {
		if re.Match(l) {
			out = append(out, n+1)
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func wordOnly(s string) bool {
	for i := range len(s) {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return s != ""
}
