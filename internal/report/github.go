package report

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

type githubWriter struct {
	stepSummary string
}

// githubData and githubProperty escape a workflow command's message and
// property values as the Actions runner unescapes them.
var (
	githubDataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	githubPropertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// GitHubData escapes the message of a GitHub Actions workflow command.
func GitHubData(s string) string { return githubDataEscaper.Replace(s) }

// GitHubProperty escapes a property value of a workflow command.
func GitHubProperty(s string) string { return githubPropertyEscaper.Replace(s) }

// Write prints one workflow command per finding, which the runner turns
// into an annotation on the file and line:
//
//	::error file=deploy/base/service.yaml,line=4,col=1,title=rbac/forbidden::Service/team-a/web: …
//
// then the summary line; with a step summary file, it also appends the
// Markdown report there.
func (g githubWriter) Write(w io.Writer, r *Report) error {
	var b strings.Builder
	for _, f := range r.Findings {
		var props []string
		if f.File != "" {
			props = append(props, "file="+GitHubProperty(f.File))
			if f.Line > 0 {
				props = append(props, "line="+strconv.Itoa(f.Line))
				if f.Column > 0 {
					props = append(props, "col="+strconv.Itoa(f.Column))
				}
			}
		}
		props = append(props, "title="+GitHubProperty(f.Rule))
		fmt.Fprintf(&b, "::%s %s::%s\n", githubCommand(f.Severity), strings.Join(props, ","), GitHubData(annotationText(f)))
	}
	b.WriteString((&textWriter{}).summary(r.Summary) + "\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write github report: %w", err)
	}
	if g.stepSummary == "" {
		return nil
	}
	// GITHUB_STEP_SUMMARY is shared by the steps of a job: append.
	fh, err := os.OpenFile(g.stepSummary, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("write github step summary: %w", err)
	}
	_, err = io.WriteString(fh, markdownReport(r, MarkdownLimit))
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write github step summary: %w", err)
	}
	return nil
}

func githubCommand(s finding.Severity) string {
	switch s {
	case finding.Error:
		return "error"
	case finding.Warning:
		return "warning"
	}
	return "notice"
}

// annotationText is the message, then its context, for CI annotations.
func annotationText(f finding.Finding) string {
	msg := strings.TrimRight(f.Message, "\r\n")
	if c := context(f); c != "" {
		msg += " " + c
	}
	return msg
}
