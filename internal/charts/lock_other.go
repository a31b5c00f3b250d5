//go:build !unix

package charts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"time"
)

// lockPath takes an exclusive lock named after key in dir (a file created
// exclusively; one older than a minute is taken as abandoned).
func lockPath(dir, key string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(key))
	p := filepath.Join(dir, hex.EncodeToString(sum[:8])+".lock")
	for {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			f.Close()
			return func() { os.Remove(p) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > time.Minute {
			os.Remove(p)
			continue
		}
		time.Sleep(50 * time.Millisecond)
	}
}
