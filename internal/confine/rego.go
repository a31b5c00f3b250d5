package confine

// RegoBuiltin is an OPA built-in function that repository-supplied Rego
// (the policies of --policy, Gatekeeper ConstraintTemplates) may not
// call.
type RegoBuiltin struct {
	Name   string
	Reason string // what it reaches: network, clock, randomness, runtime, unbounded
}

// DisallowedRegoBuiltins keep repository-supplied Rego inert: it cannot
// reach the network, read the clock, draw random numbers or see the
// process, and its output is the same run to run. They are every builtin
// OPA v1.22.3 flags Nondeterministic, plus trace and the certificate
// verifications that read the clock, plus the two builtins whose time and
// memory cannot be bounded from their arguments. Of the net.* builtins only
// net.lookup_ip_addr reaches the network (net.cidr_* compute on their
// arguments).
var DisallowedRegoBuiltins = []RegoBuiltin{
	{"http.send", "network"},
	{"net.lookup_ip_addr", "network"},
	{"json.verify_schema", "network"}, // fetches remote $ref schemas
	{"json.match_schema", "network"},  // fetches remote $ref schemas
	{"time.now_ns", "clock"},
	{"io.jwt.decode_verify", "clock"}, // checks exp/nbf against the clock
	{"crypto.x509.parse_and_verify_certificates", "clock"},
	{"crypto.x509.parse_and_verify_certificates_with_options", "clock"},
	{"rand.intn", "randomness"},
	{"uuid.rfc4122", "randomness"},
	{"io.jwt.encode_sign", "randomness"},     // randomized signatures
	{"io.jwt.encode_sign_raw", "randomness"}, // randomized signatures
	{"opa.runtime", "runtime"},
	{"trace", "runtime"},
	{"strings.render_template", "unbounded"}, // Go templates loop without bound and cannot be interrupted
	{"graph.reachable_paths", "unbounded"},   // enumerates every path: exponential in the graph
}
