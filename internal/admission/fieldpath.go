package admission

import (
	"strings"
)

// objectPaths lists the field paths below `object` an expression names
// (object.spec.replicas → [spec replicas]; object.spec.containers[0].image
// → [spec containers 0 image]; object.metadata.labels['app'] → [metadata
// labels app]), in the order they appear. It reads the expression's text,
// not its syntax tree: the paths only place a finding on a line, so a
// name inside a string literal that looks like a path does no harm. It
// never fails: text it does not understand ends a path.
func objectPaths(expr string) [][]string {
	var out [][]string
	for i := 0; i < len(expr); {
		j := strings.Index(expr[i:], "object")
		if j < 0 {
			break
		}
		start := i + j
		i = start + len("object")
		if start > 0 && isIdent(expr[start-1]) || start > 0 && expr[start-1] == '.' {
			continue // oldObject, params.object, foo.object
		}
		path, end := selectors(expr, i)
		i = end
		if len(path) > 0 {
			out = append(out, path)
		}
	}
	return out
}

// selectors reads .name, ['key'], ["key"] and [N] selectors from expr at i.
func selectors(expr string, i int) ([]string, int) {
	var path []string
	for i < len(expr) {
		switch expr[i] {
		case '.':
			j := i + 1
			if j < len(expr) && expr[j] == '?' { // optional field selection: object.?spec
				j++
			}
			k := j
			for k < len(expr) && isIdent(expr[k]) {
				k++
			}
			if k == j {
				return path, i
			}
			name := expr[j:k]
			if k < len(expr) && expr[k] == '(' {
				return path, i // a method call (object.spec.x.all(...)) ends the path
			}
			path = append(path, name)
			i = k
		case '[':
			end := strings.IndexByte(expr[i:], ']')
			if end < 0 {
				return path, i
			}
			inner := strings.TrimSpace(expr[i+1 : i+end])
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				path = append(path, inner[1:len(inner)-1])
			} else if inner != "" && strings.Trim(inner, "0123456789") == "" {
				path = append(path, inner)
			} else {
				return path, i
			}
			i += end + 1
		default:
			return path, i
		}
	}
	return path, i
}

func isIdent(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// variablePaths expands variables.NAME in expr to the object paths of that
// variable's expression (one level: variables naming variables are
// followed up to depth times).
func variablePaths(expr string, vars map[string]string, depth int) [][]string {
	out := objectPaths(expr)
	if depth <= 0 {
		return out
	}
	for name, ve := range vars {
		if strings.Contains(expr, "variables."+name) {
			out = append(out, variablePaths(ve, vars, depth-1)...)
		}
	}
	return out
}

// deepestPath returns, of the candidate paths, the longest prefix that
// exists in obj (nil: none does).
func deepestPath(obj map[string]any, paths [][]string) []string {
	var best []string
	for _, p := range paths {
		n := existing(obj, p)
		if n > len(best) {
			best = p[:n]
		}
	}
	return best
}

// existing counts how many elements of path exist in obj.
func existing(obj any, path []string) int {
	cur := obj
	for i, p := range path {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[p]
			if !ok {
				return i
			}
			cur = next
		case []any:
			n := 0
			for _, c := range p {
				if c < '0' || c > '9' || n > len(v) {
					return i
				}
				n = n*10 + int(c-'0')
			}
			if p == "" || n >= len(v) {
				return i
			}
			cur = v[n]
		default:
			return i
		}
	}
	return len(path)
}
