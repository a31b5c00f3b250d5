package scripts

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	fakeVersion = "9.9.9"
	fakeArchive = "gitops-lint_" + fakeVersion + "_linux_amd64.tar.gz"
	// stubOutput is what the stub binary inside the fake archive prints.
	stubOutput = "gitops-lint v9.9.9 (stub)"
)

// needTools skips the test when install.sh cannot run here.
func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"bash", "tar", "sha256sum", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("install.sh needs %s, which is not on PATH", tool)
		}
	}
	_, curl := exec.LookPath("curl")
	_, wget := exec.LookPath("wget")
	if curl != nil && wget != nil {
		t.Skip("install.sh needs curl or wget, neither is on PATH")
	}
}

// tarGz is a release archive: the files, as goreleaser lays them out.
func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
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

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// release is a fake GitHub release server: path → body, and the paths
// requested.
type release struct {
	mu       sync.Mutex
	files    map[string][]byte
	requests []string
}

func (r *release) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, req.URL.Path)
	b, ok := r.files[req.URL.Path]
	if !ok {
		http.NotFound(w, req)
		return
	}
	_, _ = w.Write(b)
}

func (r *release) set(path string, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files[path] = b
}

func (r *release) requested(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, p := range r.requests {
		if p == path {
			n++
		}
	}
	return n
}

// newRelease serves v9.9.9 with a linux/amd64 archive holding a stub
// gitops-lint, and checksums.txt made by checksums from the archive.
func newRelease(t *testing.T, checksums func(archive []byte) string) (*release, *httptest.Server, []byte) {
	t.Helper()
	archive := tarGz(t, map[string]string{
		"gitops-lint": "#!/bin/sh\necho \"" + stubOutput + " $*\"\n",
		"README.md":   "# gitops-lint\n",
	})
	rel := &release{files: map[string][]byte{}}
	for _, dir := range []string{"/releases/download/v" + fakeVersion, "/releases/latest/download"} {
		rel.files[dir+"/"+fakeArchive] = archive
		rel.files[dir+"/checksums.txt"] = []byte(checksums(archive))
	}
	srv := httptest.NewServer(rel)
	t.Cleanup(srv.Close)
	return rel, srv, archive
}

func goodChecksums(archive []byte) string {
	return fmt.Sprintf("%s  gitops-lint_%s_darwin_arm64.tar.gz\n%s  %s\n", sum([]byte("other")), fakeVersion, sum(archive), fakeArchive)
}

type run struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// install runs install.sh with version against srv, for linux/amd64,
// installing into dir; env adds variables.
func install(t *testing.T, srv *httptest.Server, dir, version string, env ...string) run {
	t.Helper()
	script, err := filepath.Abs("install.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script, version)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"GITOPS_LINT_RELEASE_URL=" + srv.URL + "/releases",
		"GITOPS_LINT_INSTALL_DIR=" + dir,
		"GITOPS_LINT_OS=linux",
		"GITOPS_LINT_ARCH=x86_64",
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	r := run{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run install.sh: %v", err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// runStub runs the installed binary and checks it is the stub.
func runStub(t *testing.T, bin string) {
	t.Helper()
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != stubOutput+" version" {
		t.Fatalf("installed %s: %v, %q", bin, err, out)
	}
}

// TestInstallVerified: the archive whose SHA-256 checksums.txt lists is
// installed, and the installed binary runs; its path is the last line of
// stdout (what the Action and the Azure template put on PATH).
func TestInstallVerified(t *testing.T) {
	needTools(t)
	_, srv, _ := newRelease(t, goodChecksums)
	dir := filepath.Join(t.TempDir(), "bin")
	r := install(t, srv, dir, "v"+fakeVersion)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	bin := filepath.Join(dir, "gitops-lint")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if lines[len(lines)-1] != bin || !strings.Contains(r.stderr, "SHA-256 verified") {
		t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
	}
	runStub(t, bin)
	if st, err := os.Stat(bin); err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("installed binary not executable: %v %v", st, err)
	}
	// Only the binary is installed: no temporary file, no README.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("install dir holds %d entries, want only gitops-lint", len(entries))
	}
	t.Logf("install from the local fake release: %v", r.elapsed)

	// A version without "v" and "latest" find the same archive.
	for _, v := range []string{fakeVersion, "latest"} {
		d := filepath.Join(t.TempDir(), "bin")
		if r := install(t, srv, d, v); r.code != 0 {
			t.Fatalf("install %s: exit %d\n%s", v, r.code, r.stderr)
		}
		runStub(t, filepath.Join(d, "gitops-lint"))
	}
}

// failsClosed checks a failed install: non-zero exit, the reason on stderr,
// and dir untouched (an earlier binary stays, nothing new appears).
func failsClosed(t *testing.T, r run, dir, reason string) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("exit 0, want a failure (%s)\nstdout %s\nstderr %s", reason, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, reason) {
		t.Errorf("stderr %q does not say %q", r.stderr, reason)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q: a failed install must not print a path", r.stdout)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "gitops-lint" {
			t.Errorf("left %s in the install dir", e.Name())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "gitops-lint"))
	if err != nil || string(b) != "previous binary\n" {
		t.Errorf("the earlier binary was replaced or removed: %q %v", b, err)
	}
}

// preinstalled is an install dir holding an earlier gitops-lint.
func preinstalled(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gitops-lint"), []byte("previous binary\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestInstallWrongChecksumFailsClosed: an archive whose SHA-256 differs from
// checksums.txt (a tampered download, or a tampered list) installs nothing.
func TestInstallWrongChecksumFailsClosed(t *testing.T) {
	needTools(t)
	_, srv, _ := newRelease(t, func(archive []byte) string {
		return sum(append(archive, 0)) + "  " + fakeArchive + "\n"
	})
	dir := preinstalled(t)
	failsClosed(t, install(t, srv, dir, "v"+fakeVersion), dir, "SHA-256 mismatch")

	// The same with the archive swapped on the server after the checksums
	// were published.
	rel, srv, _ := newRelease(t, goodChecksums)
	rel.set("/releases/download/v"+fakeVersion+"/"+fakeArchive, tarGz(t, map[string]string{"gitops-lint": "#!/bin/sh\necho evil\n"}))
	failsClosed(t, install(t, srv, dir, "v"+fakeVersion), dir, "SHA-256 mismatch")
}

// TestInstallMissingChecksumFailsClosed: checksums.txt without this
// platform's archive, a malformed entry, or no checksums.txt at all
// installs nothing, and the unverifiable archive is not even downloaded.
func TestInstallMissingChecksumFailsClosed(t *testing.T) {
	needTools(t)
	for name, tc := range map[string]struct {
		checksums func([]byte) string
		reason    string
	}{
		"other platforms only": {func([]byte) string {
			return sum([]byte("x")) + "  gitops-lint_" + fakeVersion + "_darwin_arm64.tar.gz\n"
		}, "lists no " + fakeArchive},
		"similar name": {func(a []byte) string {
			return sum(a) + "  old-" + fakeArchive + "\n"
		}, "lists no " + fakeArchive},
		"malformed": {func([]byte) string { return "not-a-sha  " + fakeArchive + "\n" }, "malformed SHA-256"},
		"short":     {func(a []byte) string { return sum(a)[:40] + "  " + fakeArchive + "\n" }, "malformed SHA-256"},
	} {
		t.Run(name, func(t *testing.T) {
			rel, srv, _ := newRelease(t, tc.checksums)
			dir := preinstalled(t)
			failsClosed(t, install(t, srv, dir, "v"+fakeVersion), dir, tc.reason)
			if n := rel.requested("/releases/download/v" + fakeVersion + "/" + fakeArchive); n != 0 {
				t.Errorf("downloaded the archive %d times without a checksum to verify it against", n)
			}
		})
	}
	t.Run("no checksums.txt", func(t *testing.T) {
		rel, srv, _ := newRelease(t, goodChecksums)
		rel.mu.Lock()
		delete(rel.files, "/releases/download/v"+fakeVersion+"/checksums.txt")
		rel.mu.Unlock()
		dir := preinstalled(t)
		failsClosed(t, install(t, srv, dir, "v"+fakeVersion), dir, "cannot download")
	})
	t.Run("unknown version", func(t *testing.T) {
		_, srv, _ := newRelease(t, goodChecksums)
		dir := preinstalled(t)
		failsClosed(t, install(t, srv, dir, "v1.0.0"), dir, "cannot download")
	})
}

// TestInstallCache: a verified archive is cached; the next install uses it
// without downloading the archive, after verifying it again against a fresh
// checksums.txt; a cached archive that no longer matches is replaced.
func TestInstallCache(t *testing.T) {
	needTools(t)
	rel, srv, archive := newRelease(t, goodChecksums)
	cache := t.TempDir()
	archivePath := "/releases/download/v" + fakeVersion + "/" + fakeArchive
	if r := install(t, srv, filepath.Join(t.TempDir(), "bin"), "v"+fakeVersion, "GITOPS_LINT_ARCHIVE_DIR="+cache); r.code != 0 {
		t.Fatalf("first install: exit %d\n%s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(cache, fakeArchive)); err != nil || !bytes.Equal(b, archive) {
		t.Fatalf("archive not cached: %v", err)
	}

	// The server no longer serves the archive: the cache must be enough.
	rel.mu.Lock()
	delete(rel.files, archivePath)
	rel.mu.Unlock()
	dir := filepath.Join(t.TempDir(), "bin")
	r := install(t, srv, dir, "v"+fakeVersion, "GITOPS_LINT_ARCHIVE_DIR="+cache)
	if r.code != 0 || !strings.Contains(r.stderr, "from the cache") {
		t.Fatalf("cached install: exit %d\n%s", r.code, r.stderr)
	}
	runStub(t, filepath.Join(dir, "gitops-lint"))
	t.Logf("install from the cache: %v", r.elapsed)

	// A tampered cache is not trusted: with the server down for the archive
	// it fails closed, with the server back it is downloaded again.
	if err := os.WriteFile(filepath.Join(cache, fakeArchive), tarGz(t, map[string]string{"gitops-lint": "#!/bin/sh\necho evil\n"}), 0o644); err != nil {
		t.Fatal(err)
	}
	dir = preinstalled(t)
	failsClosed(t, install(t, srv, dir, "v"+fakeVersion, "GITOPS_LINT_ARCHIVE_DIR="+cache), dir, "cannot download")
	rel.set(archivePath, archive)
	dir = filepath.Join(t.TempDir(), "bin")
	r = install(t, srv, dir, "v"+fakeVersion, "GITOPS_LINT_ARCHIVE_DIR="+cache)
	if r.code != 0 || !strings.Contains(r.stderr, "does not match checksums.txt") {
		t.Fatalf("install over a tampered cache: exit %d\n%s", r.code, r.stderr)
	}
	runStub(t, filepath.Join(dir, "gitops-lint"))
	if b, _ := os.ReadFile(filepath.Join(cache, fakeArchive)); !bytes.Equal(b, archive) {
		t.Error("the tampered cache entry was not replaced")
	}

	// The variable's former name still works, with the server down for
	// the archive again.
	rel.mu.Lock()
	delete(rel.files, archivePath)
	rel.mu.Unlock()
	dir = filepath.Join(t.TempDir(), "bin")
	if r := install(t, srv, dir, "v"+fakeVersion, "GITOPS_LINT_CACHE_DIR="+cache); r.code != 0 || !strings.Contains(r.stderr, "from the cache") {
		t.Fatalf("install with GITOPS_LINT_CACHE_DIR: exit %d\n%s", r.code, r.stderr)
	}
}

// TestInstallRejectsBadInput: a version that is not a tag and a platform
// without a release archive are refused before any download.
func TestInstallRejectsBadInput(t *testing.T) {
	needTools(t)
	rel, srv, _ := newRelease(t, goodChecksums)
	dir := preinstalled(t)
	failsClosed(t, install(t, srv, dir, "../../etc"), dir, "must be a release tag")
	failsClosed(t, install(t, srv, dir, "v"+fakeVersion, "GITOPS_LINT_ARCH=riscv64"), dir, "no release archive for architecture riscv64")
	failsClosed(t, install(t, srv, dir, "v"+fakeVersion, "GITOPS_LINT_OS=plan9"), dir, "no release archive for OS plan9")
	if len(rel.requests) != 0 {
		t.Errorf("requested %v", rel.requests)
	}
}
