package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// NoFile is the group header of findings that have no source file.
const NoFile = "(no file)"

type textWriter struct {
	color bool
	limit int64 // bytes; 0: no limit
}

func (t *textWriter) paint(s string, codes ...string) string {
	return paint(t.color, s, codes...)
}

// Write prints findings grouped by file, in the order given (the contract
// order), then one summary line:
//
//	deploy/base/service.yaml
//	  4:1  error  rbac/forbidden  Service/team-a/web: …  [dev flux-system/team-a Service/team-a/web]
//
//	✖ 1 error, 0 warnings in 1 environment, 1 kustomization, 3 objects (0.83s)
//
// Repository data is escaped (see Escape); the only terminal sequences are
// the colours. Over the size limit, the findings that fit are followed by
// one line saying how many more there are.
func (t *textWriter) Write(w io.Writer, r *Report) error {
	r = r.current()
	var b strings.Builder

	// Columns are aligned over the whole report, so that groups line up.
	var posW, sevW, ruleW int
	for _, f := range r.Findings {
		posW = max(posW, len(position(f)))
		sevW = max(sevW, utf8.RuneCountInString(Escape(string(f.Severity))))
		ruleW = max(ruleW, utf8.RuneCountInString(Escape(f.Rule)))
	}
	// Continuation lines of a multi-line message start under the message.
	indent := strings.Repeat(" ", 2+posW+2+sevW+2+ruleW+2)

	summary := t.summary(r.Summary) + "\n"
	var entry strings.Builder
	for i, f := range r.Findings {
		entry.Reset()
		if i == 0 || f.File != r.Findings[i-1].File {
			if i > 0 {
				entry.WriteByte('\n')
			}
			header := Escape(f.File)
			if header == "" {
				header = NoFile
			}
			entry.WriteString(t.paint(header, ansiBold, ansiUnderline))
			entry.WriteByte('\n')
		}
		entry.WriteString("  ")
		entry.WriteString(t.paint(pad(position(f), posW), ansiDim))
		entry.WriteString("  ")
		entry.WriteString(t.paint(pad(Escape(string(f.Severity)), sevW), styleOf(f.Severity).color))
		entry.WriteString("  ")
		entry.WriteString(pad(Escape(f.Rule), ruleW))
		entry.WriteString("  ")
		msg := escapeLines(strings.TrimRight(f.Message, "\r\n"))
		msg = strings.ReplaceAll(msg, "\r\n", "\n") // a CRLF's CR is all escapeLines leaves
		entry.WriteString(strings.ReplaceAll(msg, "\n", "\n"+indent))
		if c := context(f); c != "" {
			entry.WriteString("  ")
			entry.WriteString(t.paint(c, ansiDim))
		}
		entry.WriteByte('\n')
		if t.limit > 0 && !fitsText(b.Len()+entry.Len(), i+1, len(r.Findings), t.limit, 1+len(summary)) { // 1: the blank line
			b.WriteString(truncatedNote(len(r.Findings)-i, t.limit) + "\n")
			break
		}
		b.WriteString(entry.String())
	}
	if len(r.Findings) > 0 {
		b.WriteByte('\n')
	}
	b.WriteString(summary)

	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write text report: %w", err)
	}
	return nil
}

// fitsText reports whether a line-based report whose shown findings take
// size bytes stays within limit once its tail (end bytes: the summary and
// what goes with it) is written, after the truncation note when fewer than
// all n findings are shown.
func fitsText(size, shown, n int, limit int64, end int) bool {
	if shown < n {
		end += len(truncatedNote(n-shown, limit)) + 1
	}
	return int64(size+end) <= limit
}

// position is LINE:COL, or "-" when the finding has no line.
func position(f finding.Finding) string {
	if f.Line == 0 {
		return "-"
	}
	return strconv.Itoa(f.Line) + ":" + strconv.Itoa(f.Column)
}

// shownContexts is how many contexts of a folded finding the text-like
// formats print before "+N more".
const shownContexts = 3

// contextList is the contexts of a folded finding, each written by each:
// the first shownContexts, then "+K more". folded is false for a finding
// that stands for one place (the list is then empty).
func contextList(f finding.Finding, each func(finding.Context) string) (parts []string, folded bool) {
	if f.Count() <= 1 || len(f.Contexts) == 0 {
		return nil, false
	}
	for i, c := range f.Contexts {
		if i == shownContexts {
			return append(parts, "+"+strconv.Itoa(f.Count()-i)+" more"), true
		}
		parts = append(parts, each(c))
	}
	return parts, true
}

// context is "[environment kustomization object]", with the parts known,
// escaped; for a finding that stands for several places, "×N [first;
// second; third; +K more]".
func context(f finding.Finding) string {
	parts, folded := contextList(f, func(c finding.Context) string { return Escape(c.String()) })
	if folded {
		return "×" + strconv.Itoa(f.Count()) + " [" + strings.Join(parts, "; ") + "]"
	}
	if c := Escape(f.Context().String()); c != "" {
		return "[" + c + "]"
	}
	return ""
}

func pad(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// summary is the closing line, e.g.
// "✖ 2 errors, 1 warning in 3 environments, 12 kustomizations, 240 objects (0.83s)".
func (t *textWriter) summary(s finding.Summary) string {
	var counts []string
	mark, markColor := "✔", ansiGreen
	switch {
	case s.Errors+s.Warnings > 0:
		counts = append(counts, plural(s.Errors, "error", "errors"), plural(s.Warnings, "warning", "warnings"))
		if s.Infos > 0 {
			counts = append(counts, plural(s.Infos, "info", "infos"))
		}
		mark, markColor = "✖", styleOf(finding.Warning).color
		if s.Errors > 0 {
			markColor = styleOf(finding.Error).color
		}
	case s.Infos > 0:
		counts = append(counts, plural(s.Infos, "info", "infos"))
	default:
		counts = append(counts, "no problems")
	}
	if s.Occurrences > 0 {
		counts[len(counts)-1] += " (" + plural(s.Occurrences, "occurrence", "occurrences") + ")"
	}
	if s.Baseline > 0 {
		counts = append(counts, strconv.Itoa(s.Baseline)+" baseline")
	}
	if s.Suppressed > 0 {
		counts = append(counts, strconv.Itoa(s.Suppressed)+" suppressed")
	}
	ks := plural(s.Kustomizations, "kustomization", "kustomizations")
	if s.Unchanged > 0 {
		ks += fmt.Sprintf(" (%d unchanged skipped)", s.Unchanged)
	}
	if s.HelmReleases > 0 {
		ks += ", " + plural(s.HelmReleases, "helm release", "helm releases")
	}
	line := fmt.Sprintf("%s %s in %s, %s, %s (%.2fs)",
		mark, strings.Join(counts, ", "),
		plural(s.Environments, "environment", "environments"),
		ks,
		plural(s.Objects, "object", "objects"),
		float64(s.DurationMs)/1000)
	return t.paint(line, ansiBold, markColor)
}
