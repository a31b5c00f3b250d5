package render

import (
	"fmt"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

const sopsSecret = `apiVersion: v1
kind: Secret
metadata:
  name: %s
  namespace: default%s
stringData:
  token: ENC[AES256_GCM,data:abc=,iv:x=,tag:y=,type:str]
sops:
  mac: ENC[AES256_GCM,data:m=,iv:x=,tag:y=,type:str]
  version: 3.9.0
`

// TestWhatTheControllerDoesBeforeApply: the owner labels are set, objects
// excluded from apply are not applied (nor checked), and an encrypted
// Secret in a Kustomization without decryption fails it, as in
// kustomize-controller; with decryption, or decrypt: disabled, it does not.
func TestWhatTheControllerDoesBeforeApply(t *testing.T) {
	decrypting := fmt.Sprintf(testutil.FluxKustomization, "secure", "./secure") + "  decryption:\n    provider: sops\n"
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/apps.yaml":                  fmt.Sprintf(testutil.FluxKustomization, "apps", "./apps"),
		"clusters/dev/secure.yaml":                decrypting,
		"apps/kept.yaml":                          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  namespace: default\n",
		"apps/disabled.yaml":                      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: disabled\n  namespace: default\n  annotations:\n    kustomize.toolkit.fluxcd.io/reconcile: disabled\n",
		"apps/ignored.yaml":                       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ignored\n  namespace: default\n  labels:\n    kustomize.toolkit.fluxcd.io/ssa: ignore\n",
		"apps/secret.yaml":                        fmt.Sprintf(sopsSecret, "encrypted", ""),
		"apps/raw.yaml":                           fmt.Sprintf(sopsSecret, "raw", "\n  annotations:\n    kustomize.toolkit.fluxcd.io/decrypt: disabled"),
		"secure/secret.yaml":                      fmt.Sprintf(sopsSecret, "decrypted", ""),
	})
	res := renderHostile(t, dir)
	wantFinding(t, res, RuleNotDecrypted.ID, "apps/secret.yaml", 1)
	if len(res.Findings) != 1 {
		t.Errorf("want only the undecrypted Secret reported, got %d findings: %v", len(res.Findings), res.Findings)
	}
	env := res.Environments[0]
	apps := findKs(t, env, "flux-system/apps")
	var names []string
	for _, o := range apps.Objects {
		names = append(names, o.Name())
		if objects.NestedString(o.Content, "metadata", "labels", "kustomize.toolkit.fluxcd.io/name") != "apps" ||
			objects.NestedString(o.Content, "metadata", "labels", "kustomize.toolkit.fluxcd.io/namespace") != "flux-system" {
			t.Errorf("%s lacks the owner labels: %v", o.Name(), objects.Nested(o.Content, "metadata", "labels"))
		}
	}
	if len(names) != 3 {
		t.Errorf("applied objects %v, want kept, raw and encrypted (disabled and ignored are skipped)", names)
	}
	for _, n := range names {
		if n == "disabled" || n == "ignored" {
			t.Errorf("%s is excluded from apply but rendered as applied", n)
		}
	}
	if apps.Skipped != 2 {
		t.Errorf("Skipped = %d, want 2", apps.Skipped)
	}
}
