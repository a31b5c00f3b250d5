// Package finding holds the one Finding type that every checker emits and
// every reporter reads, with its ordering, its summary and the exit code it
// implies. The JSON shape is the user-facing contract (schemaVersion 1).
package finding

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity of a finding. The zero value is invalid on purpose so that a
// checker that forgets to set it is caught by tests.
type Severity string

// Severities, in increasing order of weight.
const (
	Info    Severity = "info"
	Warning Severity = "warning"
	Error   Severity = "error"
)

// Rank orders severities: info < warning < error; unknown values rank 0.
func (s Severity) Rank() int {
	switch s {
	case Info:
		return 1
	case Warning:
		return 2
	case Error:
		return 3
	}
	return 0
}

// ParseSeverity accepts error, warning or info.
func ParseSeverity(s string) (Severity, error) {
	switch Severity(strings.ToLower(s)) {
	case Error, Warning, Info:
		return Severity(strings.ToLower(s)), nil
	}
	return "", fmt.Errorf("unknown severity %q (want error, warning or info)", s)
}

// Object identifies the Kubernetes object a finding is about.
type Object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// String renders Kind/namespace/name (Kind/name for cluster-scoped objects).
func (o Object) String() string {
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

// Finding is one problem found at one place. File is relative to the linted
// repo and '/'-separated; it is empty (and Line 0) only when no source file
// exists, in which case Message says why.
type Finding struct {
	Rule          string   `json:"rule"`
	Severity      Severity `json:"severity"`
	Message       string   `json:"message"`
	File          string   `json:"file"`
	Line          int      `json:"line"`
	Column        int      `json:"column"`
	Environment   string   `json:"environment,omitempty"`
	Kustomization string   `json:"kustomization,omitempty"`
	Object        *Object  `json:"object,omitempty"`
	// Occurrences is how many places the finding stands for once Fold has
	// run (1 or more); Contexts lists them all, the first being the
	// Environment, Kustomization and Object above, when there are several.
	Occurrences int       `json:"occurrences,omitempty"`
	Contexts    []Context `json:"contexts,omitempty"`
	// Anchor is, for a finding with no File in the scanned repository, the
	// nearest place in it that brings the finding's subject in (the
	// Kustomization, the environment's entry): where code scanning shows it.
	Anchor *Location `json:"anchor,omitempty"`
	// Fingerprint identifies the finding across runs and line shifts
	// (Fingerprints); Baseline marks one a --baseline report or the
	// --new-from-rev revision already had: reported, never failing.
	Fingerprint string `json:"fingerprint,omitempty"`
	Baseline    bool   `json:"baseline,omitempty"`
}

// Context is one place a folded finding occurs: the environment,
// Kustomization and object whose render reached its file and line.
type Context struct {
	Environment   string  `json:"environment,omitempty"`
	Kustomization string  `json:"kustomization,omitempty"`
	Object        *Object `json:"object,omitempty"`
}

// String is "environment kustomization object", with the parts known.
func (c Context) String() string {
	var parts []string
	if c.Environment != "" {
		parts = append(parts, c.Environment)
	}
	if c.Kustomization != "" {
		parts = append(parts, c.Kustomization)
	}
	if c.Object != nil {
		parts = append(parts, c.Object.String())
	}
	return strings.Join(parts, " ")
}

// Location is a position in the scanned repository.
type Location struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column,omitempty"`
	// Reason says what the place is, for an anchor ("the Flux
	// Kustomization flux-system/apps").
	Reason string `json:"reason,omitempty"`
}

// Context is the finding's own (first) context.
func (f Finding) Context() Context {
	return Context{Environment: f.Environment, Kustomization: f.Kustomization, Object: f.Object}
}

// Count is the number of places the finding stands for (at least 1).
func (f Finding) Count() int { return max(f.Occurrences, 1) }

func (f Finding) objectKey() string {
	if f.Object == nil {
		return ""
	}
	return f.Object.APIVersion + "|" + f.Object.String()
}

// Compare orders findings by file, line, rule, environment, object, then the
// remaining fields so that the order is total and output identical run to run.
func Compare(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Rule, b.Rule),
		cmp.Compare(a.Environment, b.Environment),
		cmp.Compare(a.objectKey(), b.objectKey()),
		cmp.Compare(a.Column, b.Column),
		cmp.Compare(a.Kustomization, b.Kustomization),
		cmp.Compare(a.Message, b.Message),
		cmp.Compare(a.Severity.Rank(), b.Severity.Rank()),
	)
}

// Sort sorts findings in place in contract order and drops exact duplicates
// (the same base rendered for several environments yields one finding per
// environment, but the very same finding twice is noise).
func Sort(fs []Finding) []Finding {
	slices.SortFunc(fs, Compare)
	return slices.CompactFunc(fs, func(a, b Finding) bool { return Compare(a, b) == 0 })
}

// Summary is computed once per run and shared by every reporter.
type Summary struct {
	Environments   int `json:"environments"`
	Kustomizations int `json:"kustomizations"`
	// HelmReleases counts the HelmReleases whose charts were rendered.
	HelmReleases int `json:"helmReleases,omitempty"`
	Objects      int `json:"objects"`
	Errors       int `json:"errors"`
	Warnings     int `json:"warnings"`
	Infos        int `json:"infos"`
	Suppressed   int `json:"suppressed"`
	// Occurrences counts the places the findings stand for when Fold made
	// some of them stand for several (absent otherwise); Baseline counts
	// the findings marked Baseline, which the other counters leave out.
	Occurrences int `json:"occurrences,omitempty"`
	Baseline    int `json:"baseline,omitempty"`
	// Unchanged counts the Flux Kustomizations --changed-since left out
	// (their rendered output cannot have changed).
	Unchanged  int   `json:"unchanged,omitempty"`
	DurationMs int64 `json:"durationMs"`
}

// Count fills the counters of s from fs: each finding counts once, however
// many places it stands for; baseline findings count apart.
func (s *Summary) Count(fs []Finding) {
	s.Errors, s.Warnings, s.Infos, s.Occurrences, s.Baseline = 0, 0, 0, 0, 0
	folded := false
	for _, f := range fs {
		if f.Baseline {
			s.Baseline++
			continue
		}
		s.Occurrences += f.Count()
		folded = folded || f.Count() > 1
		switch f.Severity {
		case Error:
			s.Errors++
		case Warning:
			s.Warnings++
		case Info:
			s.Infos++
		}
	}
	if !folded {
		s.Occurrences = 0
	}
}

// FailOn is the --fail-on threshold.
type FailOn string

// Thresholds of --fail-on.
const (
	FailOnError   FailOn = "error"
	FailOnWarning FailOn = "warning"
	FailOnNever   FailOn = "never"
)

// ParseFailOn accepts error, warning or never.
func ParseFailOn(s string) (FailOn, error) {
	switch FailOn(s) {
	case FailOnError, FailOnWarning, FailOnNever:
		return FailOn(s), nil
	}
	return "", fmt.Errorf("invalid --fail-on %q (want error, warning or never)", s)
}

// Exit codes of the contract.
const (
	ExitOK       = 0
	ExitFindings = 1
	ExitUsage    = 2
	ExitInternal = 3
)

// ExitCode is the one place that turns findings into a process exit code.
func ExitCode(fs []Finding, threshold FailOn) int {
	var min int
	switch threshold {
	case FailOnNever:
		return ExitOK
	case FailOnWarning:
		min = Warning.Rank()
	default:
		min = Error.Rank()
	}
	for _, f := range fs {
		if !f.Baseline && f.Severity.Rank() >= min {
			return ExitFindings
		}
	}
	return ExitOK
}
