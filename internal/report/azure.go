package report

import (
	"fmt"
	"io"
	"strings"
)

type azureWriter struct {
	limit int64 // bytes; 0: no limit
}

// Write prints one logging command per error or warning, which the agent
// turns into an issue on the build summary:
//
//	##vso[task.logissue type=error;sourcepath=deploy/base/service.yaml;linenumber=4;columnnumber=1;code=rbac/forbidden]Service/team-a/web: …
//
// Azure has no informational issues, so infos are plain log lines. Then the
// summary line and, when the caller decided the run fails,
// ##vso[task.complete result=Failed;]. Repository data is escaped for
// display (Escape: no "##vso[" is left in it), then as the agent unescapes
// command values. Over the size limit, the findings that fit are followed
// by one plain line saying how many more there are.
func (a azureWriter) Write(w io.Writer, r *Report) error {
	r = r.current()
	var b strings.Builder
	summary := (&textWriter{}).summary(r.Summary)
	end := summary + "\n"
	if r.Failed {
		end += "##vso[task.complete result=Failed;]" + AzureData(Escape(r.Tool.Name)+": "+summary) + "\n"
	}
	for i, f := range r.Findings {
		var line string
		if typ := styleOf(f.Severity).azure; typ == "" {
			// A plain line, no command: nothing to unescape.
			line = Escape(string(f.Severity)) + ": " + detail(f, false) + "\n"
		} else {
			props := append([]string{"type=" + typ},
				locationProps(r, f, [3]string{"sourcepath", "linenumber", "columnnumber"}, AzureProperty)...)
			props = append(props, "code="+AzureProperty(Escape(f.Rule)))
			line = "##vso[task.logissue " + strings.Join(props, ";") + "]" + AzureData(annotationText(f)) + "\n"
		}
		if a.limit > 0 && !fitsText(b.Len()+len(line), i+1, len(r.Findings), a.limit, len(end)) {
			b.WriteString(truncatedNote(len(r.Findings)-i, a.limit) + "\n")
			break
		}
		b.WriteString(line)
	}
	b.WriteString(end)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write azure report: %w", err)
	}
	return nil
}
