package diff

// The printers of a Report: text (terminal, log), markdown (pull-request
// comment) and JSON. They are the diff command's output formats; they are
// to become formats of internal/report.

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// MarkdownLimit is the size the markdown output stays under (GitHub's PR
// comment limit is 65,536 characters).
const MarkdownLimit = 60000

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

func paint(on bool, s string, codes ...string) string {
	if !on || s == "" {
		return s
	}
	return strings.Join(codes, "") + s + ansiReset
}

func counts(changed, added, removed int) string {
	return fmt.Sprintf("%d changed, %d added, %d removed", changed, added, removed)
}

func (r *Report) title() string {
	head := r.Head
	if head == "" {
		head = "working tree"
	}
	if r.Promotion != "" {
		return fmt.Sprintf("promotion preview %s (%s → %s)", r.Promotion, head, r.Base)
	}
	return fmt.Sprintf("%s → %s", r.Base, head)
}

func envHeader(e *Environment) string {
	s := e.Name + ": " + counts(e.Changed, e.Added, e.Removed)
	switch e.Status {
	case Added:
		s += " (new environment)"
	case Removed:
		s += " (environment removed)"
	}
	return s
}

func ksHeader(k *Kustomization) string {
	s := "Kustomization " + k.ID()
	switch k.Status {
	case Added:
		s += " (added)"
	case Removed:
		s += " (removed)"
	}
	return s
}

var changeSign = map[ChangeKind]string{Added: "+", Removed: "-", Changed: "~"}

// WriteText writes the report for a terminal or a log: per environment,
// per Kustomization, one line per object (`+ added`, `- removed`,
// `~ changed`) followed by its unified diff. color adds ANSI colours.
func WriteText(w io.Writer, r *Report, color bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", paint(color, "diff "+r.title(), ansiBold))
	for _, e := range r.Environments {
		if e.Status == "" {
			fmt.Fprintf(&b, "\n%s: no changes\n", paint(color, e.Name, ansiBold))
			continue
		}
		fmt.Fprintf(&b, "\n%s\n", paint(color, envHeader(e), ansiBold))
		for _, k := range e.Kustomizations {
			fmt.Fprintf(&b, "  %s\n", paint(color, ksHeader(k), ansiBold))
			if k.Note != "" {
				fmt.Fprintf(&b, "    ! %s\n", k.Note)
			}
			for _, c := range k.Changes {
				line := fmt.Sprintf("%s %s %s", changeSign[c.Kind], c.Kind, c.Object)
				switch c.Kind {
				case Added:
					line = paint(color, line, ansiGreen)
				case Removed:
					line = paint(color, line, ansiRed)
				default:
					line = paint(color, line, ansiYellow)
				}
				fmt.Fprintf(&b, "    %s\n", line)
				writeDiffText(&b, c.Diff, color)
			}
		}
	}
	s := r.Summary
	fmt.Fprintf(&b, "\n%d environment%s: %s\n", s.Environments, plural(s.Environments), counts(s.Changed, s.Added, s.Removed))
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func writeDiffText(b *strings.Builder, diff string, color bool) {
	for _, l := range strings.SplitAfter(diff, "\n") {
		if l == "" {
			continue
		}
		body := strings.TrimSuffix(l, "\n")
		switch {
		case strings.HasPrefix(body, "+++") || strings.HasPrefix(body, "---"):
			body = paint(color, body, ansiBold)
		case strings.HasPrefix(body, "@@"):
			body = paint(color, body, ansiCyan)
		case strings.HasPrefix(body, "+"):
			body = paint(color, body, ansiGreen)
		case strings.HasPrefix(body, "-"):
			body = paint(color, body, ansiRed)
		}
		b.WriteString("      " + body + "\n")
	}
}

// WriteMarkdown writes the report for a pull-request comment: one
// collapsible <details> section per environment with ```diff blocks. The
// output stays under limit characters (MarkdownLimit when limit <= 0);
// changes that do not fit are dropped and counted in a visible
// "… trimmed, N more changes not shown" note.
func WriteMarkdown(w io.Writer, r *Report, limit int) error {
	if limit <= 0 {
		limit = MarkdownLimit
	}
	var b strings.Builder
	s := r.Summary
	fmt.Fprintf(&b, "### gitops-lint diff: %s\n\n", mdEscape(r.title()))
	fmt.Fprintf(&b, "%d environment%s: %s\n", s.Environments, plural(s.Environments), counts(s.Changed, s.Added, s.Removed))
	const note = "\n> **… trimmed, %d more changes not shown** (run `gitops-lint diff` locally for the full diff)\n"
	trimmed := 0
	for i, e := range r.Environments {
		// Room kept for the closing of this and every later section.
		reserve := (len(r.Environments)-i)*200 + len(note) + 20
		if e.Status == "" {
			fmt.Fprintf(&b, "\n<details><summary>%s: no changes</summary>\n\n</details>\n", mdEscape(e.Name))
			continue
		}
		fmt.Fprintf(&b, "\n<details><summary>%s</summary>\n\n", mdEscape(envHeader(e)))
		for _, k := range e.Kustomizations {
			var kb strings.Builder
			fmt.Fprintf(&kb, "**%s**\n\n", mdEscape(ksHeader(k)))
			if k.Note != "" {
				fmt.Fprintf(&kb, "> %s\n\n", mdEscape(k.Note))
			}
			headerDone := false
			for _, c := range k.Changes {
				var cb strings.Builder
				fmt.Fprintf(&cb, "%s %s `%s`\n", changeSign[c.Kind], c.Kind, c.Object)
				fence := fenceFor(c.Diff)
				fmt.Fprintf(&cb, "%sdiff\n%s", fence, c.Diff)
				if !strings.HasSuffix(c.Diff, "\n") {
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

// mdEscape keeps names from opening HTML tags in the comment.
func mdEscape(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)
}

// WriteJSON writes the report as indented JSON (Report, schemaVersion 1).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
