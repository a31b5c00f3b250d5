// Package report writes every output of gitops-lint but the rendered YAML
// stream: the findings of a run in each output format, and the outputs of
// the other commands (the rendered diff, the rule list, the dependsOn
// graph). Each is a kind of output with its formats, all in one registry
// (this file); none of them counts or sorts on its own: they print what
// they are given.
//
// What they print comes from the linted repository, which may be hostile:
// every string of it a format prints is escaped by escape.go (no CI
// command, no terminal control), and WithLimit bounds the size of a
// findings report (limit.go). Colours and what each severity looks like
// are in style.go.
//
// To add a format to a kind of output, write its Printer (one file per
// format for findings, one file per kind for the others) and add a row to
// that kind's table below. To add a kind of output, declare a Kind here
// with its table, and its printers in a file of their own.
package report

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/converge"
	"github.com/gitops-lint/gitops-lint/internal/diff"
	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// Format is the name of an output format, as given to --format.
type Format string

// Output formats. This list is the one place format names live; each
// Kind's table says which of them it writes, and that feeds --help,
// --format parsing and New.
const (
	FormatText     Format = "text"
	FormatJSON     Format = "json"
	FormatSARIF    Format = "sarif"
	FormatJUnit    Format = "junit"
	FormatGitHub   Format = "github"
	FormatAzure    Format = "azure"
	FormatMarkdown Format = "markdown"
	FormatDOT      Format = "dot" // Graphviz
)

// The registry: every kind of output, each with its formats in --help
// order and their constructors (nil: not implemented yet).
var (
	// Findings is the report of a lint run (lint; render's findings).
	Findings = &Kind[*Report]{name: "findings", formats: []entry[*Report]{
		{FormatText, func(o options) Writer { return &textWriter{color: o.color, limit: o.limit} }},
		{FormatJSON, func(o options) Writer { return jsonWriter{limit: o.limit} }},
		{FormatSARIF, func(o options) Writer { return sarifWriter{limit: o.limit} }},
		{FormatJUnit, func(o options) Writer { return junitWriter{limit: o.limit} }},
		{FormatGitHub, func(o options) Writer { return githubWriter{stepSummary: o.stepSummary, limit: o.limit} }},
		{FormatAzure, func(o options) Writer { return azureWriter{limit: o.limit} }},
		{FormatMarkdown, func(o options) Writer { return markdownWriter{limit: MarkdownLimit, cap: o.limit} }},
	}}

	// Diff is the rendered difference between two revisions (diff),
	// in diff.go.
	Diff = &Kind[*diff.Report]{name: "diff", formats: []entry[*diff.Report]{
		{FormatText, func(o options) Printer[*diff.Report] { return diffText{color: o.color} }},
		{FormatMarkdown, func(options) Printer[*diff.Report] { return diffMarkdown{limit: MarkdownLimit} }},
		{FormatJSON, func(options) Printer[*diff.Report] { return PrinterFunc[*diff.Report](diffJSON) }},
	}}

	// Rules is the metadata of every rule (rules; docs/rules.md), in
	// rules.go.
	Rules = &Kind[[]finding.Rule]{name: "rules", formats: []entry[[]finding.Rule]{
		{FormatText, func(options) Printer[[]finding.Rule] { return PrinterFunc[[]finding.Rule](rulesText) }},
		{FormatJSON, func(options) Printer[[]finding.Rule] { return PrinterFunc[[]finding.Rule](rulesJSON) }},
		{FormatMarkdown, func(options) Printer[[]finding.Rule] { return PrinterFunc[[]finding.Rule](rulesMarkdown) }},
	}}

	// Graph is the dependsOn graph of each environment (render --graph),
	// in graph.go.
	Graph = &Kind[[]*converge.Graph]{name: "graph", formats: []entry[[]*converge.Graph]{
		{FormatText, func(options) Printer[[]*converge.Graph] { return PrinterFunc[[]*converge.Graph](graphText) }},
		{FormatDOT, func(options) Printer[[]*converge.Graph] { return PrinterFunc[[]*converge.Graph](graphDOT) }},
	}}
)

// Printer writes one kind of output, T, in one format.
type Printer[T any] interface {
	Write(w io.Writer, v T) error
}

// PrinterFunc is a function that is a Printer.
type PrinterFunc[T any] func(w io.Writer, v T) error

// Write calls f.
func (f PrinterFunc[T]) Write(w io.Writer, v T) error { return f(w, v) }

// Writer writes a findings report in one format.
type Writer = Printer[*Report]

// Kind is one kind of output: what its printers print (T) and the formats
// it is written in.
type Kind[T any] struct {
	name    string
	formats []entry[T]
}

// entry is one format of a Kind.
type entry[T any] struct {
	format Format
	new    func(o options) Printer[T]
}

// Name is the kind's name ("findings", "diff", …).
func (k *Kind[T]) Name() string { return k.name }

// Formats returns the formats of the kind, in --help order.
func (k *Kind[T]) Formats() []Format {
	out := make([]Format, len(k.formats))
	for i, f := range k.formats {
		out[i] = f.format
	}
	return out
}

// FormatList is Formats joined for messages and help: "text, json, …".
func (k *Kind[T]) FormatList() string {
	names := make([]string, len(k.formats))
	for i, f := range k.formats {
		names[i] = string(f.format)
	}
	return strings.Join(names, ", ")
}

// Choices is Formats as a sentence says them: "text, json or markdown".
func (k *Kind[T]) Choices() string {
	list := k.FormatList()
	if i := strings.LastIndex(list, ", "); i >= 0 {
		return list[:i] + " or " + list[i+2:]
	}
	return list
}

// Parse checks that name is a format of the kind this build can write.
func (k *Kind[T]) Parse(name string) (Format, error) {
	for _, f := range k.formats {
		if string(f.format) == name {
			if f.new == nil {
				return "", fmt.Errorf("format %s is %w", name, ErrNotImplemented)
			}
			return f.format, nil
		}
	}
	return "", fmt.Errorf("%w %q (want one of %s)", ErrUnknownFormat, name, k.FormatList())
}

// New returns the Printer of the kind for a format name.
func (k *Kind[T]) New(format string, opts ...Option) (Printer[T], error) {
	f, err := k.Parse(format)
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	for _, e := range k.formats {
		if e.format == f {
			return e.new(o), nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownFormat, format)
}

// Formats returns every format of a findings report, in --help order.
func Formats() []Format { return Findings.Formats() }

// FormatList is the findings formats joined for messages and help:
// "text, json, …".
func FormatList() string { return Findings.FormatList() }

// ErrUnknownFormat and ErrNotImplemented are wrapped by the errors of
// Parse and New.
var (
	ErrUnknownFormat  = errors.New("unknown format")
	ErrNotImplemented = errors.New("not implemented yet")
)

// ParseFormat checks that name is a findings format this build can write.
func ParseFormat(name string) (Format, error) { return Findings.Parse(name) }

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
	// SARIF's rules[]. A rule a finding names that is missing here gets
	// its id and the finding's severity.
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
	// Prefix is PATH's directory relative to the root of its git
	// repository, '/'-terminated ("" at the root or outside git): code
	// scanning and CI annotations resolve paths from the repository root.
	Prefix string
	// Compared is set when the run compared with known findings
	// (--baseline, --new-from-rev): SARIF then says which results are new.
	Compared bool

	// dropped counts the findings a format left out before writing (SARIF
	// past code scanning's result limit): reported as truncated.
	dropped int
}

// current is the report without its baseline findings, for the formats
// people read: they count those in the summary only.
func (r *Report) current() *Report {
	if r.Summary.Baseline == 0 {
		return r
	}
	cp := *r
	cp.Findings = make([]finding.Finding, 0, len(r.Findings)-r.Summary.Baseline)
	for _, f := range r.Findings {
		if !f.Baseline {
			cp.Findings = append(cp.Findings, f)
		}
	}
	return &cp
}

// repoPath is a finding's file as the repository root names it.
func (r *Report) repoPath(file string) string {
	if file == "" {
		return ""
	}
	return r.Prefix + file
}

// Environment is one linted environment and its Flux Kustomizations, each
// "namespace/name" as in Finding.Kustomization, in render order.
type Environment struct {
	Name           string
	Kustomizations []string
}

type options struct {
	color       bool
	stepSummary string
	limit       int64 // bytes; 0: no limit
}

// Option configures a Printer.
type Option func(*options)

// WithColor turns ANSI colour on for formats that have it (the text of
// findings and of a diff). The caller decides: colour only for a terminal
// and when NO_COLOR is unset.
func WithColor(on bool) Option {
	return func(o *options) { o.color = on }
}

// WithStepSummary makes the github format also append its Markdown summary
// to the file at path: the caller passes $GITHUB_STEP_SUMMARY ("" = none).
func WithStepSummary(path string) Option {
	return func(o *options) { o.stepSummary = path }
}

// New returns the Writer of a findings report for a format name.
func New(format string, opts ...Option) (Writer, error) { return Findings.New(format, opts...) }
