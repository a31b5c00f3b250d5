package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/gitops-lint/gitops-lint/internal/confine"
)

// originAnnotation is kustomize's buildMetadata origin annotation.
const originAnnotation = "config.kubernetes.io/origin"

// openapiLock guards kustomize's process-wide OpenAPI state. Ordinary builds
// only read it and run in parallel under RLock; a kustomization that declares
// `openapi:` (or `crds:`) changes it, so such a build runs alone with the
// state reset before and after, exactly as fluxcd/pkg/kustomize.Build does
// for every build.
var openapiLock sync.RWMutex

var openapiWarm sync.Once

// warmOpenAPI installs the reduced built-in schema (openapi.go) and parses
// it (as Flux parses the built-in one before each build) in the
// background, once per process: it takes ~15 ms (the built-in ~90) that
// discovery, source loading and the builds that never consult the schema
// (kyaml answers namespace scope of built-in kinds from a precomputed
// table) overlap. A build that does consult it waits on kyaml's own lock
// while the parse runs; one that resets it (openapi:) waits for the read
// lock held here.
func warmOpenAPI() {
	openapiWarm.Do(func() {
		openapiLock.Lock()
		installOpenAPI() // the reduced schema (openapi.go)
		openapiLock.Unlock()
		openapiLock.RLock()
		go func() {
			defer openapiLock.RUnlock()
			_ = openapi.Schema()
		}()
	})
}

// buildError is a failed build, worded as kustomize-controller words it.
type buildError struct {
	rule finding.Rule
	msg  string
	// file/field locate the cause within the artifact when known.
	file  string
	field string
}

func (e *buildError) Error() string { return e.msg }

// rawBuild is the kustomize output of one (artifact, path, generated
// kustomization) triple, before post-build substitution. It is cached and
// shared by every environment that builds the same thing.
type rawBuild struct {
	// docs is the output as encodeDocs writes it; res holds it instead
	// when it cannot be encoded (YAML aliases).
	docs []byte
	res  []*resource.Resource
	err  error
	// fresh is a decoded copy of docs no one holds yet: the first user
	// takes it instead of decoding again.
	fresh atomic.Pointer[[]*resource.Resource]
	// wantOrigin is true when the user asked for origin annotations.
	wantOrigin bool
	// size and count measure the output (see resourceSize), charged to
	// the run for every Kustomization that takes a copy.
	size, count int64
}

type buildCache struct {
	mu sync.Mutex
	m  map[string]*buildOnce
}

type buildOnce struct {
	once sync.Once
	rb   *rawBuild
}

func (c *buildCache) get(key string, mk func() *rawBuild) *rawBuild {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*buildOnce{}
	}
	o, ok := c.m[key]
	if !ok {
		o = &buildOnce{}
		c.m[key] = o
	}
	c.mu.Unlock()
	o.once.Do(func() { o.rb = mk() })
	return o.rb
}

// kustomizeBuild runs Flux's kustomization generator and kustomize over the
// artifact for the Flux Kustomization ks (an unstructured object), returning
// a private copy of the resulting resources, charged to the run (and
// recorded in c).
func (r *renderer) kustomizeBuild(a *artifact, ks map[string]any, c *charges) ([]*resource.Resource, bool, error) {
	specPath, _, _ := unstructured.NestedString(ks, "spec", "path")
	dirPath := filepath.Join(a.Dir, filepath.FromSlash(specPath))
	if rel, err := filepath.Rel(a.Dir, dirPath); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, false, &buildError{rule: RulePathEscape, field: "path",
			msg: fmt.Sprintf("spec.path %q leaves the source root", specPath)}
	}
	if !a.mem.IsDir(dirPath) {
		return nil, false, &buildError{rule: RuleError, field: "path",
			msg: fmt.Sprintf("kustomization path not found: stat %s: no such file or directory", specPath)}
	}
	var components []string
	if ignoreMissing, _, _ := unstructured.NestedBool(ks, "spec", "ignoreMissingComponents"); ignoreMissing {
		components, _, _ = unstructured.NestedStringSlice(ks, "spec", "components")
	}
	if err := r.checkFrontier(a, dirPath); err != nil {
		return nil, false, err
	}
	if err := a.materialize(dirPath, components); err != nil {
		return nil, false, &buildError{rule: RuleError, msg: fmt.Sprintf("prepare build directory: %v", err)}
	}

	gen := fluxkustomize.NewGenerator(a.Dir, unstructured.Unstructured{Object: ks})
	manifest, kfile, _, err := r.generate(gen, dirPath)
	if err != nil {
		return nil, false, &buildError{rule: RuleError, msg: r.scrub(a, fmt.Sprintf("failed to generate kustomization.yaml: %v", err))}
	}
	var kus kustypes.Kustomization
	if err := yaml.Unmarshal(manifest, &kus); err != nil {
		return nil, false, &buildError{rule: RuleError, msg: fmt.Sprintf("failed to generate kustomization.yaml: %v", err)}
	}
	wantOrigin := slices.Contains(kus.BuildMetadata, kustypes.OriginAnnotations)
	// Where each object comes from is kustomize's origin annotation. Asking
	// kustomize for it costs a sixth of a lint (it annotates every object
	// after every transformer), so the build first runs without, and the
	// renderer finds each object's file itself (originsOf); only a build
	// where that is not certain runs again with the annotations.
	var plain []byte
	if !wantOrigin {
		if plain, err = yaml.Marshal(kus); err != nil {
			return nil, false, &buildError{rule: RuleError, msg: err.Error()}
		}
		kus.BuildMetadata = append(kus.BuildMetadata, kustypes.OriginAnnotations)
		if manifest, err = yaml.Marshal(kus); err != nil {
			return nil, false, &buildError{rule: RuleError, msg: err.Error()}
		}
	}

	if buildHook != nil {
		flux := plain // what kustomize-controller builds
		if flux == nil {
			flux = manifest
		}
		buildHook(a, ks, dirPath, kfile, flux)
	}
	sum := sha256.Sum256(append([]byte(dirPath+"\x00"), manifest...))
	rb := r.cache.get(hex.EncodeToString(sum[:]), func() *rawBuild {
		var docs []byte
		var res []*resource.Resource
		err := errNeedOrigin
		if plain != nil {
			docs, res, err = r.runKrusty(a, dirPath, kfile, plain, true)
		}
		if errors.Is(err, errNeedOrigin) {
			r.annotatedBuilds.Add(1)
			docs, res, err = r.runKrusty(a, dirPath, kfile, manifest, false)
		}
		rb := &rawBuild{docs: docs, res: res, err: err, wantOrigin: wantOrigin}
		if err == nil && docs != nil {
			if res, err = resources(docs); err != nil {
				return &rawBuild{err: err}
			}
			rb.fresh.Store(&res)
		}
		for _, x := range res {
			rb.size = sat(rb.size, resourceSize(x.YNode()))
			rb.count++
		}
		return rb
	})
	if rb.err != nil {
		return nil, false, rb.err
	}
	// Charged before the copy: many Kustomizations building one large
	// base would otherwise each hold a copy of it.
	if err := r.charge(c, rb.size, rb.count); err != nil {
		return nil, false, err
	}
	if rb.docs != nil {
		if fresh := rb.fresh.Swap(nil); fresh != nil {
			return *fresh, rb.wantOrigin, nil
		}
		out, err := resources(rb.docs)
		return out, rb.wantOrigin, err
	}
	out := make([]*resource.Resource, len(rb.res))
	for i, x := range rb.res {
		out[i] = x.DeepCopy()
	}
	return out, rb.wantOrigin, nil
}

// buildHook, when set (by benchmarks only), sees every build kustomize is
// about to run: the artifact, the Flux Kustomization, the directory and
// the kustomization file Flux's generator wrote for it.
// BenchmarkKustomizeAlone replays them with kustomize alone.
var buildHook func(a *artifact, ks map[string]any, dir, kfile string, manifest []byte)

// checkFrontier refuses a build whose directory has no kustomization file
// when the manifests Flux's generator would list exceed the kustomize work
// the run has left: the generator parses them all before kustomize starts.
func (r *renderer) checkFrontier(a *artifact, dirPath string) error {
	files := a.scanFrontier(dirPath)
	if len(files) == 0 || slices.Contains(kustFileNames, path.Base(files[0])) {
		return nil
	}
	var n, mapping int64
	for _, rel := range files {
		n = sat(n, countDocs(a.mem.files[a.absOf(rel)]))
		if o, ok := a.OriginOf(a.absOf(rel)); ok {
			if _, x, xrel := r.position(o); x != nil {
				mapping = sat(mapping, x.work[xrel])
			}
		}
	}
	left := r.work.Limit() - r.work.Used()
	switch {
	case r.work.Limit() <= 0:
	case satMul(n, n) > left:
		return r.workLimit(n, files[len(files)-1], false)
	case sat(satMul(n, n), mapping) > left:
		return r.workLimit(n, files[len(files)-1], true)
	}
	return nil
}

// resourceSize measures a resource as its JSON would (values, keys,
// punctuation), without encoding it.
func resourceSize(n *kyaml.Node) int64 {
	if n == nil {
		return 0
	}
	size := int64(len(n.Value)) + 3
	for _, c := range n.Content {
		size = sat(size, resourceSize(c))
	}
	return size
}

// generate runs Flux's generator; its manifest scan parses YAML with
// kustomize's resource factory, which reads the global OpenAPI state.
func (r *renderer) generate(gen *fluxkustomize.Generator, dirPath string) (manifest []byte, kfile string, action fluxkustomize.Action, err error) {
	openapiLock.RLock()
	defer openapiLock.RUnlock()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("recovered from panic: %v", p)
		}
	}()
	return gen.GenerateManifest(dirPath)
}

var errExclusive = errors.New("build changes kustomize's global OpenAPI state")

// runKrusty builds; the output comes encoded (encodeDocs), or as
// resources when it cannot be. locate says that the manifest does not ask
// kustomize for origin annotations: the build sets them itself (originsOf)
// or fails with errNeedOrigin.
func (r *renderer) runKrusty(a *artifact, dirPath, kfile string, manifest []byte, locate bool) ([]byte, []*resource.Resource, error) {
	docs, res, err := r.runKrustyLocked(a, dirPath, kfile, manifest, false, locate)
	if errors.Is(err, errExclusive) {
		if locate {
			return nil, nil, errNeedOrigin
		}
		docs, res, err = r.runKrustyLocked(a, dirPath, kfile, manifest, true, false)
	}
	return docs, res, err
}

func (r *renderer) runKrustyLocked(a *artifact, dirPath, kfile string, manifest []byte, exclusive, locate bool) (docs []byte, res []*resource.Resource, err error) {
	overlay := securefs.MakeFsInMemory(a.mem)
	if err := overlay.WriteFile(kfile, manifest); err != nil {
		return nil, nil, &buildError{rule: RuleError, msg: err.Error()}
	}
	g := &guardFS{FileSystem: overlay, allowGlobal: exclusive, r: r, a: a, counted: map[string]bool{}, resFiles: map[string]string{}, locate: locate}
	// The persistent cache (diskbuild.go): reuse a stored build whose
	// inputs are unchanged, else record this one's.
	var rec *recFS
	key := ""
	if r.opts.Cache != nil && !exclusive {
		if key = diskKey(a, dirPath, kfile, manifest); key != "" {
			if docs := r.diskLoad(key, a, overlay); docs != nil {
				return docs, nil, nil
			}
			rec = newRecFS(overlay, a.Dir)
			g.FileSystem = rec
		}
	}
	if exclusive {
		openapiLock.Lock()
		defer openapiLock.Unlock()
		openapi.ResetOpenAPI()
		_ = openapi.Schema()
		defer func() {
			installOpenAPI() // resets, then the reduced schema again
			_ = openapi.Schema()
		}()
	} else {
		openapiLock.RLock()
		defer openapiLock.RUnlock()
	}
	defer func() {
		if p := recover(); p != nil {
			err = &buildError{rule: RuleError, msg: fmt.Sprintf("kustomize build failed: recovered from kustomize build panic: %v", p)}
		}
	}()
	k := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	m, err := k.Run(g, dirPath)
	if g.remote != nil {
		return nil, nil, g.remote
	}
	if g.limit != nil {
		return nil, nil, g.limit
	}
	if g.needsGlobal {
		r.work.Give(g.work) // the exclusive retry charges again
		return nil, nil, errExclusive
	}
	if locate && g.touchesMeta {
		r.work.Give(g.work) // the build with annotations charges again
		return nil, nil, errNeedOrigin
	}
	if err != nil {
		be := &buildError{rule: RuleError, msg: r.scrub(a, "kustomize build failed: "+err.Error())}
		var ce *securefs.ConstraintError
		if errors.As(err, &ce) {
			be.rule = RulePathEscape
		}
		return nil, nil, be
	}
	res = m.Resources()
	if locate {
		if err := r.originsOf(a, dirPath, g, res); err != nil {
			r.work.Give(g.work) // the build with annotations charges again
			return nil, nil, err
		}
	}
	nodes := make([]*kyaml.Node, len(res))
	for i, x := range res {
		nodes[i] = x.YNode()
	}
	docs, err = encodeDocs(nodes)
	if err != nil {
		return nil, res, nil // aliases: kept as nodes, copied for each user
	}
	if rec != nil {
		r.diskStore(key, rec, g.work, docs)
	}
	return docs, nil, nil
}

// scrub replaces the temporary artifact directory in messages by the
// source-relative paths a user recognises.
func (r *renderer) scrub(a *artifact, msg string) string {
	msg = strings.ReplaceAll(msg, a.Dir+string(filepath.Separator), "")
	msg = strings.ReplaceAll(msg, a.Dir, ".")
	return strings.ReplaceAll(msg, r.tmp, "")
}

// guardFS stops a build before kustomize would reach the network (remote
// bases, http resources) and notices kustomizations that change global
// OpenAPI state. It sees every kustomization file as kustomize reads it,
// before kustomize acts on its entries.
type guardFS struct {
	filesys.FileSystem
	allowGlobal bool
	r           *renderer
	a           *artifact
	mu          sync.Mutex
	remote      *buildError
	needsGlobal bool
	// docs counts the YAML documents of the files this build read (those
	// a kustomization lists as resources are counted when it is read,
	// before kustomize loads any of them); work is what they cost.
	docs, work int64
	counted    map[string]bool
	limit      error
	// resFiles are the files the kustomizations read list as resources,
	// each with the namespace: of the kustomization listing it.
	resFiles map[string]string
	// gens are the ConfigMap and Secret generators of the kustomizations;
	// generates is set when one generates objects some other way
	// (generators:, helm charts). touchesMeta: a patch or replacement may
	// remove annotations.
	gens        []generatorAt
	generates   bool
	touchesMeta bool
	// locate: the build runs without origin annotations (originsOf).
	locate bool
}

var (
	kustFileNames = konfig.RecognizedKustomizationFileNames()
	// remoteRe matches what kustomize (api v0.21.1, internal/git.NewRepoSpecFromURL
	// and loader.IsRemoteFile) would fetch: an optional go-getter "git::"
	// prefix, then an ssh/http(s)/file scheme, an SCP-style user@host, or
	// a github.com host; "gh:" as Flux also treats it as remote.
	remoteRe = regexp.MustCompile(`^(?i)(git::)?(ssh://|https?://|file://|[a-z][a-z0-9-]*@|github\.com[:/]|gh:)`)
)

// ReadFile inspects kustomization files before handing them to kustomize,
// and charges the resources every file holds to the run's kustomize work.
func (g *guardFS) ReadFile(path string) ([]byte, error) {
	data, err := g.FileSystem.ReadFile(path)
	if err != nil {
		return data, err
	}
	if !slices.Contains(kustFileNames, filepath.Base(path)) {
		if err := g.resources(path, data); err != nil {
			return nil, err
		}
		return data, nil
	}
	var k kustypes.Kustomization
	if yaml.Unmarshal(data, &k) != nil {
		return data, nil // kustomize reports the parse error itself
	}
	for _, res := range k.Resources {
		p := filepath.Join(filepath.Dir(path), res)
		if content, ok := g.a.mem.files[filepath.Clean(p)]; ok {
			if err := g.count(p, content); err != nil {
				return nil, err
			}
		}
	}
	g.mu.Lock()
	for _, res := range slices.Concat(k.Resources, k.Bases) {
		g.resFiles[filepath.Clean(filepath.Join(filepath.Dir(path), res))] = k.Namespace
	}
	for _, gen := range append(slices.Clone(k.ConfigMapGenerator), toCM(k.SecretGenerator)...) {
		g.gens = append(g.gens, generatorAt{name: gen.Name, kfile: filepath.Clean(path), create: gen.Behavior == "" || gen.Behavior == "create"})
	}
	g.generates = g.generates || len(k.Generators)+len(k.HelmCharts)+len(k.HelmChartInflationGenerator) > 0
	g.mu.Unlock()
	touches := mayTouchMeta(&k, func(rel string) []byte {
		if rel == "" {
			return nil
		}
		return g.a.mem.files[filepath.Clean(filepath.Join(filepath.Dir(path), rel))]
	})
	g.mu.Lock()
	g.touchesMeta = g.touchesMeta || touches
	g.mu.Unlock()
	if touches && g.locate {
		return nil, errNeedOrigin // stop now: the build runs again with annotations
	}
	if err := g.generated(path, &k); err != nil {
		return nil, err
	}
	for _, p := range kustomizationPaths(&k) {
		if remoteRe.MatchString(p.value) {
			g.mu.Lock()
			if g.remote == nil {
				g.remote = &buildError{rule: RuleRemoteBase, file: path, field: p.value,
					msg: fmt.Sprintf("%s %q is a remote reference: gitops-lint never fetches remote bases, and kustomize-controller refuses them under --no-remote-bases; vendor it into the repository or reference it through a Flux source", p.field, p.value)}
			}
			g.mu.Unlock()
			return nil, g.remote
		}
	}
	if (len(k.OpenAPI) > 0 || len(k.Crds) > 0) && !g.allowGlobal {
		g.mu.Lock()
		g.needsGlobal = true
		g.mu.Unlock()
		return nil, errExclusive
	}
	return data, nil
}

// resources checks a file kustomize is about to parse: its documents and
// mappings are charged to the run's kustomize work, and, when the index
// did not parse it (not a .yaml name, or in a directory the index skips),
// it is checked for alias bombs (kustomize expands aliases).
func (g *guardFS) resources(path string, data []byte) error {
	if err := g.count(path, data); err != nil {
		return err
	}
	origin, ok := g.a.OriginOf(path)
	if !ok {
		return nil
	}
	_, x, rel := g.r.position(origin)
	if x == nil {
		return nil
	}
	if x.Files[rel] != nil {
		return g.charge(path, x.work[rel])
	}
	if l := g.r.limits.FileBytes; l > 0 && nodeBound(data) > max(l/nodeBytesPerFile, 1) {
		return fmt.Errorf("%s would parse into more than %d YAML nodes; gitops-lint does not hand it to kustomize (raise the limit with --limit %s=SIZE)", rel, l/nodeBytesPerFile, confine.LimitFileBytes)
	}
	var pe *posError
	_, cost, err := parseDocs(rel, data)
	if errors.As(err, &pe) && pe.exclude {
		return fmt.Errorf("%s: line %d: %s", rel, pe.line, pe.msg)
	}
	return g.charge(path, cost.work)
}

// count charges the documents of the file at path (once per build): a
// build of n documents costs n².
func (g *guardFS) count(path string, data []byte) error {
	path = filepath.Clean(path)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.limit != nil {
		return g.limit
	}
	if g.counted[path] {
		return nil
	}
	g.counted[path] = true
	n := sat(g.docs, countDocs(data))
	if err := g.take(satMul(n, n)-satMul(g.docs, g.docs), n, path, false); err != nil {
		return err
	}
	g.docs = n
	return nil
}

// charge charges work for the file at path.
func (g *guardFS) charge(path string, work int64) error {
	if work == 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.limit != nil {
		return g.limit
	}
	return g.take(work, g.docs, path, true)
}

// take spends work on the run's budget (g.mu held).
func (g *guardFS) take(work, docs int64, path string, mapping bool) error {
	if g.r.work.Take(work) {
		g.work += work
		return nil
	}
	rel := path
	if o, ok := g.a.OriginOf(path); ok {
		if f, _, r := g.r.position(o); f != "" {
			rel = f
		} else {
			rel = r
		}
	}
	g.limit = g.r.workLimit(docs, rel, mapping)
	return g.limit
}

// generated charges the mappings a kustomization's generators make: one
// key per literal, per file, per line of an env file.
func (g *guardFS) generated(kpath string, k *kustypes.Kustomization) error {
	for _, gen := range append(slices.Clone(k.ConfigMapGenerator), toCM(k.SecretGenerator)...) {
		keys := int64(len(gen.LiteralSources) + len(gen.FileSources))
		for _, env := range gen.EnvSources {
			keys += int64(bytes.Count(g.a.mem.files[filepath.Clean(filepath.Join(filepath.Dir(kpath), env))], []byte("\n")) + 1)
		}
		if err := g.charge(kpath, keys*keys/mappingPairs); err != nil {
			return err
		}
	}
	return nil
}

type kustPath struct{ field, value string }

// kustomizationPaths lists every entry of a kustomization that kustomize
// loads as a path or URL.
func kustomizationPaths(k *kustypes.Kustomization) []kustPath {
	var out []kustPath
	add := func(field string, vs ...string) {
		for _, v := range vs {
			if v != "" {
				out = append(out, kustPath{field, v})
			}
		}
	}
	add("resources", k.Resources...)
	add("bases", k.Bases...)
	add("components", k.Components...)
	add("crds", k.Crds...)
	add("configurations", k.Configurations...)
	add("generators", k.Generators...)
	add("transformers", k.Transformers...)
	add("validators", k.Validators...)
	add("openapi.path", k.OpenAPI["path"])
	for _, p := range k.Patches {
		add("patches.path", p.Path)
	}
	for _, p := range k.PatchesJson6902 {
		add("patchesJson6902.path", p.Path)
	}
	for _, p := range k.PatchesStrategicMerge {
		if s := string(p); !strings.Contains(s, "\n") {
			add("patchesStrategicMerge", s)
		}
	}
	for _, g := range append(slices.Clone(k.ConfigMapGenerator), toCM(k.SecretGenerator)...) {
		add("generator files", g.FileSources...)
		add("generator envs", g.EnvSources...)
	}
	for _, h := range k.HelmCharts {
		add("helmCharts.repo", h.Repo)
	}
	return out
}

func toCM(secrets []kustypes.SecretArgs) []kustypes.ConfigMapArgs {
	out := make([]kustypes.ConfigMapArgs, len(secrets))
	for i, s := range secrets {
		out[i] = kustypes.ConfigMapArgs{GeneratorArgs: s.GeneratorArgs}
	}
	return out
}
