package policy

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/gitops-lint/gitops-lint/internal/confine"
)

// DisallowedBuiltin is an OPA built-in function that repository-supplied
// Rego may not call (confine.RegoBuiltin).
type DisallowedBuiltin = confine.RegoBuiltin

// DisallowedBuiltins are removed from the capabilities every policy (the
// built-in library, --policy directories and `policy test`) is compiled
// with (confine.DisallowedRegoBuiltins, which Gatekeeper templates are
// confined by too). A policy calling one fails to load (exit 2).
var DisallowedBuiltins = confine.DisallowedRegoBuiltins

func disallowedReason(name string) (string, bool) {
	i := slices.IndexFunc(DisallowedBuiltins, func(d DisallowedBuiltin) bool { return d.Name == name })
	if i < 0 {
		return "", false
	}
	switch DisallowedBuiltins[i].Reason {
	case "runtime":
		return "no access to the runtime environment from repository-supplied Rego", true
	case "unbounded":
		return "its time and memory cannot be bounded in repository-supplied Rego", true
	}
	return "no network, clock or randomness in repository-supplied Rego", true
}

// capabilities are OPA's, less DisallowedBuiltins and any network access.
func capabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	kept := caps.Builtins[:0:0]
	for _, b := range caps.Builtins {
		if _, bad := disallowedReason(b.Name); !bad {
			kept = append(kept, b)
		}
	}
	caps.Builtins = kept
	caps.AllowNet = []string{} // empty, not nil: no host at all
	return caps
}

// compileError turns the compiler's errors into the run's message. A call
// of a disallowed builtin is reported as such (file, line and builtin).
func compileError(errs ast.Errors) error {
	for _, e := range errs {
		name, ok := strings.CutPrefix(e.Message, "undefined function ")
		if !ok {
			continue
		}
		if reason, bad := disallowedReason(name); bad {
			return fmt.Errorf("%s: policy uses %s, which gitops-lint does not allow (%s)", errLocation(e), name, reason)
		}
	}
	return fmt.Errorf("compile policies: %w", errs)
}

func errLocation(e *ast.Error) string {
	if e.Location == nil {
		return "policy"
	}
	return e.Location.File + ":" + strconv.Itoa(e.Location.Row)
}

// maxParseErrors and maxParseMessage bound a parse error's report.
const (
	maxParseErrors  = 3
	maxParseMessage = 120
)

// parseError reports why a file is not Rego as file:line: code: message,
// without the parser's quotation of the offending line (the file may be
// anything: a linked secret, a binary), each message cut short.
func parseError(err error) error {
	var errs ast.Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		return errors.New(shorten(err.Error()))
	}
	var lines []string
	seen := map[string]bool{}
	for _, e := range errs {
		line := fmt.Sprintf("%s: %s: %s", errLocation(e), e.Code, shorten(e.Message))
		if seen[line] {
			continue
		}
		seen[line] = true
		lines = append(lines, line)
	}
	more := len(lines) - maxParseErrors
	if more > 0 {
		lines = append(lines[:maxParseErrors], fmt.Sprintf("(and %d more)", more))
	}
	return errors.New(strings.Join(lines, "; "))
}

// shorten keeps the first line of msg, printable and at most
// maxParseMessage bytes, without the parts of the parser's messages that
// quote source text ("illegal string literal: <the literal>", "..., got:
// <the path>", "(e.g., <the rule name> := ...)").
func shorten(msg string) string {
	msg, _, _ = strings.Cut(msg, "\n")
	for _, sep := range []string{", got", " (e.g.,"} {
		msg, _, _ = strings.Cut(msg, sep)
	}
	if i := strings.Index(msg, ": "); i >= 0 && !strings.HasPrefix(msg[i+2:], "expect") {
		msg = msg[:i]
	}
	if strings.HasPrefix(msg, "rule head ref ") {
		msg = "rule head ref invalid"
	}
	var b strings.Builder
	for _, r := range msg {
		if b.Len() >= maxParseMessage {
			b.WriteString("...")
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
