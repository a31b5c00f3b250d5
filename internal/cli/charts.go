package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/gitops-lint/gitops-lint/internal/charts"
	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// chartsFlags are the flags of `charts pull`.
type chartsFlags struct {
	writeLock bool
	archive   string
	index     string
	// one chart, without a repository (PullCommand's form)
	url, kind, chart, version, tag, digest string
}

func newChartsCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "charts",
		Short: "Manage the Helm chart cache (the only command that uses the network)",
		Long: `The charts of HelmReleases are read offline: from the repository's
vendor directory .gitops-lint/charts/, then from the user chart cache
(--chart-cache, GITOPS_LINT_CHART_CACHE, default <user cache>/gitops-lint/charts).
"charts pull" fills the user cache. See docs/charts.md.`,
		Example: `  gitops-lint charts pull                      fill the chart cache, write charts.lock`,
		Args:    maxArgs(0),
	}
	cmd.AddCommand(newChartsPullCommand(a))
	return cmd
}

func newChartsPullCommand(a *app) *cobra.Command {
	fv := &flagValues{}
	cf := &chartsFlags{}
	cmd := &cobra.Command{
		Use:   "pull [PATH]",
		Short: "Download the charts of the repository's HelmReleases into the chart cache and write charts.lock",
		Long: `Pull renders the repository at PATH (default "."), finds its HelmReleases
and the HelmRepository or OCIRepository each uses, downloads every chart
into the user chart cache, verifying digests, and writes charts.lock at
the repository root (--write-lock=false: do not).

This is the only gitops-lint command that uses the network: HTTPS only,
TLS verified, the proxy from HTTPS_PROXY/NO_PROXY. Registry credentials
come from the Docker config (~/.docker/config.json, DOCKER_CONFIG) or
Helm's registry config (HELM_REGISTRY_CONFIG), never from the repository:
a source's spec.secretRef is ignored.

With --url, pull fetches that one chart and reads no repository (the
command a render/helm-chart-missing finding names).`,
		Example: `  gitops-lint charts pull                      pull the charts of every environment
  gitops-lint charts pull --env prod --chart-cache ./.cache
  gitops-lint charts pull --url https://stefanprodan.github.io/podinfo --chart podinfo --version '6.x'`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.chartsPull(cmd, fv, cf, args)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&cf.writeLock, "write-lock", true, "write "+charts.LockFile+" at the repository root")
	fs.StringVar(&cf.archive, "max-archive", "10MiB", "refuse a chart archive larger than `SIZE`")
	fs.StringVar(&cf.index, "max-index", "20MiB", "refuse an index.yaml larger than `SIZE`")
	fs.StringVar(&cf.url, "url", "", "pull one chart from the repository `URL` (https:// or oci://) instead of reading PATH")
	fs.StringVar(&cf.kind, "kind", charts.KindHelmRepository, "with --url: the source `KIND`, HelmRepository or OCIRepository")
	fs.StringVar(&cf.chart, "chart", "", "with --url: the chart `NAME` (HelmRepository)")
	fs.StringVar(&cf.version, "version", "", "with --url: the version or semver `CONSTRAINT` (default: the latest)")
	fs.StringVar(&cf.tag, "tag", "", "with --url: the OCIRepository `TAG` (default latest)")
	fs.StringVar(&cf.digest, "digest", "", "with --url: the pinned `DIGEST` (sha256:…)")
	addCommonFlags(fs, fv)
	fs.SortFlags = false
	return cmd
}

func (a *app) chartsPull(cmd *cobra.Command, fv *flagValues, cf *chartsFlags, args []string) error {
	var limits charts.Limits
	var err error
	if limits.ArchiveBytes, err = confine.ParseBytes(cf.archive); err != nil || limits.ArchiveBytes <= 0 {
		return finding.Usagef("--max-archive: invalid size %q", cf.archive)
	}
	if limits.IndexBytes, err = confine.ParseBytes(cf.index); err != nil || limits.IndexBytes <= 0 {
		return finding.Usagef("--max-index: invalid size %q", cf.index)
	}
	dir, err := charts.CacheDir(fv.chartCache, func(k string) string { return a.env[k] })
	if err != nil {
		return finding.Usagef("%w", err)
	}
	cache, err := charts.Open("", dir, limits)
	if err != nil {
		return finding.Usagef("%w", err)
	}
	client := charts.NewClient(charts.ClientOptions{
		Getenv:    func(k string) string { return a.env[k] },
		UserAgent: toolName + "/" + Version(),
	})

	if cf.url != "" {
		if len(args) > 0 {
			return finding.Usagef("--url pulls one chart and reads no repository: drop %q", args[0])
		}
		if cf.kind != charts.KindHelmRepository && cf.kind != charts.KindOCIRepository {
			return finding.Usagef("--kind: want HelmRepository or OCIRepository, got %q", cf.kind)
		}
		ref := charts.Ref{Kind: cf.kind, URL: cf.url, Chart: cf.chart, Version: cf.version, Tag: cf.tag, Digest: cf.digest}
		pulled, err := charts.PullAll(cmd.Context(), []charts.Ref{ref}, cache, client)
		a.printPulled(pulled, nil)
		if err != nil {
			a.exitCode = 1
		}
		return nil
	}

	opts, err := a.options(cmd, fv, args, false)
	if err != nil {
		return err
	}
	stop := a.progress("rendering " + displayPath(opts.Root))
	res, err := a.renderRepo(cmd.Context(), opts)
	stop()
	if err != nil {
		return err
	}
	var rels []charts.Release
	var envs []string
	for _, env := range res.Environments {
		envs = append(envs, env.Name)
		var objs []map[string]any
		for _, k := range env.Kustomizations {
			for _, o := range k.Objects {
				objs = append(objs, o.Content)
			}
		}
		r, notices := charts.Releases(env.Name, objs)
		rels = append(rels, r...)
		for _, n := range notices {
			fmt.Fprintf(a.stderr, "notice: %s\n", n)
		}
	}
	refs := make([]charts.Ref, len(rels))
	for i, r := range rels {
		refs[i] = r.Ref
	}
	pulled, pullErr := charts.PullAll(cmd.Context(), refs, cache, client)
	a.printPulled(pulled, rels)
	if pullErr != nil {
		a.exitCode = 1
	}
	if !cf.writeLock {
		return nil
	}
	if pullErr != nil {
		fmt.Fprintf(a.stderr, "%s not written: some charts were not pulled\n", charts.LockFile)
		return nil
	}
	lock, err := charts.ReadLock(opts.Root)
	if err != nil {
		return finding.Usagef("%w", err)
	}
	var entries []charts.LockEntry
	for i, p := range pulled {
		entries = append(entries, charts.Entry(rels[i], p.Resolved))
	}
	var only []string
	if len(opts.Environments) > 0 {
		only = slices.Clone(envs) // keep the other environments' entries
	}
	lock.Update(only, entries)
	if len(lock.Charts) == 0 {
		if _, err := os.Lstat(filepath.Join(opts.Root, charts.LockFile)); err != nil {
			return nil // no HelmRelease pulls a chart: no lock to write
		}
	}
	changed, err := charts.WriteLock(opts.Root, lock)
	if err != nil {
		return finding.Usagef("%w", err)
	}
	if changed {
		fmt.Fprintf(a.stderr, "wrote %s (%d charts)\n", displayPath(opts.Root+"/"+charts.LockFile), len(lock.Charts))
	}
	return nil
}

// printPulled prints one line per pulled chart on stdout, errors on stderr.
func (a *app) printPulled(pulled []charts.Pulled, rels []charts.Release) {
	for i, p := range pulled {
		who := ""
		if rels != nil {
			who = rels[i].Environment + " " + rels[i].ID() + ": "
		}
		if p.Err != nil {
			fmt.Fprintf(a.stderr, "error: %s%v\n", who, p.Err)
			continue
		}
		name := p.Ref.Chart
		fmt.Fprintf(a.stdout, "%s%s %s %s\n", who, name, p.Resolved.Version, p.Resolved.Digest)
	}
}
