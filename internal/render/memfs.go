package render

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// memFS is an artifact held in memory, as kustomize sees it: read-only,
// confined to its root like Flux's secure filesystem (a path outside is a
// securefs.ConstraintError), and worded like the disk where files are
// missing, so messages read as kustomize-controller's would. Writing a
// temporary copy of a repository to disk costs far more than building it
// on many filesystems; memory costs nothing and is never shared with the
// linted checkout. It is safe for concurrent readers once built.
type memFS struct {
	root  string
	files map[string][]byte   // absolute path → content
	dirs  map[string][]string // absolute dir → sorted entry names
	// refused are files listed but not read (over the per-file limit):
	// reading one fails with its error.
	refused map[string]error
}

func newMemFS(root string) *memFS {
	m := &memFS{root: filepath.Clean(root), files: map[string][]byte{}, dirs: map[string][]string{}, refused: map[string]error{}}
	m.dirs[m.root] = nil
	return m
}

// add stores a file (only while the artifact is being made).
func (m *memFS) add(abs string, data []byte) {
	abs = filepath.Clean(abs)
	m.files[abs] = data
	m.link(abs)
}

// refuse lists a file whose reads fail with err.
func (m *memFS) refuse(abs string, err error) {
	abs = filepath.Clean(abs)
	m.refused[abs] = err
	m.link(abs)
}

// link enters abs in its parent directories' listings.
func (m *memFS) link(abs string) {
	for p := abs; p != m.root && p != filepath.Dir(p); p = filepath.Dir(p) {
		parent := filepath.Dir(p)
		entries, existed := m.dirs[parent]
		name := filepath.Base(p)
		if i, found := slices.BinarySearch(entries, name); !found {
			m.dirs[parent] = slices.Insert(entries, i, name)
		}
		if existed && parent != m.root {
			break
		}
	}
}

func (m *memFS) abs(path string) string {
	if !filepath.IsAbs(path) {
		path = filepath.Join(m.root, path)
	}
	return filepath.Clean(path)
}

func (m *memFS) inside(abs string) bool {
	return abs == m.root || strings.HasPrefix(abs, m.root+string(filepath.Separator))
}

func (m *memFS) check(op, path string) (string, error) {
	abs := m.abs(path)
	if !m.inside(abs) {
		return abs, &securefs.ConstraintError{Op: op, Path: path, Err: fmt.Errorf("path '%s' is not in or below '%s'", path, m.root)}
	}
	return abs, nil
}

var errReadOnly = fmt.Errorf("artifact is read-only")

// Create refuses: artifacts are read-only (Flux's in-memory overlay takes writes).
func (m *memFS) Create(string) (filesys.File, error) { return nil, errReadOnly }

// Mkdir refuses.
func (m *memFS) Mkdir(string) error { return errReadOnly }

// MkdirAll refuses.
func (m *memFS) MkdirAll(string) error { return errReadOnly }

// RemoveAll refuses.
func (m *memFS) RemoveAll(string) error { return errReadOnly }

// WriteFile refuses.
func (m *memFS) WriteFile(string, []byte) error { return errReadOnly }

// Exists reports whether path is a file or directory of the artifact.
func (m *memFS) Exists(path string) bool {
	abs, err := m.check("exists", path)
	if err != nil {
		return false
	}
	_, f := m.files[abs]
	_, d := m.dirs[abs]
	_, r := m.refused[abs]
	return f || d || r
}

// IsDir reports whether path is a directory of the artifact.
func (m *memFS) IsDir(path string) bool {
	abs, err := m.check("isdir", path)
	if err != nil {
		return false
	}
	_, d := m.dirs[abs]
	return d
}

// ReadFile returns a copy of a file's content.
func (m *memFS) ReadFile(path string) ([]byte, error) {
	abs, err := m.check("read", path)
	if err != nil {
		return nil, err
	}
	data, ok := m.files[abs]
	if !ok {
		if err, refused := m.refused[abs]; refused {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if _, isDir := m.dirs[abs]; isDir {
			return nil, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.ENOENT}
	}
	return bytes.Clone(data), nil
}

// Open returns a reader over a file.
func (m *memFS) Open(path string) (filesys.File, error) {
	data, err := m.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &memFile{Reader: bytes.NewReader(data), info: fileInfo{name: filepath.Base(path), size: int64(len(data))}}, nil
}

// ReadDir lists a directory's entries.
func (m *memFS) ReadDir(path string) ([]string, error) {
	abs, err := m.check("open", path)
	if err != nil {
		return nil, err
	}
	entries, ok := m.dirs[abs]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.ENOENT}
	}
	return slices.Clone(entries), nil
}

// CleanedAbs splits path into its directory and file name, as the disk does.
func (m *memFS) CleanedAbs(path string) (filesys.ConfirmedDir, string, error) {
	abs := m.abs(path)
	if _, ok := m.dirs[abs]; ok {
		if !m.inside(abs) {
			return "", "", &securefs.ConstraintError{Op: "abs", Path: path, Err: fmt.Errorf("path '%s' is not in or below '%s'", path, m.root)}
		}
		return filesys.ConfirmedDir(abs), "", nil
	}
	_, file := m.files[abs]
	if _, refused := m.refused[abs]; file || refused {
		return filesys.ConfirmedDir(filepath.Dir(abs)), filepath.Base(abs), nil
	}
	if !m.inside(abs) {
		return "", "", &securefs.ConstraintError{Op: "abs", Path: path, Err: fmt.Errorf("path '%s' is not in or below '%s'", path, m.root)}
	}
	return "", "", fmt.Errorf("evalsymlink failure on '%s' : %w", path, &fs.PathError{Op: "lstat", Path: abs, Err: syscall.ENOENT})
}

// Glob matches files and directories like filepath.Glob, hiding dot files
// unless the pattern names them (as kustomize's disk filesystem does).
func (m *memFS) Glob(pattern string) ([]string, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	var out []string
	for p := range m.files {
		if ok, _ := filepath.Match(pattern, p); ok {
			out = append(out, p)
		}
	}
	for p := range m.dirs {
		if ok, _ := filepath.Match(pattern, p); ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	if !filesys.IsHiddenFilePath(pattern) {
		out = filesys.RemoveHiddenFiles(out)
	}
	return out, nil
}

// Walk visits path and everything below it in lexical order.
func (m *memFS) Walk(path string, walkFn filepath.WalkFunc) error {
	abs, err := m.check("walk", path)
	if err != nil {
		return err
	}
	err = m.walk(abs, walkFn)
	if err == filepath.SkipDir || err == filepath.SkipAll {
		return nil
	}
	return err
}

func (m *memFS) walk(abs string, walkFn filepath.WalkFunc) error {
	if data, ok := m.files[abs]; ok {
		return walkFn(abs, fileInfo{name: filepath.Base(abs), size: int64(len(data))}, nil)
	}
	if _, ok := m.refused[abs]; ok {
		return walkFn(abs, fileInfo{name: filepath.Base(abs)}, nil)
	}
	entries, ok := m.dirs[abs]
	if !ok {
		return walkFn(abs, nil, &fs.PathError{Op: "lstat", Path: abs, Err: syscall.ENOENT})
	}
	if err := walkFn(abs, fileInfo{name: filepath.Base(abs), dir: true}, nil); err != nil {
		return err
	}
	for _, e := range entries {
		if err := m.walk(filepath.Join(abs, e), walkFn); err != nil {
			if err == filepath.SkipDir {
				if _, isDir := m.dirs[filepath.Join(abs, e)]; isDir {
					continue
				}
				return nil // SkipDir on a file skips the rest of its directory
			}
			return err
		}
	}
	return nil
}

type memFile struct {
	*bytes.Reader
	info fileInfo
}

func (f *memFile) Write([]byte) (int, error)  { return 0, errReadOnly }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Stat() (os.FileInfo, error) { return f.info, nil }

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64  { return i.size }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }
