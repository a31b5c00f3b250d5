package render

import (
	"fmt"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// What kustomize-controller does to a build's objects before it applies
// them (internal/controller/kustomization_controller.go, and
// fluxcd/pkg/ssa's ResourceManager it drives).

// The kustomize.toolkit.fluxcd.io metadata keys the controller reads.
const (
	ownerNameLabel      = kustomizeGroup + "/name"
	ownerNamespaceLabel = kustomizeGroup + "/namespace"
	reconcileKey        = kustomizeGroup + "/reconcile"
	ssaKey              = kustomizeGroup + "/ssa"
	decryptKey          = kustomizeGroup + "/decrypt"
)

// RuleNotDecrypted is declared beside the only code that emits it.
var RuleNotDecrypted = rules.Add(finding.Rule{ID: "render/not-decrypted", Severity: finding.Error,
	Help:        "A SOPS-encrypted Secret reaches the apply of a Kustomization without spec.decryption: kustomize-controller refuses it, and with it the whole Kustomization (none of its objects are applied).",
	Remediation: "Set spec.decryption (provider: sops, and the secretRef holding the key) on the Kustomization, or annotate the Secret kustomize.toolkit.fluxcd.io/decrypt: disabled if it must be applied encrypted."})

// setOwnerLabels adds the labels kustomize-controller's resource manager
// puts on every object it applies (before commonMetadata).
func setOwnerLabels(objs []*Object, name, namespace string) {
	for _, o := range objs {
		labels := objects.EnsureMap(o.Content, "metadata", "labels")
		labels[ownerNameLabel] = name
		labels[ownerNamespaceLabel] = namespace
	}
}

// excludedFromApply reports whether the controller skips o: a label or
// annotation kustomize.toolkit.fluxcd.io/reconcile: disabled or
// kustomize.toolkit.fluxcd.io/ssa: Ignore (values compared case-blind, as
// ssa's AnyInMetadata does).
func excludedFromApply(o *Object) bool {
	for _, field := range []string{"labels", "annotations"} {
		m, _ := objects.Nested(o.Content, "metadata", field).(map[string]any)
		if v, _ := m[reconcileKey].(string); strings.EqualFold(v, "disabled") {
			return true
		}
		if v, _ := m[ssaKey].(string); strings.EqualFold(v, "ignore") {
			return true
		}
	}
	return false
}

// refuseEncrypted reports each SOPS-encrypted Secret among objs when the
// Kustomization does not decrypt: the controller checks every object of
// the build (excluded ones too) before it applies any, and fails the
// reconciliation on the first.
func (run *envRun) refuseEncrypted(k *Kustomization, ks map[string]any, objs []*Object) {
	if objects.NestedString(ks, "spec", "decryption", "provider") == "sops" {
		return
	}
	for _, o := range objs {
		if o.Kind() != "Secret" || o.APIVersion() != "v1" {
			continue
		}
		if _, encrypted := o.Content["sops"]; !encrypted {
			continue
		}
		if v, _ := objects.Nested(o.Content, "metadata", "annotations", decryptKey).(string); strings.EqualFold(v, "disabled") {
			continue
		}
		f := run.finding(k, RuleNotDecrypted, o.File, o.Line, o.Column,
			fmt.Sprintf("%s is SOPS encrypted, configuring decryption is required for this secret to be reconciled: kustomize-controller fails %s and applies none of its objects; set spec.decryption.provider: sops on it", o.Ref(), k.ID()))
		f.Object = o.Ref()
		run.r.add(f)
	}
}
