package charts

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// chartTgz packages a minimal chart (Chart.yaml, values.yaml, one
// template) as helm package would, deterministically. pad adds a file of
// that many bytes of incompressible-ish content.
func chartTgz(t testing.TB, name, version string, pad int) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	files := []struct{ name, body string }{
		{"Chart.yaml", fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, version)},
		{"values.yaml", "replicas: 1\n"},
		{"templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"},
	}
	if pad > 0 {
		var b strings.Builder
		x := uint32(2463534242)
		for b.Len() < pad {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			fmt.Fprintf(&b, "%08x", x)
		}
		files = append(files, struct{ name, body string }{"files/pad.txt", b.String()})
	}
	for _, f := range files {
		hdr := &tar.Header{Name: name + "/" + f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// helmRepo is an HTTPS Helm chart repository.
type helmRepo struct {
	srv      *httptest.Server
	archives map[string][]byte // by file name
	index    []byte
	hits     atomic.Int64
}

type chartSpec struct {
	name, version string
	pad           int
	// badDigest lists a wrong digest in the index.
	badDigest bool
}

func newHelmRepo(t testing.TB, specs ...chartSpec) *helmRepo {
	t.Helper()
	r := &helmRepo{archives: map[string][]byte{}}
	var idx strings.Builder
	idx.WriteString("apiVersion: v1\nentries:\n")
	byName := map[string][]chartSpec{}
	var names []string
	for _, s := range specs {
		if _, ok := byName[s.name]; !ok {
			names = append(names, s.name)
		}
		byName[s.name] = append(byName[s.name], s)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&idx, "  %s:\n", n)
		for _, s := range byName[n] {
			data := chartTgz(t, s.name, s.version, s.pad)
			file := s.name + "-" + s.version + ".tgz"
			r.archives[file] = data
			d := strings.TrimPrefix(Digest(data), "sha256:")
			if s.badDigest {
				d = strings.Repeat("0", 64)
			}
			fmt.Fprintf(&idx, "  - apiVersion: v2\n    name: %s\n    version: %s\n    digest: %s\n    created: \"2024-01-01T00:00:00Z\"\n    urls:\n    - charts/%s\n", s.name, s.version, d, file)
		}
	}
	idx.WriteString("generated: \"2024-01-01T00:00:00Z\"\n")
	r.index = []byte(idx.String())
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		switch {
		case req.URL.Path == "/stable/index.yaml":
			w.Write(r.index)
		case strings.HasPrefix(req.URL.Path, "/stable/charts/"):
			data, ok := r.archives[strings.TrimPrefix(req.URL.Path, "/stable/charts/")]
			if !ok {
				http.NotFound(w, req)
				return
			}
			w.Write(data)
		default:
			http.NotFound(w, req)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *helmRepo) url() string { return r.srv.URL + "/stable/" }

func (r *helmRepo) ref(chart, version string) Ref {
	return Ref{Kind: KindHelmRepository, URL: r.url(), Chart: chart, Version: version}
}

// testClient trusts the servers' certificates only.
func testClient(srvs ...*httptest.Server) *Client {
	pool := x509.NewCertPool()
	for _, s := range srvs {
		pool.AddCert(s.Certificate())
	}
	return NewClient(ClientOptions{RootCAs: pool, Getenv: func(string) string { return "" }})
}

// ociRegistry is an in-process HTTPS OCI registry.
type ociRegistry struct {
	srv  *httptest.Server
	host string
}

func newRegistry(t testing.TB) *ociRegistry {
	t.Helper()
	srv := httptest.NewTLSServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return &ociRegistry{srv: srv, host: strings.TrimPrefix(srv.URL, "https://")}
}

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// push pushes a chart as Helm does (helm push): config of the chart's
// metadata, one chart layer; the tag is the version with "+" as "_".
// It returns the manifest digest.
func (o *ociRegistry) push(t testing.TB, repo, chart, version string) string {
	t.Helper()
	opts := []remote.Option{remote.WithTransport(o.srv.Client().Transport)}
	nrepo, err := name.NewRepository(o.host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]string{"apiVersion": "v2", "name": chart, "version": version})
	tgz := chartTgz(t, chart, version, 0)
	cl := static.NewLayer(cfg, MediaTypeChartConfig)
	ll := static.NewLayer(tgz, MediaTypeChartLayer)
	for _, l := range []v1.Layer{cl, ll} {
		if err := remote.WriteLayer(nrepo, l, opts...); err != nil {
			t.Fatal(err)
		}
	}
	desc := func(l v1.Layer, mt string) v1.Descriptor {
		d, _ := l.Digest()
		s, _ := l.Size()
		return v1.Descriptor{MediaType: types.MediaType(mt), Digest: d, Size: s}
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: desc(cl, MediaTypeChartConfig), Layers: []v1.Descriptor{desc(ll, MediaTypeChartLayer)}}
	raw, _ := json.Marshal(m)
	if err := remote.Put(nrepo.Tag(versionTag(version)), rawManifest{raw, types.OCIManifestSchema1}, opts...); err != nil {
		t.Fatal(err)
	}
	return Digest(raw)
}

// mustGunzipNames lists the file names of a .tgz, one a line.
func mustGunzipNames(t testing.TB, tgz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		out.WriteString(h.Name + "\n")
	}
	return out.Bytes()
}
