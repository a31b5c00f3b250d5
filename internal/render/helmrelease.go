package render

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/kustomize/kyaml/openapi"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/gitops-lint/gitops-lint/internal/catalog"
	"github.com/gitops-lint/gitops-lint/internal/charts"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/render/helm"
)

const helmGroup = "helm.toolkit.fluxcd.io"

// The rules of HelmRelease rendering.
var (
	RuleHelmError = rules.Add(finding.Rule{ID: "render/helm-error", Severity: finding.Error,
		Help:        "helm-controller would fail to render this HelmRelease's chart (a template error, values that fail the chart's values.schema.json, a chart that does not load); the message is worded as the HelmRelease's failed condition.",
		Remediation: "Render the release locally with `gitops-lint render --kustomization HelmRelease/NS/NAME` and fix the values or the chart template it names."})
	RuleHelmChartMissing = rules.Add(finding.Rule{ID: "render/helm-chart-missing", Severity: finding.Info,
		Help:        "The HelmRelease's chart is neither in the repository nor in the chart cache, so its objects are not rendered or checked (gitops-lint never downloads during a lint).",
		Remediation: "Run the `gitops-lint charts pull` command the message names (it fills the cache and charts.lock), or vendor the chart under .gitops-lint/charts/."})
	RuleHelmPostRender = rules.Add(finding.Rule{ID: "render/helm-postrender", Severity: finding.Error,
		Help:        "A HelmRelease's post-renderer does not apply to its chart's output (a patch whose target the chart does not render, a patch that does not parse), so helm-controller's install fails.",
		Remediation: "Fix the patch's target (kind, name) or content in spec.postRenderers; `gitops-lint render --kustomization HelmRelease/NS/NAME` shows what the chart renders."})
	RuleHelmChartUnsupported = rules.Add(finding.Rule{ID: "render/helm-chart-unsupported", Severity: finding.Info,
		Help:        "The HelmRelease's chart comes from a source gitops-lint does not render offline yet (a chartRef to a HelmChart or an ExternalArtifact), so its objects are not checked.",
		Remediation: "Nothing to fix: the release is applied as written; its chart's objects are not simulated."})
	RuleHelmValuesUnknown = rules.Add(finding.Rule{ID: "render/helm-values-unknown", Severity: finding.Info,
		Help:        "A HelmRelease's values cannot be checked offline: a valuesFrom source is not in the environment (created outside git) or is SOPS-encrypted, so the release is not rendered; or the chart's values.schema.json refers to a schema outside the chart, so the values are rendered but not validated against it.",
		Remediation: "Declare the ConfigMap or Secret in git, or mark the reference optional: true if the chart works without it; nothing to fix for a chart whose schema refers elsewhere."})
	RuleHelmLookup = rules.Add(finding.Rule{ID: "render/helm-lookup", Severity: finding.Info,
		Help:        "The chart calls `lookup`, which reads the live cluster; offline it returns nothing, so what those templates render may differ on the cluster.",
		Remediation: "Nothing to fix: a reminder that parts of this release depend on the cluster's state."})
)

// isHelmRelease reports whether o is a Flux HelmRelease.
func isHelmRelease(o *Object) bool {
	return o.Kind() == KindHelmRelease && objects.Group(o.APIVersion()) == helmGroup
}

// helmReleases renders the chart of every HelmRelease the environment's
// Kustomizations apply, once the whole tree is rendered (so that every
// valuesFrom ConfigMap and Secret and every chart source is known), and
// adds each release to the environment as a Kustomization of Kind
// KindHelmRelease holding the chart's objects.
func (run *envRun) helmReleases(ctx context.Context) {
	type rel struct {
		parent *Kustomization
		hr     *Object
		out    *Kustomization
	}
	var rels []*rel
	for _, k := range run.env.Kustomizations {
		if !k.Rendered {
			continue
		}
		for _, o := range k.Objects {
			if isHelmRelease(o) {
				rels = append(rels, &rel{parent: k, hr: o})
			}
		}
	}
	if len(rels) == 0 {
		return
	}
	crds := run.crds()
	var wg sync.WaitGroup
	for _, rl := range rels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run.r.cpu.Do(func() { rl.out = run.release(ctx, rl.parent, rl.hr, crds) })
		}()
	}
	wg.Wait()
	for _, f := range foldMissing(run.missing) {
		run.r.add(f)
	}
	for _, rl := range rels {
		if rl.out != nil {
			run.env.Kustomizations = append(run.env.Kustomizations, rl.out)
		}
	}
}

// envCRDs is what a chart sees of the environment's CRDs: every version of
// each (besides Helm's built-in API versions) and each kind's scope.
type envCRDs struct {
	versions []string
	scope    map[string]bool // group/Kind → namespaced
}

// crds reads the CRDs the environment applies, once for all its releases.
func (run *envRun) crds() envCRDs {
	c := envCRDs{scope: map[string]bool{}}
	for _, k := range run.env.Kustomizations {
		for _, o := range k.Objects {
			if o.Kind() != "CustomResourceDefinition" || objects.Group(o.APIVersion()) != "apiextensions.k8s.io" {
				continue
			}
			group := objects.NestedString(o.Content, "spec", "group")
			kind := objects.NestedString(o.Content, "spec", "names", "kind")
			if group == "" || kind == "" {
				continue
			}
			c.scope[group+"/"+kind] = objects.NestedString(o.Content, "spec", "scope") != "Cluster"
			vs, _ := objects.Nested(o.Content, "spec", "versions").([]any)
			for _, v := range vs {
				vm, _ := v.(map[string]any)
				if name := str(vm["name"]); name != "" {
					c.versions = append(c.versions, group+"/"+name, group+"/"+name+"/"+kind)
				}
			}
		}
	}
	slices.Sort(c.versions)
	c.versions = slices.Compact(c.versions)
	return c
}

// namespaced tells whether a kind is namespaced: a built-in kind by
// kustomize's schema, a custom kind by a CRD of the environment.
func (c envCRDs) namespaced(apiVersion, kind string) (bool, bool) {
	if ns, found := openapi.IsNamespaceScoped(kyaml.TypeMeta{APIVersion: apiVersion, Kind: kind}); found {
		return ns, true
	}
	ns, found := c.scope[objects.Group(apiVersion)+"/"+kind]
	return ns, found
}

// release renders one HelmRelease; nil when it is not rendered (the
// finding says why).
func (run *envRun) release(ctx context.Context, parent *Kustomization, hr *Object, crds envCRDs) *Kustomization {
	k := &Kustomization{
		Kind: KindHelmRelease, Namespace: cmpOr(hr.Namespace(), "default"), Name: hr.Name(),
		File: hr.File, Line: hr.Line, Column: hr.Column, Parent: parent.ID(),
		Spec:               mapOrNil(objects.Nested(hr.Content, "spec")),
		ServiceAccountName: objects.NestedString(hr.Content, "spec", "serviceAccountName"),
		TargetNamespace:    objects.NestedString(hr.Content, "spec", "targetNamespace"),
		Linted:             parent.Linted, Unchanged: parent.Unchanged,
	}
	at := func(path ...string) (string, int, int) {
		if hr.File == "" {
			return "", 0, 0
		}
		if d := run.r.lint.DocAt(hr.File, hr.Line); d != nil {
			l, c := d.FieldPos(path...)
			return hr.File, l, c
		}
		return hr.File, hr.Line, hr.Column
	}
	report := func(rule finding.Rule, msg string, path ...string) {
		file, line, col := at(path...)
		f := rule.New(finding.Finding{File: file, Line: line, Column: col, Environment: run.env.Name, Kustomization: parent.ID(), Object: hr.Ref(), Message: msg})
		run.r.add(f)
	}
	chartField := []string{"spec", "chart", "spec", "chart"}
	if objects.Nested(hr.Content, "spec", "chartRef") != nil {
		chartField = []string{"spec", "chartRef"}
	}

	// Values first, as helm-controller composes them before it loads the
	// chart: a reference that is not in git, or encrypted, is unknown.
	if why := run.valuesUnknown(k, hr); why != "" {
		report(RuleHelmValuesUnknown, fmt.Sprintf("HelmRelease %s/%s: %s, so its values are unknown and the chart is not rendered", k.Namespace, k.Name, why), "spec", "valuesFrom")
		return nil
	}
	values, err := helm.ComposeValues(ctx, hr.Content, run.lookupVars)
	if err != nil {
		report(RuleHelmError, fmt.Sprintf("HelmRelease %s/%s: %v", k.Namespace, k.Name, err), "spec", "valuesFrom")
		return nil
	}
	chart, chartDir, srcRoot, err := run.chart(k, hr)
	chartID := chartDir
	if chartID == "" && chart != nil {
		chartID = "cache:" + k.SourceKind + "/" + k.SourceNamespace + "/" + k.SourceName + ":" + chart.Name() + "@" + chart.Version()
	}
	var nc *notCached
	var un *unsupported
	switch {
	case errors.Is(err, errSourceAbsent):
		return nil
	case errors.As(err, &un):
		report(RuleHelmChartUnsupported, un.Error(), chartField...)
		return nil
	case errors.As(err, &nc):
		// One finding per missing chart: every release of it is moved to
		// the first one (foldMissing) and listed as a context.
		file, line, col := at(chartField...)
		f := RuleHelmChartMissing.New(finding.Finding{File: file, Line: line, Column: col, Environment: run.env.Name, Kustomization: parent.ID(), Object: hr.Ref(), Message: nc.Error()})
		run.mu.Lock()
		run.missing = append(run.missing, f)
		run.mu.Unlock()
		return nil
	case err != nil:
		report(RuleHelmError, fmt.Sprintf("HelmRelease %s/%s: chart: %v", k.Namespace, k.Name, err), chartField...)
		return nil
	}
	if ref := chart.ExternalSchemaRef(); ref != "" && objects.Nested(hr.Content, "spec", "install", "disableSchemaValidation") != true {
		report(RuleHelmValuesUnknown, fmt.Sprintf("HelmRelease %s/%s: the values.schema.json of chart %s refers to %s, which is not read offline, so the values are not validated against it", k.Namespace, k.Name, chart.Name(), ref), chartField...)
	}
	if chart.UsesLookup() {
		report(RuleHelmLookup, fmt.Sprintf("HelmRelease %s/%s: chart %s calls lookup, which returns nothing offline", k.Namespace, k.Name, chart.Name()), chartField...)
	}
	opts, err := helm.OptionsFor(hr.Content)
	if err != nil {
		report(RuleHelmError, fmt.Sprintf("HelmRelease %s/%s: %v", k.Namespace, k.Name, err), "spec")
		return nil
	}
	opts.KubeVersion, opts.APIVersions, opts.Namespaced = run.kubeVersion(), crds.versions, crds.namespaced
	opts.Timeout = helmTimeout
	if chartDir == "" {
		opts.ValuesFiles = nil // a chart from the cache is packaged with its values
	} else {
		opts.ValuesFilesRoot = srcRoot
	}
	ms, err := run.r.renderRelease(ctx, chartID, chart, values, opts)
	var pe *helm.PostRenderError
	if errors.As(err, &pe) {
		report(RuleHelmPostRender, fmt.Sprintf("HelmRelease %s/%s: %v", k.Namespace, k.Name, err), "spec", "postRenderers")
		return nil
	}
	if err != nil {
		msg := fmt.Sprintf("HelmRelease %s/%s: %v", k.Namespace, k.Name, err)
		if file, line, col := run.templatePos(chartDir, err.Error()); file != "" {
			// A template of a chart in the repository: there is the fix.
			run.r.add(RuleHelmError.New(finding.Finding{File: file, Line: line, Column: col, Environment: run.env.Name, Kustomization: parent.ID(), Object: hr.Ref(), Message: msg}))
			return nil
		}
		report(RuleHelmError, msg, chartField...)
		return nil
	}
	for _, m := range ms {
		o := &Object{Content: m.Object, OriginPath: m.Template}
		if chartDir != "" {
			rel := m.Template
			if _, rest, ok := strings.Cut(rel, "/"); ok {
				rel = rest // the chart's name, then its path
			}
			abs := filepath.Join(chartDir, filepath.FromSlash(rel))
			if file, _, _ := run.r.position(abs); file != "" {
				o.File, o.Line, o.Column = file, templateDocLine(abs, m.Index), 1
			}
		}
		k.Objects = append(k.Objects, o)
	}
	k.Rendered = true
	return k
}

// templateDocLine is the line the index-th document of a template starts
// at (1 when unknown).
func templateDocLine(path string, index int) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 1
	}
	line, doc := 1, 0
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "---") {
			doc++
			if doc == index {
				line = i + 2
			}
			continue
		}
	}
	if index == 0 || doc < index {
		return 1
	}
	return line
}

// unsupported is a chart source not rendered offline.
type unsupported struct{ msg string }

func (e *unsupported) Error() string { return e.msg }

// errSourceAbsent: the chart's source is not in the environment.
var errSourceAbsent = errors.New("chart source not in the environment")

// notCached is a chart neither in the repository nor in the cache.
type notCached struct{ msg string }

func (e *notCached) Error() string { return e.msg }

// chart loads the chart of hr: from its source's content when that is a
// GitRepository or Bucket (chartDir is then its directory, srcRoot the
// source's), else from the chart cache.
func (run *envRun) chart(k *Kustomization, hr *Object) (c *helm.Chart, chartDir, srcRoot string, err error) {
	if kind := objects.NestedString(hr.Content, "spec", "chartRef", "kind"); kind != "" {
		ns := cmpOr(objects.NestedString(hr.Content, "spec", "chartRef", "namespace"), k.Namespace)
		name := objects.NestedString(hr.Content, "spec", "chartRef", "name")
		k.SourceKind, k.SourceNamespace, k.SourceName = kind, ns, name
		if kind != "OCIRepository" {
			return nil, "", "", &unsupported{fmt.Sprintf("HelmRelease %s/%s: chartRef %s %s/%s is not rendered offline (only OCIRepository chart references are)", k.Namespace, k.Name, kind, ns, name)}
		}
		src := run.sourceObject(kind, ns, name)
		ref := charts.Ref{Kind: kind, URL: objects.NestedString(src, "spec", "url"), Tag: objects.NestedString(src, "spec", "ref", "tag"),
			Version: objects.NestedString(src, "spec", "ref", "semver"), Digest: objects.NestedString(src, "spec", "ref", "digest")}
		c, err := run.cached(k, ref)
		return c, "", "", err
	}
	kind := cmpOr(objects.NestedString(hr.Content, "spec", "chart", "spec", "sourceRef", "kind"), "HelmRepository")
	ns := cmpOr(objects.NestedString(hr.Content, "spec", "chart", "spec", "sourceRef", "namespace"), k.Namespace)
	name := objects.NestedString(hr.Content, "spec", "chart", "spec", "sourceRef", "name")
	chartName := objects.NestedString(hr.Content, "spec", "chart", "spec", "chart")
	version := objects.NestedString(hr.Content, "spec", "chart", "spec", "version")
	k.SourceKind, k.SourceNamespace, k.SourceName = kind, ns, name
	switch kind {
	case "GitRepository", "Bucket":
		art, err := run.resolve(kind, ns, name, 0)
		if err != nil || art.Origin == "" {
			return nil, "", "", &notCached{fmt.Sprintf("the chart's source %s %s/%s has no local content; pass --source %s/%s=DIR", kind, ns, name, ns, name)}
		}
		dir := filepath.Join(art.Origin, filepath.FromSlash(chartName))
		if rel, err := filepath.Rel(art.Origin, dir); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, "", "", fmt.Errorf("chart path %q leaves the source", chartName)
		}
		c, err := helm.LoadDir(dir, helm.Limits{RootDir: art.Origin})
		return c, dir, art.Origin, err
	case "HelmRepository":
		src := run.sourceObject(kind, ns, name)
		url := objects.NestedString(src, "spec", "url")
		var c *helm.Chart
		var err error
		if objects.NestedString(src, "spec", "type") == "oci" && url != "" {
			c, err = run.cached(k, charts.Ref{Kind: "OCIRepository", URL: strings.TrimSuffix(url, "/") + "/" + chartName, Version: version})
		} else {
			c, err = run.cached(k, charts.Ref{Kind: kind, URL: url, Chart: chartName, Version: version})
		}
		return c, "", "", err
	}
	return nil, "", "", &unsupported{fmt.Sprintf("HelmRelease %s/%s: chart source kind %s is not rendered offline", k.Namespace, k.Name, kind)}
}

func (run *envRun) sourceObject(kind, ns, name string) map[string]any {
	run.mu.Lock()
	defer run.mu.Unlock()
	return run.objs[objKey(kind, ns, name)]
}

// cached loads a chart from the chart cache.
func (run *envRun) cached(k *Kustomization, ref charts.Ref) (*helm.Chart, error) {
	if ref.URL == "" {
		// The source is not in the environment: converge's
		// flux/source-not-found (or the failed build that may declare it)
		// is the finding of that cause.
		return nil, errSourceAbsent
	}
	what := cmpOr(ref.Chart, ref.URL)
	if ref.Version != "" {
		what += " " + ref.Version
	}
	cache := run.r.opts.Charts
	if cache == nil {
		return nil, &notCached{fmt.Sprintf("chart %s is not in the repository and no chart cache is open; run: %s", what, charts.PullCommand(ref))}
	}
	res, err := cache.FindLocked(run.env.Name, k.Namespace+"/"+k.Name, ref)
	if errors.Is(err, charts.ErrNotCached) {
		if strings.Contains(err.Error(), charts.LockFile) {
			return nil, &notCached{fmt.Sprintf("chart %s in the chart cache is not the one %s records (%v); run: %s", what, charts.LockFile, err, charts.PullCommand(ref))}
		}
		return nil, &notCached{fmt.Sprintf("chart %s is not in the chart cache; run: %s", what, charts.PullCommand(ref))}
	}
	if err != nil {
		return nil, err
	}
	return run.r.loadArchive(res)
}

// loadedChart is a cached chart archive loaded once for the whole run:
// every release of it shares the chart (rendering copies what it changes).
type loadedChart struct {
	once  sync.Once
	chart *helm.Chart
	err   error
}

// loadArchive loads a cached chart archive once per digest.
func (r *renderer) loadArchive(res charts.Resolved) (*helm.Chart, error) {
	v, _ := r.loaded.LoadOrStore(res.Digest, &loadedChart{})
	l := v.(*loadedChart)
	l.once.Do(func() { l.chart, l.err = helm.LoadArchive(res.Archive, helm.Limits{}) })
	return l.chart, l.err
}

// valuesUnknown says why hr's values cannot be known offline ("" when
// they can): a valuesFrom reference that is not optional names a
// ConfigMap or Secret the environment does not hold, or a SOPS-encrypted
// one.
func (run *envRun) valuesUnknown(k *Kustomization, hr *Object) string {
	refs, _ := objects.Nested(hr.Content, "spec", "valuesFrom").([]any)
	for _, r := range refs {
		m, _ := r.(map[string]any)
		kind, name := str(m["kind"]), str(m["name"])
		obj := run.sourceObject(kind, k.Namespace, name)
		if obj == nil {
			if opt, _ := m["optional"].(bool); opt {
				continue
			}
			return fmt.Sprintf("valuesFrom %s %s/%s is not created in git", kind, k.Namespace, name)
		}
		if _, enc := obj["sops"]; enc {
			return fmt.Sprintf("valuesFrom %s %s/%s is SOPS-encrypted", kind, k.Namespace, name)
		}
	}
	return ""
}

// kubeVersion is the Kubernetes version charts see.
func (run *envRun) kubeVersion() string {
	if v := run.r.opts.KubernetesVersion; v != "" {
		return v
	}
	vs := catalog.Versions()
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// helmTimeout bounds one release's render: charts are untrusted.
const helmTimeout = 30 * time.Second

// templateErrAt finds the template position Helm's engine names in an
// error: "(chart/templates/x.yaml:7:15)".
var templateErrAt = regexp.MustCompile(`\(([^():\s]+):(\d+):(\d+)\)`)

// templatePos is the repository position of the template an engine error
// names, when the chart is in the repository ("" otherwise).
func (run *envRun) templatePos(chartDir, msg string) (string, int, int) {
	m := templateErrAt.FindStringSubmatch(msg)
	if chartDir == "" || m == nil {
		return "", 0, 0
	}
	_, rest, ok := strings.Cut(m[1], "/") // the chart's name, then its path
	if !ok {
		return "", 0, 0
	}
	file, _, _ := run.r.position(filepath.Join(chartDir, filepath.FromSlash(rest)))
	if file == "" {
		return "", 0, 0
	}
	line, _ := strconv.Atoi(m[2])
	col, _ := strconv.Atoi(m[3])
	return file, line, col
}

// foldMissing reports each missing chart of an environment once: every
// release of it at the first release's position, so that the engine folds
// them into one finding whose contexts list the releases.
func foldMissing(fs []finding.Finding) []finding.Finding {
	return finding.Gather(fs, func(f finding.Finding) string { return f.Message })
}

// releaseKey identifies one render of a chart: the chart, its values and
// every option that reaches the engine.
type releaseKey struct{ chart, values, opts string }

// releaseRenders counts the engine renders of the process (for tests).
var releaseRenders atomic.Int64

// releaseResult is a render shared by every environment that asks for it.
type releaseResult struct {
	once sync.Once
	ms   []helm.Manifest
	err  error
}

// renderRelease renders a chart once per distinct (chart, values, options)
// for the whole run — environments that install the same release share
// it — and hands each caller its own copy of the objects.
func (r *renderer) renderRelease(ctx context.Context, chartID string, c *helm.Chart, values map[string]any, opts helm.Options) ([]helm.Manifest, error) {
	vj, err := json.Marshal(values)
	if err != nil || chartID == "" {
		return helm.Render(ctx, c, values, opts)
	}
	o := opts
	o.Namespaced = nil                                            // the environment's scopes: its CRDs are in APIVersions
	key := releaseKey{chartID, string(vj), fmt.Sprintf("%#v", o)} // fmt prints maps sorted
	r.mu.Lock()
	if r.releases == nil {
		r.releases = map[releaseKey]*releaseResult{}
	}
	res := r.releases[key]
	if res == nil {
		res = &releaseResult{}
		r.releases[key] = res
	}
	r.mu.Unlock()
	res.once.Do(func() {
		releaseRenders.Add(1)
		res.ms, res.err = helm.Render(ctx, c, values, opts)
	})
	if res.err != nil {
		return nil, res.err
	}
	out := make([]helm.Manifest, len(res.ms))
	for i, m := range res.ms {
		m.Object = objects.DeepCopy(m.Object).(map[string]any)
		out[i] = m
	}
	return out, nil
}

// mapOrNil is v as a map, nil when it is none (a HelmRelease without a
// spec is the schema checker's to report).
func mapOrNil(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
