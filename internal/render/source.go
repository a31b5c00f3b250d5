package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/fluxcd/pkg/sourceignore"

	"github.com/fluxcd/pkg/sourceignore/gitignore"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// artifact is the content of one Flux source as source-controller would
// package it: regular files only (links never make it into an artifact),
// default and .sourceignore exclusions applied. It lives in memory (mem),
// which is what kustomize reads; Flux's kustomization generator needs a
// directory on disk, so the few files it reads are written below Dir, in the
// run's temporary directory, on demand. Nothing is ever written near the
// linted checkout.
type artifact struct {
	// Dir is the artifact's root (in memory, and on disk for the generator).
	Dir string
	// files maps an artifact-relative path to the absolute path it was
	// copied from (for source positions).
	files map[string]string
	// Origin is the checkout the artifact was made from ("" if assembled).
	Origin string
	mem    *memFS

	diskMu sync.Mutex
	onDisk map[string]bool
}

func newArtifact(dir, origin string) *artifact {
	return &artifact{Dir: dir, Origin: origin, files: map[string]string{}, mem: newMemFS(dir), onDisk: map[string]bool{}}
}

// OriginOf maps an absolute path inside the artifact to the file it was copied from.
func (a *artifact) OriginOf(abs string) (string, bool) {
	rel, err := filepath.Rel(a.Dir, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", false
	}
	o, ok := a.files[filepath.ToSlash(rel)]
	return o, ok
}

// within reports whether the artifact's content comes from the checkout at root.
func (a *artifact) within(root string) bool {
	if a.Origin != "" {
		return a.Origin == root
	}
	for _, o := range a.files {
		if strings.HasPrefix(o, root+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// put adds a file to the artifact.
func (a *artifact) put(rel, origin string, data []byte) {
	a.files[rel] = origin
	a.mem.add(filepath.Join(a.Dir, filepath.FromSlash(rel)), data)
}

// refuse lists a file that was not read (over the per-file limit): it is
// in the artifact's listings, and reading it fails with err.
func (a *artifact) refuse(rel, origin string, err error) {
	a.files[rel] = origin
	a.mem.refuse(filepath.Join(a.Dir, filepath.FromSlash(rel)), err)
}

// materialize writes what Flux's generator reads for a build at dirPath:
// the directory's kustomization file when it has one, else the whole
// directory (the generator scans it for manifests), and the components it
// checks for existence.
func (a *artifact) materialize(dirPath string, components []string) error {
	a.diskMu.Lock()
	defer a.diskMu.Unlock()
	relDir, err := filepath.Rel(a.Dir, dirPath)
	if err != nil || strings.HasPrefix(relDir, "..") {
		return nil // the generator's secure filesystem reports it
	}
	if err := os.MkdirAll(dirPath, 0o755); err != nil {
		return err
	}
	want := a.scanFrontier(dirPath)
	for _, c := range components {
		p := filepath.Clean(filepath.Join(dirPath, c))
		if a.mem.IsDir(p) {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		} else if rel, err := filepath.Rel(a.Dir, p); err == nil && a.files[filepath.ToSlash(rel)] != "" {
			want = append(want, filepath.ToSlash(rel))
		}
	}
	for _, rel := range want {
		if a.onDisk[rel] {
			continue
		}
		dst := filepath.Join(a.Dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, a.mem.files[dst], 0o644); err != nil {
			return err
		}
		a.onDisk[rel] = true
	}
	return nil
}

// scanFrontier lists what Flux's generator reads below dir: its
// kustomization file if it has one; else the YAML files of dir, and of its
// subdirectories down to (and including) the first kustomization file of
// each branch, which the generator lists as a whole directory.
func (a *artifact) scanFrontier(dir string) []string {
	var out []string
	var visit func(d string, top bool)
	visit = func(d string, top bool) {
		for _, name := range kustFileNames {
			p := filepath.Join(d, name)
			if _, ok := a.mem.files[p]; ok {
				out = append(out, a.rel(p))
				return
			}
		}
		_ = top
		for _, e := range a.mem.dirs[d] {
			p := filepath.Join(d, e)
			if _, isDir := a.mem.dirs[p]; isDir {
				visit(p, false)
			} else if isYAMLName(e) {
				out = append(out, a.rel(p))
			}
		}
	}
	visit(filepath.Clean(dir), true)
	return out
}

func (a *artifact) rel(abs string) string {
	r, _ := filepath.Rel(a.Dir, abs)
	return filepath.ToSlash(r)
}

// artifacts materialises sources once per run.
type artifacts struct {
	tmp  string
	mu   sync.Mutex
	n    int
	byID map[string]*artifactOnce
}

type artifactOnce struct {
	once sync.Once
	a    *artifact
	err  error
}

func newArtifacts(tmp string) *artifacts {
	return &artifacts{tmp: tmp, byID: map[string]*artifactOnce{}}
}

// get returns the artifact for id, making it with mk the first time.
func (s *artifacts) get(id string, mk func(dir string) (*artifact, error)) (*artifact, error) {
	s.mu.Lock()
	o, ok := s.byID[id]
	if !ok {
		o = &artifactOnce{}
		s.byID[id] = o
		s.n++
	}
	n := s.n
	s.mu.Unlock()
	o.once.Do(func() {
		dir := filepath.Join(s.tmp, fmt.Sprintf("src%d", n))
		o.a, o.err = mk(dir)
	})
	return o.a, o.err
}

// fromDir packages a checkout the way source-controller packages a
// GitRepository: default exclusions, .sourceignore files, spec.ignore. The
// files come from x, the checkout's index: those it read are not read
// again, the others are read through its reader (charged to the run's
// budget) and kept for the next artifact of the same checkout.
func fromDir(x *Index, dst, ignore string) (*artifact, error) {
	origin := x.Root
	a := newArtifact(dst, origin)
	croot, err := x.rd.openRoot(origin)
	if err != nil {
		return nil, fmt.Errorf("package source %s: %w", origin, err)
	}
	defer croot.Close()
	// The index walked the checkout with the same exclusions when spec.ignore
	// adds none: package what it kept, walking only what it skipped.
	reuse := ignore == "" && x.walked && x.ignored != nil
	var m gitignore.Matcher
	if reuse {
		m = x.ignored
	} else if m, err = ignoreMatcher(croot, origin, ignore); err != nil {
		return nil, err
	}
	// add packages one entry the exclusions keep.
	add := func(p string, d fs.DirEntry) error {
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(origin, p)
		rel = filepath.ToSlash(rel)
		// Oversized YAML and alias bombs are reported by the index and left
		// out, so that a hostile repository cannot make kustomize parse them.
		if x.Excluded[rel] {
			return nil
		}
		data, err := x.file(croot, p, rel, sizeOf(d))
		var big *tooLarge
		switch {
		case errors.Is(err, errStopped):
			return err
		case errors.As(err, &big):
			// Left out, but a build that reads it says why.
			a.refuse(rel, p, big)
			return nil
		case err != nil:
			return nil // unreadable files are not in the artifact
		}
		a.put(rel, p, data)
		return nil
	}
	walkFn := func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == origin {
			return nil
		}
		parts := strings.Split(p, string(filepath.Separator))
		if m.Match(parts, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		return add(p, d)
	}
	if reuse {
		for _, e := range x.walk {
			if e.d.IsDir() {
				err = filepath.WalkDir(e.abs, walkFn)
			} else {
				err = add(e.abs, e.d)
			}
			if err != nil {
				break
			}
		}
	} else {
		err = filepath.WalkDir(origin, walkFn)
	}
	if err != nil {
		return nil, fmt.Errorf("package source %s: %w", origin, err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	return a, nil
}

// file returns the content of rel, read once per run.
func (x *Index) file(croot *confine.Root, p, rel string, size int64) ([]byte, error) {
	x.rawMu.Lock()
	defer x.rawMu.Unlock()
	if data, ok := x.raw[rel]; ok {
		return data, nil
	}
	data, err := x.rd.read(croot, p, rel, size)
	if err != nil {
		return nil, err
	}
	if x.raw != nil {
		x.raw[rel] = data
	}
	return data, nil
}

// ignoreMatcher returns source-controller's exclusions for a checkout
// (fluxcd/pkg/artifact/storage.SourceIgnoreFilter): the patterns of every
// .sourceignore file and of spec.ignore; when there are any, they replace
// the default exclusions (CI files, binary extensions, .sops.yaml…) and
// only the VCS files stay excluded besides them; when there are none, the
// defaults apply. The .sourceignore files are read through root, confined
// and bounded like every file of the repository.
func ignoreMatcher(root *confine.Root, origin, ignore string) (gitignore.Matcher, error) {
	domain := strings.Split(origin, string(filepath.Separator))
	ps, err := loadIgnorePatterns(root, domain)
	if err != nil {
		return nil, err
	}
	if ignore != "" {
		ps = append(ps, sourceignore.ReadPatterns(strings.NewReader(ignore), domain)...)
	}
	if len(ps) == 0 {
		return sourceignore.NewDefaultMatcher(nil, domain), nil
	}
	return sourceignore.NewMatcher(append(sourceignore.VCSPatterns(domain), ps...)), nil
}

// loadIgnorePatterns reads every .sourceignore file below root (not in
// .git), each scoped to its directory, as sourceignore.LoadIgnorePatterns
// does, but through the confined reader: a .sourceignore that is a link
// out of the repository, a FIFO or a device is left out, never opened.
func loadIgnorePatterns(root *confine.Root, domain []string) ([]gitignore.Pattern, error) {
	var files []string
	err := root.Walk(func(rel string, d fs.DirEntry) error {
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		if path.Base(rel) == sourceignore.IgnoreFile {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// In the order of the recursive upstream walk: a directory's own file,
	// then its subdirectories' in name order (later patterns win).
	dirParts := func(rel string) []string {
		if dir := path.Dir(rel); dir != "." {
			return strings.Split(dir, "/")
		}
		return nil
	}
	slices.SortStableFunc(files, func(a, b string) int { return slices.Compare(dirParts(a), dirParts(b)) })
	var ps []gitignore.Pattern
	for _, rel := range files {
		data, err := root.ReadFile(rel)
		if err != nil {
			// A link out of the repository (reported as render/path-escape
			// where the repository is indexed) or a file over the limits:
			// source-controller could not package it either way.
			continue
		}
		dom := append(slices.Clone(domain), dirParts(rel)...)
		ps = append(ps, sourceignore.ReadPatterns(bytes.NewReader(data), dom)...)
	}
	return ps, nil
}

// copyRule is one ArtifactGenerator copy operation.
type copyRule struct {
	Alias   string   // the source the files come from
	From    string   // glob relative to the source root
	To      string   // destination relative to the artifact root
	Exclude []string // globs relative to the source root
}

// fromRules builds an artifact out of other artifacts by ArtifactGenerator
// copy rules (source.extensions.fluxcd.io), with source-watcher's cp-like
// semantics (internal/builder/builder.go): a "dir/**" glob copies the tree
// under dir into To, keeping its structure; a file glob copies matching
// files into To when it ends in '/', or to To itself otherwise; a path
// without glob characters is a file (copied as a file glob is) or a
// directory, which is copied as a subdirectory of To ("cp -r dir to/"
// gives to/dir/…; a trailing '/' on From changes nothing). Exclude globs
// match a path relative to the source root or to the selection's base.
func fromRules(dst string, srcs map[string]*artifact, rules []copyRule) (*artifact, error) {
	a := newArtifact(dst, "")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, err
	}
	for _, r := range rules {
		src, ok := srcs[r.Alias]
		if !ok {
			return nil, fmt.Errorf("copy from @%s: no such source alias", r.Alias)
		}
		base := globBase(r.From)
		dir := "" // a directory copied whole (From has no glob characters)
		if !strings.ContainsAny(r.From, "*?[") {
			clean := path.Clean(r.From)
			if _, file := src.files[clean]; !file {
				dir, base = clean, clean
			}
		}
		matched := false
		for rel, origin := range src.files {
			var target string
			if dir != "" {
				sub, ok := strings.CutPrefix(rel, dir+"/")
				if dir == "." {
					sub, ok = rel, true
				}
				if !ok || anyMatch(r.Exclude, rel) || anyMatch(r.Exclude, sub) {
					continue
				}
				target = path.Join(r.To, path.Base(dir), sub)
				if dir == "." {
					target = path.Join(r.To, sub)
				}
			} else if !globMatch(r.From, rel) || anyMatch(r.Exclude, rel) || base != "." && anyMatch(r.Exclude, strings.TrimPrefix(rel, base+"/")) {
				continue
			}
			switch {
			case dir != "":
			case strings.HasSuffix(r.To, "/") || r.To == "":
				sub := strings.TrimPrefix(strings.TrimPrefix(rel, base), "/")
				if !strings.Contains(r.From, "**") {
					sub = path.Base(rel)
				}
				target = path.Join(r.To, sub)
			default:
				target = r.To
			}
			target = path.Clean(strings.TrimPrefix(target, "/"))
			if target == "." || strings.HasPrefix(target, "../") {
				return nil, fmt.Errorf("copy %s to %s: destination leaves the artifact", r.From, r.To)
			}
			matched = true
			srcAbs := filepath.Join(src.Dir, filepath.FromSlash(rel))
			if err, refused := src.mem.refused[srcAbs]; refused {
				a.refuse(target, origin, err)
				continue
			}
			a.put(target, origin, src.mem.files[srcAbs])
		}
		if !matched {
			// source-watcher fails the generator, and the ExternalArtifact
			// is never ready.
			return nil, fmt.Errorf("copy from @%s/%s: no file of the source matches it (or all are excluded)", r.Alias, r.From)
		}
	}
	return a, nil
}

func anyMatch(globs []string, rel string) bool {
	for _, g := range globs {
		if globMatch(g, rel) {
			return true
		}
	}
	return false
}

// globBase is the literal directory prefix of a glob.
func globBase(g string) string {
	parts := strings.Split(g, "/")
	var out []string
	for _, p := range parts {
		if strings.ContainsAny(p, "*?[") {
			break
		}
		out = append(out, p)
	}
	if len(out) == len(parts) { // no meta: a plain file or directory
		return path.Dir(g)
	}
	return strings.Join(out, "/")
}

// globMatch matches rel against g where "**" spans any number of segments.
func globMatch(g, rel string) bool { return finding.GlobMatch(g, rel) }
