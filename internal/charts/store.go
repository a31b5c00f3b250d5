package charts

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"sigs.k8s.io/yaml"
)

// StoreHTTP writes a Helm repository's index.yaml and chart archives
// into the cache directory cacheDir, where Find looks them up:
// http/<RepoDir(repoURL)>/index.yaml and …/<chart>-<version>.tgz. It is
// what a pull writes, without the network (a chart cache built from local
// chart sources, tests). archives is keyed by file name; each one must be
// a version the index lists, under the name Find reads
// (<chart>-<version>.tgz), with the digest the index lists, if any.
// Files are written atomically, as PullAll writes them.
func StoreHTTP(cacheDir, repoURL string, index []byte, archives map[string][]byte) error {
	if cacheDir == "" {
		return errors.New("no chart cache directory")
	}
	dirName, err := RepoDir(repoURL)
	if err != nil {
		return err
	}
	idx, err := ParseIndex(index)
	if err != nil {
		return err
	}
	listed := map[string]ChartVersion{}
	for chart, entries := range idx.Entries {
		for _, e := range entries {
			if file, err := archiveName(chart, e.Version); err == nil {
				listed[file] = e
			}
		}
	}
	for file, archive := range archives {
		e, ok := listed[file]
		if !ok {
			return fmt.Errorf("archive %q: the index lists no chart version of that file name", file)
		}
		if want := indexDigest(e.Digest); want != "" && want != Digest(archive) {
			return fmt.Errorf("archive %q: %w: the index lists %s, the archive is %s", file, ErrDigest, want, Digest(archive))
		}
	}
	dir := filepath.Join(cacheDir, "http", dirName)
	for file, archive := range archives {
		if err := writeAtomic(filepath.Join(dir, file), archive); err != nil {
			return err
		}
	}
	// The index last: a reader that sees it finds its archives.
	return writeAtomic(filepath.Join(dir, "index.yaml"), index)
}

// StoreOCI writes a chart archive into the cache directory cacheDir as
// `helm push` would push it to ociURL:tag (ociURL is the repository of
// the chart itself, oci://registry/path/chart, as an OCIRepository's
// spec.url): a manifest with the chart's metadata as config
// (MediaTypeChartConfig) and the archive as its one layer
// (MediaTypeChartLayer), added to the repository's OCI image layout
// oci/<registry>/<repository>/ with the tag, through the writer PullAll
// uses. The tag must be the chart's version ("+" written "_"). It
// returns the manifest digest.
func StoreOCI(cacheDir, ociURL, tag string, archive []byte) (string, error) {
	if cacheDir == "" {
		return "", errors.New("no chart cache directory")
	}
	repo, err := ociRepoOf(Ref{Kind: KindOCIRepository, URL: ociURL})
	if err != nil {
		return "", err
	}
	meta, err := chartMetadata(archive)
	if err != nil {
		return "", err
	}
	var md struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(meta, &md); err != nil {
		return "", fmt.Errorf("read Chart.yaml: %w", err)
	}
	if md.Version == "" || versionTag(md.Version) != tag {
		return "", fmt.Errorf("%s:%s: the archive is chart %s version %q, not the tag's version", repo, tag, md.Name, md.Version)
	}
	if md.Name != path.Base(repo.Repository) {
		return "", fmt.Errorf("%s:%s: the archive is chart %q, not %q", repo, tag, md.Name, path.Base(repo.Repository))
	}
	config := meta
	desc := func(b []byte, mt string) v1.Descriptor {
		h, n, _ := v1.SHA256(bytes.NewReader(b))
		return v1.Descriptor{MediaType: types.MediaType(mt), Size: n, Digest: h}
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        desc(config, MediaTypeChartConfig),
		Layers:        []v1.Descriptor{desc(archive, MediaTypeChartLayer)},
	}
	manifest, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	md2 := desc(manifest, string(types.OCIManifestSchema1))
	p := &puller{cache: &Cache{cacheDir: cacheDir}}
	if err := p.writeLayout(repo, tag, md2, manifest, config, archive); err != nil {
		return "", err
	}
	return md2.Digest.String(), nil
}

// chartMetadata is the Chart.yaml of a chart archive (<chart>/Chart.yaml,
// the first directory level) as JSON, as `helm push` writes the config.
func chartMetadata(archive []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		return nil, fmt.Errorf("chart archive: %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, errors.New("chart archive: no Chart.yaml")
		}
		if err != nil {
			return nil, fmt.Errorf("chart archive: %w", err)
		}
		parts := strings.Split(strings.TrimPrefix(h.Name, "./"), "/")
		if len(parts) != 2 || parts[1] != "Chart.yaml" || h.Typeflag != tar.TypeReg {
			continue
		}
		raw, err := io.ReadAll(io.LimitReader(tr, ociMetaBytes+1))
		if err != nil {
			return nil, fmt.Errorf("chart archive: %w", err)
		}
		if len(raw) > ociMetaBytes {
			return nil, tooLarge("Chart.yaml", ociMetaBytes)
		}
		j, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("chart archive: Chart.yaml: %w", err)
		}
		return j, nil
	}
}
