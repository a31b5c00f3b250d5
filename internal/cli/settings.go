package cli

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/config"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/report"
)

// A setting is one option of a run, declared once: its flag (and so its
// environment variable, envVar(flag)), its config file key if the file may
// set it, and how a value from any of the three layers becomes Options.
// resolve picks the strongest layer that sets it — flag, then variable,
// then file — and hands its value to apply; with none, apply gets nil and
// sets the default.
type setting struct {
	flag string
	// key is the .gitops-lint.yaml key ("": the file cannot set it).
	key string
	// list: the variable is comma-separated (GITOPS_LINT_ENV=dev,test).
	list bool
	// lint: the setting belongs to lint only (resolveOutput), not render.
	lint bool
	// fromFlag is what the command line said.
	fromFlag func(fv *flagValues) []string
	// fromFile is the file's value, already checked by config.Parse.
	fromFile func(f *config.File) []string
	// apply parses the chosen value into opts; o says where it came from.
	apply func(opts *Options, vals []string, o origin) error
}

// settings are the options resolved layer by layer. Sources (merged key by
// key across the layers), --kustomization (a flag only), --limit and
// --trust-dir (never from the file) are resolved apart, in resolve.
var settings = []setting{
	{flag: flagEnv, list: true,
		fromFlag: func(fv *flagValues) []string { return fv.envs },
		apply: func(opts *Options, vals []string, o origin) error {
			for _, e := range vals {
				if e == "" {
					return finding.Usagef("--%s: empty environment name", flagEnv)
				}
			}
			opts.Environments = slices.Clone(vals)
			return nil
		}},
	{flag: flagPlatform, key: config.KeyPlatform,
		fromFlag: func(fv *flagValues) []string { return []string{fv.platform} },
		fromFile: func(f *config.File) []string { return []string{f.Platform} },
		apply:    func(opts *Options, vals []string, _ origin) error { opts.Platform = first(vals); return nil }},
	{flag: flagWorkers, key: config.KeyWorkers,
		fromFlag: func(fv *flagValues) []string { return []string{strconv.Itoa(fv.workers)} },
		fromFile: func(f *config.File) []string { return []string{strconv.Itoa(f.Workers)} },
		apply: func(opts *Options, vals []string, o origin) error {
			if vals == nil {
				return nil
			}
			n, err := strconv.Atoi(vals[0])
			switch {
			case o.flag != "" && n < 0:
				return o.errorf("must be 0 (one per CPU) or more, not %d", n)
			case err != nil || n < 0:
				return o.errorf("invalid value %q (want a number, 0 for one per CPU)", vals[0])
			}
			opts.Workers = n
			return nil
		}},
	{flag: flagChartCache,
		fromFlag: func(fv *flagValues) []string { return []string{fv.chartCache} },
		apply:    func(opts *Options, vals []string, _ origin) error { opts.ChartCache = first(vals); return nil }},
	{flag: flagCacheDir, // never from the config file: the linted repository does not choose where gitops-lint writes
		fromFlag: func(fv *flagValues) []string { return []string{fv.cacheDir} },
		apply:    func(opts *Options, vals []string, _ origin) error { opts.CacheDir = first(vals); return nil }},
	{flag: flagAdmissionDir, key: config.KeyAdmDirs, list: true,
		fromFlag: func(fv *flagValues) []string { return fv.admissionDirs },
		fromFile: func(f *config.File) []string { return f.AdmissionDirs },
		apply: func(opts *Options, vals []string, _ origin) error {
			opts.AdmissionDirs = slices.Clone(vals)
			return nil
		}},
	{flag: flagRBACDir, key: config.KeyRBACDirs, list: true,
		fromFlag: func(fv *flagValues) []string { return fv.rbacDirs },
		fromFile: func(f *config.File) []string { return f.RBACDirs },
		apply:    func(opts *Options, vals []string, _ origin) error { opts.RBACDirs = slices.Clone(vals); return nil }},

	{flag: flagFailOn, key: config.KeyFailOn, lint: true,
		fromFlag: func(fv *flagValues) []string { return []string{fv.failOn} },
		fromFile: func(f *config.File) []string { return []string{string(f.FailOn)} },
		apply: func(opts *Options, vals []string, o origin) error {
			opts.FailOn = finding.FailOnError
			if vals == nil {
				return nil
			}
			fo, err := finding.ParseFailOn(vals[0])
			if err != nil {
				return o.errorf("invalid value %q (want error, warning or never)", vals[0])
			}
			opts.FailOn = fo
			return nil
		}},
	{flag: flagKubeVersion, key: config.KeyKubeVersion, lint: true,
		fromFlag: func(fv *flagValues) []string { return []string{fv.kubeVersion} },
		fromFile: func(f *config.File) []string { return []string{f.KubernetesVersion} },
		apply:    func(opts *Options, vals []string, _ origin) error { opts.KubernetesVersion = first(vals); return nil }},
	{flag: flagPolicy, list: true, lint: true,
		fromFlag: func(fv *flagValues) []string { return fv.policyDirs },
		apply:    func(opts *Options, vals []string, _ origin) error { opts.PolicyDirs = slices.Clone(vals); return nil }},
	{flag: flagChangedSince, lint: true,
		fromFlag: func(fv *flagValues) []string { return []string{fv.changedSince} },
		apply:    func(opts *Options, vals []string, _ origin) error { opts.ChangedSince = first(vals); return nil }},
	{flag: flagBaseline, lint: true,
		fromFlag: func(fv *flagValues) []string { return []string{fv.baseline} },
		apply:    func(opts *Options, vals []string, _ origin) error { opts.Baseline = first(vals); return nil }},
	{flag: flagNewFromRev, lint: true,
		fromFlag: func(fv *flagValues) []string { return []string{fv.newFromRev} },
		apply:    func(opts *Options, vals []string, _ origin) error { opts.NewFromRev = first(vals); return nil }},
	{flag: flagShard, lint: true,
		fromFlag: func(fv *flagValues) []string { return []string{fv.shard} },
		apply: func(opts *Options, vals []string, _ origin) error {
			shard := first(vals)
			if shard == "" {
				return nil
			}
			var i, n int
			if _, err := fmt.Sscanf(shard, "%d/%d", &i, &n); err != nil || n < 1 || i < 1 || i > n {
				return origin{flag: flagShard}.errorf("want I/N with 1 <= I <= N, got %q", shard)
			}
			opts.Shard, opts.Shards = i, n
			return nil
		}},
	{flag: flagPromotion, key: config.KeyPromotion, list: true, lint: true,
		fromFlag: func(fv *flagValues) []string { return envList(fv.promotion) },
		fromFile: func(f *config.File) []string {
			if len(f.Promotion) == 0 {
				return nil
			}
			return f.Promotion
		},
		apply: func(opts *Options, vals []string, o origin) error {
			if o == (origin{}) {
				return nil
			}
			opts.Promotion = vals
			switch {
			case o.flag != "":
				opts.PromotionFrom = "--" + o.flag
			case o.env != "":
				opts.PromotionFrom = o.env
			default:
				opts.PromotionFrom = o.file.Path
			}
			if len(opts.Promotion) == 1 {
				return o.errorf("a chain needs at least two branches, got %q", opts.Promotion[0])
			}
			return nil
		}},
	{flag: flagNamespace, list: true, lint: true,
		fromFlag: func(fv *flagValues) []string { return fv.namespaces },
		apply: func(opts *Options, vals []string, _ origin) error {
			opts.PolicyNamespaces = slices.Clone(vals)
			return nil
		}},
	{flag: flagAllNamespaces, lint: true,
		fromFlag: func(fv *flagValues) []string { return []string{strconv.FormatBool(fv.allNamespaces)} },
		apply:    boolSetting(func(o *Options, b bool) { o.AllPolicyNamespaces = b })},
	{flag: flagNoBuiltin, lint: true,
		fromFlag: func(fv *flagValues) []string { return []string{strconv.FormatBool(fv.noBuiltin)} },
		apply:    boolSetting(func(o *Options, b bool) { o.NoBuiltinPolicies = b })},
	{flag: flagCRDDir, key: config.KeyCRDDirs, list: true, lint: true,
		fromFlag: func(fv *flagValues) []string { return fv.crdDirs },
		fromFile: func(f *config.File) []string { return f.CRDDirs },
		apply:    func(opts *Options, vals []string, _ origin) error { opts.CRDDirs = slices.Clone(vals); return nil }},
	{flag: flagFormat, key: config.KeyFormat, list: true, lint: true,
		fromFlag: func(fv *flagValues) []string { return fv.formats },
		fromFile: func(f *config.File) []string { return f.Format },
		apply:    applyFormats},
}

// resolveSetting applies the strongest layer that sets s.
func resolveSetting(in inputs, s setting, opts *Options) error {
	if in.set[s.flag] {
		return s.apply(opts, s.fromFlag(&in.flags), origin{flag: s.flag})
	}
	if v, ok := in.lookupEnv(s.flag); ok {
		vals := []string{v}
		if s.list {
			vals = envList(v)
		}
		return s.apply(opts, vals, origin{env: envVar(s.flag)})
	}
	if s.fromFile != nil && in.file.Has(s.key) {
		return s.apply(opts, s.fromFile(in.file), origin{file: in.file, key: s.key})
	}
	return s.apply(opts, nil, origin{})
}

// resolve merges flags, environment and config file (in that order of
// precedence) into the options that decide what is rendered. Root is left
// to the caller.
func resolve(in inputs) (Options, error) {
	var opts Options
	opts.Environ = in.env
	if in.file != nil {
		opts.ConfigFile, opts.Config = in.file.Path, in.file
		opts.ExplicitEnvironments = in.file.Environments
		opts.Rules = in.file.Rules
		opts.Ignore = in.file.Ignore
		opts.Provides = in.file.Provides
	}
	for _, s := range settings {
		if s.lint {
			continue
		}
		if err := resolveSetting(in, s, &opts); err != nil {
			return Options{}, err
		}
	}

	// --source: a map, merged key by key so that a flag adds to or overrides
	// the sources of the file instead of dropping them.
	opts.Sources = map[string]string{}
	if in.file != nil {
		maps.Copy(opts.Sources, in.file.Sources)
	}
	if v, ok := in.lookupEnv(flagSource); ok {
		if err := addSources(opts.Sources, envList(v), origin{env: envVar(flagSource)}); err != nil {
			return Options{}, err
		}
	}
	if in.set[flagSource] {
		if err := addSources(opts.Sources, in.flags.sources, origin{flag: flagSource}); err != nil {
			return Options{}, err
		}
	}
	if len(opts.Sources) == 0 {
		opts.Sources = nil
	}

	var err error
	if opts.Limits, err = parseLimits(in.set[flagLimit], in.flags.limits, in.env); err != nil {
		return Options{}, err
	}
	opts.TrustDirs = trustDirs(in)

	if in.set[flagKustomization] {
		k := in.flags.kustomization
		ns, name, ok := strings.Cut(strings.TrimPrefix(k, render.KindHelmRelease+"/"), "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return Options{}, origin{flag: flagKustomization}.errorf("want NAMESPACE/NAME (a Flux Kustomization) or HelmRelease/NAMESPACE/NAME, got %q", k)
		}
		opts.Kustomization = k
	}
	return opts, nil
}

// resolveOutput resolves the lint-only settings (reports, --fail-on,
// checker selection).
func resolveOutput(in inputs, opts *Options) error {
	for _, s := range settings {
		if !s.lint {
			continue
		}
		if err := resolveSetting(in, s, opts); err != nil {
			return err
		}
	}
	return nil
}

// applyFormats parses --format values; a relative FILE from the config
// file is relative to the file's directory and confined to its repository.
// In CI with no --format anywhere: text plus the platform's annotations,
// both on stdout (the runner reads annotation lines from the log).
func applyFormats(opts *Options, specs []string, o origin) error {
	defaulted := len(specs) == 0
	if defaulted {
		specs = []string{string(report.FormatText)}
	}
	base := ""
	if o.file != nil {
		base = o.file.Dir
	}
	formats, err := parseFormats(specs, base)
	if err != nil {
		return o.errorf("%v", err)
	}
	if o.file != nil && o.file.Root != "" {
		for i, f := range formats {
			if f.File == "" {
				continue
			}
			rel, err := relTo(o.file.Root, f.File)
			if err != nil {
				return o.errorf("%v", err)
			}
			formats[i].Root, formats[i].Rel = o.file.Root, rel
		}
	}
	if defaulted {
		switch {
		case opts.Environ["GITHUB_ACTIONS"] == "true":
			formats = append(formats, FormatSpec{Format: report.FormatGitHub})
		case strings.EqualFold(opts.Environ["TF_BUILD"], "true"):
			formats = append(formats, FormatSpec{Format: report.FormatAzure})
		}
	}
	opts.Formats = formats
	return nil
}

// boolSetting parses a true/false setting; an unset one is false.
func boolSetting(set func(*Options, bool)) func(*Options, []string, origin) error {
	return func(opts *Options, vals []string, o origin) error {
		if vals == nil {
			return nil
		}
		b, err := strconv.ParseBool(vals[0])
		if err != nil {
			return o.errorf("invalid value %q (want true or false)", vals[0])
		}
		set(opts, b)
		return nil
	}
}

func first(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

// configurable lists the flags the config file can set, with their keys,
// for the help text: it is generated from the table so that it cannot
// promise a key that does not exist.
func configurable() string {
	var parts []string
	for _, s := range settings {
		if s.key != "" {
			parts = append(parts, "--"+s.flag+" ("+s.key+")")
		}
	}
	parts = append(parts, "--"+flagSource+" ("+config.KeySources+")")
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}
