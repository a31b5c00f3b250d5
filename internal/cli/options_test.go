package cli

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/config"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/report"
)

// cfg parses a config file held in /cfg for a test.
func cfg(t *testing.T, yaml string) *config.File {
	t.Helper()
	f, err := config.Parse("/cfg/"+config.FileName, "/cfg", []byte(yaml))
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	return f
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func TestEnvVar(t *testing.T) {
	for flag, want := range map[string]string{
		flagFailOn:   "GITOPS_LINT_FAIL_ON",
		flagFormat:   "GITOPS_LINT_FORMAT",
		flagEnv:      "GITOPS_LINT_ENV",
		flagNoConfig: "GITOPS_LINT_NO_CONFIG",
	} {
		if got := envVar(flag); got != want {
			t.Errorf("envVar(%s) = %s, want %s", flag, got, want)
		}
	}
}

func TestResolvePrecedence(t *testing.T) {
	file := `format: [json=out/report.json]
failOn: warning
sources:
  flux-system/apps: apps
  flux-system/infra: infra
platform: ../platform
workers: 3
environments:
  - {name: dev, path: clusters/dev}
`
	tests := []struct {
		name  string
		flags flagValues
		set   map[string]bool
		env   map[string]string
		file  string // config file content; "" for no file
		check func(t *testing.T, o Options)
	}{
		{
			name: "defaults",
			check: func(t *testing.T, o Options) {
				want := Options{FailOn: finding.FailOnError, Formats: []FormatSpec{{Format: report.FormatText}}}
				if !reflect.DeepEqual(o, want) {
					t.Errorf("got %+v, want %+v", o, want)
				}
			},
		},
		{
			name: "GitHub Actions adds annotations to the default text",
			env:  map[string]string{"GITHUB_ACTIONS": "true"},
			check: func(t *testing.T, o Options) {
				want := []FormatSpec{{Format: report.FormatText}, {Format: report.FormatGitHub}}
				if !reflect.DeepEqual(o.Formats, want) {
					t.Errorf("formats %+v, want %+v", o.Formats, want)
				}
			},
		},
		{
			name: "Azure Pipelines adds logging commands to the default text",
			env:  map[string]string{"TF_BUILD": "True"},
			check: func(t *testing.T, o Options) {
				want := []FormatSpec{{Format: report.FormatText}, {Format: report.FormatAzure}}
				if !reflect.DeepEqual(o.Formats, want) {
					t.Errorf("formats %+v, want %+v", o.Formats, want)
				}
			},
		},
		{
			name:  "an explicit format is kept as is in CI",
			env:   map[string]string{"GITHUB_ACTIONS": "true"},
			flags: flagValues{formats: []string{"json"}}, set: set(flagFormat),
			check: func(t *testing.T, o Options) {
				if want := []FormatSpec{{Format: report.FormatJSON}}; !reflect.DeepEqual(o.Formats, want) {
					t.Errorf("formats %+v, want %+v", o.Formats, want)
				}
			},
		},
		{
			name: "file over default",
			file: file,
			check: func(t *testing.T, o Options) {
				want := Options{
					FailOn:               finding.FailOnWarning,
					Formats:              []FormatSpec{{Format: report.FormatJSON, File: "/cfg/out/report.json"}},
					Sources:              map[string]string{"flux-system/apps": "/cfg/apps", "flux-system/infra": "/cfg/infra"},
					Platform:             "/platform",
					Workers:              3,
					ExplicitEnvironments: []config.Environment{{Name: "dev", Path: "clusters/dev"}},
					ConfigFile:           "/cfg/" + config.FileName,
				}
				if o.Config == nil || o.Config.Path != o.ConfigFile {
					t.Errorf("Config is %+v, want the file read", o.Config)
				}
				o.Config = nil
				if !reflect.DeepEqual(o, want) {
					t.Errorf("got %+v\nwant %+v", o, want)
				}
			},
		},
		{
			name: "env over file",
			file: file,
			env: map[string]string{
				"GITOPS_LINT_FAIL_ON":  "never",
				"GITOPS_LINT_FORMAT":   "text, json=r.json",
				"GITOPS_LINT_ENV":      "dev,prod,",
				"GITOPS_LINT_SOURCE":   "flux-system/apps=env-apps",
				"GITOPS_LINT_PLATFORM": "env-platform",
				"GITOPS_LINT_WORKERS":  "7",
			},
			check: func(t *testing.T, o Options) {
				if o.FailOn != finding.FailOnNever {
					t.Errorf("FailOn = %s, want never", o.FailOn)
				}
				wantF := []FormatSpec{{Format: report.FormatText}, {Format: report.FormatJSON, File: "r.json"}}
				if !reflect.DeepEqual(o.Formats, wantF) {
					t.Errorf("Formats = %+v, want %+v (a FILE from the environment is relative to the working directory)", o.Formats, wantF)
				}
				if !reflect.DeepEqual(o.Environments, []string{"dev", "prod"}) {
					t.Errorf("Environments = %q", o.Environments)
				}
				wantS := map[string]string{"flux-system/apps": "env-apps", "flux-system/infra": "/cfg/infra"}
				if !reflect.DeepEqual(o.Sources, wantS) {
					t.Errorf("Sources = %v, want %v (merged per source)", o.Sources, wantS)
				}
				if o.Platform != "env-platform" || o.Workers != 7 {
					t.Errorf("Platform, Workers = %q, %d", o.Platform, o.Workers)
				}
			},
		},
		{
			name: "flag over env over file",
			file: file,
			flags: flagValues{
				failOn:   "error",
				formats:  []string{"json"},
				envs:     []string{"prod"},
				sources:  []string{"flux-system/apps=flag-apps", "https://x/y.git=y"},
				platform: "flag-platform",
				workers:  0,
			},
			set: set(flagFailOn, flagFormat, flagEnv, flagSource, flagPlatform, flagWorkers),
			env: map[string]string{
				"GITOPS_LINT_FAIL_ON":  "never",
				"GITOPS_LINT_FORMAT":   "text",
				"GITOPS_LINT_ENV":      "dev",
				"GITOPS_LINT_SOURCE":   "flux-system/apps=env-apps,flux-system/extra=env-extra",
				"GITOPS_LINT_PLATFORM": "env-platform",
				"GITOPS_LINT_WORKERS":  "7",
			},
			check: func(t *testing.T, o Options) {
				if o.FailOn != finding.FailOnError {
					t.Errorf("FailOn = %s, want error", o.FailOn)
				}
				if !reflect.DeepEqual(o.Formats, []FormatSpec{{Format: report.FormatJSON}}) {
					t.Errorf("Formats = %+v", o.Formats)
				}
				if !reflect.DeepEqual(o.Environments, []string{"prod"}) {
					t.Errorf("Environments = %q", o.Environments)
				}
				wantS := map[string]string{
					"flux-system/apps":  "flag-apps",
					"flux-system/extra": "env-extra",
					"flux-system/infra": "/cfg/infra",
					"https://x/y.git":   "y",
				}
				if !reflect.DeepEqual(o.Sources, wantS) {
					t.Errorf("Sources = %v, want %v", o.Sources, wantS)
				}
				if o.Platform != "flag-platform" {
					t.Errorf("Platform = %q", o.Platform)
				}
				if o.Workers != 0 {
					t.Errorf("Workers = %d, want 0: an explicit --workers 0 wins", o.Workers)
				}
			},
		},
		{
			name: "empty variables count as unset",
			file: file,
			env:  map[string]string{"GITOPS_LINT_FAIL_ON": "", "GITOPS_LINT_FORMAT": "", "GITOPS_LINT_WORKERS": ""},
			check: func(t *testing.T, o Options) {
				if o.FailOn != finding.FailOnWarning || o.Workers != 3 || o.Formats[0].Format != report.FormatJSON {
					t.Errorf("got %+v, want the file's values", o)
				}
			},
		},
		{
			name: "format to stdout with -",
			set:  set(flagFormat),
			flags: flagValues{
				formats: []string{"json=-", "text=report.txt"},
			},
			check: func(t *testing.T, o Options) {
				want := []FormatSpec{{Format: report.FormatJSON}, {Format: report.FormatText, File: "report.txt"}}
				if !reflect.DeepEqual(o.Formats, want) {
					t.Errorf("Formats = %+v, want %+v", o.Formats, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := inputs{flags: tt.flags, set: tt.set, env: tt.env}
			if tt.file != "" {
				in.file = cfg(t, tt.file)
			}
			o, err := resolve(in)
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if err := resolveOutput(in, &o); err != nil {
				t.Fatalf("resolveOutput: %v", err)
			}
			tt.check(t, o)
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name    string
		flags   flagValues
		set     map[string]bool
		env     map[string]string
		file    string
		wantErr string
		// wantConfigErr: the error must point into the config file.
		wantConfigErr bool
	}{
		{name: "bad --fail-on", flags: flagValues{failOn: "bogus"}, set: set(flagFailOn),
			wantErr: `--fail-on: invalid value "bogus" (want error, warning or never)`},
		{name: "bad GITOPS_LINT_FAIL_ON", env: map[string]string{"GITOPS_LINT_FAIL_ON": "sometimes"},
			wantErr: `GITOPS_LINT_FAIL_ON: invalid value "sometimes" (want error, warning or never)`},
		{name: "unknown format", flags: flagValues{formats: []string{"xml"}}, set: set(flagFormat),
			wantErr: `--format: unknown format "xml" (want one of text, json, sarif, junit, github, azure, markdown)`},
		{name: "unknown format in the environment", env: map[string]string{"GITOPS_LINT_FORMAT": "xml=out.xml"},
			wantErr: `GITOPS_LINT_FORMAT: unknown format "xml" (want one of text, json, sarif, junit, github, azure, markdown)`},
		{name: "unknown format in file", file: "\nformat: [yaml]\n", wantConfigErr: true,
			wantErr: `/cfg/.gitops-lint.yaml:2: format: unknown format "yaml" (want one of text, json, sarif, junit, github, azure, markdown)`},
		{name: "two formats to stdout", flags: flagValues{formats: []string{"text", "json"}}, set: set(flagFormat),
			wantErr: `--format: both text and json would write to stdout; send one to a file with F=FILE`},
		{name: "same file twice", flags: flagValues{formats: []string{"json=a.out", "text=./a.out"}}, set: set(flagFormat),
			wantErr: `--format: ./a.out is named twice; give each format its own file`},
		{name: "empty FILE", flags: flagValues{formats: []string{"json="}}, set: set(flagFormat),
			wantErr: `--format: missing FILE in "json=" (write json=FILE, or json for stdout)`},
		{name: "bad --source", flags: flagValues{sources: []string{"flux-system/apps"}}, set: set(flagSource),
			wantErr: `--source: want REF=DIR (REF is namespace/name or the source URL), got "flux-system/apps"`},
		{name: "bad GITOPS_LINT_SOURCE", env: map[string]string{"GITOPS_LINT_SOURCE": "=dir"},
			wantErr: `GITOPS_LINT_SOURCE: want REF=DIR (REF is namespace/name or the source URL), got "=dir"`},
		{name: "negative --workers", flags: flagValues{workers: -2}, set: set(flagWorkers),
			wantErr: `--workers: must be 0 (one per CPU) or more, not -2`},
		{name: "bad GITOPS_LINT_WORKERS", env: map[string]string{"GITOPS_LINT_WORKERS": "lots"},
			wantErr: `GITOPS_LINT_WORKERS: invalid value "lots" (want a number, 0 for one per CPU)`},
		{name: "bad --kustomization", flags: flagValues{kustomization: "apps"}, set: set(flagKustomization),
			wantErr: `--kustomization: want NAMESPACE/NAME (a Flux Kustomization) or HelmRelease/NAMESPACE/NAME, got "apps"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := inputs{flags: tt.flags, set: tt.set, env: tt.env}
			if tt.file != "" {
				in.file = cfg(t, tt.file)
			}
			o, err := resolve(in)
			if err == nil {
				err = resolveOutput(in, &o)
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.wantErr)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error:\n got %q\nwant %q", err, tt.wantErr)
			}
			var ce *config.Error
			isConfig := errors.As(err, &ce)
			if isConfig != tt.wantConfigErr {
				t.Errorf("config error = %v, want %v", isConfig, tt.wantConfigErr)
			}
			if !isConfig && !finding.IsUsage(err) {
				t.Errorf("error %T is not a usage error (exit 2)", err)
			}
		})
	}
}

func TestConfigChoice(t *testing.T) {
	tests := []struct {
		name     string
		flags    flagValues
		set      map[string]bool
		env      map[string]string
		wantPath string
		wantNone bool
		wantErr  string
	}{
		{name: "search by default"},
		{name: "--config", flags: flagValues{config: "c.yaml"}, set: set(flagConfig), wantPath: "c.yaml"},
		{name: "--no-config", flags: flagValues{noConfig: true}, set: set(flagNoConfig), wantNone: true},
		{name: "GITOPS_LINT_CONFIG", env: map[string]string{"GITOPS_LINT_CONFIG": "e.yaml"}, wantPath: "e.yaml"},
		{name: "GITOPS_LINT_NO_CONFIG", env: map[string]string{"GITOPS_LINT_NO_CONFIG": "1"}, wantNone: true},
		{name: "GITOPS_LINT_NO_CONFIG=false", env: map[string]string{"GITOPS_LINT_NO_CONFIG": "false"}},
		{name: "--config over GITOPS_LINT_NO_CONFIG", flags: flagValues{config: "c.yaml"}, set: set(flagConfig),
			env: map[string]string{"GITOPS_LINT_NO_CONFIG": "true"}, wantPath: "c.yaml"},
		{name: "--no-config over GITOPS_LINT_CONFIG", flags: flagValues{noConfig: true}, set: set(flagNoConfig),
			env: map[string]string{"GITOPS_LINT_CONFIG": "e.yaml"}, wantNone: true},
		{name: "--no-config=false over GITOPS_LINT_NO_CONFIG", set: set(flagNoConfig),
			env: map[string]string{"GITOPS_LINT_NO_CONFIG": "true"}},
		{name: "both flags", flags: flagValues{config: "c.yaml", noConfig: true}, set: set(flagConfig, flagNoConfig),
			wantErr: "--config and --no-config cannot be used together"},
		{name: "both variables", env: map[string]string{"GITOPS_LINT_CONFIG": "e.yaml", "GITOPS_LINT_NO_CONFIG": "true"},
			wantErr: "GITOPS_LINT_CONFIG and GITOPS_LINT_NO_CONFIG cannot be used together"},
		{name: "bad GITOPS_LINT_NO_CONFIG", env: map[string]string{"GITOPS_LINT_NO_CONFIG": "maybe"},
			wantErr: `GITOPS_LINT_NO_CONFIG: invalid value "maybe" (want true or false)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, none, err := configChoice(inputs{flags: tt.flags, set: tt.set, env: tt.env})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !finding.IsUsage(err) {
					t.Fatalf("error = %v, want usage error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if path != tt.wantPath || none != tt.wantNone {
				t.Errorf("configChoice = %q, %v; want %q, %v", path, none, tt.wantPath, tt.wantNone)
			}
		})
	}
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		specs []string
		base  string
		want  []FormatSpec
	}{
		{[]string{"json=out.json"}, "", []FormatSpec{{Format: report.FormatJSON, File: "out.json"}}},
		{[]string{"json=out.json"}, "/cfg", []FormatSpec{{Format: report.FormatJSON, File: "/cfg/out.json"}}},
		{[]string{"json=/abs/out.json"}, "/cfg", []FormatSpec{{Format: report.FormatJSON, File: "/abs/out.json"}}},
		{[]string{"text", "json=a=b.json"}, "", []FormatSpec{{Format: report.FormatText, File: ""}, {Format: report.FormatJSON, File: "a=b.json"}}},
		{[]string{"text=-"}, "", []FormatSpec{{Format: report.FormatText, File: ""}}},
		{[]string{"text=t.txt", "json=j.json"}, "", []FormatSpec{{Format: report.FormatText, File: "t.txt"}, {Format: report.FormatJSON, File: "j.json"}}},
	}
	for _, tt := range tests {
		got, err := parseFormats(tt.specs, tt.base)
		if err != nil {
			t.Errorf("parseFormats(%q): %v", tt.specs, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseFormats(%q) = %+v, want %+v", tt.specs, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	obj := &render.Object{}
	res := &render.Result{Environments: []*render.Environment{
		{Name: "dev", Kustomizations: []*render.Kustomization{{Objects: []*render.Object{obj, obj}}, {Objects: []*render.Object{obj}}}},
		{Name: "prod", Kustomizations: []*render.Kustomization{{}}},
	}}
	fs := []finding.Finding{{Severity: finding.Error}, {Severity: finding.Warning}, {Severity: finding.Warning}, {Severity: finding.Info}}
	got := summarize(res, fs, 1500_000_000)
	want := finding.Summary{Environments: 2, Kustomizations: 3, Objects: 3, Errors: 1, Warnings: 2, Infos: 1, DurationMs: 1500}
	if got != want {
		t.Errorf("summarize = %+v, want %+v", got, want)
	}
}

func TestFailExitCodes(t *testing.T) {
	tests := []struct {
		err        error
		wantCode   int
		wantStderr string
	}{
		{finding.Usagef("--fail-on: bad"), finding.ExitUsage, "gitops-lint: --fail-on: bad\n"},
		{fmt.Errorf("wrapped: %w", finding.Usagef("bad")), finding.ExitUsage, "gitops-lint: wrapped: bad\n"},
		{&config.Error{File: "c.yaml", Line: 3, Err: errors.New("unknown key")}, finding.ExitUsage, "c.yaml:3: unknown key\n"},
		{errors.New("render .: boom"), finding.ExitInternal, "gitops-lint: internal error: render .: boom\nThis is a bug in gitops-lint"},
	}
	for _, tt := range tests {
		var stderr strings.Builder
		a := &app{stderr: &stderr}
		if got := a.fail(tt.err); got != tt.wantCode {
			t.Errorf("fail(%v) = %d, want %d", tt.err, got, tt.wantCode)
		}
		if !strings.HasPrefix(stderr.String(), tt.wantStderr) {
			t.Errorf("fail(%v) printed %q, want it to start with %q", tt.err, stderr.String(), tt.wantStderr)
		}
	}
}

func TestMainRecoversPanics(t *testing.T) {
	var stderr strings.Builder
	// A panic anywhere (here: in the stdout writer) is an internal error.
	code := Main([]string{"version"}, nil, panicWriter{}, &stderr)
	if code != finding.ExitInternal {
		t.Errorf("Main = %d, want %d", code, finding.ExitInternal)
	}
	if !strings.Contains(stderr.String(), "internal error: panic: boom") || !strings.Contains(stderr.String(), "This is a bug") {
		t.Errorf("stderr = %q", stderr.String())
	}
}

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("boom") }

func TestRenderUsageErrorIsUsage(t *testing.T) {
	var stderr strings.Builder
	a := &app{stderr: &stderr}
	err := fmt.Errorf("render: %w", &render.UsageError{Msg: "--env prod: no such environment"})
	if got := a.fail(err); got != finding.ExitUsage {
		t.Errorf("fail(render.UsageError) = %d, want %d", got, finding.ExitUsage)
	}
}
