// Package confine is gitops-lint's trust boundary. Everything a linted
// repository supplies — the config file, Rego policies, CRD and RBAC
// directories, manifests — is read through it: confined to a root directory
// (no "..", no absolute path, no symbolic link leaving the root), regular
// files only (never a device, FIFO or socket), and within byte budgets. A
// refusal is an *Error naming the file and the limit, never the content.
//
// The rest of a run is bounded by the Limits (rendered bytes and objects,
// substitution output, policy evaluation time, report size), set on the
// command line or in the environment only: a repository cannot raise them.
package confine

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
)

// Sentinel causes of an *Error, for errors.Is.
var (
	// ErrOutside: the path, or a symbolic link on it, leaves the root.
	ErrOutside = errors.New("leaves its root directory")
	// ErrNotRegular: the path is a device, FIFO, socket or directory.
	ErrNotRegular = errors.New("is not a regular file")
	// ErrTooLarge: the file is larger than the per-file limit.
	ErrTooLarge = errors.New("is larger than the limit")
	// ErrBudget: reading the file would exceed the run's total byte budget.
	ErrBudget = errors.New("exceeds the total byte budget")
)

// Error is a refused read. Its message names the file and, for a size
// refusal, the limit and the setting that raises it — never file content.
type Error struct {
	// Path is the file as the caller named it (relative to its root).
	Path string
	// Err is one of the sentinel errors, or the underlying I/O error.
	Err error
	// Limit is the limit that was exceeded (bytes), for ErrTooLarge and ErrBudget.
	Limit int64
	// Setting is the --limit key that raises Limit.
	Setting string
}

func (e *Error) Error() string {
	switch {
	case errors.Is(e.Err, ErrTooLarge), errors.Is(e.Err, ErrBudget):
		return fmt.Sprintf("%s %v of %s (raise it with --limit %s=SIZE)", e.Path, e.Err, FormatBytes(e.Limit), e.Setting)
	case errors.Is(e.Err, ErrOutside):
		return fmt.Sprintf("%s %v (a symbolic link or path outside the directory is not followed)", e.Path, e.Err)
	}
	return fmt.Sprintf("%s %v", e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Budget is a byte (or count) allowance shared by every reader of a run.
// The zero Budget and a nil *Budget are unlimited.
type Budget struct {
	limit   int64
	setting string
	used    atomic.Int64
}

// NewBudget returns a budget of limit units (<= 0: unlimited). setting is
// the --limit key that raises it, for messages.
func NewBudget(limit int64, setting string) *Budget {
	return &Budget{limit: limit, setting: setting}
}

// Take spends n units; it reports false (spending nothing) when that would
// exceed the budget.
func (b *Budget) Take(n int64) bool {
	if b == nil || b.limit <= 0 {
		return true
	}
	for {
		used := b.used.Load()
		if used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// Give returns n units that Take spent.
func (b *Budget) Give(n int64) {
	if b != nil && b.limit > 0 {
		b.used.Add(-n)
	}
}

// Used is what was spent so far.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Limit is the budget's size (<= 0: unlimited).
func (b *Budget) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// Setting is the --limit key that raises the budget.
func (b *Budget) Setting() string {
	if b == nil {
		return ""
	}
	return b.setting
}

// Root reads files below one directory and nowhere else.
type Root struct {
	root      *os.Root
	fileLimit int64
	budget    *Budget
}

// Open opens dir as a confined root. Files read through it are at most
// fileLimit bytes each (<= 0: unlimited) and are charged to budget (nil:
// unlimited). The caller closes the Root.
func Open(dir string, fileLimit int64, budget *Budget) (*Root, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Root{root: r, fileLimit: fileLimit, budget: budget}, nil
}

// Close releases the root's directory handle.
func (r *Root) Close() error { return r.root.Close() }

// ReadFile reads the regular file rel ('/'-separated, relative to the
// root). A path that leaves the root (through "..", an absolute name or a
// symbolic link), anything but a regular file, a file over the per-file
// limit and a read over the budget are refused with an *Error.
func (r *Root) ReadFile(rel string) ([]byte, error) {
	clean, err := Rel(rel)
	if err != nil {
		return nil, &Error{Path: rel, Err: ErrOutside}
	}
	// O_NONBLOCK: opening a FIFO must not wait for a writer; it is then
	// refused as not regular.
	f, err := r.root.OpenFile(filepath.FromSlash(clean), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if isEscape(err) {
			return nil, &Error{Path: rel, Err: ErrOutside}
		}
		return nil, &Error{Path: rel, Err: unwrapPath(err)}
	}
	return readBounded(f, rel, r.fileLimit, r.budget)
}

// Walk calls fn for every regular file below the root, in lexical order,
// with its '/'-separated path relative to the root. Symbolic links are not
// followed (a linked file is reported to fn with a symlink entry, so that
// the caller can read it through ReadFile, which confines it); devices,
// FIFOs and sockets are skipped. fn may return fs.SkipDir for a directory.
func (r *Root) Walk(fn func(rel string, d fs.DirEntry) error) error {
	return fs.WalkDir(r.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			return nil // unreadable entries are skipped
		}
		if p == "." {
			return nil
		}
		t := d.Type()
		if !d.IsDir() && !t.IsRegular() && t&fs.ModeSymlink == 0 {
			return nil
		}
		return fn(p, d)
	})
}

// readBounded reads the opened file f whole and closes it. It refuses f
// unless it is a regular file, refuses more than limit bytes and charges
// the budget (so /proc files, whose size is 0, are bounded too).
func readBounded(f *os.File, name string, limit int64, budget *Budget) ([]byte, error) {
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &Error{Path: name, Err: unwrapPath(err)}
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{Path: name, Err: ErrNotRegular}
	}
	var rd io.Reader = f
	if limit > 0 {
		rd = io.LimitReader(f, limit+1)
	}
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, &Error{Path: name, Err: unwrapPath(err)}
	}
	if limit > 0 && int64(len(data)) > limit {
		return nil, &Error{Path: name, Err: ErrTooLarge, Limit: limit, Setting: LimitFileBytes}
	}
	if !budget.Take(int64(len(data))) {
		return nil, &Error{Path: name, Err: ErrBudget, Limit: budget.Limit(), Setting: budget.Setting()}
	}
	return data, nil
}

// Rel cleans a '/'-separated relative path and refuses one that is
// absolute or climbs out with "..".
func Rel(p string) (string, error) {
	p = filepath.ToSlash(p)
	if p == "" || path.IsAbs(p) || filepath.IsAbs(p) || filepath.VolumeName(p) != "" {
		return "", ErrOutside
	}
	c := path.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", ErrOutside
	}
	return c, nil
}

// Within reports whether the absolute path p, with every symbolic link
// resolved, is root or below it (root's own links resolved too). A path
// that does not exist yet is judged by its longest existing parent.
func Within(root, p string) (bool, error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return false, err
	}
	real, err := resolveExisting(p)
	if err != nil {
		return false, err
	}
	return real == realRoot || strings.HasPrefix(real, realRoot+string(filepath.Separator)), nil
}

// resolveExisting resolves the links of the longest existing prefix of p
// and appends the rest unchanged.
func resolveExisting(p string) (string, error) {
	p = filepath.Clean(p)
	var rest []string
	for {
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(append([]string{real}, rest...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", err
		}
		rest = append([]string{filepath.Base(p)}, rest...)
		p = parent
	}
}

func isEscape(err error) bool {
	// os.Root reports an escape as "path escapes from parent".
	return err != nil && strings.Contains(err.Error(), "escapes from parent")
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
