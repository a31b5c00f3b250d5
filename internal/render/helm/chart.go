package helm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// Limits bound what an untrusted chart may cost to load.
type Limits struct {
	// MaxArchiveSize is the largest compressed archive accepted (default
	// 10 MiB).
	MaxArchiveSize int64
	// MaxUncompressedSize is the largest total of a chart's files,
	// unpacked, accepted (default 50 MiB); for LoadDir the sum of the
	// regular files under the chart directory and its file:// dependencies.
	MaxUncompressedSize int64
	// RootDir, when set, confines LoadDir and its file:// dependencies to
	// this directory (the repository root), as source-controller confines
	// them to the source artifact.
	RootDir string
}

const (
	DefaultMaxArchiveSize      = 10 << 20
	DefaultMaxUncompressedSize = 50 << 20
	maxDependencyDepth         = 16
)

func (l Limits) withDefaults() Limits {
	if l.MaxArchiveSize <= 0 {
		l.MaxArchiveSize = DefaultMaxArchiveSize
	}
	if l.MaxUncompressedSize <= 0 {
		l.MaxUncompressedSize = DefaultMaxUncompressedSize
	}
	return l
}

// ErrTooLarge is wrapped by load errors for charts over a Limits bound.
var ErrTooLarge = errors.New("chart exceeds size limit")

// Chart is a loaded Helm chart (Chart API v1 or v2). It is immutable: each
// Render works on a copy, as dependency processing rewrites the chart.
type Chart struct {
	c            *chart.Chart
	dir          string // chart directory for LoadDir, "" for archives
	staticLookup bool
	calledLookup atomic.Bool
	// externalRef is the first reference of a values.schema.json (of the
	// chart or a subchart) to a schema outside it ("" for none).
	externalRef string
}

// ExternalSchemaRef is the first $ref of the chart's values.schema.json
// files that is not a fragment of the same file ("" when there is none).
// Helm would fetch it over the network, or read it from the machine's
// files: Render never does, and skips values.schema.json validation for
// such a chart.
func (c *Chart) ExternalSchemaRef() string { return c.externalRef }

// Name is the chart's name (Chart.yaml name).
func (c *Chart) Name() string { return c.c.Name() }

// Version is the chart's version (Chart.yaml version).
func (c *Chart) Version() string {
	if c.c.Metadata == nil {
		return ""
	}
	return c.c.Metadata.Version
}

// UsesLookup tells whether the chart (or a subchart) calls the `lookup`
// template function: found in a template's source, or called during a
// Render (e.g. through `tpl` on a value). Offline, lookup returns an empty
// map, as under `helm template`, so output depending on it may differ from
// the cluster's.
func (c *Chart) UsesLookup() bool { return c.staticLookup || c.calledLookup.Load() }

// LoadArchive loads a packaged chart (.tgz) after checking its compressed
// and uncompressed sizes against limits.
func LoadArchive(data []byte, limits Limits) (ch *Chart, err error) {
	limits = limits.withDefaults()
	defer recoverInto(&err, "loading chart archive")
	if int64(len(data)) > limits.MaxArchiveSize {
		return nil, fmt.Errorf("%w: chart archive is %d bytes, over the limit of %d", ErrTooLarge, len(data), limits.MaxArchiveSize)
	}
	if err := checkUncompressed(data, limits.MaxUncompressedSize); err != nil {
		return nil, err
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return newChart(c, ""), nil
}

// checkUncompressed counts the archive's unpacked file sizes (tar headers
// say them; reading is bounded by max anyway).
func checkUncompressed(data []byte, max int64) error {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	defer gz.Close()
	// The tar stream itself (headers, padding) is bounded too: a few KiB
	// per file over the file sizes is generous.
	lr := &io.LimitedReader{R: gz, N: max + max/8 + 1<<20}
	tr := tar.NewReader(lr)
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if lr.N <= 0 {
				return fmt.Errorf("%w: chart archive unpacks to more than %d bytes", ErrTooLarge, max)
			}
			return err
		}
		if h.Size > 0 {
			total += h.Size
		}
		if total > max {
			return fmt.Errorf("%w: chart archive unpacks to more than %d bytes", ErrTooLarge, max)
		}
	}
}

// LoadDir loads an unpacked chart directory, e.g. a chart in a Git
// repository: its charts/ subdirectories and archives, and, like
// source-controller's local chart builder, dependencies declared with a
// `file://` repository that charts/ lacks, loaded from the path relative to
// the chart directory (their version constraint checked). A dependency from
// any other repository missing from charts/ is an error: it needs the
// chart cache.
func LoadDir(dir string, limits Limits) (ch *Chart, err error) {
	limits = limits.withDefaults()
	defer recoverInto(&err, "loading chart directory")
	var budget = limits.MaxUncompressedSize
	c, err := loadDir(dir, limits, &budget, 0, map[string]bool{})
	if err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(dir)
	return newChart(c, abs), nil
}

func loadDir(dir string, limits Limits, budget *int64, depth int, seen map[string]bool) (*chart.Chart, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if limits.RootDir != "" && !within(limits.RootDir, abs) {
		return nil, fmt.Errorf("chart path '%s' is outside of the source root", dir)
	}
	if depth > maxDependencyDepth {
		return nil, fmt.Errorf("dependencies of '%s' nest deeper than %d", dir, maxDependencyDepth)
	}
	if seen[abs] {
		return nil, fmt.Errorf("dependency cycle through '%s'", dir)
	}
	seen[abs] = true
	defer delete(seen, abs)

	if err := spend(abs, limits.RootDir, budget, limits.MaxUncompressedSize); err != nil {
		return nil, err
	}
	c, err := loader.LoadDir(abs)
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	for _, d := range c.Dependencies() {
		present[d.Name()] = true
	}
	var missing []string
	for _, dep := range c.Metadata.Dependencies {
		if dep == nil || present[dep.Name] {
			continue
		}
		if !strings.HasPrefix(dep.Repository, "file://") {
			missing = append(missing, dep.Name)
			continue
		}
		sub, err := loadDir(filepath.Join(abs, strings.TrimPrefix(dep.Repository, "file://")), limits, budget, depth+1, seen)
		if err != nil {
			return nil, fmt.Errorf("failed to add local dependency '%s': %w", dep.Name, err)
		}
		if dep.Version != "" {
			constraint, err := semver.NewConstraint(dep.Version)
			if err != nil {
				return nil, fmt.Errorf("failed to add local dependency '%s': invalid version/constraint format '%s': %w", dep.Name, dep.Version, err)
			}
			v, err := semver.NewVersion(sub.Metadata.Version)
			if err != nil {
				return nil, fmt.Errorf("failed to add local dependency '%s': %w", dep.Name, err)
			}
			if !constraint.Check(v) {
				return nil, fmt.Errorf("failed to add local dependency '%s': can't get a valid version for constraint '%s'", dep.Name, dep.Version)
			}
		}
		c.AddDependency(sub)
		present[dep.Name] = true
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("chart '%s' misses dependencies not found in charts/ and not local (file://): %s", c.Name(), strings.Join(missing, ", "))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// spend subtracts the files under dir from the budget and refuses what
// Helm's loader would read from outside root (symbolic links pointing out
// of it; Helm's loader follows links) and what is not a regular file.
func spend(dir, root string, budget *int64, max int64) error {
	if root == "" {
		root = dir
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				return fmt.Errorf("chart file '%s': %w", p, err)
			}
			if !within(root, target) {
				return fmt.Errorf("chart file '%s' is a symbolic link to outside of '%s'", p, root)
			}
			if info, err = os.Stat(target); err != nil {
				return err
			}
			if info.IsDir() {
				return nil
			}
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("chart file '%s' is not a regular file", p)
		}
		*budget -= info.Size()
		if *budget < 0 {
			return fmt.Errorf("%w: chart files under '%s' total more than %d bytes", ErrTooLarge, dir, max)
		}
		return nil
	})
}

func within(root, p string) bool {
	root, err := filepath.Abs(root)
	if err != nil {
		return false
	}
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func newChart(c *chart.Chart, dir string) *Chart {
	return &Chart{c: c, dir: dir, staticLookup: templatesUseLookup(c), externalRef: externalSchemaRef(c)}
}

// externalSchemaRef finds, in the values.schema.json of c and of its
// subcharts, a $ref, $dynamicRef or $id that is not a fragment ("#…"):
// anything else resolves to a URL or a file of the machine.
func externalSchemaRef(c *chart.Chart) string {
	if len(c.Schema) > 0 {
		var doc any
		if err := json.Unmarshal(c.Schema, &doc); err == nil {
			if ref := findExternalRef(doc); ref != "" {
				return ref
			}
		}
	}
	for _, d := range c.Dependencies() {
		if ref := externalSchemaRef(d); ref != "" {
			return ref
		}
	}
	return ""
}

func findExternalRef(v any) string {
	switch v := v.(type) {
	case map[string]any:
		for _, key := range []string{"$ref", "$dynamicRef", "$id"} {
			if s, ok := v[key].(string); ok && s != "" && !strings.HasPrefix(s, "#") {
				return s
			}
		}
		for _, x := range v {
			if ref := findExternalRef(x); ref != "" {
				return ref
			}
		}
	case []any:
		for _, x := range v {
			if ref := findExternalRef(x); ref != "" {
				return ref
			}
		}
	}
	return ""
}

// lookupCall finds `lookup` called as a function inside a template action.
var lookupCall = regexp.MustCompile(`\{\{[^}]*?[\s(|]lookup[\s)]`)

func templatesUseLookup(c *chart.Chart) bool {
	for _, t := range c.Templates {
		if bytes.Contains(t.Data, []byte("lookup")) && lookupCall.Match(t.Data) {
			return true
		}
	}
	for _, d := range c.Dependencies() {
		if templatesUseLookup(d) {
			return true
		}
	}
	return false
}

// copyChart deep-copies what ProcessDependencies and value processing
// rewrite (metadata dependencies, values, the dependency tree), sharing
// the immutable files.
func copyChart(c *chart.Chart) *chart.Chart {
	n := *c
	if c.Metadata != nil {
		m := *c.Metadata
		m.Dependencies = make([]*chart.Dependency, len(c.Metadata.Dependencies))
		for i, d := range c.Metadata.Dependencies {
			if d != nil {
				dd := *d
				m.Dependencies[i] = &dd
			}
		}
		n.Metadata = &m
	}
	n.Values = deepCopyMap(c.Values)
	n.Templates = append([]*common.File(nil), c.Templates...)
	n.SetDependencies()
	for _, d := range c.Dependencies() {
		n.AddDependency(copyChart(d))
	}
	// parent is unexported: the root copy is re-rooted by SetDependencies
	// of its own children above; a nested copy gets its parent from
	// AddDependency of the caller.
	return &n
}

func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopy(v)
	}
	return out
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return deepCopyMap(t)
	case common.Values:
		return common.Values(deepCopyMap(t))
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// readChartFile reads a file of the chart, by its path relative to the
// chart root, from the loaded chart's raw files.
func (c *Chart) readChartFile(name string) ([]byte, bool) {
	name = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(name)), "./")
	for _, f := range c.c.Raw {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

func readFileWithin(root, name string) ([]byte, error) {
	p := filepath.Join(root, name)
	if !within(root, p) {
		return nil, fmt.Errorf("values file '%s' is outside of the source root", name)
	}
	return os.ReadFile(p)
}
