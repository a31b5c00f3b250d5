package diskcache

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T, dir, id string, max int64) *Cache {
	t.Helper()
	c, err := Open(dir, id, max)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPutGet(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, "build A", 0)
	if _, ok := c.Get("k"); ok {
		t.Fatal("empty cache hit")
	}
	c.Put("k", []byte("value"))
	got, ok := c.Get("k")
	if !ok || string(got) != "value" {
		t.Fatalf("Get = %q, %v", got, ok)
	}
	if h, m, p := c.Stats(); h != 1 || m != 1 || p != 1 {
		t.Fatalf("stats %d %d %d", h, m, p)
	}
	// Another build of the tool never reads build A's entries.
	if _, ok := open(t, dir, "build B", 0).Get("k"); ok {
		t.Fatal("another build read the entry")
	}
	// Nor does another key.
	if _, ok := c.Get("k2"); ok {
		t.Fatal("another key read the entry")
	}
	var nilCache *Cache
	nilCache.Put("k", []byte("x"))
	if _, ok := nilCache.Get("k"); ok {
		t.Fatal("nil cache hit")
	}
}

// TestDamagedEntries: whatever happened to a file, it reads as a miss.
func TestDamagedEntries(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, "id", 0)
	c.Put("k", []byte("the payload"))
	p := c.path("k")
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"truncated":    good[:len(good)-1],
		"empty":        {},
		"flipped byte": append(append([]byte{}, good[:len(good)-2]...), good[len(good)-2]^1, good[len(good)-1]),
		"extended":     append(append([]byte{}, good...), 'x'),
		"other key":    wrap([]byte("the payload"), "other"),
		"bad magic":    append([]byte("x"), good[1:]...),
	} {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if got, ok := c.Get("k"); ok {
			t.Errorf("%s entry read as %q", name, got)
		}
	}
	// A directory where the entry should be.
	_ = os.Remove(p)
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("k"); ok {
		t.Error("a directory read as an entry")
	}
	c.Put("k", []byte("v")) // cannot replace a directory: no error, no entry
	if _, ok := c.Get("k"); ok {
		t.Error("Put over a directory")
	}
}

// TestTrim: the least recently used go first, across builds, until the
// directory fits; files Open did not create are left alone.
func TestTrim(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "mine.txt")
	if err := os.WriteFile(foreign, bytes.Repeat([]byte("x"), 5000), 0o600); err != nil {
		t.Fatal(err)
	}
	old := open(t, dir, "old build", 0)
	old.Put("o", bytes.Repeat([]byte("o"), 1000))
	c := open(t, dir, "new build", 2200) // two entries of 1,092 bytes with their frames
	base := time.Now().Add(-time.Hour)
	for i := range 4 {
		k := fmt.Sprint("k", i)
		c.Put(k, bytes.Repeat([]byte("v"), 1000))
		if err := os.Chtimes(c.path(k), base.Add(time.Duration(i)*time.Minute), base.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(old.path("o"), base.Add(-time.Minute), base.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("k0"); !ok { // k0 is now the most recently used
		t.Fatal("k0 missing")
	}
	n, err := c.Trim()
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("removed %d, want 3 (the old build's, k1, k2)", n)
	}
	for k, want := range map[string]bool{"k0": true, "k1": false, "k2": false, "k3": true} {
		if _, ok := c.Get(k); ok != want {
			t.Errorf("%s present = %v, want %v", k, ok, want)
		}
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("Trim removed a file it did not create: %v", err)
	}
}

// TestConcurrent: runs sharing a directory read whole entries or none.
func TestConcurrent(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			c, err := Open(dir, "id", 0)
			if err != nil {
				t.Error(err)
				return
			}
			for i := range 50 {
				want := bytes.Repeat([]byte{byte('a' + (w+i)%2)}, 4096)
				c.Put("shared", want)
				if got, ok := c.Get("shared"); ok && len(got) != 4096 || ok && got[0] != got[4095] {
					t.Errorf("torn entry read")
					return
				}
			}
		})
	}
	wg.Wait()
}
