package charts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Client is the network side of PullAll: its own HTTP transport (the
// process's default transport refuses the network), HTTPS only, TLS
// verified, with timeouts; the proxy from the environment; registry
// credentials from the Docker and Helm registry configs only.
type Client struct {
	// HTTP fetches index.yaml and chart archives; its transport is also
	// the OCI registry transport.
	HTTP *http.Client
	// Keychain gives OCI registry credentials.
	Keychain authn.Keychain
	// UserAgent is sent with every request.
	UserAgent string
}

// ClientOptions configure NewClient.
type ClientOptions struct {
	// RootCAs replaces the system's certificate pool (tests; nil: system).
	RootCAs *x509.CertPool
	// Getenv reads HELM_REGISTRY_CONFIG, XDG_CONFIG_HOME and HOME (nil:
	// os.Getenv).
	Getenv func(string) string
	// UserAgent, e.g. "gitops-lint/1.2.3".
	UserAgent string
}

// NewClient builds the Client of a pull: a fresh http.Transport (never
// http.DefaultTransport) that refuses any URL but https://.
func NewClient(o ClientOptions) *Client {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	t := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: o.RootCAs},
		TLSHandshakeTimeout:    15 * time.Second,
		ResponseHeaderTimeout:  60 * time.Second,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConnsPerHost:    4,
		MaxResponseHeaderBytes: 1 << 20,
		ForceAttemptHTTP2:      true,
	}
	return &Client{
		HTTP:      &http.Client{Transport: httpsOnly{t}, Timeout: 10 * time.Minute},
		Keychain:  authn.NewMultiKeychain(authn.DefaultKeychain, helmKeychain{getenv: o.Getenv}),
		UserAgent: o.UserAgent,
	}
}

// httpsOnly refuses plain HTTP (including a redirect to it, and the plain
// HTTP fallback go-containerregistry tries for loopback and private
// registries).
type httpsOnly struct{ next http.RoundTripper }

func (h httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("refusing %s://%s: charts are pulled over HTTPS only", req.URL.Scheme, req.URL.Host)
	}
	return h.next.RoundTrip(req)
}

// Pulled is the outcome of one ref of PullAll.
type Pulled struct {
	Ref      Ref
	Resolved Resolved // Archive is nil; From is the cache directory
	Err      error
}

// PullAll fetches every ref (duplicates once) into the cache's user
// directory, verifying digests, and reports each outcome in the order of
// refs. The error joins the refs' errors.
func PullAll(ctx context.Context, refs []Ref, cache *Cache, client *Client) ([]Pulled, error) {
	if cache == nil || cache.cacheDir == "" {
		return nil, errors.New("no chart cache directory")
	}
	if client == nil {
		client = NewClient(ClientOptions{})
	}
	p := &puller{cache: cache, client: client, limits: cache.limits, indexes: map[string]*Index{}}
	done := map[Ref]Pulled{}
	var out []Pulled
	var errs []error
	for _, ref := range refs {
		r, ok := done[ref]
		if !ok {
			cctx, cancel := context.WithTimeout(ctx, p.limits.Timeout)
			var err error
			if ref.OCI() {
				r.Resolved, err = p.pullOCI(cctx, ref)
			} else {
				r.Resolved, err = p.pullHTTP(cctx, ref)
			}
			cancel()
			r.Ref = ref
			if err != nil {
				r.Err = fmt.Errorf("pull %s: %w", ref, err)
				errs = append(errs, r.Err)
			}
			r.Resolved.Archive = nil
			r.Resolved.From = cache.cacheDir
			done[ref] = r
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

type puller struct {
	cache   *Cache
	client  *Client
	limits  Limits
	indexes map[string]*Index // by repository directory, fetched this run
}

// get fetches u, at most limit bytes.
func (p *puller) get(ctx context.Context, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if p.client.UserAgent != "" {
		req.Header.Set("User-Agent", p.client.UserAgent)
	}
	resp, err := p.client.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", redact(u), resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, tooLarge(redact(u), limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", redact(u), err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(redact(u), limit)
	}
	return data, nil
}

// redact drops user information from a URL for messages.
func redact(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	return pu.Redacted()
}

func (p *puller) pullHTTP(ctx context.Context, ref Ref) (Resolved, error) {
	dirName, err := RepoDir(ref.URL)
	if err != nil {
		return Resolved{}, err
	}
	dir := filepath.Join(p.cache.cacheDir, "http", dirName)
	idx, ok := p.indexes[dirName]
	if !ok {
		base := strings.TrimRight(ref.URL, "/") + "/"
		raw, err := p.get(ctx, base+"index.yaml", p.limits.IndexBytes)
		if err != nil {
			return Resolved{}, err
		}
		if idx, err = ParseIndex(raw); err != nil {
			return Resolved{}, err
		}
		if err := writeAtomic(filepath.Join(dir, "index.yaml"), raw); err != nil {
			return Resolved{}, err
		}
		p.indexes[dirName] = idx
	}
	cv, err := idx.Select(ref.Chart, ref.Version)
	if err != nil {
		return Resolved{}, err
	}
	file, err := archiveName(ref.Chart, cv.Version)
	if err != nil {
		return Resolved{}, err
	}
	if len(cv.URLs) == 0 {
		return Resolved{}, fmt.Errorf("chart %s %s: the index lists no URL", ref.Chart, cv.Version)
	}
	base, _ := url.Parse(strings.TrimRight(ref.URL, "/") + "/")
	au, err := base.Parse(cv.URLs[0])
	if err != nil {
		return Resolved{}, fmt.Errorf("chart %s %s: URL %q: %w", ref.Chart, cv.Version, cv.URLs[0], err)
	}
	archive, err := p.get(ctx, au.String(), p.limits.ArchiveBytes)
	if err != nil {
		return Resolved{}, err
	}
	d := Digest(archive)
	if want := indexDigest(cv.Digest); want != "" && want != d {
		return Resolved{}, fmt.Errorf("%s: %w: the index lists %s, the download is %s", redact(au.String()), ErrDigest, want, d)
	}
	if ref.Digest != "" && ref.Digest != d {
		return Resolved{}, fmt.Errorf("%s: %w: pinned %s, the download is %s", redact(au.String()), ErrDigest, ref.Digest, d)
	}
	if err := writeAtomic(filepath.Join(dir, file), archive); err != nil {
		return Resolved{}, err
	}
	return Resolved{Archive: archive, Version: cv.Version, Digest: d}, nil
}

func (p *puller) remoteOptions(ctx context.Context) []remote.Option {
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(p.client.HTTP.Transport),
		remote.WithAuthFromKeychain(p.client.Keychain),
		remote.WithJobs(1),
	}
	if p.client.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(p.client.UserAgent))
	}
	return opts
}

func (p *puller) pullOCI(ctx context.Context, ref Ref) (Resolved, error) {
	repo, err := ociRepoOf(ref)
	if err != nil {
		return Resolved{}, err
	}
	nrepo, err := name.NewRepository(repo.String(), name.StrictValidation)
	if err != nil {
		return Resolved{}, err
	}
	opts := p.remoteOptions(ctx)
	var target name.Reference
	tag := ""
	switch {
	case ref.Digest != "":
		target = nrepo.Digest(ref.Digest)
		tag = ref.Tag
	case ref.Kind == KindOCIRepository && ref.Version == "":
		tag = ociTag(ref)
		target = nrepo.Tag(tag)
	default:
		tags, err := remote.List(nrepo, opts...)
		if err != nil {
			return Resolved{}, fmt.Errorf("list the tags of %s: %w", repo, err)
		}
		versions := make([]string, len(tags))
		for i, t := range tags {
			versions[i] = tagVersion(t)
		}
		v, err := selectVersion(versions, ref.Version)
		if err != nil {
			return Resolved{}, fmt.Errorf("%s: %w", repo, err)
		}
		tag = versionTag(v)
		target = nrepo.Tag(tag)
	}
	desc, err := remote.Get(target, opts...)
	if err != nil {
		return Resolved{}, err
	}
	if desc.MediaType != types.OCIManifestSchema1 && desc.MediaType != types.DockerManifestSchema2 {
		return Resolved{}, fmt.Errorf("%s: %s is not an image manifest (a Helm chart artifact)", target, desc.MediaType)
	}
	if ref.Digest != "" && desc.Digest.String() != ref.Digest {
		return Resolved{}, fmt.Errorf("%s: %w: got manifest %s", target, ErrDigest, desc.Digest)
	}
	if Digest(desc.Manifest) != desc.Digest.String() {
		return Resolved{}, fmt.Errorf("%s: %w: the manifest is not %s", target, ErrDigest, desc.Digest)
	}
	layerDesc, config, err := chartLayer(desc.Manifest, p.limits.ArchiveBytes)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s: %w", target, err)
	}
	if config.Size > ociMetaBytes {
		return Resolved{}, tooLarge("config "+config.Digest.String(), ociMetaBytes)
	}
	archive, err := p.blob(nrepo, layerDesc, p.limits.ArchiveBytes, opts)
	if err != nil {
		return Resolved{}, err
	}
	cfg, err := p.blob(nrepo, config, ociMetaBytes, opts)
	if err != nil {
		return Resolved{}, err
	}
	if err := p.writeLayout(repo, tag, desc.Descriptor, desc.Manifest, cfg, archive); err != nil {
		return Resolved{}, err
	}
	version := tagVersion(tag)
	var meta struct {
		Version string `json:"version"`
	}
	if string(config.MediaType) == MediaTypeChartConfig && json.Unmarshal(cfg, &meta) == nil && meta.Version != "" {
		version = meta.Version
	}
	return Resolved{Archive: archive, Version: version, Digest: Digest(archive), ManifestDigest: desc.Digest.String()}, nil
}

// blob downloads one blob, bounded, and checks its digest.
func (p *puller) blob(repo name.Repository, d v1.Descriptor, limit int64, opts []remote.Option) ([]byte, error) {
	if d.Size > limit {
		return nil, tooLarge("blob "+d.Digest.String(), limit)
	}
	l, err := remote.Layer(repo.Digest(d.Digest.String()), opts...)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge("blob "+d.Digest.String(), limit)
	}
	sum := sha256.Sum256(data)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != d.Digest.String() {
		return nil, fmt.Errorf("blob %s: %w: content is %s", d.Digest, ErrDigest, got)
	}
	return data, nil
}

const ociLayoutFile = `{"imageLayoutVersion":"1.0.0"}`

// writeLayout adds the chart's blobs to the repository's OCI image layout
// and points tag at its manifest: blobs through layout.Path.WriteBlob
// (temporary file and rename), index.json replaced atomically under a
// file lock, so concurrent pulls and readers see whole files only.
func (p *puller) writeLayout(repo ociRepo, tag string, desc v1.Descriptor, manifest, config, archive []byte) error {
	dir := filepath.Join(p.cache.cacheDir, filepath.FromSlash(repo.dir()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	unlock, err := lockPath(filepath.Join(p.cache.cacheDir, ".locks"), repo.dir())
	if err != nil {
		return err
	}
	defer unlock()
	lp := layout.Path(dir)
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		if err := writeAtomic(filepath.Join(dir, "oci-layout"), []byte(ociLayoutFile)); err != nil {
			return err
		}
	}
	for _, b := range [][]byte{archive, config, manifest} {
		h, _, err := v1.SHA256(bytes.NewReader(b))
		if err != nil {
			return err
		}
		if err := lp.WriteBlob(h, io.NopCloser(bytes.NewReader(b))); err != nil {
			return fmt.Errorf("write blob %s: %w", h, err)
		}
	}
	im := &v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	if raw, err := os.ReadFile(filepath.Join(dir, "index.json")); err == nil {
		if im, err = v1.ParseIndexManifest(bytes.NewReader(raw)); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dir, "index.json"), err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	d := v1.Descriptor{MediaType: desc.MediaType, Size: int64(len(manifest)), Digest: desc.Digest}
	if tag != "" {
		d.Annotations = map[string]string{annotationRefName: tag}
	}
	// A tag moves to the new manifest; an untagged (digest-pinned) pull
	// adds the manifest only if no descriptor has it yet.
	im.Manifests = slices.DeleteFunc(im.Manifests, func(o v1.Descriptor) bool {
		t := o.Annotations[annotationRefName]
		return tag != "" && t == tag || t == "" && o.Digest == d.Digest
	})
	if tag != "" || !slices.ContainsFunc(im.Manifests, func(o v1.Descriptor) bool { return o.Digest == d.Digest }) {
		im.Manifests = append(im.Manifests, d)
	}
	slices.SortStableFunc(im.Manifests, func(a, b v1.Descriptor) int {
		return strings.Compare(a.Annotations[annotationRefName]+"@"+a.Digest.String(), b.Annotations[annotationRefName]+"@"+b.Digest.String())
	})
	raw, err := json.MarshalIndent(im, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, "index.json"), append(raw, '\n'))
}

// writeAtomic writes data to path through a temporary file in the same
// directory and a rename: a reader sees the old file or the new one.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
