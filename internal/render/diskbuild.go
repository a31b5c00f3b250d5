package render

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// The persistent cache (--cache-dir) keeps kustomize's output of a build
// across runs. A build is a pure function of the directory built, the
// kustomization file Flux's generator wrote for it, and what kustomize
// finds in the artifact's filesystem. The key covers the first two; the
// entry records every filesystem question the build asked (each file it
// read, by content hash, every existence test, listing and glob) with the
// answer it got. A later run reuses the entry only when the same
// questions get the same answers from its own artifact, so a change to
// any file the build read — or a file appearing where it looked — makes
// it build again. Builds that wrote to the filesystem, opened or walked
// it, failed, or changed kustomize's global OpenAPI state are never
// stored; neither are outputs holding YAML aliases.
//
// An entry stores the output as YAML node trees, field for field (kind,
// style, tag, value, comments, line and column), so what the renderer
// does next — substitution, conversion, positions — sees exactly what a
// build would have handed it.

// diskKey names the build of dirPath with the generated kustomization
// (kfile, manifest) in a: "" when it cannot be cached.
func diskKey(a *artifact, dirPath, kfile string, manifest []byte) string {
	relDir, ok := relIn(a.Dir, dirPath)
	relK, ok2 := relIn(a.Dir, kfile)
	if !ok || !ok2 {
		return ""
	}
	h := sha256.New()
	for _, s := range []string{"gitops-lint kustomize build", relDir, relK} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(manifest)
	return hex.EncodeToString(h.Sum(nil))
}

// relIn is p relative to root ('/'-separated) when p is root or below it.
func relIn(root, p string) (string, bool) {
	p = filepath.Clean(p)
	if p == root {
		return ".", true
	}
	if !strings.HasPrefix(p, root+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(p[len(root)+1:]), true
}

// Filesystem operations a build's entry records.
const (
	opRead byte = iota + 1
	opExists
	opIsDir
	opReadDir
	opGlob
	opCleanedAbs
)

type fsDep struct {
	op           byte
	path, answer string
}

// recFS is the filesystem a cacheable build runs on: it answers from
// inner and records each question with its answer.
type recFS struct {
	inner filesys.FileSystem
	root  string

	mu      sync.Mutex
	deps    []fsDep
	seen    map[fsDep]bool
	tainted bool // the build did something an entry cannot replay
}

var _ filesys.FileSystem = (*recFS)(nil)

func newRecFS(inner filesys.FileSystem, root string) *recFS {
	return &recFS{inner: inner, root: filepath.Clean(root), seen: map[fsDep]bool{}}
}

func (r *recFS) taint() {
	r.mu.Lock()
	r.tainted = true
	r.mu.Unlock()
}

// record notes the answer to a question about path.
func (r *recFS) record(op byte, path, answer string) {
	rel, ok := relIn(r.root, r.abs(path))
	r.mu.Lock()
	defer r.mu.Unlock()
	if !ok {
		r.tainted = true
		return
	}
	d := fsDep{op, rel, answer}
	if !r.seen[d] {
		r.seen[d] = true
		r.deps = append(r.deps, d)
	}
}

func (r *recFS) abs(path string) string {
	if !filepath.IsAbs(path) {
		path = filepath.Join(r.root, path)
	}
	return filepath.Clean(path)
}

// answer asks fsys the question op about path (absolute) and words the
// answer as an entry stores it (see the word functions).
func answer(fsys filesys.FileSystem, root string, op byte, path string) string {
	switch op {
	case opRead:
		data, err := fsys.ReadFile(path)
		return readWord(root, data, err)
	case opExists:
		return boolWord(fsys.Exists(path))
	case opIsDir:
		return boolWord(fsys.IsDir(path))
	case opReadDir:
		ps, err := fsys.ReadDir(path)
		return listWord(root, ps, err)
	case opGlob:
		ps, err := fsys.Glob(path)
		return listWord(root, ps, err)
	case opCleanedAbs:
		d, f, err := fsys.CleanedAbs(path)
		return cleanedWord(root, d, f, err)
	}
	return "?"
}

// The words of answers: root-relative, a file's content as its hash.

func errWord(root string, err error) string {
	return "E" + strings.ReplaceAll(err.Error(), root, "")
}

func readWord(root string, data []byte, err error) string {
	if err != nil {
		return errWord(root, err)
	}
	sum := sha256.Sum256(data)
	return "D" + hex.EncodeToString(sum[:])
}

func listWord(root string, ps []string, err error) string {
	if err != nil {
		return errWord(root, err)
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = strings.ReplaceAll(p, root, "")
	}
	return "L" + strings.Join(out, "\x00")
}

func cleanedWord(root string, d filesys.ConfirmedDir, f string, err error) string {
	if err != nil {
		return errWord(root, err)
	}
	return "C" + strings.ReplaceAll(string(d), root, "") + "\x00" + f
}

func boolWord(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (r *recFS) Create(path string) (filesys.File, error) {
	r.taint()
	return r.inner.Create(path)
}
func (r *recFS) Mkdir(path string) error    { r.taint(); return r.inner.Mkdir(path) }
func (r *recFS) MkdirAll(path string) error { r.taint(); return r.inner.MkdirAll(path) }
func (r *recFS) RemoveAll(path string) error {
	r.taint()
	return r.inner.RemoveAll(path)
}
func (r *recFS) Open(path string) (filesys.File, error) {
	r.taint()
	return r.inner.Open(path)
}
func (r *recFS) WriteFile(path string, data []byte) error {
	r.taint()
	return r.inner.WriteFile(path, data)
}
func (r *recFS) Walk(path string, walkFn filepath.WalkFunc) error {
	r.taint()
	return r.inner.Walk(path, walkFn)
}
func (r *recFS) IsDir(path string) bool {
	v := r.inner.IsDir(path)
	r.record(opIsDir, path, boolWord(v))
	return v
}
func (r *recFS) Exists(path string) bool {
	v := r.inner.Exists(path)
	r.record(opExists, path, boolWord(v))
	return v
}
func (r *recFS) ReadDir(path string) ([]string, error) {
	ps, err := r.inner.ReadDir(path)
	r.record(opReadDir, path, listWord(r.root, ps, err))
	return ps, err
}
func (r *recFS) Glob(pattern string) ([]string, error) {
	ps, err := r.inner.Glob(pattern)
	r.record(opGlob, pattern, listWord(r.root, ps, err))
	return ps, err
}
func (r *recFS) CleanedAbs(path string) (filesys.ConfirmedDir, string, error) {
	d, f, err := r.inner.CleanedAbs(path)
	r.record(opCleanedAbs, path, cleanedWord(r.root, d, f, err))
	return d, f, err
}
func (r *recFS) ReadFile(path string) ([]byte, error) {
	data, err := r.inner.ReadFile(path)
	r.record(opRead, path, readWord(r.root, data, err))
	return data, err
}

// diskEntry is a stored build: the questions it asked, the work it
// charged, and its output as encodeDocs wrote it.
type diskEntry struct {
	deps []fsDep
	work int64
	docs []byte
}

var errUncacheable = errors.New("output cannot be stored")

// encodeEntry writes e.
func encodeEntry(e *diskEntry) []byte {
	var w entryWriter
	w.uvarint(uint64(len(e.deps)))
	for _, d := range e.deps {
		w.buf = append(w.buf, d.op)
		w.str(d.path)
		w.str(d.answer)
	}
	w.uvarint(uint64(max(e.work, 0)))
	return append(w.buf, e.docs...)
}

// encodeDocs writes a build's output compactly: the in-process build cache
// holds this rather than node trees (a fraction of their memory), and each
// Kustomization decodes its own copy. Outputs holding aliases cannot be
// encoded.
func encodeDocs(docs []*yaml.Node) ([]byte, error) {
	var w entryWriter
	w.uvarint(uint64(len(docs)))
	for _, n := range docs {
		if err := w.node(n, 0); err != nil {
			return nil, err
		}
	}
	return w.buf, nil
}

// decodeDocs reads what encodeDocs wrote. The strings of the nodes share
// data's memory, which must not change afterwards.
func decodeDocs(data []byte) ([]*yaml.Node, error) {
	r := entryReader{buf: data, share: true}
	n := r.count()
	var docs []*yaml.Node
	if r.err == nil {
		docs = make([]*yaml.Node, 0, n)
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		docs = append(docs, r.node(0))
	}
	if r.err == nil && len(r.buf) != 0 {
		r.err = errBadEntry
	}
	if r.err != nil {
		return nil, r.err
	}
	return docs, nil
}

type entryWriter struct{ buf []byte }

func (w *entryWriter) uvarint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }
func (w *entryWriter) str(s string) {
	w.uvarint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

// maxNodeDepth bounds the nesting an entry may hold (kyaml's own parser
// stops far earlier).
const maxNodeDepth = 10000

func (w *entryWriter) node(n *yaml.Node, depth int) error {
	if n == nil || n.Kind == yaml.AliasNode || n.Alias != nil || depth > maxNodeDepth {
		return errUncacheable
	}
	w.uvarint(uint64(n.Kind))
	w.uvarint(uint64(n.Style))
	for _, s := range []string{n.Tag, n.Value, n.Anchor, n.HeadComment, n.LineComment, n.FootComment} {
		w.str(s)
	}
	w.uvarint(uint64(max(n.Line, 0)))
	w.uvarint(uint64(max(n.Column, 0)))
	w.uvarint(uint64(len(n.Content)))
	for _, c := range n.Content {
		if err := w.node(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

var errBadEntry = errors.New("malformed cache entry")

// decodeEntry reads an entry; anything malformed is an error (a miss),
// never a panic.
func decodeEntry(data []byte) (*diskEntry, error) {
	r := entryReader{buf: data}
	e := &diskEntry{}
	n := r.count()
	for i := uint64(0); i < n && r.err == nil; i++ {
		var d fsDep
		d.op = r.byte()
		d.path = r.str()
		d.answer = r.str()
		e.deps = append(e.deps, d)
	}
	work := r.uvarint()
	if work > 1<<62 {
		r.err = errBadEntry
	}
	e.work = int64(work)
	if r.err != nil {
		return nil, r.err
	}
	e.docs = r.buf
	if _, err := decodeDocs(e.docs); err != nil {
		return nil, err
	}
	return e, nil
}

type entryReader struct {
	buf []byte
	err error
	// share makes strings point into buf instead of copying.
	share bool
}

func (r *entryReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf)
	if n <= 0 || n > 1 && r.buf[n-1] == 0 { // one encoding per number
		r.err = errBadEntry
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// count reads a number of items, each of which takes at least one byte.
func (r *entryReader) count() uint64 {
	v := r.uvarint()
	if v > uint64(len(r.buf)) {
		r.err = errBadEntry
		return 0
	}
	return v
}

func (r *entryReader) byte() byte {
	if r.err != nil || len(r.buf) == 0 {
		r.err = errBadEntry
		return 0
	}
	b := r.buf[0]
	r.buf = r.buf[1:]
	return b
}

func (r *entryReader) str() string {
	n := r.count()
	if r.err != nil {
		return ""
	}
	var s string
	switch {
	case n == 0:
	case r.share:
		s = unsafe.String(&r.buf[0], n)
	default:
		s = string(r.buf[:n])
	}
	r.buf = r.buf[n:]
	return s
}

func (r *entryReader) node(depth int) *yaml.Node {
	if r.err != nil {
		return nil
	}
	if depth > maxNodeDepth {
		r.err = errBadEntry
		return nil
	}
	n := &yaml.Node{}
	kind, style := r.uvarint(), r.uvarint()
	switch yaml.Kind(kind) {
	case yaml.DocumentNode, yaml.SequenceNode, yaml.MappingNode, yaml.ScalarNode:
	default:
		r.err = errBadEntry
		return nil
	}
	n.Kind, n.Style = yaml.Kind(kind), yaml.Style(style)
	n.Tag, n.Value, n.Anchor = r.str(), r.str(), r.str()
	n.HeadComment, n.LineComment, n.FootComment = r.str(), r.str(), r.str()
	line, col := r.uvarint(), r.uvarint()
	if line > 1<<31 || col > 1<<31 {
		r.err = errBadEntry
		return nil
	}
	n.Line, n.Column = int(line), int(col)
	kids := r.count()
	if r.err != nil {
		return nil
	}
	if kids > 0 {
		n.Content = make([]*yaml.Node, 0, kids)
	}
	for i := uint64(0); i < kids && r.err == nil; i++ {
		n.Content = append(n.Content, r.node(depth+1))
	}
	return n
}

// diskLoad returns the output (encodeDocs) of the stored build under key
// when every question it recorded gets the same answer from this build's
// filesystem (fsys, the artifact with the generated kustomization file
// written), with its kustomize work charged to the run. nil: build it.
func (r *renderer) diskLoad(key string, a *artifact, fsys filesys.FileSystem) []byte {
	data, ok := r.opts.Cache.Get(key)
	if !ok {
		return nil
	}
	e, err := decodeEntry(data)
	if err != nil || !e.holds(fsys, filepath.Clean(a.Dir)) {
		r.opts.Cache.Reject()
		return nil
	}
	// The work the build would charge, at once: when it does not fit,
	// building it charges as it goes and stops where the limit says.
	if !r.work.Take(e.work) {
		r.opts.Cache.Reject()
		return nil
	}
	return e.docs
}

// resources makes kustomize resources of encoded docs.
func resources(docs []byte) ([]*resource.Resource, error) {
	nodes, err := decodeDocs(docs)
	if err != nil {
		return nil, err
	}
	out := make([]*resource.Resource, len(nodes))
	for i, n := range nodes {
		out[i] = &resource.Resource{RNode: *kyaml.NewRNode(n)}
	}
	return out, nil
}

// holds reports whether every question e recorded gets the same answer
// from fsys, the artifact rooted at root.
func (e *diskEntry) holds(fsys filesys.FileSystem, root string) bool {
	for _, d := range e.deps {
		if d.op < opRead || d.op > opCleanedAbs {
			return false
		}
		p := root
		if d.path != "." {
			p = filepath.Join(root, filepath.FromSlash(d.path))
			if rel, ok := relIn(root, p); !ok || rel != d.path {
				return false
			}
		}
		if answer(fsys, root, d.op, p) != d.answer {
			return false
		}
	}
	return true
}

// diskStore stores a successful build recorded by rec, its output encoded
// as docs.
func (r *renderer) diskStore(key string, rec *recFS, work int64, docs []byte) {
	rec.mu.Lock()
	tainted, deps := rec.tainted, slices.Clone(rec.deps)
	rec.mu.Unlock()
	if tainted {
		return
	}
	r.opts.Cache.Put(key, encodeEntry(&diskEntry{deps: deps, work: work, docs: docs}))
}
