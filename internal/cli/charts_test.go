package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestChartsPull runs testdata/charts/*.txtar against an HTTPS chart
// repository served by the test: $CHART_URL is its URL, SSL_CERT_FILE
// makes the gitops-lint process trust it (TLS verification stays on),
// $DIGEST_<chart>_<version> are the archives' digests. `envsubst FILE`
// expands ${VAR} in a file of the script.
func TestChartsPull(t *testing.T) {
	archives := map[string][]byte{}
	var index strings.Builder
	index.WriteString("apiVersion: v1\nentries:\n  app:\n")
	digests := map[string]string{}
	for _, v := range []string{"1.0.0", "1.2.0", "1.2.5", "2.0.0-rc.1"} {
		data := testChart(t, "app", v)
		sum := sha256.Sum256(data)
		archives["app-"+v+".tgz"] = data
		digests["DIGEST_app_"+strings.NewReplacer(".", "_", "-", "_").Replace(v)] = "sha256:" + hex.EncodeToString(sum[:])
		fmt.Fprintf(&index, "  - name: app\n    version: %s\n    digest: %s\n    urls: [charts/app-%s.tgz]\n", v, hex.EncodeToString(sum[:]), v)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/stable/index.yaml":
			w.Write([]byte(index.String()))
		case strings.HasPrefix(r.URL.Path, "/stable/charts/") && archives[strings.TrimPrefix(r.URL.Path, "/stable/charts/")] != nil:
			w.Write(archives[strings.TrimPrefix(r.URL.Path, "/stable/charts/")])
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close) // the scripts run after this function returns
	certFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/charts",
		RequireExplicitExec: true,
		UpdateScripts:       *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("CHART_URL", srv.URL+"/stable/")
			env.Setenv("SSL_CERT_FILE", certFile)
			for k, v := range digests {
				env.Setenv(k, v)
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitCode,
			"envsubst": func(ts *testscript.TestScript, neg bool, args []string) {
				for _, f := range args {
					p := ts.MkAbs(f)
					data, err := os.ReadFile(p)
					ts.Check(err)
					ts.Check(os.WriteFile(p, []byte(os.Expand(string(data), ts.Getenv)), 0o644))
				}
			},
		},
	})
}

// testChart is a minimal chart archive.
func testChart(t *testing.T, name, version string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	body := fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, version)
	if err := tw.WriteHeader(&tar.Header{Name: name + "/Chart.yaml", Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(body))
	tw.Close()
	gz.Close()
	return buf.Bytes()
}
