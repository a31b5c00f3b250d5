// Package charts is gitops-lint's Helm chart cache: where the charts of
// HelmReleases are found without the network, and the one place that
// fetches them (PullAll, behind `gitops-lint charts pull`).
//
// A chart is looked up in two roots, in order (docs/charts.md):
//
//  1. the vendor directory .gitops-lint/charts/ of the linted repository,
//     read through internal/confine (no symbolic link out of it, regular
//     files only, size-bounded);
//  2. the user cache (--chart-cache, GITOPS_LINT_CHART_CACHE, default
//     os.UserCacheDir()/gitops-lint/charts).
//
// Both roots have one layout:
//
//	http/<repo-dir>/index.yaml               a HelmRepository's index
//	http/<repo-dir>/<chart>-<version>.tgz    its chart archives
//	oci/<registry>/<repository>/             an OCI image layout per repository
//
// where <repo-dir> is RepoDir(url). Nothing in this package but PullAll
// touches the network.
package charts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/confine"
)

// Kinds of Ref.
const (
	KindHelmRepository = "HelmRepository"
	KindOCIRepository  = "OCIRepository"
)

// VendorDir is the vendor directory, relative to the repository root.
const VendorDir = ".gitops-lint/charts"

// LockFile is the lock's name, at the repository root.
const LockFile = "charts.lock"

// EnvCacheDir names the user cache when --chart-cache is not given.
const EnvCacheDir = "GITOPS_LINT_CHART_CACHE"

// Helm's media types of a chart pushed as an OCI artifact.
const (
	MediaTypeChartLayer  = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	MediaTypeChartConfig = "application/vnd.cncf.helm.config.v1+json"
)

// ErrNotCached: no root holds the chart (or no version of it matches).
// The caller reports render/helm-chart-missing with PullCommand(ref).
var ErrNotCached = errors.New("chart not in the vendor directory or the chart cache")

// ErrDigest: an archive, layer or manifest does not match its digest.
var ErrDigest = errors.New("digest mismatch")

// Limits bound what is read or downloaded. The zero value of a field is
// its default.
type Limits struct {
	// ArchiveBytes bounds one chart archive (.tgz or OCI layer); default 10 MiB.
	ArchiveBytes int64
	// IndexBytes bounds one index.yaml; default 20 MiB.
	IndexBytes int64
	// Timeout bounds one chart's download (PullAll); default 2m.
	Timeout time.Duration
	// Budget, when set, is charged for every file read from the vendor
	// directory (the run's total-bytes budget).
	Budget *confine.Budget
}

func (l Limits) withDefaults() Limits {
	if l.ArchiveBytes <= 0 {
		l.ArchiveBytes = 10 << 20
	}
	if l.IndexBytes <= 0 {
		l.IndexBytes = 20 << 20
	}
	if l.Timeout <= 0 {
		l.Timeout = 2 * time.Minute
	}
	return l
}

// Ref is what a HelmRelease asks for.
type Ref struct {
	// Kind is KindHelmRepository (HTTP or type: oci) or KindOCIRepository.
	Kind string
	// URL is the repository URL: https://… for an HTTP HelmRepository,
	// oci://registry/path for an OCI HelmRepository (the chart is
	// path/Chart) and for an OCIRepository (the artifact itself).
	URL string
	// Chart is the chart name (HelmRepository); for an OCIRepository it
	// is informative only (the last element of URL).
	Chart string
	// Version is a semver constraint or an exact version ("" or "*":
	// the latest non-prerelease). OCIRepository: spec.ref.semver.
	Version string
	// Digest pins the content: for HTTP the archive's sha256, for OCI the
	// manifest digest (OCIRepository spec.ref.digest). "sha256:<hex>".
	Digest string
	// Tag is OCIRepository spec.ref.tag (default "latest" when neither
	// Version nor Digest is set).
	Tag string
}

// OCI reports whether the chart comes from an OCI registry.
func (r Ref) OCI() bool {
	return r.Kind == KindOCIRepository || strings.HasPrefix(r.URL, "oci://")
}

// String names the ref in messages.
func (r Ref) String() string {
	s := r.URL
	if r.Kind == KindHelmRepository && r.Chart != "" {
		s += " chart " + r.Chart
	}
	switch {
	case r.Digest != "":
		s += "@" + r.Digest
	case r.Version != "":
		s += " version " + r.Version
	case r.Tag != "":
		s += ":" + r.Tag
	}
	return s
}

// Resolved is a chart found in a root.
type Resolved struct {
	// Archive is the chart's .tgz.
	Archive []byte
	// Version is the chart version resolved (for OCI the tag, "_" read as
	// "+", or the chart's version from the artifact's config).
	Version string
	// Digest is "sha256:<hex>" of Archive.
	Digest string
	// ManifestDigest is the OCI manifest's digest ("" for HTTP). For an
	// OCIRepository chartRef without spec.disableChartDigestTracking,
	// helm-controller versions the chart TrackedVersion(Version,
	// ManifestDigest).
	ManifestDigest string
	// From is the root it came from: VendorDir or the cache directory.
	From string
}

// TrackedVersion is helm-controller's chart version for an OCIRepository
// source with digest tracking: version+<first 12 hex of the digest>.
func TrackedVersion(version, manifestDigest string) string {
	_, hexd, _ := strings.Cut(manifestDigest, ":")
	if len(hexd) < 12 {
		return version
	}
	if strings.Contains(version, "+") {
		version = version[:strings.Index(version, "+")]
	}
	return version + "+" + hexd[:12]
}

// Digest is "sha256:<hex>" of b.
func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// CacheDir is the user cache: flag, else $GITOPS_LINT_CHART_CACHE, else
// os.UserCacheDir()/gitops-lint/charts.
func CacheDir(flag string, getenv func(string) string) (string, error) {
	if flag != "" {
		return filepath.Abs(flag)
	}
	if getenv != nil {
		if d := getenv(EnvCacheDir); d != "" {
			return filepath.Abs(d)
		}
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no chart cache directory: %w (set --chart-cache or %s)", err, EnvCacheDir)
	}
	return filepath.Join(d, "gitops-lint", "charts"), nil
}
