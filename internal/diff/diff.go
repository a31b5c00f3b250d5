// Package diff is the rendered-diff engine of `gitops-lint diff`: it
// compares two render results (environments paired by name,
// Kustomizations by namespace/name, objects by API group, kind, namespace
// and name) into a Report, with Secret values masked. The report package
// prints a Report (report.Diff: text, markdown or JSON). Reading the
// revisions is internal/git's work (git.Materialize), rendering them
// internal/render's.
package diff

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
	"sigs.k8s.io/yaml"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// SchemaVersion is the schemaVersion of the `diff --format json`
// document (Report).
const SchemaVersion = 1

// ChangeKind says what happened to an object, Kustomization or environment.
type ChangeKind string

// The change kinds.
const (
	Added   ChangeKind = "added"
	Removed ChangeKind = "removed"
	Changed ChangeKind = "changed"
)

// Masks written in place of Secret data/stringData values.
const (
	MaskUnchanged = "<masked>"
	MaskChanged   = "<masked: changed>"
)

// Report is the rendered difference between two revisions: the
// `diff --format json` document.
type Report struct {
	SchemaVersion int  `json:"schemaVersion"`
	Tool          Tool `json:"tool"`
	// Base and Head name the compared revisions as the user gave them
	// (Head "" is the working tree); BaseCommit/HeadCommit are commit ids
	// ("" for the working tree).
	Base       string `json:"base"`
	BaseCommit string `json:"baseCommit,omitempty"`
	Head       string `json:"head"`
	HeadCommit string `json:"headCommit,omitempty"`
	// Promotion is "SRC:DST" for --promotion-preview.
	Promotion string  `json:"promotion,omitempty"`
	Summary   Summary `json:"summary"`
	// Environments are sorted by name; unchanged ones are listed with no
	// Kustomizations.
	Environments []*Environment `json:"environments"`
}

// Tool names the program that wrote the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Summary counts object changes.
type Summary struct {
	Environments int `json:"environments"`
	Changed      int `json:"changed"`
	Added        int `json:"added"`
	Removed      int `json:"removed"`
}

// Environment is the difference of one environment.
type Environment struct {
	Name string `json:"name"`
	// Status is added or removed when the environment exists on one side
	// only, changed when any object changed, else "" (unchanged).
	Status  ChangeKind `json:"status,omitempty"`
	Changed int        `json:"changed"`
	Added   int        `json:"added"`
	Removed int        `json:"removed"`
	// Kustomizations that differ, sorted by namespace/name.
	Kustomizations []*Kustomization `json:"kustomizations"`
}

// Kustomization is the difference of one Flux Kustomization.
type Kustomization struct {
	Namespace string     `json:"namespace"`
	Name      string     `json:"name"`
	Status    ChangeKind `json:"status,omitempty"`
	// Note explains why objects were not compared (a side did not render).
	Note string `json:"note,omitempty"`
	// Changes are sorted by kind, namespace and name.
	Changes []*Change `json:"changes"`
}

// ID is "namespace/name".
func (k *Kustomization) ID() string { return k.Namespace + "/" + k.Name }

// Change is one added, removed or changed object.
type Change struct {
	Kind   ChangeKind `json:"kind"`
	Object ObjectRef  `json:"object"`
	// File/Line locate the object's source document (head side, or base
	// for a removed object), relative to PATH; "" when not in the repo.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Diff is the unified diff of the object's YAML (keys sorted, Secret
	// values masked); for an added/removed object, every line is +/-.
	Diff string `json:"diff"`
}

// ObjectRef identifies an object; it is the finding package's Object, so a
// diff entry and a finding name an object the same way, in JSON and text.
type ObjectRef = finding.Object

// Compare compares two render results: environments paired by name,
// Kustomizations by namespace/name, objects by API group, kind, namespace
// and name. envFilter, when non-nil, keeps only the environments it accepts.
func Compare(base, head *render.Result, envFilter func(name string) bool) (*Report, error) {
	rep := &Report{SchemaVersion: SchemaVersion, Environments: []*Environment{}}
	baseEnvs := envMap(base)
	headEnvs := envMap(head)
	names := unionKeys(baseEnvs, headEnvs)
	for _, name := range names {
		if envFilter != nil && !envFilter(name) {
			continue
		}
		ed, err := diffEnvironment(name, baseEnvs[name], headEnvs[name])
		if err != nil {
			return nil, err
		}
		rep.Environments = append(rep.Environments, ed)
		rep.Summary.Environments++
		rep.Summary.Changed += ed.Changed
		rep.Summary.Added += ed.Added
		rep.Summary.Removed += ed.Removed
	}
	return rep, nil
}

func envMap(res *render.Result) map[string]*render.Environment {
	m := map[string]*render.Environment{}
	if res == nil {
		return m
	}
	for _, e := range res.Environments {
		m[e.Name] = e
	}
	return m
}

func unionKeys[V any](a, b map[string]V) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func diffEnvironment(name string, base, head *render.Environment) (*Environment, error) {
	ed := &Environment{Name: name, Kustomizations: []*Kustomization{}}
	switch {
	case base == nil:
		ed.Status = Added
	case head == nil:
		ed.Status = Removed
	}
	bk, hk := ksMap(base), ksMap(head)
	for _, id := range unionKeys(bk, hk) {
		kd, err := diffKustomization(bk[id], hk[id])
		if err != nil {
			return nil, err
		}
		if kd.Status == "" && kd.Note == "" && len(kd.Changes) == 0 {
			continue
		}
		for _, c := range kd.Changes {
			switch c.Kind {
			case Added:
				ed.Added++
			case Removed:
				ed.Removed++
			case Changed:
				ed.Changed++
			}
		}
		ed.Kustomizations = append(ed.Kustomizations, kd)
	}
	if ed.Status == "" && len(ed.Kustomizations) > 0 {
		ed.Status = Changed
	}
	return ed, nil
}

func ksMap(env *render.Environment) map[string]*render.Kustomization {
	m := map[string]*render.Kustomization{}
	if env == nil {
		return m
	}
	for _, k := range env.Kustomizations {
		m[k.ID()] = k
	}
	return m
}

func diffKustomization(base, head *render.Kustomization) (*Kustomization, error) {
	k := head
	if k == nil {
		k = base
	}
	kd := &Kustomization{Namespace: k.Namespace, Name: k.Name, Changes: []*Change{}}
	switch {
	case base == nil:
		kd.Status = Added
	case head == nil:
		kd.Status = Removed
	default:
		// A side that did not build would read as every object added or
		// removed; say so instead.
		if !base.Rendered || !head.Rendered {
			if base.Rendered != head.Rendered {
				side := "base"
				if !head.Rendered {
					side = "head"
				}
				kd.Status = Changed
				kd.Note = "does not render at " + side + " (run gitops-lint on it for the error); objects not compared"
			}
			return kd, nil
		}
	}
	bo, ho := objMap(base), objMap(head)
	for _, key := range unionKeys(bo, ho) {
		c, err := diffObject(bo[key], ho[key])
		if err != nil {
			return nil, err
		}
		if c != nil {
			kd.Changes = append(kd.Changes, c)
		}
	}
	slices.SortStableFunc(kd.Changes, func(a, b *Change) int {
		return cmp.Or(
			cmp.Compare(a.Object.Kind, b.Object.Kind),
			cmp.Compare(a.Object.Namespace, b.Object.Namespace),
			cmp.Compare(a.Object.Name, b.Object.Name),
			cmp.Compare(a.Object.APIVersion, b.Object.APIVersion),
		)
	})
	if kd.Status == "" && len(kd.Changes) > 0 {
		kd.Status = Changed
	}
	return kd, nil
}

// ObjectKey is the pairing key of an object: API group (not version, so a
// version bump is a change, not a remove and an add), kind, namespace, name.
func ObjectKey(o *render.Object) string {
	group := o.APIVersion()
	if i := strings.LastIndex(group, "/"); i >= 0 {
		group = group[:i]
	} else {
		group = "" // core
	}
	return group + "|" + o.Kind() + "|" + o.Namespace() + "|" + o.Name()
}

func objMap(k *render.Kustomization) map[string]*render.Object {
	m := map[string]*render.Object{}
	if k == nil {
		return m
	}
	for _, o := range k.Objects {
		key := ObjectKey(o)
		for i := 2; ; i++ { // a duplicate keeps its own slot
			if _, dup := m[key]; !dup {
				break
			}
			key = fmt.Sprintf("%s|#%d", ObjectKey(o), i)
		}
		m[key] = o
	}
	return m
}

// diffObject returns the change between two versions of an object (nil if
// equal); either may be nil.
func diffObject(base, head *render.Object) (*Change, error) {
	var oldC, newC map[string]any
	if base != nil {
		oldC = base.Content
	}
	if head != nil {
		newC = head.Content
	}
	if base != nil && head != nil && reflect.DeepEqual(oldC, newC) {
		return nil, nil
	}
	if isSecret(base) || isSecret(head) {
		oldC, newC = MaskSecretPair(oldC, newC)
	}
	ref := head
	c := &Change{Kind: Changed}
	switch {
	case base == nil:
		c.Kind = Added
	case head == nil:
		c.Kind = Removed
		ref = base
	}
	c.Object = ObjectRef{APIVersion: ref.APIVersion(), Kind: ref.Kind(), Namespace: ref.Namespace(), Name: ref.Name()}
	c.File, c.Line = ref.File, ref.Line
	oldY, err := toYAML(oldC)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Object, err)
	}
	newY, err := toYAML(newC)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Object, err)
	}
	if c.Kind == Changed && oldY == newY {
		return nil, nil // equal once masked/serialised
	}
	label := c.Object.String()
	c.Diff = udiff.Unified("base/"+label, "head/"+label, oldY, newY)
	return c, nil
}

func toYAML(m map[string]any) (string, error) {
	if m == nil {
		return "", nil
	}
	b, err := yaml.Marshal(m)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func isSecret(o *render.Object) bool {
	return o != nil && o.Kind() == "Secret" && o.APIVersion() == "v1"
}

// MaskSecretPair returns copies of two versions of a Secret (either may be
// nil) whose data and stringData values are replaced by MaskUnchanged when
// the key holds the same value on both sides and by MaskChanged when the
// value differs or the key is new; a key only in old gets MaskUnchanged (the
// diff shows its removal). Values never reach the output. The inputs are
// not modified.
func MaskSecretPair(old, new map[string]any) (map[string]any, map[string]any) {
	mo, mn := shallow(old), shallow(new)
	for _, field := range []string{"data", "stringData"} {
		od, _ := fieldMap(old, field)
		nd, _ := fieldMap(new, field)
		if od != nil {
			masked := make(map[string]any, len(od))
			for k := range od {
				masked[k] = MaskUnchanged
			}
			mo[field] = masked
		} else if _, present := old[field]; present && old[field] != nil {
			mo[field] = MaskUnchanged // not a map: mask it whole
		}
		if nd != nil {
			masked := make(map[string]any, len(nd))
			for k, v := range nd {
				ov, ok := od[k]
				if ok && reflect.DeepEqual(ov, v) {
					masked[k] = MaskUnchanged
				} else {
					masked[k] = MaskChanged
				}
			}
			mn[field] = masked
		} else if _, present := new[field]; present && new[field] != nil {
			if reflect.DeepEqual(old[field], new[field]) {
				mn[field] = MaskUnchanged
			} else {
				mn[field] = MaskChanged
			}
		}
	}
	return mo, mn
}

func shallow(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func fieldMap(m map[string]any, field string) (map[string]any, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m[field].(map[string]any)
	return v, ok
}
