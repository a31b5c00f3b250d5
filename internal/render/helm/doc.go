// Package helm renders a Helm chart into the objects helm-controller
// (Flux 2.9, helm-controller v1.6 on Helm v4.2) would apply for a
// HelmRelease, offline and without Helm's action package.
//
// The pieces, in the order the controller runs them:
//
//	c, err := helm.LoadDir(dir, helm.Limits{RootDir: repoRoot}) // or LoadArchive(tgz, limits)
//	vals, err := helm.ComposeValues(ctx, hr, source)            // valuesFrom, then spec.values
//	opts, err := helm.OptionsFor(hr)                            // release name/namespace, CRD policy, post-renderers…
//	opts.KubeVersion, opts.APIVersions, opts.Namespaced = "1.36", apis, scope
//	manifests, err := helm.Render(ctx, c, vals, opts)
//	if c.UsesLookup() { /* info render/helm-lookup */ }
//
// Render follows Helm's action.Install (release name check, dependency
// processing, values coalescing and values.schema.json validation, the
// chart's kubeVersion constraint, the template engine, NOTES.txt removal,
// post-rendering by strategy, manifest sorting into hooks and manifests)
// and helm-controller's configuration of it (internal/action/install.go,
// crds.go, post_render.go; internal/postrender: kustomize patches and
// images, commonMetadata, origin labels). CRDs of crds/ are returned
// separately marked, hooks are returned with their events, test hooks
// only with Options.IncludeTests.
//
// Template functions that read the clock or randomness are replaced by a
// fixed clock (Options.Now) and a seeded stream (Options.Seed) so that two
// renders are byte-identical; `lookup` returns an empty map, as under
// `helm template`, and is reported by Chart.UsesLookup. getHostByName
// returns "" (the controller's default without the AllowDNSLookups gate).
//
// Untrusted charts: archives are bounded by Limits (compressed and
// uncompressed sizes), directory charts by their total file size; panics
// while loading or rendering become errors; Options.Timeout (or the
// context) bounds a render — the engine cannot be interrupted, so on
// timeout its goroutine is abandoned to finish by itself. There are no
// plugins, no post-renderer executables and no network access.
//
// See docs/helm.md for what is matched and what is not.
package helm
