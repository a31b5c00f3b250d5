package render

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/resource"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

var (
	errSlowPath = errors.New("node needs the generic conversion")
	decimalRe   = regexp.MustCompile(`^[-+]?(0|[1-9][0-9]*)$`)
)

// toUnstructured converts a built resource into apimachinery's unstructured
// form (int64/float64 numbers). The common case walks kyaml's node tree
// directly; anything unusual (timestamps, binary, non-string keys, special
// floats) takes the generic JSON round trip, which is exact but slower.
func toUnstructured(res *resource.Resource) (map[string]any, error) {
	if v, err := nodeValue(res.YNode(), 0, false); err == nil {
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
	}
	b, err := res.MarshalJSON()
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return u.Object, nil
}

// nodeValue converts n; flow is set inside a flow-style collection, where
// the emitter writes scalars differently.
func nodeValue(n *yaml.Node, depth int, flow bool) (any, error) {
	return converter{}.value(n, depth, flow)
}

// nodeValueWith converts n, taking the value of a node in subst from there
// (a substituted scalar).
func nodeValueWith(n *yaml.Node, depth int, flow bool, subst map[*yaml.Node]any) (any, error) {
	return converter{subst: subst}.value(n, depth, flow)
}

// decodedValue converts a document as yaml.v3 decodes it and encoding/json
// and apimachinery read it back (docSpec's slow path): a document read
// from a file, not kustomize's output.
func decodedValue(n *yaml.Node) (any, error) {
	return converter{decoded: true}.value(n, 0, false)
}

// converter converts YAML nodes to apimachinery's unstructured form, or
// says errSlowPath when only the generic conversion is sure.
type converter struct {
	// subst holds the values of substituted scalars.
	subst map[*yaml.Node]any
	// decoded converts as yaml.v3 decodes, instead of as
	// kustomize-controller reads kustomize's output back.
	decoded bool
}

func (c converter) value(n *yaml.Node, depth int, flow bool) (any, error) {
	if v, ok := c.subst[n]; ok {
		return v, nil
	}
	if depth > 200 {
		return nil, errSlowPath
	}
	flow = flow || n.Style&yaml.FlowStyle != 0
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, errSlowPath
		}
		return c.value(n.Content[0], depth+1, flow)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				return nil, errSlowPath
			}
			if c.decoded {
				// yaml.v3 refuses duplicate keys; encoding/json replaces
				// invalid UTF-8.
				if _, dup := m[k.Value]; dup || !utf8.ValidString(k.Value) {
					return nil, errSlowPath
				}
			}
			v, err := c.value(n.Content[i+1], depth+1, flow)
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := c.value(e, depth+1, flow)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			if c.decoded {
				if !utf8.ValidString(n.Value) {
					return nil, errSlowPath
				}
				return n.Value, nil
			}
			// kustomize-controller reads objects back from kustomize's YAML
			// output, and the emitter does not always round-trip multi-line
			// block scalars byte for byte: leave those to the exact path.
			if strings.Contains(n.Value, "\n") {
				if flow {
					return nil, errSlowPath
				}
				return roundTrip(n)
			}
			return n.Value, nil
		case "!!null":
			if flow && n.Value == "" && !c.decoded {
				// An empty value in a flow collection ({a: , b}) is
				// written back as '': kustomize-controller reads "".
				return nil, errSlowPath
			}
			return nil, nil
		case "!!bool":
			if c.decoded {
				switch n.Value {
				case "true", "True", "TRUE":
					return true, nil
				case "false", "False", "FALSE":
					return false, nil
				}
				return nil, errSlowPath
			}
			return strconv.ParseBool(strings.ToLower(n.Value))
		case "!!int":
			if !decimalRe.MatchString(n.Value) {
				return nil, errSlowPath
			}
			return strconv.ParseInt(n.Value, 10, 64)
		case "!!float":
			f, err := strconv.ParseFloat(n.Value, 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, errSlowPath
			}
			// encoding/json writes integral floats without a fraction and
			// apimachinery reads those back as int64: do the same.
			if f == math.Trunc(f) && math.Abs(f) < 1e21 {
				if i, err := strconv.ParseInt(strconv.FormatFloat(f, 'f', -1, 64), 10, 64); err == nil {
					return i, nil
				}
			}
			return f, nil
		}
	}
	return nil, errSlowPath
}

// roundTrip is what a block-context scalar reads back as once kyaml has
// written it out (what the generic path does to the whole object): the
// scalar alone, as the value of a one-key mapping.
func roundTrip(n *yaml.Node) (any, error) {
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "v"}, n}}
	out, err := kyaml.String(doc)
	if err != nil {
		return nil, errSlowPath
	}
	var m map[string]any
	if err := kyaml.Unmarshal([]byte(out), &m); err != nil {
		return nil, errSlowPath
	}
	v, ok := m["v"].(string)
	if !ok {
		return nil, errSlowPath
	}
	return v, nil
}
