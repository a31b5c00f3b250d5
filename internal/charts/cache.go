package charts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/gitops-lint/gitops-lint/internal/confine"
)

// Cache finds charts in the vendor directory of a repository, then in the
// user cache. It never touches the network.
type Cache struct {
	vendor   string // absolute vendor directory ("" if the repository has none)
	cacheDir string // absolute user cache directory ("" for none)
	repoRoot string // absolute repository root ("" for none): its charts.lock
	limits   Limits

	lock *Lock // the repository's charts.lock (empty when it has none)
}

// Open prepares the lookup for the repository at repoRoot ("" for none)
// and the user cache cacheDir ("" for none; see CacheDir). The vendor
// directory must resolve inside repoRoot; it is read-only here.
func Open(repoRoot, cacheDir string, limits ...Limits) (*Cache, error) {
	c := &Cache{}
	if len(limits) > 0 {
		c.limits = limits[0]
	}
	c.limits = c.limits.withDefaults()
	if repoRoot != "" {
		abs, err := filepath.Abs(repoRoot)
		if err != nil {
			return nil, err
		}
		c.repoRoot = abs
		if c.lock, err = ReadLock(abs); err != nil {
			return nil, err
		}
		v := filepath.Join(abs, filepath.FromSlash(VendorDir))
		if st, err := os.Stat(v); err == nil && st.IsDir() {
			ok, err := confine.Within(abs, v)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, &confine.Error{Path: VendorDir, Err: confine.ErrOutside}
			}
			c.vendor = v
		}
	}
	if cacheDir != "" {
		abs, err := filepath.Abs(cacheDir)
		if err != nil {
			return nil, err
		}
		c.cacheDir = abs
	}
	return c, nil
}

// Dir is the user cache directory ("" for none).
func (c *Cache) Dir() string { return c.cacheDir }

// Limits are the cache's bounds, defaults applied.
func (c *Cache) Limits() Limits { return c.limits }

// errAbsent: this root does not hold the chart; the next one is tried.
var errAbsent = errors.New("absent")

type absentError struct{ why string }

func (e *absentError) Error() string   { return e.why }
func (e *absentError) Is(t error) bool { return t == errAbsent }

func absent(format string, args ...any) error {
	return &absentError{why: fmt.Sprintf(format, args...)}
}

// root is one directory of the lookup, read through internal/confine.
type root struct {
	name string // VendorDir or the cache directory, for Resolved.From
	r    *confine.Root
}

// read reads rel, at most limit bytes; a missing file is errAbsent.
func (r root) read(rel string, limit int64) ([]byte, error) {
	data, err := r.r.ReadFile(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, absent("%s has no %s", r.name, rel)
		}
		return nil, fmt.Errorf("%s: %w", r.name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w", r.name, tooLarge(rel, limit))
	}
	return data, nil
}

// tooLarge refuses a file or download over its limit (errors.Is
// confine.ErrTooLarge).
func tooLarge(what string, limit int64) error {
	return fmt.Errorf("%s %w of %s", what, confine.ErrTooLarge, confine.FormatBytes(limit))
}

// Find looks ref up in the vendor directory, then in the user cache. It
// returns an error wrapping ErrNotCached when neither holds a matching
// version; any other error (a digest mismatch, a file over its limit, a
// symbolic link out of the vendor directory) is reported as it is.
// FindLocked is Find for HelmRelease release ("namespace/name") of
// environment env: when the repository's charts.lock records the chart it
// resolved for that release with the same request, that exact version is
// looked up and its digest must be the one recorded, so that a range
// ("^6") renders what the lock says on every machine, whatever newer
// versions the cache holds. Otherwise it is Find.
func (c *Cache) FindLocked(env, release string, ref Ref) (Resolved, error) {
	e, ok := c.lock.entry(env, release, ref)
	if !ok {
		return c.Find(ref)
	}
	exact := ref
	if ref.Version != "" || ref.Kind == KindHelmRepository {
		exact.Version = e.Resolved // a range resolved once, at pull time
	}
	res, err := c.Find(exact)
	if err != nil {
		return res, err
	}
	if e.Digest != "" && res.Digest != e.Digest {
		return Resolved{}, fmt.Errorf("chart %s: %w (the cached archive of %s has digest %s, %s records %s)", ref, ErrNotCached, e.Resolved, res.Digest, LockFile, e.Digest)
	}
	return res, nil
}

func (c *Cache) Find(ref Ref) (Resolved, error) {
	why := ""
	for _, dir := range []struct{ path, name string }{{c.vendor, VendorDir}, {c.cacheDir, c.cacheDir}} {
		if dir.path == "" {
			continue
		}
		var budget *confine.Budget
		if dir.name == VendorDir {
			budget = c.limits.Budget
		}
		cr, err := confine.Open(dir.path, max(c.limits.ArchiveBytes, c.limits.IndexBytes), budget)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return Resolved{}, err
		}
		res, err := c.findIn(root{name: dir.name, r: cr}, ref)
		cr.Close()
		if errors.Is(err, errAbsent) {
			why = err.Error()
			continue
		}
		if err != nil {
			return Resolved{}, fmt.Errorf("chart %s: %w", ref, err)
		}
		res.From = dir.name
		return res, nil
	}
	if why != "" {
		return Resolved{}, fmt.Errorf("chart %s: %w (%s)", ref, ErrNotCached, why)
	}
	return Resolved{}, fmt.Errorf("chart %s: %w", ref, ErrNotCached)
}

func (c *Cache) findIn(r root, ref Ref) (Resolved, error) {
	switch {
	case ref.Kind != KindHelmRepository && ref.Kind != KindOCIRepository:
		return Resolved{}, fmt.Errorf("unsupported source kind %q", ref.Kind)
	case ref.OCI():
		return c.findOCI(r, ref)
	}
	return c.findHTTP(r, ref)
}

func (c *Cache) findHTTP(r root, ref Ref) (Resolved, error) {
	dir, err := RepoDir(ref.URL)
	if err != nil {
		return Resolved{}, err
	}
	dir = "http/" + dir
	data, err := r.read(dir+"/index.yaml", c.limits.IndexBytes)
	if err != nil {
		return Resolved{}, err
	}
	idx, err := ParseIndex(data)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s/%s: %w", r.name, dir, err)
	}
	cv, err := idx.Select(ref.Chart, ref.Version)
	if err != nil {
		return Resolved{}, absent("%s/%s/index.yaml: %v", r.name, dir, err)
	}
	name, err := archiveName(ref.Chart, cv.Version)
	if err != nil {
		return Resolved{}, err
	}
	archive, err := r.read(dir+"/"+name, c.limits.ArchiveBytes)
	if err != nil {
		return Resolved{}, err
	}
	d := Digest(archive)
	if want := indexDigest(cv.Digest); want != "" && want != d {
		return Resolved{}, fmt.Errorf("%s/%s/%s: %w: the index lists %s, the archive is %s", r.name, dir, name, ErrDigest, want, d)
	}
	if ref.Digest != "" && ref.Digest != d {
		return Resolved{}, fmt.Errorf("%s/%s/%s: %w: pinned %s, the archive is %s", r.name, dir, name, ErrDigest, ref.Digest, d)
	}
	return Resolved{Archive: archive, Version: cv.Version, Digest: d}, nil
}

// ociMetaBytes bounds index.json, a manifest and a config blob.
const ociMetaBytes = 4 << 20

const annotationRefName = "org.opencontainers.image.ref.name"

var hexDigest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// blobPath is the layout path of a digest.
func blobPath(d string) (string, error) {
	if !hexDigest.MatchString(d) {
		return "", fmt.Errorf("unsupported digest %q", d)
	}
	return "blobs/sha256/" + strings.TrimPrefix(d, "sha256:"), nil
}

// readBlob reads a blob of the layout at dir and checks its digest.
func readBlob(r root, dir, d string, limit int64) ([]byte, error) {
	p, err := blobPath(d)
	if err != nil {
		return nil, err
	}
	data, err := r.read(path.Join(dir, p), limit)
	if err != nil {
		return nil, err
	}
	if got := Digest(data); got != d {
		return nil, fmt.Errorf("%s/%s/%s: %w: content is %s", r.name, dir, p, ErrDigest, got)
	}
	return data, nil
}

// tagVersion reads an OCI tag as a chart version (Helm pushes "+" as "_").
func tagVersion(tag string) string { return strings.ReplaceAll(tag, "_", "+") }

// versionTag is the OCI tag of a chart version.
func versionTag(v string) string { return strings.ReplaceAll(v, "+", "_") }

// pickManifest selects ref's manifest among the layout's: by digest
// (OCIRepository spec.ref.digest), else by semver over the tags (a
// HelmRepository's version, OCIRepository spec.ref.semver), else by tag
// (OCIRepository spec.ref.tag, default "latest"): source-controller's
// precedence. It returns the descriptor and its tag ("" if untagged).
func pickManifest(ref Ref, manifests []v1.Descriptor) (v1.Descriptor, string, error) {
	if ref.Digest != "" {
		for _, d := range manifests {
			if d.Digest.String() == ref.Digest {
				return d, d.Annotations[annotationRefName], nil
			}
		}
		return v1.Descriptor{}, "", absent("no manifest %s", ref.Digest)
	}
	tagged := map[string]v1.Descriptor{}
	for _, d := range manifests {
		if tag := d.Annotations[annotationRefName]; tag != "" {
			tagged[tag] = d
		}
	}
	if ref.Kind == KindOCIRepository && ref.Version == "" {
		tag := ociTag(ref)
		d, ok := tagged[tag]
		if !ok {
			return v1.Descriptor{}, "", absent("no tag %q", tag)
		}
		return d, tag, nil
	}
	byVersion := map[string]string{}
	versions := make([]string, 0, len(tagged))
	for tag := range tagged {
		byVersion[tagVersion(tag)] = tag
		versions = append(versions, tagVersion(tag))
	}
	v, err := selectVersion(versions, ref.Version)
	if err != nil {
		if errors.Is(err, errNoVersion) {
			return v1.Descriptor{}, "", absent("%v", err)
		}
		return v1.Descriptor{}, "", err
	}
	tag := byVersion[v]
	return tagged[tag], tag, nil
}

// ociTag is an OCIRepository's spec.ref.tag, "latest" by default.
func ociTag(ref Ref) string {
	if ref.Tag == "" {
		return "latest"
	}
	return ref.Tag
}

func (c *Cache) findOCI(r root, ref Ref) (Resolved, error) {
	repo, err := ociRepoOf(ref)
	if err != nil {
		return Resolved{}, err
	}
	dir := repo.dir()
	data, err := r.read(dir+"/index.json", ociMetaBytes)
	if err != nil {
		return Resolved{}, err
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return Resolved{}, fmt.Errorf("%s/%s/index.json: %w", r.name, dir, err)
	}
	desc, tag, err := pickManifest(ref, im.Manifests)
	if err != nil {
		if errors.Is(err, errAbsent) {
			return Resolved{}, absent("%s/%s: %v", r.name, dir, err)
		}
		return Resolved{}, err
	}
	raw, err := readBlob(r, dir, desc.Digest.String(), ociMetaBytes)
	if err != nil {
		return Resolved{}, err
	}
	layer, config, err := chartLayer(raw, c.limits.ArchiveBytes)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s/%s %s: %w", r.name, dir, desc.Digest, err)
	}
	archive, err := readBlob(r, dir, layer.Digest.String(), c.limits.ArchiveBytes)
	if err != nil {
		return Resolved{}, err
	}
	version := tagVersion(tag)
	if version == "" {
		version = ref.Tag
	}
	if config.MediaType == MediaTypeChartConfig {
		if cfg, err := readBlob(r, dir, config.Digest.String(), ociMetaBytes); err == nil {
			var meta struct {
				Version string `json:"version"`
			}
			if json.Unmarshal(cfg, &meta) == nil && meta.Version != "" {
				version = meta.Version
			}
		}
	}
	return Resolved{Archive: archive, Version: version, Digest: Digest(archive), ManifestDigest: desc.Digest.String()}, nil
}

// chartLayer is the Helm chart layer of a manifest (exactly one), within
// limit, and the manifest's config descriptor.
func chartLayer(raw []byte, limit int64) (v1.Descriptor, v1.Descriptor, error) {
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return v1.Descriptor{}, v1.Descriptor{}, err
	}
	var found []v1.Descriptor
	for _, l := range m.Layers {
		if string(l.MediaType) == MediaTypeChartLayer {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		return v1.Descriptor{}, v1.Descriptor{}, fmt.Errorf("want one layer of media type %s, found %d (not a Helm chart artifact)", MediaTypeChartLayer, len(found))
	}
	if found[0].Size > limit {
		return v1.Descriptor{}, v1.Descriptor{}, tooLarge("chart layer "+found[0].Digest.String(), limit)
	}
	return found[0], m.Config, nil
}
