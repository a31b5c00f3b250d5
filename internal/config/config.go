// Package config loads .gitops-lint.yaml, the file that holds the defaults
// of the lint flags for one repository. It only reads and checks the file;
// merging it with flags and environment variables is the CLI's job.
package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// FileName is the name of the config file searched from PATH upward.
const FileName = ".gitops-lint.yaml"

// Top-level keys of the config file.
const (
	KeyFormat       = "format"
	KeyFailOn       = "failOn"
	KeyEnvironments = "environments"
	KeySources      = "sources"
	KeyPlatform     = "platform"
	KeyWorkers      = "workers"
	KeyKubeVersion  = "kubernetesVersion"
	KeyCRDDirs      = "crdDirs"
	KeyRBACDirs     = "rbacDirs"
	KeyAdmDirs      = "admissionDirs"
	KeyProvides     = "provides"
	KeyRules        = "rules"
	KeyIgnore       = "ignore"
	KeyPromotion    = "promotion"
)

// File is a loaded config file. Relative directories in it (sources,
// platform) are already resolved against Dir; Format entries are kept as
// written (F[=FILE]) and their FILE is relative to Dir.
type File struct {
	// Path is the file as it was named when loaded (used in messages).
	Path string
	// Dir is the absolute directory holding the file.
	Dir string
	// Root is the repository holding the file (see RepoRoot), set by Load;
	// the paths the file names must stay inside it (see Confine).
	Root string

	Format       []string
	FailOn       finding.FailOn
	Environments []Environment
	Sources      map[string]string
	Platform     string
	Workers      int
	// KubernetesVersion is the schema catalog version ("X.Y").
	KubernetesVersion string
	// CRDDirs are extra CRD directories, absolute.
	CRDDirs []string
	// RBACDirs are extra RBAC directories, absolute.
	RBACDirs []string
	// AdmissionDirs are directories of admission policies installed
	// outside git, absolute.
	AdmissionDirs []string
	// Rules configures rules by id: severity, disabled, policy parameters.
	Rules map[string]finding.RuleSetting
	// Ignore suppresses findings by rule and file glob.
	Ignore []finding.IgnoreEntry
	// Promotion is the branch chain, upstream first: at least two
	// branches (a comma-separated string or a list in the file).
	Promotion []string
	// ruleLines and ignoreLines locate each rules: key and ignore entry
	// (CheckRuleIDs).
	ruleLines   map[string]int
	ignoreLines []int
	// Provides declares what exists in the cluster besides what git
	// applies: in-house producers and objects created outside git (see
	// Provide and docs/converge.md).
	Provides []Provide

	// lines maps each top-level key present in the file to the line of its value.
	lines map[string]int
}

// Environment is one entry of the file's environments: an environment
// declared explicitly, with its entry directory (relative to the
// repository) and the branch it follows.
type Environment struct {
	Name   string `json:"name" yaml:"name"`
	Path   string `json:"path" yaml:"path"`
	Branch string `json:"branch,omitempty" yaml:"branch,omitempty"`
}

// Provide is an entry of provides. With Kind, it declares an in-house
// producer: every object of Group/Kind (any group when Group is empty)
// makes an object of Produces.Kind exist in its namespace (or in
// Produces.Namespace), named Produces.Name, else the string at the dotted
// path Produces.NameFrom of the producer (e.g. spec.credentialsSecret),
// else the producer's own name. Without Kind, it declares one object that
// exists outside git: Produces.Kind named Produces.Name in
// Produces.Namespace (any namespace when empty).
type Provide struct {
	Kind     string   `json:"kind,omitempty" yaml:"kind,omitempty"`
	Group    string   `json:"group,omitempty" yaml:"group,omitempty"`
	Produces Produced `json:"produces" yaml:"produces"`
}

// Produced is what a Provide entry makes exist.
type Produced struct {
	Kind      string `json:"kind" yaml:"kind"`
	Name      string `json:"name,omitempty" yaml:"name,omitempty"`
	NameFrom  string `json:"nameFrom,omitempty" yaml:"nameFrom,omitempty"`
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
}

// check returns what is wrong with the entry, or nil.
func (p Provide) check() error {
	switch {
	case p.Produces.Kind == "":
		return errors.New("produces needs a kind (the kind of the object made, e.g. Secret)")
	case p.Produces.Name != "" && p.Produces.NameFrom != "":
		return errors.New("produces takes name or nameFrom, not both")
	case p.Kind == "" && p.Group != "":
		return errors.New("group needs a kind (the producer's kind)")
	case p.Kind == "" && p.Produces.Name == "":
		return errors.New("an object that exists outside git needs produces.name (or give the producer's kind)")
	case p.Kind == "" && p.Produces.NameFrom != "":
		return errors.New("nameFrom reads a field of the producer: give the producer's kind")
	}
	if p.Produces.NameFrom != "" {
		for _, seg := range strings.Split(p.Produces.NameFrom, ".") {
			if seg == "" {
				return fmt.Errorf("nameFrom %q must be a dotted field path such as spec.secretName", p.Produces.NameFrom)
			}
		}
	}
	return nil
}

// Has reports whether key is set in the file.
func (f *File) Has(key string) bool {
	if f == nil {
		return false
	}
	_, ok := f.lines[key]
	return ok
}

// Line is the line of key's value (0 if the key is absent).
func (f *File) Line(key string) int {
	if f == nil {
		return 0
	}
	return f.lines[key]
}

// Errorf returns an *Error that points at key's value in the file.
func (f *File) Errorf(key, format string, args ...any) error {
	return &Error{File: f.Path, Line: f.Line(key), Err: fmt.Errorf(format, args...)}
}

// Error is a problem with a config file, at a line when one is known. It is
// always a usage error (exit 2).
type Error struct {
	File string
	Line int
	Err  error
}

// Error formats as file:line: message so editors can jump to it.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func errAt(file string, line int, format string, args ...any) error {
	return &Error{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}

// Find looks for FileName in dir and then in each parent directory. The
// search stops after the first directory that contains .git (the repository
// root) or at the filesystem root. It returns "" when there is no file.
func Find(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find %s: %w", FileName, err)
	}
	for {
		p := filepath.Join(dir, FileName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("find %s: %w", FileName, err)
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return "", nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// Load reads and checks the config file at path. The file is repository
// content, so it is read through the trust boundary: a regular file of at
// most confine.ConfigFileBytes, and a symbolic link may not lead out of the
// repository that holds it (a link to /proc/self/environ or a file outside
// is refused without a word of its content).
func Load(path string) (*File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{File: path, Err: fmt.Errorf("read config: %w", err)}
	}
	dir := filepath.Dir(abs)
	root := RepoRoot(dir)
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return nil, &Error{File: path, Err: fmt.Errorf("read config: %w", err)}
	}
	r, err := confine.Open(root, confine.ConfigFileBytes, nil)
	if err != nil {
		return nil, &Error{File: path, Err: fmt.Errorf("read config: %w", unwrapPathError(err))}
	}
	defer r.Close()
	data, err := r.ReadFile(filepath.ToSlash(rel))
	if err != nil {
		var ce *confine.Error
		if errors.As(err, &ce) {
			err = readError(ce)
		}
		return nil, &Error{File: path, Err: fmt.Errorf("read config: %w", err)}
	}
	f, err := Parse(path, dir, data)
	if err != nil {
		return nil, err
	}
	f.Root = root
	return f, nil
}

// readError words a refused config read without repeating the file name,
// which Error already prints.
func readError(ce *confine.Error) error {
	switch {
	case errors.Is(ce.Err, confine.ErrOutside):
		return errors.New("the file is a symbolic link that leads out of the repository; gitops-lint does not follow it")
	case errors.Is(ce.Err, confine.ErrNotRegular):
		return errors.New("not a regular file")
	case errors.Is(ce.Err, confine.ErrTooLarge):
		return fmt.Errorf("larger than %s; a config file is a few lines", confine.FormatBytes(ce.Limit))
	}
	return ce.Err
}

// RepoRoot is the repository that holds dir: the nearest directory at or
// above dir that contains .git, else dir itself.
func RepoRoot(dir string) string {
	for d := dir; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// unwrapPathError drops the *fs.PathError wrapper, whose path repeats the
// file name that Error already prints.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// raw is the decoding target. Parse has checked the tree against
// fileShape first, so decoding cannot meet a value of the wrong type.
type raw struct {
	Format       names                 `yaml:"format"`
	FailOn       string                `yaml:"failOn"`
	Environments []Environment         `yaml:"environments"`
	Sources      map[string]string     `yaml:"sources"`
	Platform     string                `yaml:"platform"`
	Workers      int                   `yaml:"workers"`
	KubeVersion  string                `yaml:"kubernetesVersion"`
	CRDDirs      []string              `yaml:"crdDirs"`
	RBACDirs     []string              `yaml:"rbacDirs"`
	AdmDirs      []string              `yaml:"admissionDirs"`
	Rules        map[string]ruleRaw    `yaml:"rules"`
	Ignore       []finding.IgnoreEntry `yaml:"ignore"`
	Promotion    names                 `yaml:"promotion"`
	Provides     []Provide             `yaml:"provides"`
}

// Parse checks and decodes the content of a config file. name is used in
// messages; dir is the absolute directory relative paths are resolved against.
func Parse(name, dir string, data []byte) (*File, error) {
	f := &File{Path: name, Dir: dir, lines: map[string]int{}}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		return nil, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, errAt(name, extra.Line, "a config file holds one YAML document; remove the extra '---'")
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return f, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return f, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, errAt(name, root.Line, "the config must be a mapping of keys (%s)", strings.Join(sortedKeys(fileShape.fields), ", "))
	}

	// Check the tree first: unknown keys, keys set twice and values of the
	// wrong type, at any depth, get one kind of message at their line; the
	// strict decode below is the safety net.
	if err := fileShape.check(name, "", root); err != nil {
		return nil, err
	}
	var envLines, provideLines []int
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		f.lines[k.Value] = v.Line
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias // its entries are where the anchor is
		}
		switch k.Value {
		case KeyEnvironments:
			envLines = entryLines(v)
		case KeyIgnore:
			f.ignoreLines = entryLines(v)
		case KeyProvides:
			provideLines = entryLines(v)
		case KeyRules:
			if v.Kind == yaml.MappingNode {
				f.ruleLines = map[string]int{}
				for j := 0; j+1 < len(v.Content); j += 2 {
					f.ruleLines[v.Content[j].Value] = v.Content[j].Line
				}
			}
		}
	}

	var r raw
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&r); err != nil {
		return nil, decodeError(name, root, err)
	}
	f.Format = r.Format

	if f.Has(KeyFailOn) {
		fo, err := finding.ParseFailOn(r.FailOn)
		if err != nil {
			return nil, errAt(name, f.Line(KeyFailOn), "invalid failOn %q (want error, warning or never)", r.FailOn)
		}
		f.FailOn = fo
	}

	seen := map[string]bool{}
	for i, e := range r.Environments {
		line := envLines[i]
		switch {
		case e.Name == "":
			return nil, errAt(name, line, "environment needs a name")
		case e.Path == "":
			return nil, errAt(name, line, "environment %q needs a path (its entry directory, relative to the repository)", e.Name)
		case seen[e.Name]:
			return nil, errAt(name, line, "environment %q is declared twice", e.Name)
		}
		seen[e.Name] = true
		e.Path = filepath.ToSlash(filepath.Clean(e.Path))
		f.Environments = append(f.Environments, e)
	}

	if len(r.Sources) > 0 {
		f.Sources = make(map[string]string, len(r.Sources))
		for ref, d := range r.Sources {
			if ref == "" || d == "" {
				return nil, errAt(name, f.Line(KeySources), "sources maps a source (namespace/name or URL) to a directory; %q: %q is incomplete", ref, d)
			}
			f.Sources[ref] = resolve(dir, d)
		}
	}
	f.KubernetesVersion = r.KubeVersion
	for _, d := range r.CRDDirs {
		f.CRDDirs = append(f.CRDDirs, resolve(dir, d))
	}
	for _, d := range r.RBACDirs {
		f.RBACDirs = append(f.RBACDirs, resolve(dir, d))
	}
	for _, d := range r.AdmDirs {
		f.AdmissionDirs = append(f.AdmissionDirs, resolve(dir, d))
	}
	if r.Platform != "" {
		f.Platform = resolve(dir, r.Platform)
	}
	if r.Workers < 0 {
		return nil, errAt(name, f.Line(KeyWorkers), "workers must be 0 (one per CPU) or more, not %d", r.Workers)
	}
	f.Workers = r.Workers
	if len(r.Rules) > 0 {
		f.Rules = map[string]finding.RuleSetting{}
		for id, rc := range r.Rules {
			set := finding.RuleSetting{Disabled: rc.Disabled, Params: rc.Params}
			if rc.Severity != "" {
				sev, err := finding.ParseSeverity(rc.Severity)
				if err != nil {
					return nil, errAt(name, f.Line(KeyRules), "rules: %s: %v", id, err)
				}
				set.Severity = sev
			}
			f.Rules[id] = set
		}
	}
	for i, e := range r.Ignore {
		if e.Rule == "" && e.Path == "" {
			return nil, errAt(name, f.Line(KeyIgnore), "ignore entry %d needs a rule, a path glob, or both", i+1)
		}
	}
	f.Ignore = r.Ignore
	for i, p := range r.Provides {
		if err := p.check(); err != nil {
			return nil, errAt(name, provideLines[i], "provides entry %d: %v", i+1, err)
		}
	}
	f.Provides = r.Provides
	if f.Has(KeyPromotion) {
		// As --promotion: entries are split at commas, blanks dropped.
		for _, c := range r.Promotion {
			for _, b := range strings.Split(c, ",") {
				if b = strings.TrimSpace(b); b != "" {
					f.Promotion = append(f.Promotion, b)
				}
			}
		}
		if len(f.Promotion) < 2 {
			got := "none"
			if len(f.Promotion) == 1 {
				got = strconv.Quote(f.Promotion[0])
			}
			return nil, errAt(name, f.Line(KeyPromotion), "%s: want at least two branches, upstream first (dev,test,main), got %s", KeyPromotion, got)
		}
	}
	return f, nil
}

// entryLines is the line of each entry of a list (none for a null value).
func entryLines(list *yaml.Node) []int {
	var lines []int
	if list.Kind == yaml.SequenceNode {
		for _, item := range list.Content {
			lines = append(lines, item.Line)
		}
	}
	return lines
}

// names is a list of names that may be written as one string (format,
// promotion); fileShape has checked the node.
type names []string

// UnmarshalYAML takes a scalar as a list of one.
func (l *names) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = names{n.Value}
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = s
	return nil
}

// ruleRaw is one entry of the rules key.
type ruleRaw struct {
	Severity string         `yaml:"severity"`
	Disabled bool           `yaml:"disabled"`
	Params   map[string]any `yaml:"params"`
}

func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns a go-yaml syntax error ("yaml: line 3: …") into an
// *Error at its line.
func yamlError(name string, err error) error {
	return decodeError(name, nil, err)
}

// decodeError is the one place a go-yaml error becomes an *Error:
// "yaml: line 3: …", or a TypeError with one "line 3: …" entry per problem
// (the first is reported). With the file's root mapping, the message is
// prefixed by the top-level key whose value holds the line, so that even a
// problem fileShape missed names its key.
func decodeError(name string, root *yaml.Node, err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(strings.TrimSpace(msg), "yaml: ")
	line := 0
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if key := keyAt(root, line); key != "" {
		msg = key + ": " + msg
	}
	return errAt(name, line, "%s", msg)
}

// keyAt is the top-level key of root whose entry holds line ("" if none).
func keyAt(root *yaml.Node, line int) string {
	if root == nil || root.Kind != yaml.MappingNode || line == 0 {
		return ""
	}
	key := ""
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Line > line {
			break
		}
		key = root.Content[i].Value
	}
	return key
}

// CheckRuleIDs refuses a rules: key or an ignore entry that names a rule
// no part of this run reports (a typo silently configures nothing),
// suggesting the nearest known id. known is every rule of the run: the Go
// rules and the loaded policies'.
func (f *File) CheckRuleIDs(known []finding.Rule) error {
	ids := make([]string, 0, len(known))
	has := map[string]bool{}
	for _, r := range known {
		ids = append(ids, r.ID)
		has[r.ID] = true
	}
	type ref struct {
		id, where string
		line      int
	}
	var refs []ref
	for id := range f.Rules {
		refs = append(refs, ref{id, "rules", f.ruleLines[id]})
	}
	for i, e := range f.Ignore {
		if e.Rule != "" {
			line := 0
			if i < len(f.ignoreLines) {
				line = f.ignoreLines[i]
			}
			refs = append(refs, ref{e.Rule, fmt.Sprintf("ignore entry %d", i+1), line})
		}
	}
	slices.SortFunc(refs, func(a, b ref) int { return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.id, b.id)) })
	for _, r := range refs {
		if has[r.id] {
			continue
		}
		hint := ""
		if near := nearest(r.id, ids); near != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", near)
		}
		return errAt(f.Path, r.line, "%s: unknown rule %q%s; `gitops-lint rules` lists them all", r.where, r.id, hint)
	}
	return nil
}

// nearest is the id closest to s by edit distance, if it is close enough
// to be a typo (at most a third of its length, and 4 edits).
func nearest(s string, ids []string) string {
	best, bestD := "", min(4, len(s)/3)+1
	for _, id := range ids {
		if d := editDistance(s, id); d < bestD {
			best, bestD = id, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
