package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// SchemaVersion of the JSON output. Bump it (and write a CHANGELOG entry)
// when a field is removed or changes meaning; adding fields does not.
const SchemaVersion = 1

// jsonDoc is the JSON contract of docs/contract.md; it is declared here, apart
// from Report, so that internal changes cannot leak into the output.
type jsonDoc struct {
	SchemaVersion int               `json:"schemaVersion"`
	Tool          jsonTool          `json:"tool"`
	Summary       jsonSummary       `json:"summary"`
	Findings      []finding.Finding `json:"findings"`
}

// jsonSummary is the summary of every finding, plus, in a report cut at
// its size limit, how many findings it leaves out.
type jsonSummary struct {
	finding.Summary
	Truncated int `json:"truncated,omitempty"`
}

type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type jsonWriter struct {
	limit int64 // bytes; 0: no limit
}

// Write prints the report as one JSON document, indented by two spaces.
// Values are exactly the findings'; characters a log or terminal would act
// on are written as \u escapes (jsonSafe). Over the size limit, the
// findings that fit are written and summary.truncated counts the others.
func (j jsonWriter) Write(w io.Writer, r *Report) error {
	err := writeCapped(w, len(r.Findings), j.limit, func(i int) int64 { return jsonCost(r, i) },
		func(w io.Writer, k int) error { return jsonRender(w, r, k) })
	if err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// jsonRender writes the document with the first k findings.
func jsonRender(w io.Writer, r *Report, k int) error {
	doc := jsonDoc{
		SchemaVersion: SchemaVersion,
		Tool:          jsonTool{Name: r.Tool.Name, Version: r.Tool.Version},
		Summary:       jsonSummary{Summary: r.Summary, Truncated: len(r.Findings) - k},
		Findings:      r.Findings[:k],
	}
	if doc.Findings == nil {
		doc.Findings = []finding.Finding{} // the contract says never null
	}
	return encodeJSON(w, doc)
}

// jsonCost is what finding i adds to the document: its indented encoding,
// at depth 2, and ",\n    ".
func jsonCost(r *Report, i int) int64 {
	var b bytes.Buffer
	if err := encodeJSONIndent(&b, r.Findings[i], "    "); err != nil {
		return 0
	}
	return int64(len(jsonSafe(b.Bytes()))) + 5
}

// encodeJSON writes v indented by two spaces, without HTML escaping, made
// safe to print (jsonSafe), with a final newline.
func encodeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	if err := encodeJSONIndent(&b, v, ""); err != nil {
		return err
	}
	_, err := w.Write(jsonSafe(b.Bytes()))
	return err
}

func encodeJSONIndent(w io.Writer, v any, prefix string) error {
	enc := json.NewEncoder(w)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// ReadJSON reads the findings of a JSON report this format wrote (any
// schemaVersion-1 report), refusing one of more than max bytes.
func ReadJSON(r io.Reader, max int64) ([]finding.Finding, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	var doc struct {
		SchemaVersion int               `json:"schemaVersion"`
		Findings      []finding.Finding `json:"findings"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not a JSON report of gitops-lint: %w", err)
	}
	if doc.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("not a JSON report of gitops-lint (schemaVersion %d, want %d; write it with --format json=FILE)", doc.SchemaVersion, SchemaVersion)
	}
	return doc.Findings, nil
}
