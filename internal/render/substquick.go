package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/fluxcd/pkg/envsubst"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/kustomize/api/resource"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"
)

// Flux substitutes an object by writing it as YAML (JSON, then YAML with
// go-yaml v2), running envsubst over the whole text and reading the result
// back through JSON. quick does the same scalar by scalar, for the objects
// where that gives the same result, and leaves every other object to
// Flux's own code:
//
//   - a '$' may appear only in string values (not in keys), each one either
//     starting ${NAME}, ${NAME:=default}, ${NAME:-default} or
//     ${NAME=default} (a default without '$', braces or backslashes), or
//     followed by neither '{' nor '$' (envsubst leaves those as written;
//     "$$" and other expressions take Flux's path);
//   - what an expression may expand to (the value, or the default) is
//     tame: valid UTF-8 with no control character, and in a multi-line
//     string not empty and not starting with a space (the lines keep their
//     indentation);
//   - the string is written on one line, short enough that go-yaml cannot
//     fold it wherever it sits in the object, or as a literal block.
//
// Each such string is then written by the same code as Flux writes it, as
// the only value of a one-key mapping (or a one-item sequence, as in the
// object), substituted by the same envsubst, read back by the same YAML
// and JSON code, and converted as the rest of the object is. Whatever a
// value expands to (a number, a list, null), it is read in that context
// exactly as in the whole text: what precedes it on its line is a key or a
// dash either way, and a literal block's lines keep their indentation.
// Strings without an expression are left as they are, as for objects
// without one (Flux's round trip does not change them). TestQuickSubstitution and
// FuzzQuickSubstitution compare both paths.

var (
	// errNotQuick says an object takes Flux's substitution code.
	errNotQuick = errors.New("not substituted scalar by scalar")
	// errUnchanged says a string has no expression: substituting the text
	// leaves it as written.
	errUnchanged = errors.New("no expression")
)

// varNameRe is the variable names Flux accepts (kustomize_varsub.go).
var varNameRe = regexp.MustCompile(`^[_[:alpha:]][_[:alpha:][:digit:]]*$`)

// foldWidth is the column past which go-yaml v2 may fold a scalar at a
// space.
const foldWidth = 80

// quickDepth bounds the nesting quick walks; deeper objects take Flux's
// path.
const quickDepth = 100

// quickOK reports whether quick may be tried for this Kustomization's
// variables: all names are valid (Flux rejects the object otherwise).
func quickOK(vars map[string]string) bool {
	for k := range vars {
		if !varNameRe.MatchString(k) {
			return false
		}
	}
	return true
}

// quick returns the content Flux's substitution gives res, or errNotQuick.
// res does not opt out of substitution (apply checks that first).
func (s *substituter) quick(res *resource.Resource) (map[string]any, error) {
	if !s.quickVars {
		return nil, errNotQuick
	}
	root := res.YNode()
	if root == nil || root.Kind != kyaml.MappingNode {
		return nil, errNotQuick
	}
	subst := map[*kyaml.Node]any{}
	if err := s.quickWalk(root, 0, 0, subst); err != nil {
		return nil, err
	}
	v, err := nodeValueWith(root, 0, false, subst)
	if err != nil {
		return nil, errNotQuick
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errNotQuick
	}
	return m, nil
}

// quickWalk substitutes the string values below n that hold a '$', into
// subst. n's keys or items are written at most at column indent.
func (s *substituter) quickWalk(n *kyaml.Node, depth, indent int, subst map[*kyaml.Node]any) error {
	if depth > quickDepth {
		return errNotQuick
	}
	switch n.Kind {
	case kyaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != kyaml.ScalarNode || strings.IndexByte(k.Value, '$') >= 0 {
				return errNotQuick
			}
			if err := s.quickValue(v, depth, indent, indent+keyWidth(k.Value)+2, false, subst); err != nil {
				return err
			}
		}
	case kyaml.SequenceNode:
		for _, v := range n.Content {
			if err := s.quickValue(v, depth, indent, indent+2, true, subst); err != nil {
				return err
			}
		}
	default:
		return errNotQuick
	}
	return nil
}

// quickValue handles one value of a collection written at column indent;
// a scalar value starts at most at column col.
func (s *substituter) quickValue(v *kyaml.Node, depth, indent, col int, item bool, subst map[*kyaml.Node]any) error {
	switch v.Kind {
	case kyaml.MappingNode, kyaml.SequenceNode:
		return s.quickWalk(v, depth+1, indent+2, subst)
	case kyaml.ScalarNode:
		if strings.IndexByte(v.Value, '$') < 0 {
			return nil
		}
		if v.ShortTag() != "!!str" {
			return errNotQuick
		}
		out, err := s.quickScalar(v.Value, col, item)
		if err == errUnchanged {
			return nil
		}
		if err != nil {
			return err
		}
		subst[v] = out
		return nil
	}
	return errNotQuick // aliases
}

// quickScalar substitutes one string as Flux does within the object's
// text, where it starts at most at column col, as a sequence item or a
// mapping value. A string with no expression is left as it is.
func (s *substituter) quickScalar(str string, col int, item bool) (any, error) {
	multiline := strings.IndexByte(str, '\n') >= 0
	exprs := 0
	for i := 0; i < len(str); i++ {
		if str[i] != '$' {
			continue
		}
		if i+1 < len(str) && str[i+1] == '$' {
			return nil, errNotQuick
		}
		if i+1 >= len(str) || str[i+1] != '{' {
			continue // written as is
		}
		end, vals, ok := s.quickExpr(str[i:])
		if !ok {
			return nil, errNotQuick
		}
		for _, v := range vals {
			if !tame(v) || multiline && (v == "" || v[0] == ' ') {
				return nil, errNotQuick
			}
		}
		exprs++
		i += end - 1
	}
	if exprs == 0 {
		return nil, errUnchanged
	}
	in, err := json.Marshal(str)
	if err != nil {
		return nil, errNotQuick
	}
	if item {
		in = append(append([]byte{'['}, in...), ']')
	} else {
		in = append(append([]byte(`{"k":`), in...), '}')
	}
	text, err := yaml.JSONToYAML(in)
	if err != nil {
		return nil, errNotQuick
	}
	// text is "k: VALUE\n" or "- VALUE\n".
	body := text[2:]
	if item {
		body = text[1:]
	}
	if !bytes.HasPrefix(body, []byte(" |")) {
		// Quoted or plain: on one line, wherever it is written.
		if bytes.IndexByte(body, '\n') != len(body)-1 || col+len(body) > foldWidth {
			return nil, errNotQuick
		}
	}
	out, err := envsubst.Eval(string(text), func(name string) (string, bool) {
		if s.strict {
			v, ok := s.vars[name]
			return v, ok
		}
		return s.vars[name], true
	})
	if err != nil {
		return nil, errNotQuick
	}
	j, err := yaml.YAMLToJSON([]byte(out))
	if err != nil {
		return nil, errNotQuick
	}
	var value json.RawMessage
	if item {
		var items []json.RawMessage
		if json.Unmarshal(j, &items) != nil || len(items) != 1 {
			return nil, errNotQuick
		}
		value = items[0]
	} else {
		var m map[string]json.RawMessage
		if json.Unmarshal(j, &m) != nil || len(m) != 1 || m["k"] == nil {
			return nil, errNotQuick
		}
		value = m["k"]
	}
	// Read back as the whole object is (kyaml from JSON), converted as
	// toUnstructured converts it. A one-line string needs none of it: kyaml
	// writes and reads a string back as itself (quoted where it would read
	// as another type), and toUnstructured takes its value.
	if len(value) > 0 && value[0] == '"' {
		var str string
		if json.Unmarshal(value, &str) == nil && strings.IndexByte(str, '\n') < 0 {
			return str, nil
		}
	}
	wrapped := append(append([]byte(`{"k":`), value...), '}')
	var rn kyaml.RNode
	if err := rn.UnmarshalJSON(wrapped); err != nil {
		return nil, errNotQuick
	}
	if y := rn.YNode(); y != nil && y.Kind == kyaml.MappingNode && len(y.Content) == 2 {
		if v, err := nodeValue(y.Content[1], 0, false); err == nil {
			return v, nil
		}
	}
	b, err := rn.MarshalJSON()
	if err != nil {
		return nil, errNotQuick
	}
	var m map[string]any
	if err := utiljson.Unmarshal(b, &m); err != nil {
		return nil, errNotQuick
	}
	return m["k"], nil
}

// quickExpr reads the expression at the start of text: ${NAME}, or
// ${NAME:=text}, ${NAME:-text}, ${NAME=text} with a plain default. It
// returns the expression's length and what it may expand to.
func (s *substituter) quickExpr(text string) (int, []string, bool) {
	j := 2
	for j < len(text) && isWordByte(text[j]) {
		j++
	}
	if j == 2 || j >= len(text) || '0' <= text[2] && text[2] <= '9' {
		return 0, nil, false
	}
	name := text[2:j]
	val, set := s.vars[name]
	if !set && s.strict && text[j] == '}' {
		return 0, nil, false // Flux fails: its path reports it
	}
	if text[j] == '}' {
		return j + 1, []string{val}, true
	}
	op := text[j:]
	switch {
	case strings.HasPrefix(op, ":="), strings.HasPrefix(op, ":-"):
		j += 2
	case strings.HasPrefix(op, "="):
		j++
	default:
		return 0, nil, false
	}
	k := j
	for k < len(text) && text[k] != '}' {
		if c := text[k]; c == '$' || c == '{' || c == '\\' || c < 0x20 || c == 0x7f {
			return 0, nil, false
		}
		k++
	}
	if k >= len(text) {
		return 0, nil, false
	}
	return k + 1, []string{val, text[j:k]}, true
}

// keyWidth bounds the width go-yaml writes a key in: quoted, and each byte
// escaped unless it is printable ASCII.
func keyWidth(k string) int {
	w := 2
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			w += 6
		} else {
			w++
		}
	}
	return w
}

// tame reports whether a variable's value can be placed in any scalar
// without changing how the text around it reads: valid UTF-8 of
// characters YAML prints as they are, none of which breaks a line (no
// control characters, NEL, line or paragraph separators, byte order mark
// or non-characters).
func tame(v string) bool {
	if !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		switch {
		case r < 0x20, r == 0x7f, 0x80 <= r && r < 0xa0, r == 0x2028, r == 0x2029, r == 0xfeff, r == 0xfffe, r == 0xffff:
			return false
		}
	}
	return true
}
