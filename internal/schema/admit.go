package schema

import (
	"context"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// checkCustom validates a custom resource as the kube-apiserver admits
// kustomize-controller's server-side apply: the apply is refused when the
// object sets a field its structural schema neither declares nor preserves
// ("failed to create typed patch object: … field not declared in schema",
// where a plain create would prune the field); the apiserver then applies
// the schema's defaults (a null without a default stays, and fails the
// schema) and validates the defaulted object against the OpenAPI schema
// and, when that passes, the CEL rules; last come the metadata checks.
//
// obj is the rendered object (already without status and SOPS metadata);
// it is never modified: the render result is shared by every checker. s is
// the version's compiled JSON Schema; e its structural schema and CEL
// validator (when e.s is nil the schema is not structural: obj is
// validated as written, without rules).
func checkCustom(ctx context.Context, s *jsonschema.Schema, e *celEntry, obj map[string]any) []Problem {
	if e != nil && e.s != nil {
		if problems, ok := checkAdmitted(ctx, s, e, obj); ok {
			return problems
		}
	}
	problems := Validate(s, obj)
	if len(problems) == 0 {
		problems = Semantic(obj, false)
	}
	return problems
}

// checkAdmitted is checkCustom for a structural schema. The apiserver's
// algorithms expect CRDs it has validated; on a CRD it would have refused
// they may panic, and then ok is false (the object is validated as
// written, without its rules, as for a schema that is not structural).
func checkAdmitted(ctx context.Context, s *jsonschema.Schema, e *celEntry, obj map[string]any) (problems []Problem, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			problems, ok = nil, false
		}
	}()
	cp, _ := objects.DeepCopy(obj).(map[string]any)
	pruned := admit(cp, e.s, e.defaults)
	problems = Validate(s, cp)
	if len(pruned) > 0 {
		// The apply is refused before defaulting: report the unknown
		// fields as the schema words them on obj, with the problems of
		// the rest of the object.
		problems = append(problems, unknownFields(s, obj, pruned)...)
		slices.SortStableFunc(problems, func(a, b Problem) int { return strings.Compare(a.Pointer(), b.Pointer()) })
		problems = slices.CompactFunc(problems, func(a, b Problem) bool { return a.String() == b.String() })
	}
	if len(problems) > 0 {
		return problems, true
	}
	// As the apiserver does: rules run on objects that pass the schema.
	problems = e.validate(ctx, cp)
	if hasErrors(problems) {
		return problems, true
	}
	return append(problems, Semantic(cp, false)...), true
}

// admit prunes and defaults obj in place as the apiserver does
// (customresource_handler.go: unstructuredSchemaCoercer prunes, then
// unstructuredDefaulter defaults) and returns the paths of the fields it
// pruned. It does not drop non-nullable nulls as the coercer does when it
// decodes a request body: a server-side apply dry run against
// kube-apiserver 1.34 refuses such a null ("must be of type integer") and
// accepts it only where the schema defaults it.
func admit(obj map[string]any, s *structuralschema.Structural, defaults bool) []string {
	pruned := structuralpruning.PruneWithOptions(obj, s, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	if defaults { // else a walk that changes nothing
		structuraldefaulting.Default(obj, s)
	}
	// status is not validated (see validatable), defaulted or not.
	delete(obj, "status")
	return pruned
}

// unknownFields reports the fields pruning dropped, worded as the JSON
// Schema words them on obj. The schema closes every object pruning prunes
// (crdConverter.convert), so each is one of its problems; any other is
// worded the same way.
func unknownFields(s *jsonschema.Schema, obj map[string]any, pruned []string) []Problem {
	var out []Problem
	covered := map[string]bool{}
	for _, p := range Validate(s, obj) {
		if len(p.unknown) == 0 {
			continue
		}
		out = append(out, p)
		for _, f := range p.unknown {
			path := append(slices.Clone(p.Path), f)
			covered[dotted(path, true)] = true
			covered[dotted(path, false)] = true
		}
	}
	for _, path := range pruned {
		if covered[path] {
			continue
		}
		segs := fieldPath(path)
		if len(segs) == 0 {
			continue
		}
		out = append(out, Problem{Path: segs[:len(segs)-1], Field: segs[len(segs)-1],
			Msg: "additional property not allowed (field not declared in schema)"})
	}
	return out
}

// dotted renders a path as the apiserver's pruning records it
// ("spec.rules[0].name"); decimal segments are list indexes when indexes
// is set, map keys otherwise.
func dotted(path []string, indexes bool) string {
	var b strings.Builder
	for i, s := range path {
		if indexes && s != "" && strings.Trim(s, "0123456789") == "" {
			b.WriteString("[" + s + "]")
			continue
		}
		if i > 0 {
			b.WriteString(".")
		}
		b.WriteString(s)
	}
	return b.String()
}

// hasErrors reports whether any problem is an error (schema/invalid).
func hasErrors(ps []Problem) bool {
	for _, p := range ps {
		if p.rule == nil || p.rule.Severity == finding.Error {
			return true
		}
	}
	return false
}
