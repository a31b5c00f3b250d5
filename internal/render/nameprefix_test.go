package render

import (
	"fmt"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// TestSourceLineUnderNamePrefix: an object renamed by namePrefix (twice,
// through a base) points at its own document of a multi-document file, not
// at the file's first.
func TestSourceLineUnderNamePrefix(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(testutil.FluxKustomization, "apps", "./apps/overlay"),
		"apps/base/kustomization.yaml":            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamePrefix: b-\nresources:\n  - cms.yaml\n",
		"apps/base/cms.yaml":                      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n",
		"apps/overlay/kustomization.yaml":         "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamePrefix: o-\nresources:\n  - ../base\n  - own.yaml\n",
		"apps/overlay/own.yaml":                   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n",
	})
	res := renderHostile(t, dir)
	want := map[string]string{"o-b-one": "apps/base/cms.yaml:1", "o-b-two": "apps/base/cms.yaml:6", "o-x": "apps/overlay/own.yaml:1", "o-y": "apps/overlay/own.yaml:6"}
	for _, o := range findKs(t, res.Environments[0], "flux-system/apps").Objects {
		if got := fmt.Sprintf("%s:%d", o.File, o.Line); got != want[o.Name()] {
			t.Errorf("%s is from %s, want %s", o.Name(), got, want[o.Name()])
		}
	}
}
