package cli

import (
	"errors"
	"fmt"
	"github.com/gitops-lint/gitops-lint/internal/charts"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gitops-lint/gitops-lint/internal/config"
	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/diskcache"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/pool"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/report"
)

// Flag names. Each one's environment variable is envVar(name).
const (
	flagFormat        = "format"
	flagFailOn        = "fail-on"
	flagEnv           = "env"
	flagSource        = "source"
	flagPlatform      = "platform"
	flagConfig        = "config"
	flagNoConfig      = "no-config"
	flagWorkers       = "workers"
	flagKustomization = "kustomization"
	flagKubeVersion   = "kubernetes-version"
	flagCRDDir        = "crd-dir"
	flagRBACDir       = "rbac-dir"
	flagAdmissionDir  = "admission-dir"
	flagPolicy        = "policy"
	flagNoBuiltin     = "no-builtin-policies"
	flagNamespace     = "namespace"
	flagAllNamespaces = "all-namespaces"
	flagPromotion     = "promotion"
	flagShard         = "shard"
	flagChangedSince  = "changed-since"
	flagBaseline      = "baseline"
	flagChartCache    = "chart-cache"
	flagCacheDir      = "cache-dir"
	flagNewFromRev    = "new-from-rev"
	flagLimit         = "limit"
	flagTrustDir      = "trust-dir"
)

// envPrefix starts the environment variable of every flag.
const envPrefix = "GITOPS_LINT_"

// envVar is the environment variable of a flag: --fail-on → GITOPS_LINT_FAIL_ON.
func envVar(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Options are the resolved settings of one lint or render run.
type Options struct {
	// Root is the absolute path of the repository to lint.
	Root string
	// Formats are the reports to write; at most one goes to stdout.
	Formats []FormatSpec
	// FailOn is the --fail-on threshold.
	FailOn finding.FailOn
	// Environments limits the run to these environment names (empty: all).
	Environments []string
	// Sources maps a Flux source reference to a local directory.
	Sources map[string]string
	// Platform is the platform repository when Root is a tenant repository.
	Platform string
	// Workers is the parallelism (0: one per CPU).
	Workers int
	// ExplicitEnvironments come from the config file.
	ExplicitEnvironments []config.Environment
	// ConfigFile is the config file used ("" for none).
	ConfigFile string
	// Config is the config file read (nil for none): its rule ids are
	// checked once the run knows every rule.
	Config *config.File
	// Kustomization is the render --kustomization filter (namespace/name).
	Kustomization string
	// KubernetesVersion selects the schema catalog ("X.Y"; "" newest).
	KubernetesVersion string
	// CRDDirs hold extra CustomResourceDefinitions.
	CRDDirs []string
	// RBACDirs hold extra RBAC objects.
	RBACDirs []string
	// CacheDir is the persistent build cache (--cache-dir, "" for none);
	// Cache is it opened for this build of the tool.
	CacheDir string
	Cache    *diskcache.Cache
	// AdmissionDirs hold admission policies, bindings and params installed
	// outside git.
	AdmissionDirs []string
	// PolicyDirs hold the user's Rego policies.
	PolicyDirs []string
	// NoBuiltinPolicies drops the built-in policy library.
	NoBuiltinPolicies bool
	// PolicyNamespaces are the packages of the user's policies to run
	// (default main); AllPolicyNamespaces runs every package.
	PolicyNamespaces    []string
	AllPolicyNamespaces bool
	// Environ is the process environment (pull-request variables).
	Environ map[string]string
	// Promotion is the branch chain, upstream first, and PromotionFrom
	// where it came from.
	Promotion     []string
	PromotionFrom string
	// Shard and Shards select this run's share of the Flux Kustomizations
	// (--shard I/N); 0 means unsharded.
	Shard, Shards int
	// Rules, Ignore and Provides come from the config file.
	Rules    map[string]finding.RuleSetting
	Ignore   []finding.IgnoreEntry
	Provides []config.Provide
	// ChangedSince is the --changed-since revision ("" lints everything).
	ChangedSince string
	// Changed lists the files of Root changed since ChangedSince
	// (ChangedOnly: the run lints only what they affect).
	ChangedOnly bool
	Changed     []string
	BaseContent map[string][]byte
	// ChartCache is --chart-cache ("": $GITOPS_LINT_CHART_CACHE, else the
	// user cache directory); Charts the chart lookup it opens.
	ChartCache string
	Charts     *charts.Cache
	// Baseline is the --baseline report and NewFromRev the --new-from-rev
	// revision: what their findings already have is not new.
	Baseline   string
	NewFromRev string
	// Limits bound the run (--limit; never from the config file).
	Limits confine.Limits
	// Budget is the run's total-bytes allowance, shared by everything that
	// reads repository content.
	Budget *confine.Budget
	// TrustDirs are directories outside the repository that paths in the
	// config file may name (--trust-dir).
	TrustDirs []string
	// CPU is the run's limiter: --workers slots shared by the render and
	// every checker.
	CPU *pool.Limiter
}

// PolicyParams merges the params of every configured rule into the one
// data.gitops_lint.params document policies read.
func (o Options) PolicyParams() map[string]any {
	params := map[string]any{}
	ids := make([]string, 0, len(o.Rules))
	for id := range o.Rules {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		for k, v := range o.Rules[id].Params {
			params[k] = v
		}
	}
	return params
}

// RenderOptions are the render.Options of a run. A --shard run (without
// --changed-since) renders only as much as its share of the Flux
// Kustomizations needs.
func (o Options) RenderOptions() render.Options {
	var sel func(env, ks string) bool
	if o.Shards > 1 && !o.ChangedOnly {
		sel = func(env, ks string) bool {
			return finding.ShardOf(finding.Finding{Environment: env, Kustomization: ks}, o.Shards) == o.Shard
		}
	}
	return render.Options{
		Select:               sel,
		Root:                 o.Root,
		Sources:              o.Sources,
		Environments:         o.Environments,
		Kustomization:        o.Kustomization,
		Platform:             o.Platform,
		ExplicitEnvironments: renderEnvironments(o.ExplicitEnvironments),
		Workers:              o.Workers,
		ChangedOnly:          o.ChangedOnly,
		Changed:              o.Changed,
		BaseContent:          o.BaseContent,
		Limits:               o.Limits,
		Budget:               o.Budget,
		CPU:                  o.CPU,
		Charts:               o.Charts,
		Cache:                o.Cache,
		KubernetesVersion:    o.KubernetesVersion,
	}
}

// renderEnvironments converts the config file's environments into render's
// declaration of them (nil stays nil).
func renderEnvironments(envs []config.Environment) []render.EnvironmentSpec {
	if envs == nil {
		return nil
	}
	out := make([]render.EnvironmentSpec, len(envs))
	for i, e := range envs {
		out[i] = render.EnvironmentSpec{Name: e.Name, Path: e.Path, Branch: e.Branch}
	}
	return out
}

// FormatSpec is one --format value: a format and where it goes.
type FormatSpec struct {
	Format report.Format
	// File is the path to write; "" means stdout.
	File string
	// Root and Rel are set when the destination came from the config file:
	// it is written as Rel inside the repository Root and nowhere else.
	Root, Rel string
}

// flagValues hold what the command line said, before resolution.
type flagValues struct {
	formats       []string
	failOn        string
	envs          []string
	sources       []string
	platform      string
	config        string
	noConfig      bool
	workers       int
	kustomization string
	kubeVersion   string
	crdDirs       []string
	rbacDirs      []string
	admissionDirs []string
	policyDirs    []string
	noBuiltin     bool
	namespaces    []string
	allNamespaces bool
	promotion     string
	graph         string
	shard         string
	changedSince  string
	baseline      string
	chartCache    string
	cacheDir      string
	newFromRev    string
	limits        []string
	trustDirs     []string
}

// addCommonFlags declares the flags that decide what is rendered.
func addCommonFlags(fs *pflag.FlagSet, fv *flagValues) {
	fs.StringArrayVar(&fv.envs, flagEnv, nil, "lint only the environment `NAME`; repeatable")
	fs.StringArrayVar(&fv.sources, flagSource, nil, "`REF=DIR`: use DIR as the content of the Flux source REF (namespace/name of a GitRepository or OCIRepository, or its URL); repeatable")
	fs.StringVar(&fv.platform, flagPlatform, "", "lint PATH as a tenant repository of the platform repository in `DIR`")
	fs.StringVar(&fv.config, flagConfig, "", "read settings from `FILE` (default: "+config.FileName+" found from PATH upward)")
	fs.BoolVar(&fv.noConfig, flagNoConfig, false, "read no config file")
	fs.IntVar(&fv.workers, flagWorkers, 0, "run `N` workers (default: number of CPUs)")
	fs.StringVar(&fv.cacheDir, flagCacheDir, "", "keep kustomize builds in the persistent cache `DIR` and reuse the ones whose inputs did not change (default: none; output is the same with or without it; bounded to 512 MiB)")
	fs.StringVar(&fv.chartCache, flagChartCache, "", "read HelmRelease charts not in the repository from the chart cache `DIR` (default: $"+charts.EnvCacheDir+", else <user cache dir>/gitops-lint/charts; fill it with `gitops-lint charts pull`)")
	fs.StringArrayVar(&fv.rbacDirs, flagRBACDir, nil, "also read Roles, ClusterRoles and bindings from `DIR` (e.g. a cluster dump); repeatable")
	fs.StringArrayVar(&fv.admissionDirs, flagAdmissionDir, nil, "also apply the ValidatingAdmissionPolicies, bindings and params of `DIR` (policies installed outside git) to every environment; repeatable")
	fs.StringArrayVar(&fv.limits, flagLimit, nil, "raise or lower a bound of the run, `KEY=VALUE` (0: unlimited); command line or environment only, never the config file; repeatable. KEY: "+strings.Join(confine.LimitKeys(), ", "))
	fs.StringArrayVar(&fv.trustDirs, flagTrustDir, nil, "let the config file name paths under `DIR` although it is outside the repository (by default sources, platform, crdDirs and rbacDirs in the config must be inside it); repeatable")
}

// addLintFlags declares the flags of lint (and of the root command).
func addLintFlags(fs *pflag.FlagSet, fv *flagValues) {
	fs.StringArrayVar(&fv.formats, flagFormat, nil, formatHelp())
	fs.StringVar(&fv.failOn, flagFailOn, "", "exit 1 when a finding at or above `SEVERITY` exists: error, warning or never (default error)")
	fs.StringVar(&fv.kubeVersion, flagKubeVersion, "", "validate against the Kubernetes `X.Y` schema catalog (default: the newest embedded)")
	fs.StringArrayVar(&fv.crdDirs, flagCRDDir, nil, "also read CustomResourceDefinitions from `DIR`; repeatable")
	fs.StringArrayVar(&fv.policyDirs, flagPolicy, nil, "also run the Rego policies in `DIR` (conftest conventions: package main, deny/violation/warn rules); repeatable")
	fs.BoolVar(&fv.noBuiltin, flagNoBuiltin, false, "do not run the built-in policy library")
	fs.StringVar(&fv.shard, flagShard, "", "lint only shard `I/N` of the Flux Kustomizations, rendering only what they need (deterministic; the union of the N shards is the unsharded report), for CI matrices")
	fs.StringVar(&fv.changedSince, flagChangedSince, "", "lint only the environments and Flux Kustomizations whose rendered output can differ from what it was at git revision `REF` (compared from the merge base of REF and HEAD, uncommitted and untracked files included), plus promotion checks")
	fs.StringVar(&fv.baseline, flagBaseline, "", "a previous JSON report, `FILE`: findings it already has are reported as baseline and do not fail the run")
	fs.StringVar(&fv.newFromRev, flagNewFromRev, "", "report as new only the findings absent when the same tree is linted at git revision `REF` (e.g. HEAD, origin/main); the others are baseline and do not fail the run")
	fs.StringVar(&fv.promotion, flagPromotion, "", "the branch chain `A,B,C`, upstream first (e.g. dev,test,main): each later branch must be fast-forwardable from the one before (default: from promotion: in the config, else derived from the environments' branches)")
	fs.StringArrayVar(&fv.namespaces, flagNamespace, nil, "run the rules of the Rego package `PKG` of --policy directories (default main); repeatable")
	fs.BoolVar(&fv.allNamespaces, flagAllNamespaces, false, "run the rules of every Rego package of --policy directories")
	addCommonFlags(fs, fv)
	fs.SortFlags = false
}

func formatHelp() string {
	var ready, later []string
	for _, f := range report.Formats() {
		if _, err := report.ParseFormat(string(f)); err == nil {
			ready = append(ready, string(f))
		} else {
			later = append(later, string(f))
		}
	}
	ready[0] += " (default)"
	h := "report format: `F[=FILE]` writes format F to FILE, or to stdout without =FILE; repeatable. F: " + strings.Join(ready, ", ")
	if len(later) > 0 {
		h += "; not yet implemented: " + strings.Join(later, ", ")
	}
	return h
}

// inputs are everything options are resolved from. Keeping them in one
// value makes resolution a pure function that tables can test.
type inputs struct {
	flags flagValues
	// set holds the names of the flags given on the command line.
	set map[string]bool
	// env is the process environment.
	env map[string]string
	// file is the config file (nil: none).
	file *config.File
}

// setFlags returns the names of the flags that were given.
func setFlags(fs *pflag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { set[f.Name] = true })
	return set
}

// origin is where a setting came from, for error messages.
type origin struct {
	flag string       // the flag, when it came from the command line
	env  string       // the variable, when it came from the environment
	file *config.File // the config file, otherwise
	key  string       // the config key
}

func (o origin) errorf(format string, args ...any) error {
	switch {
	case o.flag != "":
		return finding.Usagef("--%s: %s", o.flag, fmt.Sprintf(format, args...))
	case o.env != "":
		return finding.Usagef("%s: %s", o.env, fmt.Sprintf(format, args...))
	case o.file != nil:
		return o.file.Errorf(o.key, "%s: %s", o.key, fmt.Sprintf(format, args...))
	}
	return finding.Usagef(format, args...)
}

// lookupEnv reads a variable; empty counts as unset.
func (in inputs) lookupEnv(flag string) (string, bool) {
	v := in.env[envVar(flag)]
	return v, v != ""
}

// envList splits a comma-separated variable.
func envList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// configChoice decides which config file to read: an explicit path, none,
// or ("", false) to search from PATH upward.
func configChoice(in inputs) (path string, none bool, err error) {
	if in.set[flagConfig] && in.set[flagNoConfig] && in.flags.noConfig {
		return "", false, finding.Usagef("--config and --no-config cannot be used together")
	}
	if in.set[flagNoConfig] && in.flags.noConfig {
		return "", true, nil
	}
	if in.set[flagConfig] {
		if in.flags.config == "" {
			return "", false, finding.Usagef("--config: missing FILE")
		}
		return in.flags.config, false, nil
	}
	noConfig := false
	if in.set[flagNoConfig] {
		noConfig = in.flags.noConfig // --no-config=false overrides the variable
	} else if v, ok := in.lookupEnv(flagNoConfig); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return "", false, finding.Usagef("%s: invalid value %q (want true or false)", envVar(flagNoConfig), v)
		}
		noConfig = b
	}
	p, hasPath := in.lookupEnv(flagConfig)
	switch {
	case noConfig && hasPath:
		return "", false, finding.Usagef("%s and %s cannot be used together", envVar(flagConfig), envVar(flagNoConfig))
	case noConfig:
		return "", true, nil
	}
	return p, false, nil
}

// parseLimits reads --limit (when set on the command line) or else
// GITOPS_LINT_LIMIT, never the config file: a repository must not raise its
// own bounds. With neither, the Limits stay zero, which every consumer reads
// as confine.Defaults().
func parseLimits(flagSet bool, flags []string, env map[string]string) (confine.Limits, error) {
	specs, o := flags, origin{flag: flagLimit}
	if !flagSet {
		specs, o = envList(env[envVar(flagLimit)]), origin{env: envVar(flagLimit)}
	}
	var l confine.Limits
	if len(specs) > 0 {
		l = confine.Defaults()
	}
	for _, s := range specs {
		if err := l.Set(s); err != nil {
			return confine.Limits{}, o.errorf("%v", err)
		}
	}
	return l, nil
}

// limitsOf is parseLimits for a command with its own --limit flag.
func limitsOf(cmd *cobra.Command, env map[string]string, flags []string) (confine.Limits, error) {
	return parseLimits(cmd.Flags().Changed(flagLimit), flags, env)
}

// trustDirs are the absolute --trust-dir directories (flag, else environment).
func trustDirs(in inputs) []string {
	dirs := in.flags.trustDirs
	if !in.set[flagTrustDir] {
		v, _ := in.lookupEnv(flagTrustDir)
		dirs = envList(v)
	}
	var out []string
	for _, d := range dirs {
		if abs, err := filepath.Abs(d); err == nil {
			out = append(out, abs)
		}
	}
	return out
}

func addSources(dst map[string]string, specs []string, o origin) error {
	for _, s := range specs {
		ref, dir, ok := strings.Cut(s, "=")
		if !ok || ref == "" || dir == "" {
			return o.errorf("want REF=DIR (REF is namespace/name or the source URL), got %q", s)
		}
		dst[ref] = dir
	}
	return nil
}

// relTo is p relative to root, '/'-separated.
func relTo(root, p string) (string, error) {
	rel, err := filepath.Rel(root, p)
	return filepath.ToSlash(rel), err
}

// parseFormats parses F[=FILE] values. A relative FILE is joined to base
// (the config file's directory; "" for the command line). At most one
// format may go to stdout and no file may be named twice.
func parseFormats(specs []string, base string) ([]FormatSpec, error) {
	var (
		out    []FormatSpec
		stdout string
		files  = map[string]bool{}
	)
	for _, s := range specs {
		name, file, hasFile := strings.Cut(s, "=")
		f, err := report.ParseFormat(name)
		if err != nil {
			return nil, err
		}
		switch {
		case hasFile && file == "":
			return nil, fmt.Errorf("missing FILE in %q (write %s=FILE, or %s for stdout)", s, name, name)
		case file == "-":
			file = ""
		case file != "" && base != "" && !filepath.IsAbs(file):
			file = filepath.Join(base, file)
		}
		if file == "" {
			if stdout != "" {
				return nil, fmt.Errorf("both %s and %s would write to stdout; send one to a file with F=FILE", stdout, name)
			}
			stdout = name
		} else {
			key := filepath.Clean(file)
			if files[key] {
				return nil, fmt.Errorf("%s is named twice; give each format its own file", file)
			}
			files[key] = true
		}
		out = append(out, FormatSpec{Format: f, File: file})
	}
	return out, nil
}

// checkDirs checks that the directories named by the options exist, and
// makes them absolute.
func checkDirs(opts *Options) error {
	for ref, dir := range opts.Sources {
		abs, err := existingDir(dir)
		if err != nil {
			return finding.Usagef("source %s: %w", ref, err)
		}
		opts.Sources[ref] = abs
	}
	for i, dir := range opts.PolicyDirs {
		abs, err := existingDir(dir)
		if err != nil {
			return finding.Usagef("policy: %w", err)
		}
		opts.PolicyDirs[i] = abs
	}
	for i, dir := range opts.RBACDirs {
		abs, err := existingDir(dir)
		if err != nil {
			return finding.Usagef("rbac-dir: %w", err)
		}
		opts.RBACDirs[i] = abs
	}
	for i, dir := range opts.AdmissionDirs {
		abs, err := existingDir(dir)
		if err != nil {
			return finding.Usagef("admission-dir: %w", err)
		}
		opts.AdmissionDirs[i] = abs
	}
	for i, dir := range opts.CRDDirs {
		abs, err := existingDir(dir)
		if err != nil {
			return finding.Usagef("crd-dir: %w", err)
		}
		opts.CRDDirs[i] = abs
	}
	if opts.Platform != "" {
		abs, err := existingDir(opts.Platform)
		if err != nil {
			return finding.Usagef("platform: %w", err)
		}
		opts.Platform = abs
	}
	return nil
}

func existingDir(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", p, err)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("%s: no such directory", p)
	case err != nil:
		return "", fmt.Errorf("stat %s: %w", p, err)
	case !st.IsDir():
		return "", fmt.Errorf("%s is not a directory", p)
	}
	return abs, nil
}

// displayPath is p relative to the working directory when that is shorter.
func displayPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	rel, err := filepath.Rel(wd, p)
	if err != nil || len(rel) >= len(p) {
		return p
	}
	return rel
}
