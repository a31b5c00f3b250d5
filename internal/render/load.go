package render

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/fluxcd/pkg/sourceignore/gitignore"
	"go.yaml.in/yaml/v3"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// Doc is one YAML document of a repository file, with its position.
type Doc struct {
	File       string // relative to the repository root, '/'-separated
	Index      int    // position of the document in the file
	Line       int    // line of the document's first content (its first key)
	Column     int    // column of the document's first content
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

// TypeMeta is an apiVersion and kind.
type TypeMeta struct{ APIVersion, Kind string }

// Kinds lists the apiVersions and kinds of the objects declared by the
// files beside the files near (those a --changed-since run is about), once
// each, the most common first: what the run is likeliest to check.
func (x *Index) Kinds(near []string) []TypeMeta {
	if x == nil || len(near) == 0 {
		return nil
	}
	dirs := map[string]bool{}
	for _, f := range near {
		dirs[path.Dir(f)] = true
	}
	count := map[TypeMeta]int{}
	for f, docs := range x.Files {
		if !dirs[path.Dir(f)] {
			continue
		}
		for _, d := range docs {
			if d.IsObject() {
				count[TypeMeta{d.APIVersion, d.Kind}]++
			}
		}
	}
	out := slices.Collect(maps.Keys(count))
	slices.SortFunc(out, func(a, b TypeMeta) int {
		return cmp.Or(count[b]-count[a], strings.Compare(a.APIVersion, b.APIVersion), strings.Compare(a.Kind, b.Kind))
	})
	return out
}

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

	// rd reads the checkout within the run's limits; raw holds what it
	// read (relative path → content), shared with the artifacts made from
	// the checkout so that no file is read twice. It is dropped when the
	// render ends.
	rd    *reader
	rawMu sync.Mutex
	raw   map[string][]byte
	// byID indexes the documents of a file by kind and name, built on
	// first use (locate looks up every rendered object).
	byID sync.Map // file → map[string]*Doc
	// work is what the mappings of a parsed file cost kustomize (docCost).
	work map[string]int64
	// walk is what the index's walk saw that an artifact of the checkout
	// packages, in walk order: the regular files its exclusions keep, and
	// the directories it skips for reasons of its own (vendor, charts),
	// which fromDir walks itself. ignored are those exclusions; walked is
	// false when the walk stopped early. fromDir packages the checkout
	// from them instead of walking and matching it again.
	walk    []walkEntry
	walked  bool
	ignored gitignore.Matcher
}

// walkEntry is one file (or skipped directory) of the index's walk.
type walkEntry struct {
	abs string
	d   fs.DirEntry
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

// LoadIndex reads every YAML file under root once, within the default
// limits (confine.Defaults).
func LoadIndex(root string) (*Index, error) {
	return loadIndexWith(root, newReader(confine.Defaults(), nil))
}

// indexed is one entry of the index in walk order: a file being parsed
// and the findings about it.
type indexed struct {
	rel, abs string
	findings []finding.Finding
	data     []byte
	done     chan struct{} // closed when parsed (nil: nothing to parse)
	docs     []*Doc
	nodes    int64 // estimated, then parsed
	cost     docCost
	err      error
}

// loadIndexWith reads every YAML file under root once through rd. Files
// are read and charged in walk order and parsed a few at a time in
// parallel; what they parse into is charged and recorded in walk order,
// so that the index and the place where a budget runs out do not depend
// on scheduling.
func loadIndexWith(root string, rd *reader) (*Index, error) {
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
	x := &Index{Root: abs, Files: map[string][]*Doc{}, Excluded: map[string]bool{}, rd: rd, raw: map[string][]byte{}, work: map[string]int64{}}
	croot, err := rd.openRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("read repository: %w", err)
	}
	defer croot.Close()
	// What source-controller leaves out of an artifact is no concern of ours.
	ignored, err := ignoreMatcher(croot, abs, "")
	if err != nil {
		return nil, fmt.Errorf("read repository: %w", err)
	}
	x.ignored = ignored
	complete := true
	// window holds the entries read but not yet recorded: the walk reads
	// ahead of the oldest while the others parse, up to indexWindow
	// entries whose estimated nodes add up to no more than one large
	// parse per CPU (what parsing one per CPU held before); a single large
	// one is parsed alone.
	var window []*indexed
	var pending int64 // estimated nodes of the window's entries
	stop := false
	commit := func() {
		e := window[0]
		window = window[1:]
		if e.done != nil {
			pending -= e.nodes
			<-e.done
			if stop || !rd.takeNodes(e.abs, e.cost.nodes) {
				stop = true
				return
			}
			x.parsed(e)
		}
		if !stop {
			x.Findings = append(x.Findings, e.findings...)
		}
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
				x.walk = append(x.walk, walkEntry{abs: p, d: d})
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			x.walk = append(x.walk, walkEntry{abs: p, d: d})
		}
		if d.Type()&fs.ModeSymlink != 0 {
			x.Symlinks = append(x.Symlinks, rel)
			if target, ok := symlinkEscapes(abs, p); ok {
				window = append(window, &indexed{findings: []finding.Finding{RulePathEscape.New(finding.Finding{
					File: rel, Line: 1, Column: 1,
					Message: fmt.Sprintf("symbolic link %s points outside the repository (%s); source-controller leaves links out of the artifact and kustomize-controller's secure filesystem refuses paths outside the source root", rel, target),
				})}})
			}
			return nil
		}
		if !d.Type().IsRegular() || !isYAMLName(d.Name()) || nonManifestNames.MatchString(d.Name()) {
			return nil
		}
		e := x.readFile(croot, p, rel, sizeOf(d))
		if e == nil {
			complete = false
			return filepath.SkipAll // the run's budget is spent
		}
		large := e.done != nil && e.nodes > largeParse
		for len(window) > 0 && (len(window) >= indexWindow || pending+e.nodes > int64(runtime.NumCPU())*largeParse || large) && !stop {
			commit()
		}
		if stop {
			complete = false
			return filepath.SkipAll
		}
		window = append(window, e)
		if e.done != nil {
			pending += e.nodes
			// The caller holds a slot (a top-level load, or a build that
			// loads a source): parse beside it only in a free slot, else
			// in the caller's own, so a one-slot run never waits on itself.
			if x.rd.cpu.TryAcquire() {
				go func() {
					defer close(e.done)
					defer x.rd.cpu.Release()
					e.docs, e.cost, e.err = parseDocs(e.rel, e.data)
				}()
			} else {
				e.docs, e.cost, e.err = parseDocs(e.rel, e.data)
				close(e.done)
			}
		}
		if large {
			commit()
			if stop {
				complete = false
				return filepath.SkipAll
			}
		}
		return nil
	})
	for len(window) > 0 {
		commit()
	}
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", root, err)
	}
	x.walked = complete && !stop
	return x, nil
}

// largeParse: a file estimated to parse into more nodes is parsed alone.
const largeParse = 1 << 18

// indexWindow is how many files the index's walk reads ahead of the
// oldest one not yet recorded. With only one per CPU, the walk (listing,
// .sourceignore matching, reading: half of the work) waited on each parse
// in turn: onedr0p's index took ~54 ms instead of ~35 ms on two CPUs.
const indexWindow = 32

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

// syntaxFinding is a yaml/syntax finding at line and col of rel; a position
// that is not known (yaml.v3's parser errors name a line only) is taken as
// the file's start or the line's.
func syntaxFinding(rel string, line, col int, format string, args ...any) finding.Finding {
	if line < 1 {
		line = 1
	}
	if col < 1 {
		col = 1
	}
	return RuleYAMLSyntax.New(finding.Finding{File: rel, Line: line, Column: col,
		Message: fmt.Sprintf(format, args...),
	})
}

var k8sHint = regexp.MustCompile(`(?m)^\s*apiVersion:\s*\S+`)

// readFile reads the YAML file rel (at p) and decides whether to parse it:
// the returned entry has done set when it is to be parsed, findings when
// it is refused. It returns nil once the run's budget is spent.
func (x *Index) readFile(root *confine.Root, p, rel string, size int64) *indexed {
	e := &indexed{rel: rel}
	data, err := x.rd.read(root, p, rel, size)
	var big *tooLarge
	switch {
	case errors.Is(err, errStopped):
		return nil
	case errors.As(err, &big):
		x.Excluded[rel] = true
		e.findings = append(e.findings, syntaxFinding(rel, 1, 1, "file is larger than %s; gitops-lint does not parse it (a manifest this large would also exceed Flux's artifact limits): split it or add it to .sourceignore, or raise the limit with --limit %s=SIZE", confine.FormatBytes(big.limit), confine.LimitFileBytes))
		return e
	case err != nil:
		return e // unreadable files are skipped, as the artifact would lack them
	}
	x.raw[rel] = data
	if i := bytes.IndexByte(data, 0); i >= 0 {
		bol := bytes.LastIndexByte(data[:i], '\n') + 1
		col := 1 + utf8.RuneCount(data[bol:i])
		e.findings = append(e.findings, syntaxFinding(rel, 1+bytes.Count(data[:i], []byte("\n")), col, "binary content (NUL byte) in a YAML file"))
		return e
	}
	// Parsing costs memory by node, not by byte: a file of dense flow
	// lists parses into ~80 times its size. Refuse before parsing.
	nodes := nodeBound(data)
	if l := x.rd.limits.FileBytes; l > 0 && nodes > max(l/nodeBytesPerFile, 1) {
		x.Excluded[rel] = true
		e.findings = append(e.findings, syntaxFinding(rel, 1, 1, "file would parse into more than %d YAML nodes (values, lists and maps), the most a file within the file limit of %s may hold (one per %d bytes); gitops-lint does not parse it: split it or add it to .sourceignore, or raise the limit with --limit %s=SIZE", l/nodeBytesPerFile, confine.FormatBytes(l), nodeBytesPerFile, confine.LimitFileBytes))
		return e
	}
	e.abs, e.data, e.nodes, e.done = p, data, nodes, make(chan struct{})
	return e
}

// parsed records the outcome of parsing e.
func (x *Index) parsed(e *indexed) {
	rel, data, err := e.rel, e.data, e.err
	if err == nil {
		x.Files[rel] = e.docs
		if e.cost.work > 0 {
			x.work[rel] = e.cost.work
		}
		return
	}
	// Only files that look like Kubernetes manifests are reported:
	// templates and other tools' YAML are not ours to judge.
	var pe *posError
	if errors.As(err, &pe) && pe.exclude {
		x.Excluded[rel] = true
	}
	if k8sHint.Match(data) {
		if errors.As(err, &pe) {
			e.findings = append(e.findings, syntaxFinding(rel, pe.line, pe.col, "%s", pe.msg))
		} else {
			e.findings = append(e.findings, syntaxFinding(rel, 1, 1, "%v", err))
		}
	}
}

// content returns the bytes of rel as the run read them (nil if not read).
func (x *Index) content(rel string) []byte {
	x.rawMu.Lock()
	defer x.rawMu.Unlock()
	return x.raw[rel]
}

// release drops the content read, once nothing will build from it.
func (x *Index) release() {
	x.rawMu.Lock()
	x.raw = nil
	x.rawMu.Unlock()
}

// docByID returns the first document of file declaring kind/name.
func (x *Index) docByID(file, kind, name string) *Doc {
	m, ok := x.byID.Load(file)
	if !ok {
		ids := map[string]*Doc{}
		for _, d := range x.Files[file] {
			if _, seen := ids[d.Kind+"/"+d.Name]; !seen {
				ids[d.Kind+"/"+d.Name] = d
			}
		}
		m, _ = x.byID.LoadOrStore(file, ids)
	}
	return m.(map[string]*Doc)[kind+"/"+name]
}

// posError is an error at a position of a file; col is 0 when only the
// line is known.
type posError struct {
	line    int
	col     int
	msg     string
	exclude bool // too hostile to hand to kustomize
}

func (e *posError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocs splits data into documents, keeping positions, and rejects
// duplicate keys (the apiserver's strict decoding does too).
// It also measures what the documents cost.
func parseDocs(rel string, data []byte) ([]*Doc, docCost, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*Doc
	var cost docCost
	for i := 0; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			msg := err.Error()
			if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
				line, _ := strconv.Atoi(m[1]) // the regexp matched digits
				return nil, docCost{}, &posError{line: line, msg: m[2]}
			}
			return nil, docCost{}, &posError{line: 1, msg: strings.TrimPrefix(msg, "yaml: ")}
		}
		if len(n.Content) == 0 {
			continue
		}
		root := n.Content[0]
		if err := checkNode(root); err != nil {
			return nil, docCost{}, err
		}
		if err := cost.add(root); err != nil {
			return nil, docCost{}, err
		}
		d := &Doc{File: rel, Index: i, Node: root}
		d.Line, d.Column = startPos(root)
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
	return docs, cost, nil
}

// docCost is what parsed documents cost: the nodes they hold, and the
// work their mappings make (kustomize's YAML library sets each key of a
// mapping by searching the keys set before it, and yaml.v3 compares each
// key with the others when decoding into a map: a mapping of k keys costs
// k² steps each time it is read, parsed or copied).
type docCost struct {
	nodes int64
	// work is the sum over mappings of keys², in the unit of the run's
	// kustomize work (mappingPairs key pairs cost about one resource pair).
	work int64
}

// maxMappingKeys bounds one mapping: decoding it (Flux documents are
// decoded for discovery) takes k² comparisons.
const maxMappingKeys = 20000

// mappingPairs key comparisons cost about what comparing two resources
// costs in kustomize's resmap.
const mappingPairs = 8

func (c *docCost) add(n *yaml.Node) error {
	c.nodes++
	if n.Kind == yaml.MappingNode {
		k := int64(len(n.Content) / 2)
		if k > maxMappingKeys {
			return &posError{line: n.Line, col: n.Column, exclude: true, msg: fmt.Sprintf("mapping with %d keys, more than %d: kustomize's time grows with the square of a mapping's keys", k, maxMappingKeys)}
		}
		c.work += k * k / mappingPairs
	}
	for _, ch := range n.Content {
		if err := c.add(ch); err != nil {
			return err
		}
	}
	return nil
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
		return &posError{line: root.Line, col: root.Column, exclude: true, msg: fmt.Sprintf("document expands to more than %d nodes through aliases (a YAML alias bomb)", maxExpandedNodes)}
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
					return &posError{line: k.Line, col: k.Column, msg: fmt.Sprintf("mapping key %q already defined at line %d", k.Value, prev)}
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
	if i := keyIndex(m, key); i >= 0 {
		return m.Content[i+1]
	}
	return nil
}

// keyIndex returns the index in m.Content of the key node of key (its
// value follows it), -1 if m is not a mapping that holds key.
func keyIndex(m *yaml.Node, key string) int {
	if m == nil || m.Kind != yaml.MappingNode {
		return -1
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

func scalar(m *yaml.Node, key string) string {
	if c := child(m, key); c != nil && c.Kind == yaml.ScalarNode {
		return c.Value
	}
	return ""
}
