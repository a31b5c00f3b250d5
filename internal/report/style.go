package report

// How every output looks: the ANSI sequences (the only terminal control
// gitops-lint writes) and the one table of what each severity is in each
// format. No writer spells an escape sequence or switches on a severity
// on its own.

import (
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// ANSI SGR sequences: the colours of the text outputs.
const (
	ansiReset     = "\x1b[0m"
	ansiBold      = "\x1b[1m"
	ansiDim       = "\x1b[2m"
	ansiUnderline = "\x1b[4m"
	ansiRed       = "\x1b[31m"
	ansiGreen     = "\x1b[32m"
	ansiYellow    = "\x1b[33m"
	ansiBlue      = "\x1b[34m"
	ansiCyan      = "\x1b[36m"
)

// EraseLine returns the cursor to the start of the line and erases it: the
// CLI's progress line on a terminal rewrites itself with it.
const EraseLine = "\r\x1b[K"

// paint wraps s in the SGR codes, when on, and resets after it.
func paint(on bool, s string, codes ...string) string {
	if !on || s == "" || len(codes) == 0 {
		return s
	}
	return strings.Join(codes, "") + s + ansiReset
}

// severityStyle is what one severity is in every format.
type severityStyle struct {
	sarif   string // SARIF result level
	github  string // GitHub Actions workflow command
	azure   string // Azure Pipelines task.logissue type; "": a plain log line
	failure bool   // JUnit: a <failure>, else a line of system-out
	color   string // ANSI colour of the text format
	icon    string // Markdown: the badge before the severity's name
	column  int    // Markdown: its column among the counts (errors, warnings, infos)
}

// severityStyles is the one table of severities: every writer looks a
// severity up here (styleOf).
var severityStyles = map[finding.Severity]severityStyle{
	finding.Error:   {sarif: "error", github: "error", azure: "error", failure: true, color: ansiRed, icon: "❌", column: 0},
	finding.Warning: {sarif: "warning", github: "warning", azure: "warning", color: ansiYellow, icon: "⚠️", column: 1},
	finding.Info:    {sarif: "note", github: "notice", color: ansiBlue, icon: "ℹ️", column: 2},
}

// styleOf is the style of s; a severity the table lacks (which only a
// policy's typo can produce) is shown as info.
func styleOf(s finding.Severity) severityStyle {
	if st, ok := severityStyles[s]; ok {
		return st
	}
	return severityStyles[finding.Info]
}
