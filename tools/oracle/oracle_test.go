package main

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestWordingDiff(t *testing.T) {
	api := `deployments.apps "web" is forbidden: User "system:serviceaccount:team-a:r" cannot patch resource "deployments" in API group "apps" in the namespace "team-a"`
	for _, tc := range []struct{ lint, want string }{
		{`User "system:serviceaccount:team-a:r" cannot patch resource "deployments" in API group "apps" in the namespace "team-a"; its bindings: x`, ""},
		{`User "system:serviceaccount:team-a:r" cannot get resource "deployments" in API group "apps" in the namespace "team-a" (nor patch); x`, "verb only (apiserver patch, gitops-lint get)"},
		{`User "system:serviceaccount:team-a:r" cannot get resource "deployment" in API group "apps" in the namespace "team-a"`, "clause differs"},
	} {
		if got := wordingDiff(api, tc.lint); got != tc.want {
			t.Errorf("wordingDiff(%q) = %q, want %q", tc.lint, got, tc.want)
		}
	}
}

func TestStagingModules(t *testing.T) {
	p := filepath.Join(t.TempDir(), "go.mod")
	os.WriteFile(p, []byte("module k8s.io/kubernetes\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tfoo => bar v1.0.0\n)\n"), 0o644)
	got, err := stagingModules(p)
	if err != nil || len(got) != 1 || got[0] != "k8s.io/api" {
		t.Fatalf("stagingModules = %v, %v", got, err)
	}
}

func TestGenCaseDeterministic(t *testing.T) {
	a := genCase(rand.New(rand.NewPCG(7, 7)), 3)
	b := genCase(rand.New(rand.NewPCG(7, 7)), 3)
	if a.desc != b.desc || a.req != b.req || len(a.objects) != len(b.objects) {
		t.Fatalf("same seed, different cases: %+v vs %+v", a, b)
	}
}

// TestOracle runs the whole oracle (small matrix) when the binaries are
// cached, etcd is installed and ORACLE=1; `make oracle` builds them. It
// skips otherwise, so `go test` never starts a cluster or the build.
func TestOracle(t *testing.T) {
	if os.Getenv("ORACLE") == "" {
		t.Skip("set ORACLE=1 to start a kube-apiserver (make oracle runs the full oracle)")
	}
	dir, err := cacheDir()
	if err != nil {
		t.Skip(err)
	}
	apiserver, kcm := filepath.Join(dir, "bin", "kube-apiserver"), filepath.Join(dir, "bin", "kube-controller-manager")
	if !fileExists(apiserver) || !fileExists(kcm) {
		t.Skipf("kube-apiserver %s not built yet (run `make oracle` once)", KubeVersion)
	}
	etcd, err := exec.LookPath("etcd")
	if err != nil {
		t.Skip("etcd not installed (apt-get install etcd-server)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := Run(ctx, Config{Root: "../..", Matrix: 200, Seed: 2, APIServer: apiserver, KCM: kcm, Etcd: etcd}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if n := out.Disagreements(); n > 0 {
		var b = new(stringsBuilder)
		out.Print(b)
		t.Errorf("%d disagreements:\n%s", n, b.String())
	}
}

type stringsBuilder struct{ b []byte }

func (s *stringsBuilder) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }
func (s *stringsBuilder) String() string              { return string(s.b) }
