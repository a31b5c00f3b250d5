package report

// The printers of the diff kind: a diff.Report (gitops-lint diff) as text
// (terminal, log), markdown (pull-request comment) and JSON.
//
// Environment, Kustomization and object names are escaped like every value
// of repository data; the lines of each object's diff with escapeCode, one
// at a time: control and invisible characters and CI command prefixes are
// escaped, everything else (backslashes included) reads as in the YAML.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/diff"
)

func diffCounts(changed, added, removed int) string {
	return fmt.Sprintf("%d changed, %d added, %d removed", changed, added, removed)
}

// diffTitle names the compared revisions, as the user gave them.
func diffTitle(r *diff.Report) string {
	head := r.Head
	if head == "" {
		head = "working tree"
	}
	if r.Promotion != "" {
		return fmt.Sprintf("promotion preview %s (%s → %s)", r.Promotion, head, r.Base)
	}
	return fmt.Sprintf("%s → %s", r.Base, head)
}

// envHeader is "NAME: counts (status)", with name already escaped.
func envHeader(name string, e *diff.Environment) string {
	s := name + ": " + diffCounts(e.Changed, e.Added, e.Removed)
	switch e.Status {
	case diff.Added:
		s += " (new environment)"
	case diff.Removed:
		s += " (environment removed)"
	}
	return s
}

// ksHeader is "Kustomization NS/NAME (status)", with id already escaped.
func ksHeader(id string, k *diff.Kustomization) string {
	s := "Kustomization " + id
	switch k.Status {
	case diff.Added:
		s += " (added)"
	case diff.Removed:
		s += " (removed)"
	}
	return s
}

var changeSign = map[diff.ChangeKind]string{diff.Added: "+", diff.Removed: "-", diff.Changed: "~"}

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

type diffText struct {
	color bool
}

// Write prints the report for a terminal or a log: per environment, per
// Kustomization, one line per object (`+ added`, `- removed`, `~ changed`)
// followed by its unified diff, indented.
func (t diffText) Write(w io.Writer, r *diff.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", paint(t.color, "diff "+Escape(diffTitle(r)), ansiBold))
	for _, e := range r.Environments {
		if e.Status == "" {
			fmt.Fprintf(&b, "\n%s: no changes\n", paint(t.color, Escape(e.Name), ansiBold))
			continue
		}
		fmt.Fprintf(&b, "\n%s\n", paint(t.color, envHeader(Escape(e.Name), e), ansiBold))
		for _, k := range e.Kustomizations {
			fmt.Fprintf(&b, "  %s\n", paint(t.color, ksHeader(Escape(k.ID()), k), ansiBold))
			if k.Note != "" {
				fmt.Fprintf(&b, "    ! %s\n", Escape(k.Note))
			}
			for _, c := range k.Changes {
				line := fmt.Sprintf("%s %s %s", changeSign[c.Kind], Escape(string(c.Kind)), Escape(c.Object.String()))
				switch c.Kind {
				case diff.Added:
					line = paint(t.color, line, ansiGreen)
				case diff.Removed:
					line = paint(t.color, line, ansiRed)
				default:
					line = paint(t.color, line, ansiYellow)
				}
				fmt.Fprintf(&b, "    %s\n", line)
				t.writeLines(&b, c.Diff)
			}
		}
	}
	s := r.Summary
	fmt.Fprintf(&b, "\n%d environment%s: %s\n", s.Environments, pluralS(s.Environments), diffCounts(s.Changed, s.Added, s.Removed))
	_, err := io.WriteString(w, b.String())
	return err
}

// writeLines writes the lines of a unified diff, indented, coloured by
// what they are.
func (t diffText) writeLines(b *strings.Builder, d string) {
	for _, l := range strings.SplitAfter(d, "\n") {
		if l == "" {
			continue
		}
		body := strings.TrimSuffix(l, "\n")
		var color string
		switch {
		case strings.HasPrefix(body, "+++") || strings.HasPrefix(body, "---"):
			color = ansiBold
		case strings.HasPrefix(body, "@@"):
			color = ansiCyan
		case strings.HasPrefix(body, "+"):
			color = ansiGreen
		case strings.HasPrefix(body, "-"):
			color = ansiRed
		}
		body = escapeCode(body)
		if color != "" {
			body = paint(t.color, body, color)
		}
		b.WriteString("      " + body + "\n")
	}
}

// escapeDiff is a unified diff with each line escaped (escapeCode).
func escapeDiff(d string) string {
	lines := strings.Split(d, "\n")
	for i, l := range lines {
		lines[i] = escapeCode(l)
	}
	return strings.Join(lines, "\n")
}

type diffMarkdown struct {
	limit int // characters; MarkdownLimit when 0
}

// Write prints the report for a pull-request comment: one collapsible
// <details> section per environment with ```diff blocks. The output stays
// under the limit; changes that do not fit are dropped and counted in a
// visible "… trimmed, N more changes not shown" note.
func (m diffMarkdown) Write(w io.Writer, r *diff.Report) error {
	limit := m.limit
	if limit <= 0 {
		limit = MarkdownLimit
	}
	var b strings.Builder
	s := r.Summary
	fmt.Fprintf(&b, "### gitops-lint diff: %s\n\n", mdEscape(diffTitle(r), false))
	fmt.Fprintf(&b, "%d environment%s: %s\n", s.Environments, pluralS(s.Environments), diffCounts(s.Changed, s.Added, s.Removed))
	const note = "\n> **… trimmed, %d more changes not shown** (run `gitops-lint diff` locally for the full diff)\n"
	trimmed := 0
	for i, e := range r.Environments {
		// Room kept for the closing of this and every later section.
		reserve := (len(r.Environments)-i)*200 + len(note) + 20
		if e.Status == "" {
			fmt.Fprintf(&b, "\n<details><summary>%s: no changes</summary>\n\n</details>\n", mdEscape(e.Name, false))
			continue
		}
		fmt.Fprintf(&b, "\n<details><summary>%s</summary>\n\n", envHeader(mdEscape(e.Name, false), e))
		for _, k := range e.Kustomizations {
			var kb strings.Builder
			fmt.Fprintf(&kb, "**%s**\n\n", ksHeader(mdEscape(k.ID(), false), k))
			if k.Note != "" {
				fmt.Fprintf(&kb, "> %s\n\n", mdEscape(k.Note, false))
			}
			headerDone := false
			for _, c := range k.Changes {
				var cb strings.Builder
				fmt.Fprintf(&cb, "%s %s %s\n", changeSign[c.Kind], mdEscape(string(c.Kind), false), mdEscape(c.Object.String(), true))
				d := escapeDiff(c.Diff)
				fence := fenceFor(d)
				fmt.Fprintf(&cb, "%sdiff\n%s", fence, d)
				if !strings.HasSuffix(d, "\n") {
					cb.WriteString("\n")
				}
				fmt.Fprintf(&cb, "%s\n\n", fence)
				extra := cb.Len()
				if !headerDone {
					extra += kb.Len()
				}
				if trimmed > 0 || b.Len()+extra+reserve > limit {
					trimmed++
					continue
				}
				if !headerDone {
					b.WriteString(kb.String())
					headerDone = true
				}
				b.WriteString(cb.String())
			}
			if !headerDone && len(k.Changes) == 0 && b.Len()+kb.Len()+reserve <= limit {
				b.WriteString(kb.String())
			}
		}
		b.WriteString("</details>\n")
	}
	if trimmed > 0 {
		fmt.Fprintf(&b, note, trimmed)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fenceFor returns a backtick fence longer than any run of backticks in s.
func fenceFor(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// diffJSON writes the report as indented JSON (diff.Report, its
// schemaVersion): the exact values, with HTML characters and what a log or
// terminal would act on written as \u escapes (jsonSafe).
func diffJSON(w io.Writer, r *diff.Report) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	_, err := w.Write(jsonSafe(b.Bytes()))
	return err
}
