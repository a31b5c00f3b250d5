// Package diskcache is gitops-lint's optional persistent cache
// (--cache-dir): a directory of content-addressed entries that later runs
// of the same build of the tool may reuse. It knows nothing of what it
// stores; the renderer decides what an entry means and when it is still
// valid.
//
// The guarantees, each of which a test holds:
//   - Entries of one build of the tool are never read by another: each
//     build has its own subdirectory, named from its identity.
//   - An entry is written to a temporary file and renamed into place, so
//     concurrent runs sharing a directory read either a whole entry or
//     none. A truncated, corrupted or foreign file reads as a miss (each
//     entry carries its length and SHA-256).
//   - The directory is bounded: Trim removes the least recently used
//     entries (reads refresh an entry's time) until it holds at most the
//     configured size, across every build's subdirectory.
//   - Failures never fail the run: an unreadable entry is a miss, an
//     unwritable directory makes Put a no-op.
package diskcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultMaxBytes bounds a cache directory unless the caller says
// otherwise.
const DefaultMaxBytes = 512 << 20

// MaxEntryBytes bounds one entry: a larger one is not stored, and a file
// claiming more is not read.
const MaxEntryBytes = 64 << 20

// magic starts every entry; the digit is the entry format's version.
var magic = []byte("gitops-lint-cache-1\n")

// Cache is one cache directory as seen by one build of the tool. The zero
// value and nil are valid, empty caches that store nothing.
type Cache struct {
	root string // the directory the user named
	dir  string // root/<identity>
	max  int64

	hits, misses, puts atomic.Int64
}

// Open prepares dir for the build whose identity is identity (any string
// naming the build exactly: version, commit, dependency versions). dir is
// created if needed (mode 0700). maxBytes <= 0 means DefaultMaxBytes.
func Open(dir, identity string, maxBytes int64) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("no cache directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	sum := sha256.Sum256([]byte(identity))
	sub := filepath.Join(abs, "v1-"+hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(sub, 0o700); err != nil {
		return nil, fmt.Errorf("cache directory %s: %w", dir, err)
	}
	return &Cache{root: abs, dir: sub, max: maxBytes}, nil
}

// Dir is the directory this build's entries live in ("" for nil).
func (c *Cache) Dir() string {
	if c == nil {
		return ""
	}
	return c.dir
}

// Stats reports the hits, misses and stores so far.
func (c *Cache) Stats() (hits, misses, puts int64) {
	if c == nil {
		return 0, 0, 0
	}
	return c.hits.Load(), c.misses.Load(), c.puts.Load()
}

func (c *Cache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(c.dir, h[:2], h[2:])
}

// Get returns the entry stored under key, or false.
func (c *Cache) Get(key string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	p := c.path(key)
	data, err := readBounded(p)
	if err == nil {
		if payload, ok := unwrap(data, key); ok {
			c.hits.Add(1)
			now := time.Now()
			_ = os.Chtimes(p, now, now) // least recently used goes first
			return payload, true
		}
	}
	c.misses.Add(1)
	return nil, false
}

// Reject says that the entry Get just returned no longer holds (the
// caller found its inputs changed): it counts as a miss, not a hit.
func (c *Cache) Reject() {
	if c == nil {
		return
	}
	c.hits.Add(-1)
	c.misses.Add(1)
}

// Put stores payload under key, replacing any entry there. It never
// fails the caller: a directory it cannot write is simply not a cache.
func (c *Cache) Put(key string, payload []byte) {
	if c == nil || len(payload) > MaxEntryBytes {
		return
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return
	}
	tmp := f.Name()
	_, werr := f.Write(wrap(payload, key))
	cerr := f.Close()
	if werr != nil || cerr != nil || os.Rename(tmp, p) != nil {
		_ = os.Remove(tmp)
		return
	}
	c.puts.Add(1)
}

// wrap frames payload: magic, the key's hash, the payload's length and
// SHA-256, then the payload.
func wrap(payload []byte, key string) []byte {
	ks := sha256.Sum256([]byte(key))
	ps := sha256.Sum256(payload)
	out := make([]byte, 0, len(magic)+32+8+32+len(payload))
	out = append(out, magic...)
	out = append(out, ks[:]...)
	out = binary.BigEndian.AppendUint64(out, uint64(len(payload)))
	out = append(out, ps[:]...)
	return append(out, payload...)
}

// unwrap checks a stored entry's frame and returns its payload.
func unwrap(data []byte, key string) ([]byte, bool) {
	head := len(magic) + 32 + 8 + 32
	if len(data) < head || !bytes.Equal(data[:len(magic)], magic) {
		return nil, false
	}
	ks := sha256.Sum256([]byte(key))
	if !bytes.Equal(data[len(magic):len(magic)+32], ks[:]) {
		return nil, false
	}
	n := binary.BigEndian.Uint64(data[len(magic)+32:])
	payload := data[head:]
	if n != uint64(len(payload)) {
		return nil, false
	}
	ps := sha256.Sum256(payload)
	if !bytes.Equal(data[len(magic)+40:head], ps[:]) {
		return nil, false
	}
	return payload, true
}

func readBounded(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() > MaxEntryBytes+int64(len(magic))+72 {
		return nil, errors.New("not a cache entry")
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, err
	}
	return data, nil
}

// Trim removes the least recently used entries of the whole cache
// directory (every build's) until it holds at most the configured size,
// and the leftovers of interrupted writes older than an hour. It reports
// how many files it removed.
func (c *Cache) Trim() (int, error) {
	if c == nil {
		return 0, nil
	}
	type entry struct {
		path string
		size int64
		mod  time.Time
	}
	var entries []entry
	var total int64
	removed := 0
	stale := time.Now().Add(-time.Hour)
	err := filepath.WalkDir(c.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a directory another run removed meanwhile
		}
		if d.IsDir() {
			rel, _ := filepath.Rel(c.root, p)
			// Only what Open creates: v1-<id>/<xx>/<entry>.
			if rel != "." && !strings.HasPrefix(rel, "v1-") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(c.root, p)
		if !d.Type().IsRegular() || len(strings.Split(filepath.ToSlash(rel), "/")) != 3 {
			return nil // not an entry Put wrote
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			if info.ModTime().Before(stale) && os.Remove(p) == nil {
				removed++
			}
			return nil
		}
		entries = append(entries, entry{p, info.Size(), info.ModTime()})
		total += info.Size()
		return nil
	})
	if total <= c.max {
		return removed, err
	}
	slices.SortFunc(entries, func(a, b entry) int { return a.mod.Compare(b.mod) })
	for _, e := range entries {
		if total <= c.max {
			break
		}
		if os.Remove(e.path) == nil {
			removed++
			total -= e.size
		}
	}
	return removed, err
}
