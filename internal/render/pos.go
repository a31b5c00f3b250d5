package render

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Positions are 1-based lines and columns (in characters) as yaml.v3
// reports them for the nodes of a document; (0, 0) means no position.

// FieldPos returns the position of the field at path below the document
// root, or of the deepest field of path that exists (the document start
// when none does). path holds map keys and decimal indexes into sequences.
// A map field is at its key: the column of `image` in `image: nginx`. A
// sequence element is at its first content: for `- name: x` the column of
// `name` (not of the dash), for `- nginx` the column of `nginx`, which is
// where editors place an element.
func (d *Doc) FieldPos(path ...string) (line, col int) {
	n := d.Node
	line, col = d.Line, d.Column
	for _, p := range path {
		if n == nil {
			return line, col
		}
		switch n.Kind {
		case yaml.MappingNode:
			k := keyIndex(n, p)
			if k < 0 {
				return line, col
			}
			line, col = n.Content[k].Line, n.Content[k].Column
			n = n.Content[k+1]
		case yaml.SequenceNode:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(n.Content) {
				return line, col
			}
			n = n.Content[i]
			line, col = startPos(n)
		default:
			return line, col
		}
	}
	return line, col
}

// startPos returns the position of the first content of n: the first key
// of a non-empty mapping (so a flow mapping `{a: 1}` starts at `a`, not at
// the brace), else n itself.
func startPos(n *yaml.Node) (line, col int) {
	if n.Kind == yaml.MappingNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	return n.Line, n.Column
}

// scalarPos returns the position of the first scalar below n equal to
// value, (0, 0) if there is none.
func scalarPos(n *yaml.Node, value string) (line, col int) {
	if n == nil {
		return 0, 0
	}
	if n.Kind == yaml.ScalarNode && n.Value == value {
		return n.Line, n.Column
	}
	for _, c := range n.Content {
		if line, col = scalarPos(c, value); line > 0 {
			return line, col
		}
	}
	return 0, 0
}
