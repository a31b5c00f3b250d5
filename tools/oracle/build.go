package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// KubeVersion is the Kubernetes release the oracle builds and runs.
const KubeVersion = "v1.34.4"

// stagingVersion is the version the k8s.io staging modules are published at
// for KubeVersion.
const stagingVersion = "v0.34.4"

// cacheDir is where the binaries and the build module live.
func cacheDir() (string, error) {
	if d := os.Getenv("ORACLE_CACHE"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "gitops-lint", "oracle", KubeVersion), nil
}

// binaries returns the paths of kube-apiserver and kube-controller-manager,
// building them from k8s.io/kubernetes through the Go module proxy when they
// are not cached yet.
func binaries(logf func(string, ...any)) (apiserver, kcm string, err error) {
	dir, err := cacheDir()
	if err != nil {
		return "", "", err
	}
	bin := filepath.Join(dir, "bin")
	apiserver, kcm = filepath.Join(bin, "kube-apiserver"), filepath.Join(bin, "kube-controller-manager")
	if fileExists(apiserver) && fileExists(kcm) {
		return apiserver, kcm, nil
	}
	start := time.Now()
	logf("building kube-apiserver and kube-controller-manager %s from source (cold: ~6-10 min on two cores) into %s", KubeVersion, bin)
	mod := filepath.Join(dir, "buildmod")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		return "", "", err
	}
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = mod, env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return out, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return out, nil
	}
	// The kubernetes module's go.mod points its staging modules at
	// ./staging/... paths its zip lacks; find them, then pin each to its
	// published version.
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module oraclebuild\n\ngo 1.24.0\n"), 0o644); err != nil {
		return "", "", err
	}
	out, err := run("mod", "download", "-json", "k8s.io/kubernetes@"+KubeVersion)
	if err != nil {
		return "", "", err
	}
	gomod := jsonField(out, "GoMod")
	if gomod == "" {
		return "", "", fmt.Errorf("go mod download k8s.io/kubernetes@%s: no GoMod in %s", KubeVersion, out)
	}
	staging, err := stagingModules(gomod)
	if err != nil {
		return "", "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "module oraclebuild\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n", KubeVersion)
	for _, m := range staging {
		if strings.HasPrefix(m, "k8s.io/sample-") {
			continue // not published at this version, and not needed
		}
		fmt.Fprintf(&b, "\t%s => %s %s\n", m, m, stagingVersion)
	}
	b.WriteString(")\n")
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(b.String()), 0o644); err != nil {
		return "", "", err
	}
	tools := "//go:build tools\n\npackage oraclebuild\n\nimport (\n\t_ \"k8s.io/kubernetes/cmd/kube-apiserver\"\n\t_ \"k8s.io/kubernetes/cmd/kube-controller-manager\"\n)\n"
	if err := os.WriteFile(filepath.Join(mod, "tools.go"), []byte(tools), 0o644); err != nil {
		return "", "", err
	}
	tmp := filepath.Join(dir, "bin.tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", "", err
	}
	if _, err := run("build", "-o", tmp+string(filepath.Separator), "k8s.io/kubernetes/cmd/kube-apiserver", "k8s.io/kubernetes/cmd/kube-controller-manager"); err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return "", "", err
	}
	for _, n := range []string{"kube-apiserver", "kube-controller-manager"} {
		if err := os.Rename(filepath.Join(tmp, n), filepath.Join(bin, n)); err != nil {
			return "", "", err
		}
	}
	logf("built in %s", time.Since(start).Round(time.Second))
	return apiserver, kcm, nil
}

// stagingModules lists the modules the kubernetes go.mod replaces with
// ./staging paths.
func stagingModules(gomod string) ([]string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[1] == "=>" && strings.HasPrefix(fields[2], "./staging/") {
			out = append(out, fields[0])
		}
	}
	return out, sc.Err()
}

// jsonField extracts a top-level string field from go's -json output.
func jsonField(out []byte, name string) string {
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		prefix := "\"" + name + "\": \""
		if strings.HasPrefix(line, prefix) {
			return strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(line, prefix), ","), "\"")
		}
	}
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
