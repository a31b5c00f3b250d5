package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

type azureWriter struct{}

// Azure Pipelines' escaping, as azure-pipelines-task-lib writes logging
// commands: '%' becomes %AZP25 (the agent's own escape for it), CR and LF
// become %0D and %0A; property values additionally escape ';' and ']',
// which end a property and the property list.
var (
	azureDataEscaper     = strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A")
	azurePropertyEscaper = strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A", ";", "%3B", "]", "%5D")
)

// AzureData escapes the message of an Azure Pipelines logging command.
func AzureData(s string) string { return azureDataEscaper.Replace(s) }

// AzureProperty escapes a property value of a logging command.
func AzureProperty(s string) string { return azurePropertyEscaper.Replace(s) }

// Write prints one logging command per error or warning, which the agent
// turns into an issue on the build summary:
//
//	##vso[task.logissue type=error;sourcepath=deploy/base/service.yaml;linenumber=4;columnnumber=1;code=rbac/forbidden]Service/team-a/web: …
//
// Azure has no informational issues, so infos are plain log lines. Then the
// summary line and, when the caller decided the run fails,
// ##vso[task.complete result=Failed;].
func (azureWriter) Write(w io.Writer, r *Report) error {
	var b strings.Builder
	for _, f := range r.Findings {
		if f.Severity != finding.Error && f.Severity != finding.Warning {
			// A plain line is no command: neutralise one the message holds.
			line := AzureData(string(f.Severity) + ": " + junitDetail(f))
			b.WriteString(strings.ReplaceAll(line, "##vso[", "##vso%5B") + "\n")
			continue
		}
		props := []string{"type=" + string(f.Severity)}
		if f.File != "" {
			props = append(props, "sourcepath="+AzureProperty(f.File))
			if f.Line > 0 {
				props = append(props, "linenumber="+strconv.Itoa(f.Line))
				if f.Column > 0 {
					props = append(props, "columnnumber="+strconv.Itoa(f.Column))
				}
			}
		}
		props = append(props, "code="+AzureProperty(f.Rule))
		fmt.Fprintf(&b, "##vso[task.logissue %s]%s\n", strings.Join(props, ";"), AzureData(annotationText(f)))
	}
	summary := (&textWriter{}).summary(r.Summary)
	b.WriteString(summary + "\n")
	if r.Failed {
		fmt.Fprintf(&b, "##vso[task.complete result=Failed;]%s\n", AzureData(r.Tool.Name+": "+summary))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write azure report: %w", err)
	}
	return nil
}
