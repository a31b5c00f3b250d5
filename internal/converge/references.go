package converge

import (
	"fmt"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// references judges what the Kustomizations and HelmReleases of env
// reference against what a fresh cluster holds (the world, producers.go):
//
//   - a Flux source (chart sourceRef, chartRef) that nothing creates is
//     flux/source-not-found, an error — unless a Kustomization of the
//     environment was not rendered and may create it (then nothing:
//     render/source-missing already names that Kustomization);
//   - a Secret or ConfigMap (substituteFrom, valuesFrom) that nothing in
//     the environment creates and no known producer makes is
//     flux/reference-out-of-band, a warning: it may be created by hand, by
//     a Helm chart, by a controller we do not know;
//   - nothing is reported for a reference that a Kustomization whose build
//     failed may have created: its render/error (or the yaml/syntax of the
//     file it could not parse) is the one finding of that cause;
//   - out-of-band references (outOfBand: decryption and kubeConfig
//     secrets) and optional ones are not judged.
//
// A Kustomization's own sourceRef is render's: when it does not resolve,
// render/source-missing reports it (the subtree is not rendered), and a
// second finding for the same cause would be noise.
func references(env *render.Environment, nodes []*node, byID map[string]*node, w *world) []finding.Finding {
	var out []finding.Finding
	for _, k := range env.Kustomizations {
		n := byID["Kustomization/"+k.Namespace+"/"+k.Name]
		refs, _ := objects.Nested(map[string]any{"spec": k.Spec}, "spec", "postBuild", "substituteFrom").([]any)
		for i, r := range refs {
			rm, _ := r.(map[string]any)
			if opt, _ := rm["optional"].(bool); opt {
				continue
			}
			kind, name := str(rm["kind"]), str(rm["name"])
			if ok, _ := w.exists(kind, k.Namespace, name); ok || len(w.mayHaveFailed(kind, k.Namespace, name, k)) > 0 {
				continue
			}
			out = append(out, nodeFinding(env, n, RuleReferenceOutOfBand, []string{"spec", "postBuild", "substituteFrom", fmt.Sprint(i)},
				fmt.Sprintf("postBuild.substituteFrom %s/%s/%s is not optional, and no %s creates it: on a fresh cluster the build fails until something outside git creates it; %s", kind, k.Namespace, name, creators(w, kind, k.Namespace, name, k), outOfBandFix)))
		}
	}
	for _, n := range nodes {
		if n.obj == nil {
			continue
		}
		spec, _ := n.obj.Content["spec"].(map[string]any)
		type ref struct{ kind, ns, name, path string }
		var refs []ref
		if sr, ok := objects.Nested(spec, "chart", "spec", "sourceRef").(map[string]any); ok {
			refs = append(refs, ref{str(sr["kind"]), nsOr(str(sr["namespace"]), n.ns), str(sr["name"]), "spec.chart.spec.sourceRef"})
		}
		if cr, ok := spec["chartRef"].(map[string]any); ok {
			refs = append(refs, ref{str(cr["kind"]), nsOr(str(cr["namespace"]), n.ns), str(cr["name"]), "spec.chartRef"})
		}
		vf, _ := spec["valuesFrom"].([]any)
		for i, v := range vf {
			vm, _ := v.(map[string]any)
			if opt, _ := vm["optional"].(bool); opt {
				continue
			}
			refs = append(refs, ref{str(vm["kind"]), n.ns, str(vm["name"]), fmt.Sprintf("spec.valuesFrom.%d", i)})
		}
		for _, r := range refs {
			if ok, _ := w.exists(r.kind, r.ns, r.name); ok || len(w.mayHaveFailed(r.kind, r.ns, r.name, nil)) > 0 {
				continue
			}
			id := r.kind + "/" + r.ns + "/" + r.name
			at := strings.Split(r.path, ".")
			if !fluxSourceKinds[r.kind] {
				out = append(out, nodeFinding(env, n, RuleReferenceOutOfBand, at,
					fmt.Sprintf("HelmRelease %s/%s refers to %s (%s), which no %s creates: on a fresh cluster the release fails until something outside git creates it; %s", n.ns, n.name, id, r.path, creators(w, r.kind, r.ns, r.name, nil), outOfBandFix)))
				continue
			}
			if len(w.mayCreate(r.kind, r.ns, r.name, nil)) > 0 {
				continue // the environment cannot tell: render/source-missing says why
			}
			out = append(out, nodeFinding(env, n, RuleSourceNotFound, at,
				fmt.Sprintf("HelmRelease %s/%s refers to %s (%s), which no Kustomization of this environment creates", n.ns, n.name, id, r.path)))
		}
	}
	return out
}

const outOfBandFix = "create it in git, mark the reference optional: true, or declare what creates it under provides: in .gitops-lint.yaml"

// creators words who could have created the object: the Kustomizations
// of the environment, or, when some were not rendered, the rendered ones
// and that the others may.
func creators(w *world, kind, ns, name string, user *render.Kustomization) string {
	ks := w.mayCreate(kind, ns, name, user)
	switch len(ks) {
	case 0:
		return "Kustomization of this environment"
	case 1:
		return fmt.Sprintf("rendered Kustomization of this environment (%s was not rendered and may)", ks[0].ID())
	}
	return fmt.Sprintf("rendered Kustomization of this environment (%d were not rendered and may, such as %s)", len(ks), ks[0].ID())
}
