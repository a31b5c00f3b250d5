package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

var generatorSync = fmt.Sprintf(testutil.FluxSync, "https://example.com/org/fleet", "main", "./clusters/dev")

const generator = `apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: apps
  namespace: flux-system
spec:
  sources:
    - alias: repo
      kind: GitRepository
      name: flux-system
  artifacts:
    - name: dir-copy
      copy:
        - from: "@repo/apps/web/"
          to: "@artifact/deploy/"
    - name: tree-copy
      copy:
        - from: "@repo/apps/web/**"
          to: "@artifact/flat/"
    - name: missing
      copy:
        - from: "@repo/apps/nope/"
          to: "@artifact/"
`

func externalKs(name, path string) string {
	return fmt.Sprintf(`---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %s
  namespace: flux-system
spec:
  interval: 10m
  path: %s
  prune: true
  sourceRef:
    kind: ExternalArtifact
    name: %s
`, name, path, name)
}

// TestArtifactGeneratorCopies: source-watcher copies a directory named
// without glob characters as a subdirectory of the destination (cp -r:
// deploy/web/…), a dir/** glob as the tree below dir, and fails the
// generator when a copy matches nothing.
func TestArtifactGeneratorCopies(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": generatorSync,
		"clusters/dev/apps.yaml":                  generator + externalKs("dir-copy", "./deploy/web") + externalKs("tree-copy", "./flat") + externalKs("missing", "./"),
		"apps/web/cm.yaml":                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: default\n",
	})
	res := renderHostile(t, dir)
	env := res.Environments[0]
	for _, id := range []string{"flux-system/dir-copy", "flux-system/tree-copy"} {
		k := findKs(t, env, id)
		if len(k.Objects) != 1 || k.Objects[0].Name() != "web" {
			t.Errorf("%s rendered %d objects, want the web ConfigMap", id, len(k.Objects))
		}
	}
	var missing []string
	for _, f := range res.Findings {
		if f.Kustomization == "flux-system/missing" {
			missing = append(missing, f.Rule+" "+f.Message)
		} else {
			t.Errorf("unexpected %s %s %s", f.Kustomization, f.Rule, f.Message)
		}
	}
	if len(missing) != 1 || !strings.Contains(missing[0], "apps/nope") {
		t.Errorf("a copy that matches nothing must fail the artifact's Kustomization: %v", missing)
	}
}
