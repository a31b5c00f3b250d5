package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"unicode"

	sprig "github.com/go-task/slim-sprig/v3"
	"github.com/gosimple/slug"
	yamlv3 "go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// The Flux Operator's ResourceSet (fluxcd.controlplane.io/v1): the operator
// combines the input sets of spec.inputs and of the ResourceSetInputProviders
// spec.inputsFrom selects (internal/inputs), renders spec.resources,
// spec.resourcesTemplate or spec.steps once per input set as Go templates
// with << >> delimiters (internal/builder/resourceset.go), labels the
// objects with the ResourceSet's name and namespace, adds
// spec.commonMetadata, and applies them (internal/controller). Here the
// generated objects are objects of the Kustomization that applies the
// ResourceSet, located at the ResourceSet's template (see
// docs/flux-operator.md).

// RuleResourceSetNotExpanded is declared beside the only code that emits it.
var RuleResourceSetNotExpanded = rules.Add(finding.Rule{ID: "render/resourceset-not-expanded", Severity: finding.Info,
	Help:        "A ResourceSet takes its inputs from a ResourceSetInputProvider that reads them outside git (pull requests, branches, tags, OCI artifacts, an external service), or from one that is not in the repository: the objects it generates depend on what the provider finds at run time, so they are not rendered or checked.",
	Remediation: "Nothing to do; to check the generated objects, build them with `flux-operator build resourceset --inputs-from FILE` or use a Static ResourceSetInputProvider (its defaultValues are expanded)."})

const (
	kindRSIP          = "ResourceSetInputProvider"
	rsetOwnerGroup    = "resourceset." + operatorGroup
	rsetNameLabel     = rsetOwnerGroup + "/name"
	rsetNSLabel       = rsetOwnerGroup + "/namespace"
	rsetReconcileKey  = operatorGroup + "/reconcile"
	rsetMaxPermute    = 10000
	rsetMaxDepth      = 4 // ResourceSets generating ResourceSets
	rsetProviderAPI   = operatorGroup + "/v1"
	rsetStrategyFlat  = "Flatten"
	rsetStrategyPerm  = "Permute"
	rsipTypeStatic    = "Static"
	rsetTemplateDelim = "<<"
)

func init() {
	// The operator's slugify: at most a label value's 63 characters, cut
	// between words (internal/builder/resourceset.go, init).
	slug.MaxLength = 63
	slug.EnableSmartTruncate = true
}

func isResourceSet(o *Object) bool {
	return o.Kind() == kindResourceSet && objects.Group(o.APIVersion()) == operatorGroup
}

// resourceSets expands the ResourceSets among objs, objects the
// Kustomization k applies, and returns the objects they generate (and
// those of ResourceSets they generate).
func (run *envRun) resourceSets(k *Kustomization, objs []*Object) []*Object {
	var out []*Object
	pending := objs
	for depth := 0; depth < rsetMaxDepth && len(pending) > 0; depth++ {
		var next []*Object
		for _, o := range pending {
			if !isResourceSet(o) || (depth == 0 && excludedFromApply(o)) {
				continue
			}
			if v, _ := objects.Nested(o.Content, "metadata", "annotations", rsetReconcileKey).(string); strings.EqualFold(v, "disabled") {
				continue // the operator does not reconcile it
			}
			// The cluster holds one ResourceSet of a namespace and name,
			// expanded once however many Kustomizations apply it (the
			// duplicate is duplicate/object's): the first build expands it.
			key := "\x00" + objKey(kindResourceSet, cmpOr(o.Namespace(), "default"), o.Name())
			run.mu.Lock()
			again := run.seen[key]
			run.seen[key] = true
			run.mu.Unlock()
			if again {
				continue
			}
			gen := run.expandResourceSet(k, o, objs)
			next = append(next, gen...)
		}
		out = append(out, next...)
		pending = next
	}
	return out
}

// rsetSource is where a generated object's template is: a path below the
// ResourceSet's document.
type rsetObject struct {
	content map[string]any
	at      []string
}

// expandResourceSet builds the objects of one ResourceSet; findings for
// what cannot be built. siblings are the other objects of the build (where
// its input providers are looked up first).
func (run *envRun) expandResourceSet(k *Kustomization, rs *Object, siblings []*Object) []*Object {
	ns := cmpOr(rs.Namespace(), "default")
	id := "ResourceSet/" + ns + "/" + rs.Name()
	spec, _ := rs.Content["spec"].(map[string]any)
	var doc *Doc
	if rs.File != "" {
		doc = run.r.lint.DocAt(rs.File, rs.Line)
	}
	posOf := func(path ...string) (line, col int) {
		if doc == nil || doc.Kind != kindResourceSet {
			return rs.Line, rs.Column
		}
		return doc.FieldPos(path...)
	}
	fail := func(at []string, format string, args ...any) []*Object {
		line, col := posOf(at...)
		f := run.finding(k, RuleError, rs.File, line, col, fmt.Sprintf("%s: ", id)+fmt.Sprintf(format, args...))
		f.Object = rs.Ref()
		run.r.add(f)
		return nil
	}

	providers, external, err := run.rsetProviders(rs, ns, spec, siblings)
	if err != nil {
		return fail([]string{"spec", "inputsFrom"}, "failed to compute inputs: %v", err)
	}
	if external != "" {
		line, col := posOf("spec", "inputsFrom")
		f := run.finding(k, RuleResourceSetNotExpanded, rs.File, line, col,
			fmt.Sprintf("%s not expanded: %s, so the objects it generates are not rendered or checked", id, external))
		f.Object = rs.Ref()
		run.r.add(f)
		return nil
	}
	own, err := jsonInputs(spec["inputs"])
	if err != nil {
		return fail([]string{"spec", "inputs"}, "failed to compute inputs: %v", err)
	}
	all := append([]rsetProvider{{kind: kindResourceSet, name: rs.Name(), namespace: ns, inputs: own}}, providers...)
	inputs, err := combineInputs(spec, all)
	if err != nil {
		return fail([]string{"spec", "inputStrategy"}, "failed to compute inputs: %v", err)
	}
	inputsFrom, _ := spec["inputsFrom"].([]any)
	if len(inputsFrom) > 0 && len(inputs) == 0 {
		return nil // the operator reconciles an empty set
	}
	built, err := buildRSetSpec(spec, inputs)
	if err != nil {
		var be *rsetBuildError
		var at []string // the ResourceSet itself
		if errors.As(err, &be) {
			at = be.at
		}
		return fail(at, "build failed: %v", err)
	}

	var out []*Object
	for _, b := range built {
		o := &Object{Content: b.content, File: rs.File, OriginPath: rs.OriginPath, artRel: rs.artRel}
		if o.Line, o.Column = posOf(b.at...); o.Line == 0 {
			o.Line, o.Column = rs.Line, rs.Column
		}
		out = append(out, o)
	}
	// The operator's resource manager labels what it applies with the
	// ResourceSet's name and namespace, then adds spec.commonMetadata.
	for _, o := range out {
		l := objects.EnsureMap(o.Content, "metadata", "labels")
		l[rsetNameLabel] = rs.Name()
		l[rsetNSLabel] = ns
	}
	if cm, ok := spec["commonMetadata"].(map[string]any); ok {
		setCommonMetadata(out, cm)
	}
	return out
}

// rsetProvider is a source of input sets: the ResourceSet itself or a
// ResourceSetInputProvider.
type rsetProvider struct {
	kind, name, namespace string
	inputs                []map[string]any
}

// rsetProviders resolves spec.inputsFrom. external describes the first
// provider whose inputs are not in git ("" when all are Static).
func (run *envRun) rsetProviders(rs *Object, ns string, spec map[string]any, siblings []*Object) (out []rsetProvider, external string, err error) {
	refs, _ := spec["inputsFrom"].([]any)
	if len(refs) == 0 {
		return nil, "", nil
	}
	// Candidates: the build's own providers, then the repository's.
	var cands []map[string]any
	seen := map[string]bool{}
	add := func(m map[string]any) {
		if str(m["kind"]) != kindRSIP || objects.Group(str(m["apiVersion"])) != operatorGroup {
			return
		}
		if cmpOr(objects.NestedString(m, "metadata", "namespace"), ns) != ns {
			return
		}
		name := objects.NestedString(m, "metadata", "name")
		if name == "" || seen[name] {
			return
		}
		seen[name] = true
		cands = append(cands, m)
	}
	for _, o := range siblings {
		add(o.Content)
	}
	for _, d := range run.r.tree.Docs() {
		if d.Kind == kindRSIP && d.Group() == operatorGroup && d.Name != "" && cmpOr(d.Namespace, ns) == ns && !seen[d.Name] {
			if m := docSpec(d); m != nil {
				add(m)
			}
		}
	}
	chosen := map[string]map[string]any{}
	for _, r := range refs {
		ref, _ := r.(map[string]any)
		name := str(ref["name"])
		sel, hasSel := ref["selector"].(map[string]any)
		switch {
		case name != "":
			if chosen[name] != nil {
				continue
			}
			var found map[string]any
			for _, c := range cands {
				if objects.NestedString(c, "metadata", "name") == name {
					found = c
				}
			}
			if found == nil {
				return nil, fmt.Sprintf("ResourceSetInputProvider %s/%s is not in the repository (its inputs come from the cluster)", ns, name), nil
			}
			chosen[name] = found
		case hasSel:
			var ls metav1.LabelSelector
			b, _ := json.Marshal(sel)
			if err := json.Unmarshal(b, &ls); err != nil {
				return nil, "", fmt.Errorf("failed to parse selector: %w", err)
			}
			s, err := metav1.LabelSelectorAsSelector(&ls)
			if err != nil {
				return nil, "", fmt.Errorf("failed to parse selector %s: %w", ls.String(), err)
			}
			for _, c := range cands {
				lm, _ := objects.Nested(c, "metadata", "labels").(map[string]any)
				set := labels.Set{}
				for k, v := range lm {
					set[k] = str(v)
				}
				if s.Matches(set) {
					chosen[objects.NestedString(c, "metadata", "name")] = c
				}
			}
		default:
			return nil, "", errors.New("input provider reference must have either name or selector set")
		}
	}
	// The operator orders providers by kind, namespace and name.
	for _, name := range slices.Sorted(maps.Keys(chosen)) {
		c := chosen[name]
		typ := objects.NestedString(c, "spec", "type")
		if typ != rsipTypeStatic {
			return nil, fmt.Sprintf("inputs from ResourceSetInputProvider %s/%s of type %s come from outside git", ns, name, cmpOr(typ, `""`)), nil
		}
		defaults, err := jsonValue(objects.Nested(c, "spec", "defaultValues"))
		if err != nil {
			return nil, "", fmt.Errorf("failed to get inputs from ResourceSetInputProvider/%s: %w", name, err)
		}
		in, _ := defaults.(map[string]any)
		if in == nil {
			in = map[string]any{}
		}
		// A Static provider exports its defaultValues and an id: the
		// controller hashes the object's UID, which git does not have;
		// flux-operator build resourceset hashes its name, and so do we.
		in["id"] = inputID(name)
		out = append(out, rsetProvider{kind: kindRSIP, name: name, namespace: ns, inputs: []map[string]any{in}})
	}
	return out, "", nil
}

// inputID is the operator's short opaque id of an input set.
func inputID(s string) string { return strconv.FormatUint(uint64(adler32.Checksum([]byte(s))), 10) }

// jsonValue round-trips v through JSON as the API server stores it
// (integers as int64).
func jsonValue(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = utiljson.Unmarshal(b, &out)
	return out, err
}

// jsonInputs reads spec.inputs, a list of input sets.
func jsonInputs(v any) ([]map[string]any, error) {
	list, _ := v.([]any)
	var out []map[string]any
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("failed to unmarshal inputs[%d]: not a map", i)
		}
		j, err := jsonValue(m)
		if err != nil {
			return nil, fmt.Errorf("failed to unmarshal inputs[%d]: %w", i, err)
		}
		jm, _ := j.(map[string]any)
		if jm == nil {
			jm = map[string]any{}
		}
		out = append(out, jm)
	}
	return out, nil
}

// combineInputs combines the providers' input sets (the ResourceSet first)
// by spec.inputStrategy, each set annotated with its provider.
func combineInputs(spec map[string]any, providers []rsetProvider) ([]map[string]any, error) {
	for _, p := range providers {
		for _, in := range p.inputs {
			in["provider"] = map[string]any{"apiVersion": rsetProviderAPI, "kind": p.kind, "name": p.name, "namespace": p.namespace}
		}
	}
	strategy := cmpOr(objects.NestedString(spec, "inputStrategy", "name"), rsetStrategyFlat)
	switch strategy {
	case rsetStrategyFlat:
		var out []map[string]any
		for _, p := range providers {
			out = append(out, p.inputs...)
		}
		return out, nil
	case rsetStrategyPerm:
	default:
		return nil, fmt.Errorf("unknown input strategy: '%s'", strategy)
	}
	includeEmpty, _ := objects.Nested(spec, "inputStrategy", "includeEmptyProviders").(bool)
	type scoped struct {
		key  string
		sets []map[string]any
	}
	var lists []scoped
	total := uint64(0)
	for _, p := range providers {
		if !includeEmpty && len(p.inputs) == 0 {
			continue
		}
		if len(lists) == 0 {
			total = uint64(len(p.inputs))
		} else {
			total *= uint64(len(p.inputs))
		}
		if total > rsetMaxPermute {
			return nil, fmt.Errorf("failed to get inputs from %s/%s: adding provider '%s' with %d inputs would exceed the maximum allowed permutations. max: %d, got: %d",
				p.kind, p.name, p.name, len(p.inputs), rsetMaxPermute, total)
		}
		key := normalizeInputKey(p.name)
		if key == "" {
			return nil, fmt.Errorf("failed to get inputs from %s/%s: normalized provider name is empty: '%s'", p.kind, p.name, p.name)
		}
		lists = append(lists, scoped{key: key, sets: p.inputs})
	}
	out := []map[string]any{}
	if len(lists) == 0 {
		return out, nil
	}
	for _, l := range lists {
		if len(l.sets) == 0 {
			return out, nil
		}
	}
	// Odometer over the lists, the last one fastest (as the operator's
	// backtracking does).
	idx := make([]int, len(lists))
	for {
		perm := map[string]any{}
		parts := make([]string, len(lists))
		for i, l := range lists {
			perm[l.key] = l.sets[idx[i]]
			parts[i] = l.key + "=" + strconv.Itoa(idx[i])
		}
		perm["id"] = inputID(strings.Join(parts, "/"))
		out = append(out, perm)
		i := len(lists) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(lists[i].sets) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out, nil
		}
	}
}

// normalizeInputKey is the operator's template key of a provider name:
// lower case, spaces and punctuation to '_', other characters outside
// [a-z0-9_] dropped, runs of '_' collapsed and trimmed.
func normalizeInputKey(key string) string {
	key = strings.Map(func(r rune) rune {
		r = unicode.ToLower(r)
		if unicode.IsSpace(r) || unicode.IsPunct(r) {
			return '_'
		}
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			return r
		}
		return -1
	}, key)
	var words []string
	for w := range strings.SplitSeq(key, "_") {
		if w != "" {
			words = append(words, w)
		}
	}
	return strings.Join(words, "_")
}

// rsetBuildError locates a build error in the ResourceSet's document.
type rsetBuildError struct {
	at  []string
	err error
}

func (e *rsetBuildError) Error() string { return e.err.Error() }
func (e *rsetBuildError) Unwrap() error { return e.err }

// buildRSetSpec builds the objects of a ResourceSet spec: its steps, or
// its resources and resourcesTemplate.
func buildRSetSpec(spec map[string]any, inputs []map[string]any) ([]rsetObject, error) {
	steps, _ := spec["steps"].([]any)
	res, _ := spec["resources"].([]any)
	tmpl := str(spec["resourcesTemplate"])
	if len(steps) > 0 && (len(res) > 0 || tmpl != "") {
		return nil, &rsetBuildError{at: []string{"spec", "steps"}, err: errors.New("spec.steps is mutually exclusive with spec.resources and spec.resourcesTemplate")}
	}
	for i, s := range steps {
		sm, _ := s.(map[string]any)
		sr, _ := sm["resources"].([]any)
		if len(sr) == 0 && str(sm["resourcesTemplate"]) == "" {
			return nil, &rsetBuildError{at: []string{"spec", "steps", strconv.Itoa(i)}, err: fmt.Errorf("step %q: at least one of resources or resourcesTemplate must be set", str(sm["name"]))}
		}
	}
	if len(steps) == 0 {
		return buildRSet(tmpl, res, inputs, []string{"spec"})
	}
	var out []rsetObject
	stepOf := map[string]string{}
	for i, s := range steps {
		sm, _ := s.(map[string]any)
		name := str(sm["name"])
		sr, _ := sm["resources"].([]any)
		at := []string{"spec", "steps", strconv.Itoa(i)}
		objs, err := buildRSet(str(sm["resourcesTemplate"]), sr, inputs, at)
		if err != nil {
			var be *rsetBuildError
			if errors.As(err, &be) {
				return nil, &rsetBuildError{at: be.at, err: fmt.Errorf("step %q: %w", name, be.err)}
			}
			return nil, fmt.Errorf("step %q: %w", name, err)
		}
		for _, o := range objs {
			key := rsetObjectKey(o.content)
			if prev, found := stepOf[key]; found && prev != name {
				return nil, &rsetBuildError{at: o.at, err: fmt.Errorf("duplicate resource %s in step %q, already defined in step %q", rsetObjectName(o.content), name, prev)}
			}
			stepOf[key] = name
		}
		out = append(out, objs...)
	}
	return out, nil
}

// buildRSet renders resources (each a template) and the multi-document
// template once per input set (once without inputs when there are none),
// drops the objects annotated fluxcd.controlplane.io/reconcile: disabled
// and keeps the first object of each group/kind/namespace/name, the
// resources' before the template's.
func buildRSet(tmpl string, resources []any, inputs []map[string]any, at []string) ([]rsetObject, error) {
	var out []rsetObject
	keys := map[string]bool{}
	add := func(o rsetObject, dedup bool) {
		key := rsetObjectKey(o.content)
		if keys[key] && dedup {
			return
		}
		keys[key] = true
		out = append(out, o)
	}
	for i, r := range resources {
		rat := append(slices.Clone(at), "resources", strconv.Itoa(i))
		if len(inputs) == 0 {
			obj, err := buildRSetResource(r, nil)
			if err != nil {
				return nil, &rsetBuildError{at: rat, err: fmt.Errorf("failed to build resource: %w", err)}
			}
			add(rsetObject{content: obj, at: rat}, false)
			continue
		}
		for _, in := range inputs {
			obj, err := buildRSetResource(r, in)
			if err != nil {
				return nil, &rsetBuildError{at: rat, err: fmt.Errorf("failed to build resources[%d]: %w", i, err)}
			}
			if rsetDisabled(obj) {
				continue
			}
			add(rsetObject{content: obj, at: rat}, true)
		}
	}
	if tmpl == "" {
		return out, nil
	}
	tat := append(slices.Clone(at), "resourcesTemplate")
	var fromTmpl []map[string]any
	if len(inputs) == 0 {
		objs, err := buildRSetYAML(tmpl, nil)
		if err != nil {
			return nil, &rsetBuildError{at: tat, err: fmt.Errorf("failed to build resource: %w", err)}
		}
		fromTmpl = objs
	}
	for _, in := range inputs {
		objs, err := buildRSetYAML(tmpl, in)
		if err != nil {
			return nil, &rsetBuildError{at: tat, err: fmt.Errorf("failed to build resources: %w", err)}
		}
		fromTmpl = append(fromTmpl, objs...)
	}
	for _, obj := range fromTmpl {
		if rsetDisabled(obj) {
			continue
		}
		add(rsetObject{content: obj, at: tat}, true)
	}
	return out, nil
}

func rsetDisabled(obj map[string]any) bool {
	v, _ := objects.Nested(obj, "metadata", "annotations", rsetReconcileKey).(string)
	return v == "disabled"
}

// rsetObjectKey is an object's identity for deduplication: group, kind,
// namespace, name (not the version).
func rsetObjectKey(obj map[string]any) string {
	return strings.Join([]string{objects.Group(str(obj["apiVersion"])), str(obj["kind"]),
		objects.NestedString(obj, "metadata", "namespace"), objects.NestedString(obj, "metadata", "name")}, "/")
}

func rsetObjectName(obj map[string]any) string {
	ns := objects.NestedString(obj, "metadata", "namespace")
	name := objects.NestedString(obj, "metadata", "name")
	if ns != "" {
		name = ns + "/" + name
	}
	return str(obj["kind"]) + "/" + name
}

// buildRSetResource renders one resources item: its YAML form is the
// template.
func buildRSetResource(r any, inputs map[string]any) (map[string]any, error) {
	j, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("failed to convert template to YAML: %w", err)
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return nil, fmt.Errorf("failed to convert template to YAML: %w", err)
	}
	t, err := newRSetTemplate(string(y), inputs)
	if err != nil {
		return nil, fmt.Errorf("failed to parse template: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		return nil, fmt.Errorf("failed to execute template: %w", err)
	}
	objs, err := readRSetObjects(b.String())
	if err == nil && len(objs) != 1 {
		err = fmt.Errorf("expected one object, got %d", len(objs))
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read object: %w", err)
	}
	return objs[0], nil
}

// buildRSetYAML renders the multi-document template.
func buildRSetYAML(tmpl string, inputs map[string]any) ([]map[string]any, error) {
	t, err := newRSetTemplate(tmpl, inputs)
	if err != nil {
		return nil, fmt.Errorf("failed to parse multi-doc YAML template: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		return nil, fmt.Errorf("failed to execute multi-doc YAML template: %w", err)
	}
	objs, err := readRSetObjects(b.String())
	if err != nil {
		return nil, fmt.Errorf("failed to read objects from multi-doc YAML: %w", err)
	}
	return objs, nil
}

func newRSetTemplate(text string, inputs map[string]any) (*template.Template, error) {
	return template.New("resourceset").
		Delims(rsetTemplateDelim, ">>").
		Funcs(sprig.HermeticTxtFuncMap()).
		Funcs(template.FuncMap{
			"slugify":    slug.Make,
			"inputs":     func() any { return inputs },
			"toYaml":     rsetToYAML,
			"mustToYaml": rsetMustToYAML,
		}).
		Option("missingkey=error").
		Parse(text)
}

func rsetToYAML(v any) string {
	s, _ := rsetMustToYAML(v)
	return s
}

func rsetMustToYAML(v any) (string, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// readRSetObjects decodes the rendered YAML documents, skipping empty ones;
// each must be a Kubernetes object.
func readRSetObjects(text string) ([]map[string]any, error) {
	dec := yamlv3.NewDecoder(bytes.NewReader([]byte(text)))
	var out []map[string]any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		j, err := jsonValue(v)
		if err != nil {
			return nil, err
		}
		m, ok := j.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("document is not an object: %v", v)
		}
		if len(m) == 0 {
			continue
		}
		if str(m["kind"]) == "" || str(m["apiVersion"]) == "" {
			return nil, fmt.Errorf("object '%s' is missing apiVersion or kind", objects.NestedString(m, "metadata", "name"))
		}
		out = append(out, m)
	}
}
