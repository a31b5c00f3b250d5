// Package report writes the findings of a run in each output format. Every
// format is one file behind the Writer interface; none of them counts or
// sorts on its own: they print the Report they are given.
//
// Findings come from the linted repository, which may be hostile: every
// string of it a format prints is escaped by escape.go (no CI command, no
// terminal control), and WithLimit bounds the size of a report (limit.go).
package report

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// Format is the name of an output format, as given to --format.
type Format string

// Output formats of the contract. This list is the one place format names
// live: it feeds --help, --format parsing and New.
const (
	FormatText     Format = "text"
	FormatJSON     Format = "json"
	FormatSARIF    Format = "sarif"
	FormatJUnit    Format = "junit"
	FormatGitHub   Format = "github"
	FormatAzure    Format = "azure"
	FormatMarkdown Format = "markdown"
)

// formats is every format of the contract in --help order, with its
// constructor (nil: not implemented yet).
var formats = []struct {
	format Format
	new    func(o options) Writer
}{
	{FormatText, func(o options) Writer { return &textWriter{color: o.color, limit: o.limit} }},
	{FormatJSON, func(o options) Writer { return jsonWriter{limit: o.limit} }},
	{FormatSARIF, func(o options) Writer { return sarifWriter{limit: o.limit} }},
	{FormatJUnit, func(o options) Writer { return junitWriter{limit: o.limit} }},
	{FormatGitHub, func(o options) Writer { return githubWriter{stepSummary: o.stepSummary, limit: o.limit} }},
	{FormatAzure, func(o options) Writer { return azureWriter{limit: o.limit} }},
	{FormatMarkdown, func(o options) Writer { return markdownWriter{limit: MarkdownLimit, cap: o.limit} }},
}

// Formats returns every format name of the contract, in --help order.
func Formats() []Format {
	out := make([]Format, len(formats))
	for i, f := range formats {
		out[i] = f.format
	}
	return out
}

// FormatList is Formats joined for messages and help: "text, json, …".
func FormatList() string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f.format)
	}
	return strings.Join(names, ", ")
}

// ErrUnknownFormat and ErrNotImplemented are wrapped by the errors of
// ParseFormat and New.
var (
	ErrUnknownFormat  = errors.New("unknown format")
	ErrNotImplemented = errors.New("not implemented yet")
)

// ParseFormat checks that name is a format this build can write.
func ParseFormat(name string) (Format, error) {
	for _, f := range formats {
		if string(f.format) == name {
			if f.new == nil {
				return "", fmt.Errorf("format %s is %w", name, ErrNotImplemented)
			}
			return f.format, nil
		}
	}
	return "", fmt.Errorf("%w %q (want one of %s)", ErrUnknownFormat, name, FormatList())
}

// Tool identifies the program that produced a report.
type Tool struct {
	Name    string
	Version string
}

// Report is everything a Writer prints: the findings, already sorted, and
// the summary, computed once for every format.
type Report struct {
	Tool     Tool
	Summary  finding.Summary
	Findings []finding.Finding

	// The fields below are optional: formats fall back to what the
	// findings alone tell when they are empty.

	// Rules is the metadata of every rule the run could report; it feeds
	// SARIF's rules[]. A rule a finding names that is missing here is
	// looked up with finding.Lookup.
	Rules []finding.Rule
	// Environments is every environment linted, with its Kustomizations,
	// so that JUnit has a passing testcase for each Kustomization without
	// findings and markdown a row for each clean environment.
	Environments []Environment
	// Repository names the linted repository (e.g. the base name of PATH);
	// JUnit's suite of findings that belong to no environment is named after
	// it ("repository" when empty).
	Repository string
	// Failed is the caller's exit decision (findings at or above --fail-on):
	// azure then ends with task.complete result=Failed.
	Failed bool
}

// Environment is one linted environment and its Flux Kustomizations, each
// "namespace/name" as in Finding.Kustomization, in render order.
type Environment struct {
	Name           string
	Kustomizations []string
}

// Writer writes a report in one format.
type Writer interface {
	Write(w io.Writer, r *Report) error
}

type options struct {
	color       bool
	stepSummary string
	limit       int64 // bytes; 0: no limit
}

// Option configures a Writer.
type Option func(*options)

// WithColor turns ANSI colour on for formats that have it (text). The
// caller decides: colour only for a terminal and when NO_COLOR is unset.
func WithColor(on bool) Option {
	return func(o *options) { o.color = on }
}

// WithStepSummary makes the github format also append its Markdown summary
// to the file at path: the caller passes $GITHUB_STEP_SUMMARY ("" = none).
func WithStepSummary(path string) Option {
	return func(o *options) { o.stepSummary = path }
}

// New returns the Writer for a format name.
func New(format string, opts ...Option) (Writer, error) {
	f, err := ParseFormat(format)
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	for _, e := range formats {
		if e.format == f {
			return e.new(o), nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownFormat, format)
}
