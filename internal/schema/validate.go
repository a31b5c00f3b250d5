// Package schema validates every rendered object against its schema,
// offline: Kubernetes' built-in kinds from an embedded catalog, the
// CustomResourceDefinitions the environment applies, and Flux's own CRDs.
package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/gitops-lint/gitops-lint/internal/catalog"
	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// KindInfo describes a built-in kind of the catalog.
type KindInfo struct {
	Definition   string   `json:"definition"`
	Resource     string   `json:"resource"`
	Namespaced   bool     `json:"namespaced"`
	Subresources []string `json:"subresources,omitempty"`
}

// Removed describes an apiVersion/kind Kubernetes no longer serves.
type Removed struct {
	LastServed  string `json:"lastServed"`
	Replacement string `json:"replacement"`
}

// Catalog is the built-in schema data of one Kubernetes version.
type Catalog struct {
	Version string `json:"version"`
	// Definitions are kept as their JSON text: a run decodes only the
	// definitions the kinds it validates reach (catalogLoader), a few
	// dozen of the catalog's hundreds.
	Definitions map[string]json.RawMessage `json:"definitions"`
	Kinds       map[string]KindInfo        `json:"kinds"`
	// Removed lists kinds older releases served (filled from removed.json).
	Removed map[string]Removed `json:"-"`
}

// ParseCatalog decodes a catalog document. The definitions stay JSON text
// (decoded by catalogLoader when a kind reaches them) and are not checked
// here: the catalog tests decode every one.
func ParseCatalog(data []byte) (*Catalog, error) {
	var c Catalog
	if !parseMembers(data, &c) {
		// Not the shape the generator writes: decode it the plain way,
		// for its error.
		c = Catalog{}
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("decode schema catalog: %w", err)
		}
	}
	if len(c.Kinds) == 0 || len(c.Definitions) == 0 {
		return nil, errors.New("decode schema catalog: no kinds or definitions")
	}
	return &c, nil
}

// parseMembers decodes the catalog's version and kinds, and splits its
// definitions without decoding them (catalog.Members), reporting false for
// anything but an object of those three members as the generator writes
// it.
func parseMembers(data []byte, c *Catalog) bool {
	top, err := catalog.Members(data)
	if err != nil {
		return false
	}
	for k := range top {
		if k != "version" && k != "definitions" && k != "kinds" {
			return false
		}
	}
	if v, ok := top["version"]; ok {
		if err := json.Unmarshal(v, &c.Version); err != nil {
			return false
		}
	}
	if d, ok := top["definitions"]; ok {
		if c.Definitions, err = catalog.Members(d); err != nil {
			return false
		}
	}
	if k, ok := top["kinds"]; ok {
		if err := json.Unmarshal(k, &c.Kinds); err != nil {
			return false
		}
	}
	return true
}

// Validator compiles schemas on demand and validates objects. It is safe
// for concurrent use; compilation is serialised, validation is not.
type Validator struct {
	cat *Catalog

	mu       sync.Mutex
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema // by schema URL
	errs     map[string]error
}

// catalogLoader serves each definition of the catalog as a document of its
// own, on demand: only the definitions the rendered kinds reach are loaded
// (and checked against the metaschema, which the compiler does for every
// document it loads). Any other URL is refused: gitops-lint never
// downloads schemas.
type catalogLoader struct{ cat *Catalog }

func (l catalogLoader) Load(url string) (any, error) {
	name, ok := strings.CutPrefix(url, definitionsURL)
	if ok {
		name, ok = strings.CutSuffix(name, ".json")
	}
	raw, found := l.cat.Definitions[name]
	if !ok || !found {
		return nil, fmt.Errorf("schema %s is not embedded; gitops-lint never downloads schemas", url)
	}
	var def any
	if err := json.Unmarshal(raw, &def); err != nil {
		return nil, fmt.Errorf("decode schema %s: %w", url, err)
	}
	doc := localizeRefs(def)
	if m, isMap := doc.(map[string]any); isMap {
		m["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	}
	return doc, nil
}

// definitionsURL prefixes the URL of each catalog definition.
const definitionsURL = "https://catalog.gitops-lint.invalid/definitions/"

// localizeRefs copies a definition, turning "#/definitions/X" references
// into references to X's own document.
func localizeRefs(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if ref, ok := e.(string); ok && k == "$ref" {
				if name, ok := strings.CutPrefix(ref, "#/definitions/"); ok {
					out[k] = definitionsURL + name + ".json"
					continue
				}
			}
			out[k] = localizeRefs(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = localizeRefs(e)
		}
		return out
	}
	return v
}

// NewValidator prepares a validator over the catalog.
func NewValidator(cat *Catalog) (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(catalogLoader{cat})
	return &Validator{cat: cat, compiler: c, compiled: map[string]*jsonschema.Schema{}, errs: map[string]error{}}, nil
}

// compile returns the compiled schema at url, adding doc as its resource
// the first time when doc is non-nil.
func (v *Validator) compile(url string, doc map[string]any) (*jsonschema.Schema, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.compiled[url]; ok {
		return s, nil
	}
	if err, ok := v.errs[url]; ok {
		return nil, err
	}
	if doc != nil {
		if err := v.compiler.AddResource(url, doc); err != nil {
			v.errs[url] = err
			return nil, err
		}
	}
	s, err := v.compiler.Compile(url)
	if err != nil {
		v.errs[url] = err
		return nil, err
	}
	v.compiled[url] = s
	return s, nil
}

// builtin returns the schema of a built-in kind.
func (v *Validator) builtin(def string) (*jsonschema.Schema, error) {
	return v.compile(definitionsURL+def+".json", nil)
}

// crdSchema returns the compiled schema of a CRD version, shared between
// environments that apply the same schema.
func (v *Validator) crdSchema(s map[string]any) (*jsonschema.Schema, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	doc := map[string]any{"$schema": "https://json-schema.org/draft/2020-12/schema"}
	for k, val := range s {
		doc[k] = val
	}
	return v.compile("https://catalog.gitops-lint.invalid/crd/"+hex.EncodeToString(sum[:12])+".json", doc)
}

// Problem is one schema violation of an object.
type Problem struct {
	// Path is the JSON path of the offending value, as field names and
	// decimal indexes.
	Path []string
	// Field, when set, is the name of an unknown field below Path.
	Field string
	Msg   string

	// unknown names the undeclared fields below Path the problem is
	// about (additional properties), to match them with pruning's.
	unknown []string
	// rule is the problem's rule (nil: schema/invalid).
	rule *finding.Rule
}

// Pointer renders Path (and Field) as a JSON pointer.
func (p Problem) Pointer() string {
	parts := p.Path
	if p.Field != "" {
		parts = append(slices.Clone(parts), p.Field)
	}
	if len(parts) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, s := range parts {
		b.WriteString("/")
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// String renders "/spec/replicas: got string, want integer".
func (p Problem) String() string { return p.Pointer() + ": " + p.Msg }

var printer = message.NewPrinter(language.English)

// Validate checks obj (unstructured) against s and returns its problems,
// most specific first, in document order.
func Validate(s *jsonschema.Schema, obj map[string]any) []Problem {
	err := s.Validate(obj)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Problem{{Msg: err.Error()}}
	}
	var out []Problem
	collect(ve, &out)
	slices.SortStableFunc(out, func(a, b Problem) int { return strings.Compare(a.Pointer(), b.Pointer()) })
	return slices.CompactFunc(out, func(a, b Problem) bool { return a.String() == b.String() })
}

// collect flattens a validation error into leaf problems. For anyOf/oneOf
// branches it keeps the branch that got furthest (the one that is not a
// mere type mismatch against null or another alternative).
func collect(ve *jsonschema.ValidationError, out *[]Problem) {
	if len(ve.Causes) == 0 {
		*out = append(*out, leaf(ve))
		return
	}
	switch ve.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf:
		best := bestBranch(ve.Causes)
		if best != nil {
			collect(best, out)
			return
		}
		*out = append(*out, leaf(ve))
		return
	}
	for _, c := range ve.Causes {
		collect(c, out)
	}
}

// bestBranch picks the alternative whose errors are deepest; alternatives
// failing only on type at the same location are the least informative.
func bestBranch(causes []*jsonschema.ValidationError) *jsonschema.ValidationError {
	var best *jsonschema.ValidationError
	bestScore := -1
	for _, c := range causes {
		score := depth(c)
		if t, ok := c.ErrorKind.(*kind.Type); ok && len(c.Causes) == 0 {
			if slices.Equal(t.Want, []string{"null"}) {
				continue
			}
			score = len(c.InstanceLocation)
		}
		if score > bestScore {
			best, bestScore = c, score
		}
	}
	return best
}

func depth(ve *jsonschema.ValidationError) int {
	d := len(ve.InstanceLocation) + 1
	for _, c := range ve.Causes {
		if cd := depth(c); cd > d {
			d = cd
		}
	}
	return d
}

func leaf(ve *jsonschema.ValidationError) Problem {
	p := Problem{Path: ve.InstanceLocation}
	switch k := ve.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		// The validator lists them in map order: sort for stable output.
		p.unknown = slices.Sorted(slices.Values(k.Properties))
		if len(p.unknown) == 1 {
			p.Field = p.unknown[0]
			p.Msg = "additional property not allowed (field not declared in schema)"
		} else {
			p.Msg = fmt.Sprintf("additional properties %s not allowed (fields not declared in schema)", quoteAll(p.unknown))
		}
	case *kind.Type:
		// Optional fields admit null; saying so adds nothing.
		want := slices.DeleteFunc(slices.Clone(k.Want), func(w string) bool { return w == "null" })
		if len(want) == 0 {
			want = k.Want
		}
		p.Msg = fmt.Sprintf("got %s, want %s", k.Got, strings.Join(want, " or "))
	case *kind.Required:
		p.Msg = fmt.Sprintf("missing required field%s %s", plural(len(k.Missing)), quoteAll(k.Missing))
	default:
		p.Msg = ve.ErrorKind.LocalizedString(printer)
	}
	return p
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
