package render

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// sourceMissing is a Flux source with no local content. undeclared is set
// when nothing rendered in the environment declares the source (or, for
// an ExternalArtifact, the ArtifactGenerator that makes it).
type sourceMissing struct {
	msg        string
	undeclared bool
}

func (e *sourceMissing) Error() string { return e.msg }

// source returns the artifact a Kustomization builds from.
func (run *envRun) source(j *job) (*artifact, error) {
	k := j.k
	return run.resolve(k.SourceKind, k.SourceNamespace, k.SourceName, 0)
}

// resolve finds the local content of the Flux source kind/ns/name: the
// repository itself, a --source mapping (by namespace/name or URL), the
// tenant repository in --platform mode, or an ExternalArtifact assembled
// from its ArtifactGenerator's copy rules.
func (run *envRun) resolve(kind, ns, name string, depth int) (*artifact, error) {
	r := run.r
	id := objKey(kind, ns, name)
	run.mu.Lock()
	obj := run.objs[id]
	run.mu.Unlock()
	ignore := objects.NestedString(obj, "spec", "ignore")
	url := objects.NestedString(obj, "spec", "url")

	if slices.Contains(run.entry.self, id) {
		return run.selfArtifact(ignore) // the checkout, or entry.root of it (operator.go)
	}
	if dir, ok := r.opts.Sources[ns+"/"+name]; ok {
		return r.dirArtifact(dir, ignore)
	}
	if url != "" {
		for ref, dir := range r.opts.Sources {
			if strings.Contains(ref, "/") && normalizeURL(ref) == normalizeURL(url) && strings.Count(ref, "/") > 1 {
				return r.dirArtifact(dir, ignore)
			}
		}
		if r.tenantURL != "" && normalizeURL(url) == r.tenantURL {
			return r.dirArtifact(r.lint.Root, ignore)
		}
		if kind == kindGitRepo {
			if a, err, ok := run.selfRevision(id, obj, url, ignore); ok {
				return a, err
			}
		}
	}
	if kind == kindExtArtifact && depth < 4 {
		if a, err, ok := run.fromGenerator(ns, name, depth); ok {
			return a, err
		}
	}
	hint := fmt.Sprintf("--source %s/%s=DIR", ns, name)
	if url != "" {
		hint += fmt.Sprintf(" (or --source %s=DIR)", url)
	}
	what := "is not rendered in this environment"
	if obj != nil {
		what = "has no local content"
	}
	return nil, &sourceMissing{msg: fmt.Sprintf("source %s/%s/%s %s, so this Kustomization is not rendered or checked; pass %s to supply it", kind, ns, name, what, hint), undeclared: obj == nil}
}

func (r *renderer) dirArtifact(dir, ignore string) (*artifact, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	x := r.index(abs)
	return r.arts.get("dir\x00"+abs+"\x00"+ignore, func(dst string) (*artifact, error) {
		return fromDir(x, dst, ignore)
	})
}

// generatorOf finds the ArtifactGenerator (and its id) that declares
// ExternalArtifact ns/name among the objects rendered so far (the last one,
// when several do). run.mu is held.
func (run *envRun) generatorOf(ns, name string) (id string, gen map[string]any) {
	for oid, o := range run.objs {
		if !strings.HasPrefix(oid, kindArtifactGen+"/"+ns+"/") {
			continue
		}
		arts, _ := objects.Nested(o, "spec", "artifacts").([]any)
		for _, a := range arts {
			if am, _ := a.(map[string]any); str(am["name"]) == name {
				id, gen = oid, o
			}
		}
	}
	return id, gen
}

// fromGenerator assembles ExternalArtifact ns/name from the
// ArtifactGenerator (source-watcher) that declares it.
func (run *envRun) fromGenerator(ns, name string, depth int) (*artifact, error, bool) {
	run.mu.Lock()
	genID, gen := run.generatorOf(ns, name)
	run.mu.Unlock()
	if gen == nil {
		return nil, nil, false
	}
	srcs := map[string]*artifact{}
	list, _ := objects.Nested(gen, "spec", "sources").([]any)
	for _, s := range list {
		sm, _ := s.(map[string]any)
		a, err := run.resolve(str(sm["kind"]), cmpOr(str(sm["namespace"]), ns), str(sm["name"]), depth+1)
		if err != nil {
			return nil, err, true
		}
		srcs[str(sm["alias"])] = a
	}
	var rules []copyRule
	arts, _ := objects.Nested(gen, "spec", "artifacts").([]any)
	for _, a := range arts {
		am, _ := a.(map[string]any)
		if str(am["name"]) != name {
			continue
		}
		cps, _ := am["copy"].([]any)
		for _, c := range cps {
			cm, _ := c.(map[string]any)
			from := str(cm["from"])
			alias, rest, _ := strings.Cut(strings.TrimPrefix(from, "@"), "/")
			rule := copyRule{Alias: alias, From: rest, To: strings.TrimPrefix(strings.TrimPrefix(str(cm["to"]), "@artifact"), "/")}
			if strings.HasSuffix(str(cm["to"]), "/") && !strings.HasSuffix(rule.To, "/") {
				rule.To += "/"
			}
			ex, _ := cm["exclude"].([]any)
			for _, e := range ex {
				rule.Exclude = append(rule.Exclude, strings.TrimPrefix(str(e), "@"+alias+"/"))
			}
			rules = append(rules, rule)
		}
	}
	key := fmt.Sprintf("gen\x00%s\x00%s\x00%v", genID, name, rules)
	for alias, a := range srcs {
		key += "\x00" + alias + "=" + a.Dir
	}
	a, err := run.r.arts.get(key, func(dst string) (*artifact, error) {
		return fromRules(dst, srcs, rules)
	})
	if err != nil {
		return nil, fmt.Errorf("ArtifactGenerator %s: artifact %s: %w", genID, name, err), true
	}
	return a, nil, true
}
