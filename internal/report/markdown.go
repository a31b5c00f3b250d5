package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// MarkdownLimit is the most bytes the markdown format writes: GitHub
// refuses comments over 65,536 characters, and a bot may add its own text.
const MarkdownLimit = 60000

// markdownMarker lets a CI job find and update its earlier PR comment.
const markdownMarker = "<!-- gitops-lint -->"

// noEnvironment labels the row of findings that belong to no environment.
const noEnvironment = "(no environment)"

type markdownWriter struct {
	limit int
}

// Write prints a PR comment: the summary, a table of counts per
// environment, then the findings grouped by file, trimmed (with a note) to
// stay under the limit.
func (m markdownWriter) Write(w io.Writer, r *Report) error {
	if _, err := io.WriteString(w, markdownReport(r, m.limit)); err != nil {
		return fmt.Errorf("write markdown report: %w", err)
	}
	return nil
}

type envCounts struct {
	kustomizations          string
	errors, warnings, infos int
}

func markdownReport(r *Report, limit int) string {
	var b strings.Builder
	b.WriteString(markdownMarker + "\n")
	b.WriteString("### " + mdEscape(r.Tool.Name) + ": " + (&textWriter{}).summary(r.Summary) + "\n\n")

	// Counts per environment: every known one, then those of the findings.
	counts := map[string]*envCounts{}
	var envs []string
	for _, e := range r.Environments {
		if _, ok := counts[e.Name]; !ok {
			envs = append(envs, e.Name)
			counts[e.Name] = &envCounts{kustomizations: strconv.Itoa(len(e.Kustomizations))}
		}
	}
	for _, f := range r.Findings {
		c, ok := counts[f.Environment]
		if !ok {
			envs = append(envs, f.Environment)
			c = &envCounts{kustomizations: "–"}
			counts[f.Environment] = c
		}
		switch f.Severity {
		case finding.Error:
			c.errors++
		case finding.Warning:
			c.warnings++
		default:
			c.infos++
		}
	}
	slices.SortFunc(envs, func(a, b string) int {
		if (a == "") != (b == "") { // no environment last
			if a == "" {
				return 1
			}
			return -1
		}
		return cmp.Compare(a, b)
	})
	if len(envs) > 0 {
		b.WriteString("| environment | kustomizations | errors | warnings | infos |\n|---|--:|--:|--:|--:|\n")
		for _, e := range envs {
			c := counts[e]
			name := "_" + noEnvironment + "_"
			if e != "" {
				name = mdCode(e)
			}
			kust := c.kustomizations
			if e == "" {
				kust = ""
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %d |\n", name, kust, c.errors, c.warnings, c.infos)
		}
		b.WriteByte('\n')
	}

	// Findings by file, in the order given (the contract order), until the
	// next one would not fit with the note.
	const reserve = 400 // room for the trimming note
	shown := 0
	var group strings.Builder
	for i, f := range r.Findings {
		group.Reset()
		if i == 0 || f.File != r.Findings[i-1].File {
			header := mdCode(f.File)
			if f.File == "" {
				header = "_" + NoFile + "_"
			}
			if i > 0 {
				group.WriteByte('\n')
			}
			group.WriteString("#### " + header + "\n\n| line | severity | rule | message | where |\n|--:|---|---|---|---|\n")
		}
		pos := ""
		if f.Line > 0 {
			pos = position(f)
		}
		where := []string{}
		for _, part := range []string{f.Environment, f.Kustomization} {
			if part != "" {
				where = append(where, mdCode(part))
			}
		}
		if f.Object != nil {
			where = append(where, mdCode(f.Object.String()))
		}
		fmt.Fprintf(&group, "| %s | %s | %s | %s | %s |\n",
			pos, severityBadge(f.Severity), mdCode(f.Rule), mdEscape(f.Message), strings.Join(where, " "))
		if b.Len()+group.Len()+reserve > limit {
			break
		}
		b.WriteString(group.String())
		shown++
	}
	if shown < len(r.Findings) {
		fmt.Fprintf(&b, "\n> [!NOTE]\n> Trimmed: %d of %d findings are not shown, to keep this summary under %d characters. "+
			"Run `%s --format json` (or sarif) for the full list.\n",
			len(r.Findings)-shown, len(r.Findings), limit, r.Tool.Name)
	}
	return b.String()
}

func severityBadge(s finding.Severity) string {
	switch s {
	case finding.Error:
		return "❌ error"
	case finding.Warning:
		return "⚠️ warning"
	}
	return "ℹ️ " + string(s)
}

// mdEscape makes s safe in one table cell: no HTML, no column break, line
// breaks as <br>.
var mdEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "|", `\|`,
	"\r\n", "<br>", "\n", "<br>", "\r", "<br>",
)

func mdEscape(s string) string {
	return mdEscaper.Replace(strings.TrimRight(s, "\r\n"))
}

// mdCode is s as inline code, safe in a table cell.
func mdCode(s string) string {
	s = strings.NewReplacer("`", "'", "|", `\|`, "\n", " ", "\r", " ").Replace(s)
	return "`" + s + "`"
}
