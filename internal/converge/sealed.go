package converge

import (
	"fmt"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// sealedScope reports SealedSecrets whose rendered name or namespace differs
// from the document they were sealed as: a strict-scoped SealedSecret (the
// default) is bound to its namespace and name, a namespace-wide one to its
// namespace, so the controller cannot decrypt a renamed or moved one.
func sealedScope(x *render.Index, env *render.Environment) []finding.Finding {
	var out []finding.Finding
	for _, k := range env.Kustomizations {
		for _, o := range k.Objects {
			if o.Kind() != "SealedSecret" || objects.Group(o.APIVersion()) != "bitnami.com" {
				continue
			}
			doc := x.DocAt(o.File, o.Line)
			if doc == nil {
				continue // from another source: the sealed document is not ours to compare
			}
			ann, _ := objects.Nested(o.Content, "metadata", "annotations").(map[string]any)
			if str(ann["sealedsecrets.bitnami.com/cluster-wide"]) == "true" {
				continue
			}
			scope := "strict"
			if str(ann["sealedsecrets.bitnami.com/namespace-wide"]) == "true" {
				scope = "namespace-wide"
			}
			var what string
			switch {
			case doc.Namespace != "" && doc.Namespace != o.Namespace():
				what = fmt.Sprintf("moved from namespace %q to %q", doc.Namespace, o.Namespace())
			case scope == "strict" && doc.Name != "" && doc.Name != o.Name():
				what = fmt.Sprintf("renamed from %q to %q", doc.Name, o.Name())
			default:
				continue
			}
			out = append(out, objectFinding(env, k, o, RuleSealedSecretScope, fmt.Sprintf("%s is %s by the overlay (namePrefix/nameSuffix, targetNamespace or a patch), but it is sealed with %s scope, which binds the ciphertext to its original %s: the controller cannot decrypt it; re-seal it for its final name and namespace, or seal it with a wider scope",
				o.Ref(), what, scope, map[string]string{"strict": "name and namespace", "namespace-wide": "namespace"}[scope])))
		}
	}
	return out
}
