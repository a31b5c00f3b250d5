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
	limit int   // MarkdownLimit
	cap   int64 // the report size limit, bytes; 0: none
}

// Write prints a PR comment: the summary, a table of counts per
// environment, then the findings grouped by file, trimmed (with a note) to
// stay under the limit and the report size limit. Repository data is
// escaped (mdEscape): no HTML, no control character, no CI command.
func (m markdownWriter) Write(w io.Writer, r *Report) error {
	if _, err := io.WriteString(w, markdownReport(r, m.limit, m.cap)); err != nil {
		return fmt.Errorf("write markdown report: %w", err)
	}
	return nil
}

type envCounts struct {
	kustomizations string
	n              [3]int // errors, warnings, infos: severityStyle.column
}

// markdownReport is the report within limit characters (MarkdownLimit)
// and the report size limit sizeLimit (0: none).
func markdownReport(r *Report, limit int, sizeLimit int64) string {
	r = r.current()
	capped := sizeLimit > 0 && sizeLimit < int64(limit)
	if capped {
		limit = int(sizeLimit)
	}
	var b strings.Builder
	b.WriteString(markdownMarker + "\n")
	b.WriteString("### " + mdEscape(r.Tool.Name, false) + ": " + (&textWriter{}).summary(r.Summary) + "\n\n")

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
		// A folded finding counts once in each environment it occurs in.
		for _, env := range findingEnvironments(f) {
			c, ok := counts[env]
			if !ok {
				envs = append(envs, env)
				c = &envCounts{kustomizations: "–"}
				counts[env] = c
			}
			c.n[styleOf(f.Severity).column]++
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
				name = mdEscape(e, true)
			}
			kust := c.kustomizations
			if e == "" {
				kust = ""
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %d |\n", name, kust, c.n[0], c.n[1], c.n[2])
		}
		b.WriteByte('\n')
	}

	// Findings by file, in the order given (the contract order), until the
	// next one would not fit with the note saying how many are left out.
	n := len(r.Findings)
	note := func(omitted int) string {
		if capped {
			return "\n> [!NOTE]\n> " + truncatedNote(omitted, sizeLimit) + "\n"
		}
		return fmt.Sprintf("\n> [!NOTE]\n> Trimmed: %d of %d findings are not shown, to keep this summary under %d characters. "+
			"Run `%s --format json` (or sarif) for the full list.\n", omitted, n, limit, Escape(r.Tool.Name))
	}
	shown := 0
	var group strings.Builder
	for i, f := range r.Findings {
		group.Reset()
		if i == 0 || f.File != r.Findings[i-1].File {
			header := mdEscape(f.File, true)
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
		fmt.Fprintf(&group, "| %s | %s | %s | %s | %s |\n",
			pos, severityBadge(f.Severity), mdEscape(f.Rule, true), mdEscape(f.Message, false), mdWhere(f))
		size := b.Len() + group.Len()
		if i+1 < n {
			size += len(note(n - i - 1))
		}
		if size > limit {
			break
		}
		b.WriteString(group.String())
		shown++
	}
	if shown < n {
		b.WriteString(note(n - shown))
	}
	return b.String()
}

// severityBadge is the severity's icon, then its name.
func severityBadge(s finding.Severity) string {
	return styleOf(s).icon + " " + mdEscape(string(s), false)
}

// mdWhere is the contexts of a finding for its table row: the one it has,
// or "×N" and the first few of a folded one.
func mdWhere(f finding.Finding) string {
	parts, folded := contextList(f, mdContext)
	if !folded {
		return mdContext(f.Context())
	}
	return "×" + strconv.Itoa(f.Count()) + ": " + strings.Join(parts, "; ")
}

// mdContext is a context's known parts, each as code.
func mdContext(c finding.Context) string {
	var where []string
	for _, part := range []string{c.Environment, c.Kustomization} {
		if part != "" {
			where = append(where, mdEscape(part, true))
		}
	}
	if c.Object != nil {
		where = append(where, mdEscape(c.Object.String(), true))
	}
	return strings.Join(where, " ")
}

// findingEnvironments is the environments a finding occurs in, each once,
// in order ("" for a finding of no environment).
func findingEnvironments(f finding.Finding) []string {
	if len(f.Contexts) == 0 {
		return []string{f.Environment}
	}
	var envs []string
	for _, c := range f.Contexts {
		if !slices.Contains(envs, c.Environment) {
			envs = append(envs, c.Environment)
		}
	}
	return envs
}
