package charts

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Release is one HelmRelease of an environment and the chart it asks for.
type Release struct {
	Environment     string
	Namespace, Name string
	Ref             Ref
}

// ID is "namespace/name".
func (r Release) ID() string { return r.Namespace + "/" + r.Name }

// Releases finds the HelmReleases among one environment's objects and
// resolves their chart: spec.chart.spec.sourceRef to a HelmRepository of
// the same environment (spec.url, spec.type oci), spec.chartRef to an
// OCIRepository (spec.url, spec.ref digest/semver/tag). Charts that are
// not pulled (a GitRepository or Bucket source: in-repository or a
// --source; a source that is not among the objects) and ignored settings
// (secretRef: credentials never come from the repository) are notices.
func Releases(env string, objects []map[string]any) ([]Release, []string) {
	sources := map[string]map[string]any{}
	for _, o := range objects {
		kind := str(o, "kind")
		if (kind == KindHelmRepository || kind == KindOCIRepository) && strings.HasPrefix(str(o, "apiVersion"), "source.toolkit.fluxcd.io/") {
			sources[kind+"/"+namespace(o)+"/"+str(o, "metadata", "name")] = o
		}
	}
	var rels []Release
	var notices []string
	for _, o := range objects {
		if str(o, "kind") != "HelmRelease" || !strings.HasPrefix(str(o, "apiVersion"), "helm.toolkit.fluxcd.io/") {
			continue
		}
		rel := Release{Environment: env, Namespace: namespace(o), Name: str(o, "metadata", "name")}
		where := fmt.Sprintf("%s: HelmRelease %s", env, rel.ID())
		var (
			kind, srcName, srcNS string
			ref                  Ref
		)
		if cr := obj(o, "spec", "chartRef"); cr != nil {
			kind, srcName, srcNS = str(cr, "kind"), str(cr, "name"), str(cr, "namespace")
		} else if cs := obj(o, "spec", "chart", "spec"); cs != nil {
			kind, srcName, srcNS = str(cs, "sourceRef", "kind"), str(cs, "sourceRef", "name"), str(cs, "sourceRef", "namespace")
			ref.Chart, ref.Version = str(cs, "chart"), str(cs, "version")
			if ref.Version == "*" {
				ref.Version = ""
			}
		} else {
			continue
		}
		if srcNS == "" {
			srcNS = rel.Namespace
		}
		if kind != KindHelmRepository && kind != KindOCIRepository {
			notices = append(notices, fmt.Sprintf("%s: chart from %s %s/%s is not pulled (in-repository or a --source)", where, kind, srcNS, srcName))
			continue
		}
		src := sources[kind+"/"+srcNS+"/"+srcName]
		if src == nil {
			notices = append(notices, fmt.Sprintf("%s: %s %s/%s is not in the environment", where, kind, srcNS, srcName))
			continue
		}
		ref.Kind, ref.URL = kind, str(src, "spec", "url")
		if str(src, "spec", "secretRef", "name") != "" {
			notices = append(notices, fmt.Sprintf("%s: %s %s/%s spec.secretRef is ignored: credentials come from the Docker or Helm registry config only", where, kind, srcNS, srcName))
		}
		if kind == KindHelmRepository && str(src, "spec", "type") == "oci" && !strings.HasPrefix(ref.URL, "oci://") {
			notices = append(notices, fmt.Sprintf("%s: HelmRepository %s/%s is of type oci but its URL %q is not oci://", where, srcNS, srcName, ref.URL))
			continue
		}
		if kind == KindOCIRepository {
			ref.Chart = path.Base(strings.TrimRight(ref.URL, "/"))
			ref.Digest, ref.Version, ref.Tag = str(src, "spec", "ref", "digest"), str(src, "spec", "ref", "semver"), str(src, "spec", "ref", "tag")
			if ref.Digest != "" {
				ref.Version = ""
			}
		}
		if ref.URL == "" || ref.Kind == KindHelmRepository && ref.Chart == "" {
			notices = append(notices, fmt.Sprintf("%s: no chart URL or name", where))
			continue
		}
		rel.Ref = ref
		rels = append(rels, rel)
	}
	slices.SortFunc(rels, func(a, b Release) int { return strings.Compare(a.ID(), b.ID()) })
	return rels, notices
}

func namespace(o map[string]any) string {
	if ns := str(o, "metadata", "namespace"); ns != "" {
		return ns
	}
	return "default"
}

func obj(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

func str(m map[string]any, keys ...string) string {
	if len(keys) > 1 {
		m = obj(m, keys[:len(keys)-1]...)
	}
	if m == nil {
		return ""
	}
	s, _ := m[keys[len(keys)-1]].(string)
	return s
}

// PullCommand is the command line that fetches ref into the user cache,
// for the render/helm-chart-missing finding.
func PullCommand(ref Ref) string {
	args := []string{"gitops-lint", "charts", "pull", "--url", ref.URL}
	if ref.Kind == KindOCIRepository {
		args = append(args, "--kind", KindOCIRepository)
	} else if ref.Chart != "" {
		args = append(args, "--chart", ref.Chart)
	}
	if ref.Version != "" {
		args = append(args, "--version", ref.Version)
	}
	if ref.Tag != "" {
		args = append(args, "--tag", ref.Tag)
	}
	if ref.Digest != "" {
		args = append(args, "--digest", ref.Digest)
	}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@+=,%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
