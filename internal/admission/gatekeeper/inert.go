package gatekeeper

import (
	"regexp"
	"slices"
)

// RefusedBuiltins are the OPA builtins a ConstraintTemplate's Rego may not
// call: they reach the network, the clock, randomness or the process, or
// their time cannot be bounded. They are removed from the Rego driver's
// capabilities, so a template calling one does not compile and is reported
// as a Problem (ProblemRefused). The list mirrors the one gitops-lint's own
// Rego policies are confined by (internal/policy.DisallowedBuiltins); of
// the net.* builtins only net.lookup_ip_addr reaches the network (the
// net.cidr_* ones compute on their arguments).
var RefusedBuiltins = []string{
	"http.send",
	"net.lookup_ip_addr",
	"json.verify_schema", // fetches remote $ref schemas
	"json.match_schema",  // fetches remote $ref schemas
	"time.now_ns",
	"io.jwt.decode_verify",
	"crypto.x509.parse_and_verify_certificates",
	"crypto.x509.parse_and_verify_certificates_with_options",
	"rand.intn",
	"uuid.rfc4122",
	"io.jwt.encode_sign",
	"io.jwt.encode_sign_raw",
	"opa.runtime",
	"trace",
	"strings.render_template",
	"graph.reachable_paths",
}

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
