// Package modzip fetches module zips through the go command and reads files
// straight out of them. It serves the go:generate tools only: gitops-lint
// itself never downloads anything.
//
// Module zips are a good source of upstream data files (OpenAPI documents,
// CRDs, RBAC fixtures) because the go command verifies every zip against the
// checksum database, so a pinned module@version always yields the same bytes.
package modzip

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// Module is one downloaded module version, as `go mod download -json`
// describes it.
type Module struct {
	Path    string
	Version string
	Zip     string // path of the verified zip in the module cache
	Sum     string // h1: hash of the zip's content
}

// Download fetches module@version into the module cache (a no-op when it is
// already there) and returns the path of its zip.
func Download(module, version string) (zipPath string, err error) {
	m, err := Fetch(module, version)
	if err != nil {
		return "", err
	}
	return m.Zip, nil
}

// Fetch is Download that also reports the module's checksum.
func Fetch(module, version string) (Module, error) {
	if module == "" || version == "" {
		return Module{}, fmt.Errorf("download module: module path and version are both required (got %q@%q)", module, version)
	}
	// Run outside any module so that neither this repository's go.mod nor a
	// go.work takes part, and so that -mod flags in GOFLAGS cannot interfere.
	dir, err := os.MkdirTemp("", "modzip-")
	if err != nil {
		return Module{}, fmt.Errorf("download %s@%s: %w", module, version, err)
	}
	defer os.RemoveAll(dir)

	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = dir
	// GOTOOLCHAIN=local: a module whose go.mod asks for a newer Go must not
	// make the go command fetch a toolchain just to hand us a zip.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GO111MODULE=on", "GOTOOLCHAIN=local")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	var out struct {
		Path, Version, Zip, Sum, Error string
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		if runErr != nil {
			return Module{}, fmt.Errorf("download %s@%s: %w: %s", module, version, runErr, strings.TrimSpace(stderr.String()))
		}
		return Module{}, fmt.Errorf("download %s@%s: read go mod download output: %w", module, version, err)
	}
	if out.Error != "" && !toolchainOnly(out.Error, out.Zip) {
		return Module{}, fmt.Errorf("download %s@%s: %s", module, version, out.Error)
	}
	if out.Zip == "" {
		return Module{}, fmt.Errorf("download %s@%s: go mod download reported no zip", module, version)
	}
	if _, err := os.Stat(out.Zip); err != nil {
		return Module{}, fmt.Errorf("download %s@%s: %w", module, version, err)
	}
	return Module{Path: out.Path, Version: out.Version, Zip: out.Zip, Sum: out.Sum}, nil
}

// toolchainOnly reports whether a go mod download error only says that the
// module's go.mod asks for a newer Go than the running one. The zip has been
// downloaded and verified by then, and reading data files out of it needs no
// toolchain, so that error does not matter here.
func toolchainOnly(msg, zipPath string) bool {
	if zipPath == "" || !strings.Contains(msg, " requires go >= ") {
		return false
	}
	_, err := os.Stat(zipPath)
	return err == nil
}

// CachedZip returns the path of module@version's zip in the module cache
// without touching the network, or an error wrapping fs.ErrNotExist when the
// zip is not there.
func CachedZip(module, version string) (string, error) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("find module cache: %w", err)
	}
	cache := strings.TrimSpace(string(out))
	if cache == "" {
		return "", fmt.Errorf("find module cache: go env GOMODCACHE is empty")
	}
	p := filepath.Join(cache, "cache", "download", filepath.FromSlash(escape(module)), "@v", escape(version)+".zip")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("find %s@%s in the module cache: %w", module, version, err)
	}
	return p, nil
}

// escape applies the module cache's case encoding: every upper-case letter
// becomes '!' followed by its lower-case form.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ErrNotFound is returned (wrapped) by ReadFile when the zip has no such file.
var ErrNotFound = errors.New("not in module zip")

// ReadFile returns the content of name (a slash-separated path relative to
// the module root) from the zip of module@version.
func ReadFile(zipPath, module, version, name string) ([]byte, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("open module zip %s: %w", zipPath, err)
	}
	defer zr.Close()
	return readFile(&zr.Reader, prefix(module, version), name)
}

// Glob returns the content of every file of the zip of module@version whose
// path relative to the module root matches pattern (path.Match syntax), keyed
// by that relative path. It is an error for nothing to match: generators use
// Glob to find upstream files that must be there.
func Glob(zipPath, module, version, pattern string) (map[string][]byte, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("glob %s in %s@%s: %w", pattern, module, version, err)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("open module zip %s: %w", zipPath, err)
	}
	defer zr.Close()
	pre := prefix(module, version)
	files := map[string][]byte{}
	for _, f := range zr.File {
		rel, ok := strings.CutPrefix(f.Name, pre)
		if !ok {
			continue
		}
		if ok, _ := path.Match(pattern, rel); !ok {
			continue
		}
		b, err := readZipFile(f)
		if err != nil {
			return nil, fmt.Errorf("read %s from %s@%s: %w", rel, module, version, err)
		}
		files[rel] = b
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("glob %s in %s@%s: %w", pattern, module, version, ErrNotFound)
	}
	return files, nil
}

// Names returns the sorted keys of a Glob result.
func Names(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// prefix is the directory every file of a module zip lives under.
func prefix(module, version string) string {
	return module + "@" + version + "/"
}

func readFile(zr *zip.Reader, pre, name string) ([]byte, error) {
	full := pre + strings.TrimPrefix(name, "/")
	for _, f := range zr.File {
		if f.Name == full {
			b, err := readZipFile(f)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", full, err)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("read %s: %w", full, ErrNotFound)
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
