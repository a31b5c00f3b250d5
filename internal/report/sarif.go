package report

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// SARIF constants: the version code scanning ingests and its schema.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	// sarifSrcRoot is the base of every artifactLocation.uri: the linted
	// repository, whose relative paths the findings hold.
	sarifSrcRoot = "%SRCROOT%"
	// sarifFingerprint names our partialFingerprints entry; the version
	// suffix changes only if the hashed fields ever change (v2: rule, file
	// and message, without the environment and object a folded finding
	// lists).
	sarifFingerprint = "gitopsLint/v2"
	// sarifMaxResults is the most results GitHub code scanning accepts in
	// one run; past it the upload is rejected.
	sarifMaxResults = 25000
	informationURI  = "https://github.com/gitops-lint/gitops-lint"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                 `json:"tool"`
	OriginalURIBaseIDs map[string]sarifArtifact  `json:"originalUriBaseIds,omitempty"`
	Results            []sarifResult             `json:"results"`
	Properties         map[string]map[string]any `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	ShortDescription     *sarifText     `json:"shortDescription,omitempty"`
	FullDescription      *sarifText     `json:"fullDescription,omitempty"`
	Help                 *sarifHelp     `json:"help,omitempty"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags []string `json:"tags"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	BaselineState       string            `json:"baselineState,omitempty"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
	Message          *sarifText    `json:"message,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string     `json:"uri,omitempty"`
	URIBaseID string     `json:"uriBaseId,omitempty"`
	Desc      *sarifText `json:"description,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifWriter struct {
	limit int64 // bytes; 0: no limit
}

// Write prints one SARIF 2.1.0 log with one run: rules[] from the rule
// metadata (those the findings name, at least), one result per finding.
// Values are exactly the findings'; characters a log or terminal would act
// on are written as \u escapes (jsonSafe). Over the size limit, the
// findings that fit are written and the run's summary property counts the
// others as "truncated".
func (s sarifWriter) Write(w io.Writer, r *Report) error {
	r = sarifShare(r)
	err := writeCapped(w, len(r.Findings), s.limit, sarifCost(r),
		func(w io.Writer, k int) error { return writeSARIF(w, r, k) })
	if err != nil {
		return fmt.Errorf("write sarif report: %w", err)
	}
	return nil
}

// sarifShare is the report with at most sarifMaxResults findings, the
// most severe first kept (in the contract order otherwise); the others
// are counted as truncated, as a report over its size limit does.
func sarifShare(r *Report) *Report {
	if len(r.Findings) <= sarifMaxResults {
		return r
	}
	cp := *r
	keep := slices.Clone(r.Findings)
	slices.SortStableFunc(keep, func(a, b finding.Finding) int { return cmp.Compare(b.Severity.Rank(), a.Severity.Rank()) })
	keep = keep[:sarifMaxResults]
	slices.SortFunc(keep, finding.Compare)
	cp.Findings = keep
	cp.dropped = len(r.Findings) - sarifMaxResults
	return &cp
}

// sarifCost estimates what each finding adds to the log, asked in order: a
// result takes its indented encoding, at depth 4, and ",\n        "; a
// rule no earlier finding named adds its own, at depth 6.
func sarifCost(r *Report) func(i int) int64 {
	named := map[string]bool{}
	for _, rule := range r.Rules {
		named[rule.ID] = true
	}
	return func(i int) int64 {
		f := r.Findings[i]
		var b bytes.Buffer
		if err := encodeJSONIndent(&b, sarifResultOf(r, f, len(named)), "        "); err != nil {
			return 0
		}
		n := int64(len(jsonSafe(b.Bytes()))) + 9
		if !named[f.Rule] {
			named[f.Rule] = true
			b.Reset()
			if err := encodeJSONIndent(&b, sarifRuleOf(ruleFor(f)), "            "); err == nil {
				n += int64(len(jsonSafe(b.Bytes()))) + 13
			}
		}
		return n
	}
}

// writeSARIF writes the log with the first k findings.
func writeSARIF(w io.Writer, r *Report, k int) error {
	shown := r.Findings[:k]
	rules := sarifRules(r.Rules, shown)
	index := make(map[string]int, len(rules))
	for i, rule := range rules {
		index[rule.ID] = i
	}
	results := make([]sarifResult, 0, len(shown))
	for _, f := range shown {
		results = append(results, sarifResultOf(r, f, index[f.Rule]))
	}
	summary := map[string]any{
		"environments":   r.Summary.Environments,
		"kustomizations": r.Summary.Kustomizations,
		"objects":        r.Summary.Objects,
		"errors":         r.Summary.Errors,
		"warnings":       r.Summary.Warnings,
		"infos":          r.Summary.Infos,
		"suppressed":     r.Summary.Suppressed,
	}
	if dropped := len(r.Findings) - k + r.dropped; dropped > 0 {
		summary["truncated"] = dropped
	}
	if r.Summary.Baseline > 0 {
		summary["baseline"] = r.Summary.Baseline
	}
	log := sarifLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name:           r.Tool.Name,
				Version:        r.Tool.Version,
				InformationURI: informationURI,
				Rules:          rules,
			}},
			OriginalURIBaseIDs: map[string]sarifArtifact{
				sarifSrcRoot: {Desc: &sarifText{Text: "The root of the linted repository."}},
			},
			Results:    results,
			Properties: map[string]map[string]any{"summary": summary},
		}},
	}
	return encodeJSON(w, log)
}

// sarifResultOf is the result of one finding, its rule at ruleIndex.
// Every result is located in the scanned repository, as code scanning
// requires: at the finding's file, or else at its anchor, the place that
// brings it in, which the location's message names.
func sarifResultOf(r *Report, f finding.Finding, ruleIndex int) sarifResult {
	fp := f.Fingerprint
	if fp == "" {
		one := []finding.Finding{f}
		finding.Fingerprints(one)
		fp = one[0].Fingerprint
	}
	res := sarifResult{
		RuleID:              f.Rule,
		RuleIndex:           ruleIndex,
		Level:               styleOf(f.Severity).sarif,
		Message:             sarifText{Text: f.Message},
		PartialFingerprints: map[string]string{sarifFingerprint: fp},
	}
	if r.Compared {
		res.BaselineState = "new"
		if f.Baseline {
			res.BaselineState = "unchanged"
		}
	}
	file, line, col, why := f.File, f.Line, f.Column, ""
	if file == "" && f.Anchor != nil {
		file, line, col = f.Anchor.File, f.Anchor.Line, f.Anchor.Column
		why = "No file of its own in this repository: shown at " + f.Anchor.Reason + "."
	}
	if file != "" {
		loc := sarifLocation{PhysicalLocation: sarifPhysical{
			ArtifactLocation: sarifArtifact{URI: sarifURI(r.repoPath(file)), URIBaseID: sarifSrcRoot},
		}}
		if line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: line, StartColumn: col}
		}
		if why != "" {
			loc.Message = &sarifText{Text: why}
			res.Message.Text += " (" + why + ")"
		}
		res.Locations = []sarifLocation{loc}
	}
	props := map[string]any{}
	if f.Environment != "" {
		props["environment"] = f.Environment
	}
	if f.Kustomization != "" {
		props["kustomization"] = f.Kustomization
	}
	if f.Object != nil {
		props["object"] = f.Object
	}
	if f.Count() > 1 {
		props["occurrences"] = f.Count()
		props["contexts"] = f.Contexts
	}
	if len(props) > 0 {
		res.Properties = props
	}
	return res
}

// sarifRules is rules plus any rule a finding names that it lacks (with
// the finding's severity), sorted by id.
func sarifRules(rules []finding.Rule, fs []finding.Finding) []sarifRule {
	byID := map[string]finding.Rule{}
	for _, rule := range rules {
		if _, ok := byID[rule.ID]; !ok {
			byID[rule.ID] = rule
		}
	}
	for _, f := range fs {
		if _, ok := byID[f.Rule]; !ok {
			byID[f.Rule] = ruleFor(f)
		}
	}
	out := make([]sarifRule, 0, len(byID))
	for _, rule := range byID {
		out = append(out, sarifRuleOf(rule))
	}
	slices.SortFunc(out, func(a, b sarifRule) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// ruleFor is the metadata of the rule a finding names when the report has
// none: its id, at the finding's severity.
func ruleFor(f finding.Finding) finding.Rule {
	return finding.Rule{ID: f.Rule, Severity: f.Severity}
}

func sarifRuleOf(rule finding.Rule) sarifRule {
	sr := sarifRule{
		ID:                   rule.ID,
		DefaultConfiguration: sarifConfig{Level: styleOf(rule.Severity).sarif},
		Properties:           sarifRuleProps{Tags: []string{"gitops", ruleCategory(rule.ID)}},
	}
	if rule.Help != "" {
		sr.ShortDescription = &sarifText{Text: firstSentence(rule.Help)}
		sr.FullDescription = &sarifText{Text: rule.Help}
		sr.Help = &sarifHelp{Text: rule.Help, Markdown: rule.Help}
		if rule.Remediation != "" {
			sr.Help.Text += "\n\nHow to fix: " + rule.Remediation
			sr.Help.Markdown += "\n\n**How to fix:** " + rule.Remediation
		}
	}
	return sr
}

// sarifURI escapes a repo-relative '/'-separated path as a relative URI
// reference (spaces, '%', '#' and a colon in the first segment included).
func sarifURI(file string) string {
	return (&url.URL{Path: file}).String()
}

// ruleCategory is the part of a rule id before its first '/'.
func ruleCategory(id string) string {
	cat, _, _ := strings.Cut(id, "/")
	return cat
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}
