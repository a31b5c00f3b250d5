package gatekeeper

import (
	"regexp"
	"slices"

	"github.com/gitops-lint/gitops-lint/internal/confine"
)

// RefusedBuiltins are the OPA builtins a ConstraintTemplate's Rego may not
// call: they reach the network, the clock, randomness or the process, or
// their time cannot be bounded. They are removed from the Rego driver's
// capabilities, so a template calling one does not compile and is reported
// as a Problem (ProblemRefused). It is the list gitops-lint's own Rego
// policies are confined by (confine.DisallowedRegoBuiltins).
var RefusedBuiltins = func() []string {
	out := make([]string, len(confine.DisallowedRegoBuiltins))
	for i, b := range confine.DisallowedRegoBuiltins {
		out[i] = b.Name
	}
	return out
}()

// refused reports whether name is one of RefusedBuiltins.
func refused(name string) bool { return slices.Contains(RefusedBuiltins, name) }

// undefinedFunction finds the compiler's "undefined function NAME".
var undefinedFunction = regexp.MustCompile(`undefined function ([A-Za-z0-9_.]+)`)

// refusedIn returns the refused builtin a compile error names, if any.
func refusedIn(msg string) string {
	for _, m := range undefinedFunction.FindAllStringSubmatch(msg, -1) {
		if refused(m[1]) {
			return m[1]
		}
	}
	return ""
}
