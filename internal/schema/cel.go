package schema

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// celRules evaluates a CRD version's x-kubernetes-validations with the
// apiserver's own CEL validator, as admission would on create (no old
// object, so transition rules are skipped as they are on create).
type celRules struct {
	mu    sync.Mutex
	cache map[string]*celEntry
}

type celEntry struct {
	v   *cel.Validator
	s   *structuralschema.Structural
	err error
}

func (c *celRules) validator(raw map[string]any) *celEntry {
	b, _ := json.Marshal(raw)
	sum := sha256.Sum256(b)
	key := hex.EncodeToString(sum[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil {
		c.cache = map[string]*celEntry{}
	}
	if e, ok := c.cache[key]; ok {
		return e
	}
	e := &celEntry{}
	c.cache[key] = e
	var v1 apiextensionsv1.JSONSchemaProps
	if err := json.Unmarshal(b, &v1); err != nil {
		e.err = fmt.Errorf("decode CRD schema: %w", err)
		return e
	}
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(&v1, &internal, nil); err != nil {
		e.err = fmt.Errorf("convert CRD schema: %w", err)
		return e
	}
	s, err := structuralschema.NewStructural(&internal)
	if err != nil {
		e.err = fmt.Errorf("CRD schema is not structural: %w", err)
		return e
	}
	e.s = s
	e.v = cel.NewValidator(s, true, celconfig.PerCallLimit)
	return e
}

// Validate evaluates the rules on obj and returns the violations.
func (c *celRules) Validate(ctx context.Context, raw map[string]any, obj map[string]any) []Problem {
	return c.validator(raw).validate(ctx, obj)
}

func (e *celEntry) validate(ctx context.Context, obj map[string]any) []Problem {
	if e.err != nil || e.v == nil {
		return nil
	}
	errs, _ := e.v.Validate(ctx, nil, e.s, obj, nil, celconfig.RuntimeCELCostBudget)
	var out []Problem
	for _, fe := range errs {
		out = append(out, Problem{Path: fieldPath(fe.Field), Msg: celMessage(fe)})
	}
	return out
}

func celMessage(fe *field.Error) string {
	msg := fe.Detail
	if msg == "" {
		msg = fe.ErrorBody()
	}
	return "x-kubernetes-validations: " + msg
}

var indexRe = regexp.MustCompile(`\[([^\]]*)\]`)

// fieldPath splits "spec.rules[0].name" into its segments.
func fieldPath(p string) []string {
	if p == "" || p == "<nil>" {
		return nil
	}
	p = indexRe.ReplaceAllString(p, ".$1")
	var out []string
	for _, s := range strings.Split(p, ".") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
