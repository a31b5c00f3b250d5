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
	limit       int64 // bytes; 0: no limit
}

// Write prints one workflow command per finding, which the runner turns
// into an annotation on the file and line:
//
//	::error file=deploy/base/service.yaml,line=4,col=1,title=rbac/forbidden::Service/team-a/web: …
//
// then the summary line; with a step summary file, it also appends the
// Markdown report there. Repository data is escaped for display (Escape),
// then as the runner unescapes command values, so that each finding is
// exactly one command and no other line starts one. Over the size limit,
// the findings that fit are followed by one plain line saying how many
// more there are.
func (g githubWriter) Write(w io.Writer, r *Report) error {
	r = r.current()
	var b strings.Builder
	summary := (&textWriter{}).summary(r.Summary) + "\n"
	for i, f := range r.Findings {
		props := locationProps(r, f, [3]string{"file", "line", "col"}, GitHubProperty)
		props = append(props, "title="+GitHubProperty(Escape(f.Rule)))
		line := "::" + styleOf(f.Severity).github + " " + strings.Join(props, ",") + "::" + GitHubData(annotationText(f)) + "\n"
		if g.limit > 0 && !fitsText(b.Len()+len(line), i+1, len(r.Findings), g.limit, len(summary)) {
			b.WriteString(truncatedNote(len(r.Findings)-i, g.limit) + "\n")
			break
		}
		b.WriteString(line)
	}
	b.WriteString(summary)
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
	_, err = io.WriteString(fh, markdownReport(r, MarkdownLimit, g.limit))
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write github step summary: %w", err)
	}
	return nil
}

// locationProps is where a finding is, as the properties of a CI command:
// its file as the repository root names it, then its line and column
// where known, under keys (file, line, column); the file is escaped for
// display, then with property.
func locationProps(r *Report, f finding.Finding, keys [3]string, property func(string) string) []string {
	var props []string
	if f.File != "" {
		props = append(props, keys[0]+"="+property(Escape(r.repoPath(f.File))))
		if f.Line > 0 {
			props = append(props, keys[1]+"="+strconv.Itoa(f.Line))
			if f.Column > 0 {
				props = append(props, keys[2]+"="+strconv.Itoa(f.Column))
			}
		}
	}
	return props
}

// annotationText is the message, then its context, for CI annotations:
// escaped for display, line breaks kept (the command escapes them).
func annotationText(f finding.Finding) string {
	msg := escapeLines(strings.TrimRight(f.Message, "\r\n"))
	if c := context(f); c != "" {
		msg += " " + c
	}
	return msg
}
