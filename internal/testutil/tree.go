package testutil

import (
	"os"
	"path/filepath"
)

// WriteTree writes files ('/'-separated path relative to dir → content)
// under dir, creating directories as needed, and returns dir. Files are
// written 0644, directories 0755.
func WriteTree(t TB, dir string, files map[string]string) string {
	t.Helper()
	for p, c := range files {
		WriteFile(t, filepath.Join(dir, filepath.FromSlash(p)), c)
	}
	return dir
}

// WriteFile writes content to the file at path (0644), creating its
// parent directories (0755).
func WriteFile(t TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("%v", err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatalf("%v", err)
	}
}

// FluxKustomization is a Flux Kustomization (flux-system namespace) of the
// flux-system GitRepository: fmt.Sprintf it with its name and its path.
const FluxKustomization = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: flux-system
spec:
  interval: 10m
  path: %s
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`

// FluxSync is what `flux bootstrap` commits as gotk-sync.yaml: the
// flux-system GitRepository and the Kustomization that syncs the cluster's
// path. fmt.Sprintf it with the repository URL, the branch and the path.
const FluxSync = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  url: %s
  ref:
    branch: %s
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: %s
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`
