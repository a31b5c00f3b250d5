package charts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gitops-lint/gitops-lint/internal/confine"
)

// LockAPIVersion is the lock's format.
const LockAPIVersion = "gitops-lint.dev/charts-lock/v1"

// lockHeader opens every charts.lock.
const lockHeader = "# charts.lock: the Helm charts of this repository's HelmReleases, written by\n# `gitops-lint charts pull`. Do not edit; commit it.\n"

// Lock is charts.lock: one entry per (environment, HelmRelease).
type Lock struct {
	APIVersion string      `yaml:"apiVersion"`
	Charts     []LockEntry `yaml:"charts"`
}

// LockEntry is the chart one HelmRelease of one environment resolved to.
type LockEntry struct {
	Environment string `yaml:"environment"`
	// HelmRelease is "namespace/name".
	HelmRelease string `yaml:"helmRelease"`
	Kind        string `yaml:"kind"`
	URL         string `yaml:"url"`
	Chart       string `yaml:"chart,omitempty"`
	// Version is the requested constraint ("" for the latest).
	Version string `yaml:"version,omitempty"`
	Tag     string `yaml:"tag,omitempty"`
	// Resolved is the version resolved.
	Resolved string `yaml:"resolved"`
	// Digest is the sha256 of the chart archive.
	Digest string `yaml:"digest"`
	// ManifestDigest is the OCI manifest's digest.
	ManifestDigest string `yaml:"manifestDigest,omitempty"`
}

// Entry is the lock entry of a release resolved to res.
func Entry(rel Release, res Resolved) LockEntry {
	return LockEntry{
		Environment: rel.Environment, HelmRelease: rel.ID(), Kind: rel.Ref.Kind, URL: rel.Ref.URL,
		Chart: rel.Ref.Chart, Version: rel.Ref.Version, Tag: rel.Ref.Tag,
		Resolved: res.Version, Digest: res.Digest, ManifestDigest: res.ManifestDigest,
	}
}

// Update replaces the entries of the environments envs (all of them when
// envs is nil) with entries, keeping the others.
func (l *Lock) Update(envs []string, entries []LockEntry) {
	if envs == nil {
		l.Charts = nil
	} else {
		l.Charts = slices.DeleteFunc(l.Charts, func(e LockEntry) bool { return slices.Contains(envs, e.Environment) })
	}
	l.Charts = append(l.Charts, entries...)
}

// Marshal is the lock's file content: entries sorted by environment and
// HelmRelease, fields in a fixed order, nothing that changes between runs.
func (l *Lock) Marshal() ([]byte, error) {
	out := Lock{APIVersion: LockAPIVersion, Charts: slices.Clone(l.Charts)}
	slices.SortStableFunc(out.Charts, func(a, b LockEntry) int {
		if c := strings.Compare(a.Environment, b.Environment); c != 0 {
			return c
		}
		return strings.Compare(a.HelmRelease, b.HelmRelease)
	})
	out.Charts = slices.CompactFunc(out.Charts, func(a, b LockEntry) bool {
		return a.Environment == b.Environment && a.HelmRelease == b.HelmRelease
	})
	if out.Charts == nil {
		out.Charts = []LockEntry{}
	}
	var b bytes.Buffer
	b.WriteString(lockHeader)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// entry is the lock entry of release in env for the request ref.
func (l *Lock) entry(env, release string, ref Ref) (LockEntry, bool) {
	if l == nil {
		return LockEntry{}, false
	}
	for _, e := range l.Charts {
		if e.Environment == env && e.HelmRelease == release && e.Kind == ref.Kind && e.URL == ref.URL &&
			e.Chart == ref.Chart && e.Version == ref.Version && e.Tag == ref.Tag && e.Resolved != "" {
			return e, true
		}
	}
	return LockEntry{}, false
}

// ReadLock reads charts.lock at the root of repoRoot (an empty Lock when
// there is none), confined to the repository.
func ReadLock(repoRoot string) (*Lock, error) {
	r, err := confine.Open(repoRoot, 16<<20, nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := r.ReadFile(LockFile)
	if errors.Is(err, fs.ErrNotExist) {
		return &Lock{APIVersion: LockAPIVersion}, nil
	}
	if err != nil {
		return nil, err
	}
	var l Lock
	if err := yaml.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", LockFile, err)
	}
	if l.APIVersion != LockAPIVersion {
		return nil, fmt.Errorf("%s: apiVersion %q, want %s", LockFile, l.APIVersion, LockAPIVersion)
	}
	return &l, nil
}

// WriteLock writes l to charts.lock at the root of repoRoot, atomically
// (a temporary file and a rename), unless it already has that content.
// It refuses a charts.lock that is not a regular file (a symbolic link is
// never followed). It reports whether the file changed.
func WriteLock(repoRoot string, l *Lock) (bool, error) {
	data, err := l.Marshal()
	if err != nil {
		return false, err
	}
	p := filepath.Join(repoRoot, LockFile)
	st, err := os.Lstat(p)
	switch {
	case err == nil && !st.Mode().IsRegular():
		return false, fmt.Errorf("%s is not a regular file (a symbolic link is not followed): not written", p)
	case err == nil:
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
			return false, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return false, err
	}
	return true, writeAtomic(p, data)
}
