package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// SchemaVersion of the JSON output. Bump it (and write a CHANGELOG entry)
// when a field is removed or changes meaning; adding fields does not.
const SchemaVersion = 1

// jsonDoc is the JSON contract of CONTRACT.md; it is declared here, apart
// from Report, so that internal changes cannot leak into the output.
type jsonDoc struct {
	SchemaVersion int               `json:"schemaVersion"`
	Tool          jsonTool          `json:"tool"`
	Summary       finding.Summary   `json:"summary"`
	Findings      []finding.Finding `json:"findings"`
}

type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type jsonWriter struct{}

// Write prints the report as one JSON document, indented by two spaces.
func (jsonWriter) Write(w io.Writer, r *Report) error {
	doc := jsonDoc{
		SchemaVersion: SchemaVersion,
		Tool:          jsonTool{Name: r.Tool.Name, Version: r.Tool.Version},
		Summary:       r.Summary,
		Findings:      r.Findings,
	}
	if doc.Findings == nil {
		doc.Findings = []finding.Finding{} // the contract says never null
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}
