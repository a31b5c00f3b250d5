package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// MaxFileSize is the largest YAML file gitops-lint indexes. Larger files are
// reported (kustomize-controller would choke on them too) and not parsed.
const MaxFileSize = 16 << 20

// Doc is one YAML document of a repository file, with its position.
type Doc struct {
	File       string // relative to the repository root, '/'-separated
	Index      int    // position of the document in the file
	Line       int    // line of the document's first content
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	// Node is the document's root mapping node (positions of fields).
	Node *yaml.Node
}

// IsObject reports whether the document looks like a Kubernetes object.
func (d *Doc) IsObject() bool { return d.APIVersion != "" && d.Kind != "" }

// Group is the API group of the document's apiVersion.
func (d *Doc) Group() string { return objects.Group(d.APIVersion) }

// Index is every YAML document of a repository, read once.
type Index struct {
	Root  string            // absolute, symlinks resolved
	Files map[string][]*Doc // by relative path
	// Findings are yaml/syntax and render/path-escape findings of the scan.
	Findings []finding.Finding
	// Symlinks are the relative paths of symbolic links in the tree; they are
	// not part of a Flux artifact.
	Symlinks []string
	// Excluded are files too hostile to hand to kustomize (oversized, alias
	// bombs); they are reported and left out of every artifact.
	Excluded map[string]bool
}

// Docs returns every document of every file, in file then document order.
func (x *Index) Docs() []*Doc {
	files := make([]string, 0, len(x.Files))
	for f := range x.Files {
		files = append(files, f)
	}
	slices.Sort(files)
	var out []*Doc
	for _, f := range files {
		out = append(out, x.Files[f]...)
	}
	return out
}

// Find returns the document of file that declares the object with this
// kind and name (namespace matched when non-empty in the document).
func (x *Index) Find(file, kind, name string) *Doc {
	for _, d := range x.Files[file] {
		if d.Kind == kind && d.Name == name {
			return d
		}
	}
	return nil
}

// DocAt returns the document of file that starts at line (nil if none).
func (x *Index) DocAt(file string, line int) *Doc {
	if x == nil {
		return nil
	}
	for _, d := range x.Files[file] {
		if d.Line == line {
			return d
		}
	}
	return nil
}

// nonManifestNames are files that are YAML but never Kubernetes manifests.
var nonManifestNames = regexp.MustCompile(`^(docker-)?compose(\.[\w-]+)?\.ya?ml$|^Taskfile(\.[\w-]+)?\.ya?ml$|^\.pre-commit-(config|hooks)\.ya?ml$|^\.?(yamllint|goreleaser|golangci|renovate|mkdocs|codecov|dependabot|lefthook|\.sops)(\.[\w-]+)?\.ya?ml$|^(playbook|site|requirements|galaxy|values|helmfile)(\.[\w-]+)?\.ya?ml$|^Chart\.ya?ml$`)

// skipDirs are directories never read.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "vendor": true}

// LoadIndex reads every YAML file under root once.
func LoadIndex(root string) (*Index, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", root, err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, fmt.Errorf("resolve %s: %w", root, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("read repository: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("read repository: %s is not a directory", root)
	}
	x := &Index{Root: abs, Files: map[string][]*Doc{}, Excluded: map[string]bool{}}
	// What source-controller leaves out of an artifact is no concern of ours.
	ignored, err := ignoreMatcher(abs, "")
	if err != nil {
		return nil, err
	}
	err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable entries are skipped, as the artifact would lack them
		}
		rel := filepath.ToSlash(strings.TrimPrefix(strings.TrimPrefix(p, abs), string(filepath.Separator)))
		if p != abs && ignored.Match(strings.Split(p, string(filepath.Separator)), d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != abs && (skipDirs[d.Name()] || isHelmChartDir(p)) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			x.Symlinks = append(x.Symlinks, rel)
			if target, ok := symlinkEscapes(abs, p); ok {
				x.Findings = append(x.Findings, finding.Finding{
					Rule: finding.RulePathEscape, Severity: finding.Error, File: rel, Line: 1, Column: 1,
					Message: fmt.Sprintf("symbolic link %s points outside the repository (%s); source-controller leaves links out of the artifact and kustomize-controller's secure filesystem refuses paths outside the source root", rel, target),
				})
			}
			return nil
		}
		if !d.Type().IsRegular() || !isYAMLName(d.Name()) || nonManifestNames.MatchString(d.Name()) {
			return nil
		}
		x.loadFile(p, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", root, err)
	}
	return x, nil
}

func isYAMLName(name string) bool {
	ext := filepath.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

func isHelmChartDir(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, "Chart.yaml"))
	return err == nil
}

// symlinkEscapes reports whether the link at p resolves outside root.
func symlinkEscapes(root, p string) (string, bool) {
	target, err := os.Readlink(p)
	if err != nil {
		return "", false
	}
	resolved := target
	if !filepath.IsAbs(resolved) {
		resolved = filepath.Join(filepath.Dir(p), resolved)
	}
	if real, err := filepath.EvalSymlinks(resolved); err == nil {
		resolved = real
	}
	resolved = filepath.Clean(resolved)
	if resolved == root || strings.HasPrefix(resolved, root+string(filepath.Separator)) {
		return target, false
	}
	return target, true
}

func (x *Index) syntax(rel string, line int, format string, args ...any) {
	if line < 1 {
		line = 1
	}
	x.Findings = append(x.Findings, finding.Finding{
		Rule: finding.RuleYAMLSyntax, Severity: finding.Error, File: rel, Line: line, Column: 1,
		Message: fmt.Sprintf(format, args...),
	})
}

var k8sHint = regexp.MustCompile(`(?m)^\s*apiVersion:\s*\S+`)

func (x *Index) loadFile(p, rel string) {
	f, err := os.Open(p)
	if err != nil {
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return
	}
	if len(data) > MaxFileSize {
		x.Excluded[rel] = true
		x.syntax(rel, 1, "file is larger than %d MiB; gitops-lint does not parse it (a manifest this large would also exceed Flux's artifact limits): split it or add it to .sourceignore", MaxFileSize>>20)
		return
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		x.syntax(rel, 1+bytes.Count(data[:i], []byte("\n")), "binary content (NUL byte) in a YAML file")
		return
	}
	docs, err := parseDocs(rel, data)
	if err != nil {
		// Only files that look like Kubernetes manifests are reported:
		// templates and other tools' YAML are not ours to judge.
		var pe *posError
		if errors.As(err, &pe) && pe.exclude {
			x.Excluded[rel] = true
		}
		if k8sHint.Match(data) {
			if errors.As(err, &pe) {
				x.syntax(rel, pe.line, "%s", pe.msg)
			} else {
				x.syntax(rel, 1, "%v", err)
			}
		}
		return
	}
	x.Files[rel] = docs
}

type posError struct {
	line    int
	msg     string
	exclude bool // too hostile to hand to kustomize
}

func (e *posError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocs splits data into documents, keeping positions, and rejects
// duplicate keys (the apiserver's strict decoding does too).
func parseDocs(rel string, data []byte) ([]*Doc, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*Doc
	for i := 0; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			msg := err.Error()
			if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
				var line int
				fmt.Sscan(m[1], &line)
				return nil, &posError{line: line, msg: m[2]}
			}
			return nil, &posError{line: 1, msg: strings.TrimPrefix(msg, "yaml: ")}
		}
		if len(n.Content) == 0 {
			continue
		}
		root := n.Content[0]
		if err := checkNode(root); err != nil {
			return nil, err
		}
		d := &Doc{File: rel, Index: i, Line: root.Line, Node: root}
		if root.Kind == yaml.MappingNode {
			d.APIVersion = scalar(root, "apiVersion")
			d.Kind = scalar(root, "kind")
			if md := child(root, "metadata"); md != nil {
				d.Name = scalar(md, "name")
				d.Namespace = scalar(md, "namespace")
			}
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// maxExpandedNodes bounds what a document may expand to once its aliases are
// resolved: an alias bomb is small on disk and explodes on expansion, and
// kustomize expands aliases when it reads a resource.
const maxExpandedNodes = 1_000_000

// checkNode rejects duplicate keys and alias bombs without expanding aliases.
func checkNode(root *yaml.Node) error {
	if err := checkKeys(root); err != nil {
		return err
	}
	memo := map[*yaml.Node]int{}
	var size func(n *yaml.Node, depth int) int
	size = func(n *yaml.Node, depth int) int {
		if v, ok := memo[n]; ok {
			return v
		}
		if depth > 1000 {
			return maxExpandedNodes + 1
		}
		total := 1
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			total = size(n.Alias, depth+1)
		}
		for _, c := range n.Content {
			total += size(c, depth+1)
			if total > maxExpandedNodes {
				break
			}
		}
		memo[n] = total
		return total
	}
	if size(root, 0) > maxExpandedNodes {
		return &posError{line: root.Line, exclude: true, msg: fmt.Sprintf("document expands to more than %d nodes through aliases (a YAML alias bomb)", maxExpandedNodes)}
	}
	return nil
}

func checkKeys(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		seen := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode && k.Value != "<<" {
				if prev, ok := seen[k.Value]; ok {
					return &posError{line: k.Line, msg: fmt.Sprintf("mapping key %q already defined at line %d", k.Value, prev)}
				}
				seen[k.Value] = k.Line
			}
		}
	}
	for _, c := range n.Content {
		if err := checkKeys(c); err != nil {
			return err
		}
	}
	return nil
}

// child returns the value node of key in mapping m.
func child(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(m *yaml.Node, key string) string {
	if c := child(m, key); c != nil && c.Kind == yaml.ScalarNode {
		return c.Value
	}
	return ""
}

// FieldLine returns the line of the field at path (map keys, or decimal
// indexes into sequences) below the document root, or the line of the
// deepest field of path that exists.
func (d *Doc) FieldLine(path ...string) int {
	n, line := d.Node, d.Line
	for _, p := range path {
		switch n.Kind {
		case yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					line = n.Content[i].Line
					n = n.Content[i+1]
					found = true
					break
				}
			}
			if !found {
				return line
			}
		case yaml.SequenceNode:
			var idx int
			if _, err := fmt.Sscan(p, &idx); err != nil || idx < 0 || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		default:
			return line
		}
	}
	return line
}

// scalarLine returns the line of the first scalar below n equal to value.
func scalarLine(n *yaml.Node, value string) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.ScalarNode && n.Value == value {
		return n.Line
	}
	for _, c := range n.Content {
		if l := scalarLine(c, value); l > 0 {
			return l
		}
	}
	return 0
}
