package helm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	fluxchartutil "github.com/fluxcd/pkg/chartutil"
	"helm.sh/helm/v4/pkg/chart/common"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"sigs.k8s.io/yaml"
)

// Options are what helm-controller's install action is configured with;
// OptionsFor fills those a HelmRelease determines.
type Options struct {
	// ReleaseName and Namespace of the release (see ReleaseName,
	// ReleaseNamespace).
	ReleaseName, Namespace string
	// KubeVersion of .Capabilities.KubeVersion, e.g. "1.36" (v1.36.0);
	// empty means Helm's default.
	KubeVersion string
	// APIVersions of .Capabilities.APIVersions: "group/version" and
	// "group/version/Kind" entries, as discovery lists them. Nil means
	// Helm's built-in list (what `helm template` assumes).
	APIVersions []string
	// IncludeCRDs returns the chart's crds/ (install.crds Create or
	// CreateReplace; see IncludeCRDs).
	IncludeCRDs bool
	// IncludeTests keeps `test` hooks (spec.test.enable).
	IncludeTests bool
	// DisableHooks drops every hook (spec.install.disableHooks).
	DisableHooks bool
	// DisableSchemaValidation skips values.schema.json
	// (spec.install.disableSchemaValidation).
	DisableSchemaValidation bool
	// ValuesFiles replace the chart's values.yaml, merged in order, as
	// source-controller does for spec.chart.spec.valuesFiles. Paths are
	// relative to ValuesFilesRoot when set (the source root, for a chart
	// from a GitRepository or Bucket), else to the chart root.
	ValuesFiles     []string
	ValuesFilesRoot string
	// IgnoreMissingValuesFiles skips missing ValuesFiles instead of failing.
	IgnoreMissingValuesFiles bool
	// PostRenderers is spec.postRenderers as unstructured JSON.
	PostRenderers []any
	// PostRenderStrategy is spec.postRenderStrategy: "combined" (default
	// in helm-controller v1.6 unless its UseHelm3Defaults gate is on),
	// "separate" or "nohooks".
	PostRenderStrategy string
	// CommonMetadata is spec.commonMetadata (labels, annotations).
	CommonMetadata map[string]any
	// Origin is the HelmRelease (its name and namespace), for the
	// helm.toolkit.fluxcd.io/{name,namespace} labels.
	Origin struct{ Name, Namespace string }
	// Namespaced tells an object kind's scope. Namespaced objects without
	// a namespace get Namespace; unknown kinds are left alone. Nil leaves
	// every object as rendered.
	Namespaced func(apiVersion, kind string) (namespaced, known bool)
	// Timeout bounds the render (default: none beyond ctx).
	Timeout time.Duration
	// Now is the clock of `now` and dates (default DefaultNow); Seed
	// seeds random template functions (default: the release namespace and
	// name).
	Now  time.Time
	Seed string
}

// Manifest is one object helm-controller would apply.
type Manifest struct {
	// Template is the template (as Helm's "# Source:" comment), or the
	// crds/ file; e.g. "podinfo/templates/service.yaml".
	Template string
	// Index is the position of the document within that template's output.
	Index int
	// Hook is "" or the hook's events, comma-separated ("pre-install,pre-upgrade").
	Hook string
	// CRD is set for objects from a crds/ directory.
	CRD bool
	// Object is the decoded object.
	Object map[string]any
}

// InstallError is a render error, worded as helm-controller's
// InstallFailed condition (internal/reconcile/install.go
// fmtInstallFailure).
type InstallError struct {
	Namespace, Release, Chart, Version string
	Err                                error
}

func (e *InstallError) Error() string {
	return fmt.Sprintf("Helm install failed for release %s/%s with chart %s@%s: %s", e.Namespace, e.Release, e.Chart, e.Version, e.Err)
}

func (e *InstallError) Unwrap() error { return e.Err }

// PostRenderError is a post-renderer (spec.postRenderers) that does not
// apply to the chart's output: a patch whose target is missing, a patch
// that does not parse. It is wrapped in the InstallError.
type PostRenderError struct{ Err error }

func (e *PostRenderError) Error() string { return e.Err.Error() }

func (e *PostRenderError) Unwrap() error { return e.Err }

// ErrTimeout is wrapped by render errors when the deadline passed.
var ErrTimeout = errors.New("render deadline exceeded")

// Render renders the chart with the composed values as helm-controller's
// install would (Helm's action.Install up to the manifests it applies),
// offline. It returns the CRDs first (when included), then the manifests
// in Helm's install order, then the hooks.
//
// The Helm engine is not context-aware: on deadline Render returns while
// the template execution goroutine runs on until it ends by itself (a
// template in an endless loop keeps its goroutine and memory).
func Render(ctx context.Context, c *Chart, values map[string]any, opts Options) ([]Manifest, error) {
	wrap := func(err error) error {
		return &InstallError{Namespace: opts.Namespace, Release: opts.ReleaseName, Chart: c.Name(), Version: c.Version(), Err: err}
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	type result struct {
		out []Manifest
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() { done <- r }()
		defer recoverInto(&r.err, "rendering chart")
		r.out, r.err = render(c, values, opts)
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, wrap(r.err)
		}
		return r.out, nil
	case <-ctx.Done():
		return nil, wrap(fmt.Errorf("%w: %w", ErrTimeout, ctx.Err()))
	}
}

// fullKubeVersion completes "1.36" to "1.36.0", the GitVersion form a
// cluster reports.
func fullKubeVersion(v string) string {
	core := strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(core, "-+"); i >= 0 {
		core = core[:i]
	}
	if strings.Count(core, ".") == 1 {
		return strings.Replace(v, core, core+".0", 1)
	}
	return v
}

func recoverInto(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s panicked: %v\n%s", what, r, firstLines(string(debug.Stack()), 12))
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

func render(c *Chart, values map[string]any, opts Options) ([]Manifest, error) {
	// action.Install.RunWithContext: availableName.
	if err := chartutil.ValidateReleaseName(opts.ReleaseName); err != nil {
		return nil, fmt.Errorf("release name check failed: %w", err)
	}
	chrt := copyChart(c.c)
	if len(opts.ValuesFiles) > 0 {
		merged, err := c.valuesFiles(opts)
		if err != nil {
			return nil, err
		}
		chrt.Values = merged
	}
	vals := deepCopyMap(values)
	if vals == nil {
		vals = map[string]any{}
	}
	if err := chartutil.ProcessDependencies(chrt, vals); err != nil {
		return nil, fmt.Errorf("chart dependencies processing failed: %w", err)
	}

	caps := common.DefaultCapabilities.Copy()
	if opts.KubeVersion != "" {
		kv, err := common.ParseKubeVersion(fullKubeVersion(opts.KubeVersion))
		if err != nil {
			return nil, fmt.Errorf("invalid kube version %q: %w", opts.KubeVersion, err)
		}
		caps.KubeVersion = *kv
	}
	if opts.APIVersions != nil {
		// The built-in API versions, plus the environment's.
		caps.APIVersions = slices.Concat(caps.APIVersions, opts.APIVersions)
	}
	relOpts := common.ReleaseOptions{Name: opts.ReleaseName, Namespace: opts.Namespace, Revision: 1, IsInstall: true}
	// A schema that refers outside itself is not validated: Helm would
	// fetch the reference over the network or read it from the machine.
	skipSchema := opts.DisableSchemaValidation || c.externalRef != ""
	toRender, err := commonutil.ToRenderValuesWithSchemaValidation(chrt, vals, relOpts, caps, skipSchema)
	if err != nil {
		return nil, err
	}

	// action.Configuration.renderResources.
	if chrt.Metadata.KubeVersion != "" && !chartutil.IsCompatibleRange(chrt.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", chrt.Metadata.KubeVersion, caps.KubeVersion.Version)
	}
	now := opts.Now
	if now.IsZero() {
		now = DefaultNow
	}
	seed := opts.Seed
	if seed == "" {
		seed = opts.Namespace + "/" + opts.ReleaseName
	}
	funcs := newDeterminism(seed, now).funcs()
	funcs["lookup"] = func(string, string, string, string) (map[string]any, error) {
		c.calledLookup.Store(true)
		return map[string]any{}, nil
	}
	files, err := engine.Engine{CustomTemplateFuncs: funcs}.Render(chrt, toRender)
	if err != nil {
		return nil, err
	}
	for k := range files {
		if strings.HasSuffix(k, "NOTES.txt") {
			delete(files, k)
		}
	}

	pr, err := buildPostRenderers(opts)
	if err != nil {
		return nil, &PostRenderError{Err: err}
	}
	if files, err = postRenderFiles(files, pr, opts.PostRenderStrategy); err != nil {
		return nil, &PostRenderError{Err: err}
	}

	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, err
	}
	idx := newIndexer(files)
	var out []Manifest
	if opts.IncludeCRDs {
		crds, err := crdManifests(chrt, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, crds...)
	}
	for _, m := range manifests {
		obj, err := decode(m.Name, m.Content)
		if err != nil {
			return nil, err
		}
		if obj == nil {
			continue
		}
		out = append(out, Manifest{Template: m.Name, Index: idx.index(m.Name, m.Content), Object: setNamespace(obj, opts)})
	}
	if !opts.DisableHooks {
		for _, h := range hooks {
			var events []string
			test := false
			for _, e := range h.Events {
				events = append(events, e.String())
				if e == release.HookTest {
					test = true
				}
			}
			if test && !opts.IncludeTests {
				continue
			}
			obj, err := decode(h.Path, h.Manifest)
			if err != nil {
				return nil, err
			}
			if obj == nil {
				continue
			}
			out = append(out, Manifest{Template: h.Path, Index: idx.index(h.Path, h.Manifest), Hook: strings.Join(events, ","), Object: setNamespace(obj, opts)})
		}
	}
	return out, nil
}

// valuesFiles merges the listed files in order (source-controller's
// builder mergeFileValues with fluxcd/pkg/chartutil MergeMaps).
func (c *Chart) valuesFiles(opts Options) (map[string]any, error) {
	merged := map[string]any{}
	for _, f := range opts.ValuesFiles {
		var data []byte
		var err error
		if opts.ValuesFilesRoot != "" {
			data, err = readFileWithin(opts.ValuesFilesRoot, f)
		} else if d, ok := c.readChartFile(f); ok {
			data = d
		} else {
			err = fmt.Errorf("no values file found at path '%s'", f)
		}
		if err != nil {
			if opts.IgnoreMissingValuesFiles {
				continue
			}
			return nil, fmt.Errorf("failed to merge values file '%s': %w", f, err)
		}
		v, err := common.ReadValues(data)
		if err != nil {
			return nil, fmt.Errorf("failed to parse values file '%s': %w", f, err)
		}
		merged = fluxchartutil.MergeMaps(merged, v)
	}
	return merged, nil
}

// postRenderFiles is renderResources' post-render switch.
func postRenderFiles(files map[string]string, pr postRenderer, strategy string) (map[string]string, error) {
	switch strategy {
	case "", "combined":
		merged, err := annotateAndMerge(files)
		if err != nil {
			return nil, fmt.Errorf("error merging manifests: %w", err)
		}
		out, err := pr.Run(bytes.NewBufferString(merged))
		if err != nil {
			return nil, fmt.Errorf("error while running post render on files: %w", err)
		}
		files, err = splitAndDeannotate(out.String(), "")
		if err != nil {
			return nil, fmt.Errorf("error while parsing post rendered output: %w", err)
		}
		return files, nil
	case "separate", "nohooks":
		hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
		if err != nil {
			return nil, err
		}
		hookFiles, manifestFiles := map[string]string{}, map[string]string{}
		for _, h := range hooks {
			appendDoc(hookFiles, h.Path, h.Manifest)
		}
		for _, m := range manifests {
			appendDoc(manifestFiles, m.Name, m.Content)
		}
		out := map[string]string{}
		for _, g := range []struct {
			name       string
			files      map[string]string
			postRender bool
		}{{"hooks", hookFiles, strategy == "separate"}, {"manifests", manifestFiles, true}} {
			if len(g.files) == 0 {
				continue
			}
			if !g.postRender {
				for k, v := range g.files {
					appendDoc(out, k, v)
				}
				continue
			}
			merged, err := annotateAndMerge(g.files)
			if err != nil {
				return nil, fmt.Errorf("error merging %s: %w", g.name, err)
			}
			pd, err := pr.Run(bytes.NewBufferString(merged))
			if err != nil {
				return nil, fmt.Errorf("error while running post render on %s: %w", g.name, err)
			}
			rendered, err := splitAndDeannotate(pd.String(), g.name)
			if err != nil {
				return nil, fmt.Errorf("error while parsing post rendered output for %s: %w", g.name, err)
			}
			for k, v := range rendered {
				appendDoc(out, k, v)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown post-render strategy: '%s'", strategy)
}

func appendDoc(files map[string]string, name, doc string) {
	if existing, ok := files[name]; ok {
		files[name] = existing + "\n---\n" + doc
	} else {
		files[name] = doc
	}
}

// crdManifests is internal/action/crds.go applyCRDs, offline: every crds/
// file of the chart and its enabled subcharts, CustomResourceDefinitions
// only (other kinds there are ignored), with the origin labels.
func crdManifests(chrt *chart.Chart, opts Options) ([]Manifest, error) {
	var out []Manifest
	for _, crd := range chrt.CRDObjects() {
		split := releaseutil.SplitManifests(string(crd.File.Data))
		keys := make([]string, 0, len(split))
		for k := range split {
			keys = append(keys, k)
		}
		sort.Sort(releaseutil.BySplitManifestsOrder(keys))
		for i, k := range keys {
			obj, err := decode(crd.Filename, split[k])
			if err != nil {
				return nil, fmt.Errorf("failed to apply CustomResourceDefinitions: failed to parse CustomResourceDefinitions from %s: %w", crd.Name, err)
			}
			if obj == nil {
				continue
			}
			av, _ := obj["apiVersion"].(string)
			if kind, _ := obj["kind"].(string); kind != "CustomResourceDefinition" || !strings.HasPrefix(av, "apiextensions.k8s.io/") {
				continue
			}
			md, _ := obj["metadata"].(map[string]any)
			if md == nil {
				md = map[string]any{}
				obj["metadata"] = md
			}
			labels, _ := md["labels"].(map[string]any)
			if labels == nil {
				labels = map[string]any{}
			}
			for k, v := range originLabels(opts.Origin.Namespace, opts.Origin.Name) {
				labels[k] = v
			}
			md["labels"] = labels
			out = append(out, Manifest{Template: crd.Filename, Index: i, CRD: true, Object: obj})
		}
	}
	return out, nil
}

func decode(name, content string) (map[string]any, error) {
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(content), &obj); err != nil {
		return nil, fmt.Errorf("YAML parse error on %s: %w", name, err)
	}
	if len(obj) == 0 {
		return nil, nil
	}
	return obj, nil
}

func setNamespace(obj map[string]any, opts Options) map[string]any {
	if opts.Namespaced == nil || opts.Namespace == "" {
		return obj
	}
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		obj["metadata"] = md
	}
	if ns, _ := md["namespace"].(string); ns != "" {
		return obj
	}
	av, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	if namespaced, known := opts.Namespaced(av, kind); known && namespaced {
		md["namespace"] = opts.Namespace
	}
	return obj
}

// indexer numbers each document by its position in its template's output.
type indexer struct {
	docs map[string][]string
	used map[string][]bool
}

func newIndexer(files map[string]string) *indexer {
	ix := &indexer{docs: map[string][]string{}, used: map[string][]bool{}}
	for name, content := range files {
		split := releaseutil.SplitManifests(content)
		keys := make([]string, 0, len(split))
		for k := range split {
			keys = append(keys, k)
		}
		sort.Sort(releaseutil.BySplitManifestsOrder(keys))
		for _, k := range keys {
			ix.docs[name] = append(ix.docs[name], split[k])
		}
		ix.used[name] = make([]bool, len(ix.docs[name]))
	}
	return ix
}

func (ix *indexer) index(name, content string) int {
	for i, d := range ix.docs[name] {
		if !ix.used[name][i] && d == content {
			ix.used[name][i] = true
			return i
		}
	}
	return -1
}
