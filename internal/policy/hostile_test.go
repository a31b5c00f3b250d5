package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// The tests below play a hostile repository's --policy directory: every
// one failed on the code before the policy path was confined, made inert
// and bounded.

const okPolicy = "package main\n\ndeny contains \"never\" if false\n"

// within runs fn and fails the test if it takes longer than d (a hang or
// a runaway read), without waiting for it.
func within[T any](t *testing.T, d time.Duration, fn func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- fn() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("did not return within %s", d)
	}
	panic("unreachable")
}

func loadErr(t *testing.T, opts Options) error {
	t.Helper()
	return within(t, 10*time.Second, func() error {
		_, err := Load(context.Background(), opts)
		return err
	})
}

func testErr(t *testing.T, dir string, opts Options) error {
	t.Helper()
	return within(t, 10*time.Second, func() error {
		_, err := RunTestsWith(context.Background(), dir, opts)
		return err
	})
}

// assertRefused: a usage error naming the file and the cause, quoting none
// of secrets.
func assertRefused(t *testing.T, err error, want []string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("loaded, want a refusal")
	}
	if !finding.IsUsage(err) {
		t.Errorf("not a usage error (exit 2): %v", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error echoes content %q: %s", s, err)
		}
	}
}

// TestPolicySymlinkToEnvironRefused: a policy linked to the process
// environment is refused without echoing it (it was printed whole).
func TestPolicySymlinkToEnvironRefused(t *testing.T) {
	environ, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Skip(err)
	}
	// /proc/self/environ is the environment the process started with.
	var secrets []string
	for _, kv := range strings.Split(string(environ), "\x00") {
		if len(kv) >= 8 {
			secrets = append(secrets, kv)
		}
	}
	if len(secrets) == 0 {
		t.Skip("empty environment")
	}
	dir := t.TempDir()
	if err := os.Symlink("/proc/self/environ", filepath.Join(dir, "a.rego")); err != nil {
		t.Fatal(err)
	}
	want := []string{"--policy " + dir + ": a.rego leaves its root directory"}
	assertRefused(t, loadErr(t, Options{Dirs: []string{dir}}), want, secrets...)
	assertRefused(t, testErr(t, dir, Options{}), []string{"a.rego leaves its root directory"}, secrets...)
}

// TestPolicySymlinkOutsideRefused: a link to any file outside the
// directory is refused (its first line was echoed by the parse error).
func TestPolicySymlinkOutsideRefused(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.txt")
	// A first line the parser would quote.
	if err := os.WriteFile(outside, []byte("root:x:0:0:s3cr3t-outside-value:/root:/bin/bash\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"ok.rego": okPolicy})
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "sub", "b.rego")); err != nil {
		t.Fatal(err)
	}
	want := []string{"sub/b.rego leaves its root directory"}
	assertRefused(t, loadErr(t, Options{Dirs: []string{dir}}), want, "s3cr3t", "root:x")
	assertRefused(t, testErr(t, dir, Options{}), want, "s3cr3t", "root:x")
	// A link inside the directory is read as before.
	os.Remove(filepath.Join(dir, "sub", "b.rego"))
	os.WriteFile(filepath.Join(dir, "real.txt"), []byte("package other\n"), 0o644)
	os.Symlink("../real.txt", filepath.Join(dir, "sub", "b.rego"))
	if err := loadErr(t, Options{Dirs: []string{dir}}); err != nil {
		t.Errorf("link within the directory: %v", err)
	}
}

// TestPolicyDevZeroRefused: a link to /dev/zero is refused at once (it
// was read until memory ran out: ~5 GB, 40 s).
func TestPolicyDevZeroRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "a.rego")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	assertRefused(t, loadErr(t, Options{Dirs: []string{dir}}), []string{"a.rego"})
	assertRefused(t, testErr(t, dir, Options{}), []string{"a.rego"})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

// TestPolicyFIFONoHang: a FIFO among the policies does not block the load
// (reading it waited for a writer forever); a link to one is refused.
func TestPolicyFIFONoHang(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"ok.rego": okPolicy})
	if err := syscall.Mkfifo(filepath.Join(dir, "a.rego"), 0o644); err != nil {
		t.Skip(err)
	}
	if err := loadErr(t, Options{Dirs: []string{dir}}); err != nil {
		t.Errorf("FIFO: %v", err)
	}
	if err := os.Symlink("a.rego", filepath.Join(dir, "b.rego")); err != nil {
		t.Fatal(err)
	}
	assertRefused(t, loadErr(t, Options{Dirs: []string{dir}}), []string{"b.rego is not a regular file"})
	assertRefused(t, testErr(t, dir, Options{}), []string{"b.rego is not a regular file"})
}

// TestPolicyOversizedRefused: a file over file-bytes, or over the run's
// total budget, is refused naming the limit.
func TestPolicyOversizedRefused(t *testing.T) {
	big := okPolicy + "# " + strings.Repeat("x", 4096) + "\n"
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"big.rego": big})
	limits := confine.Defaults()
	limits.FileBytes = 1024
	want := []string{"big.rego is larger than the limit of 1 KiB", "--limit file-bytes="}
	assertRefused(t, loadErr(t, Options{Dirs: []string{dir}, Limits: limits}), want, "xxxx")
	assertRefused(t, testErr(t, dir, Options{Limits: limits}), want, "xxxx")

	budget := confine.NewBudget(2048, confine.LimitTotalBytes)
	assertRefused(t, loadErr(t, Options{Dirs: []string{dir}, Budget: budget}), []string{"big.rego exceeds the total byte budget of 2 KiB", "--limit total-bytes="})
	// The defaults read it.
	if err := loadErr(t, Options{Dirs: []string{dir}}); err != nil {
		t.Error(err)
	}
}

// TestPolicyParseErrorQuotesNoSource: a file in the directory that is not
// Rego is reported by file, line and the parser's short message, without
// the line the parser quotes.
func TestPolicyParseErrorQuotesNoSource(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"a.rego": "DB_PASSWORD=hunter2-very-secret\x00API_KEY=abc\n",
		"b.rego": "package main\nx := \"unterminated hunter2-very-secret\n",
		"c.rego": "package main\nx := \"\\q hunter2-very-secret\"\n",
		"d.rego": "package main\nimport hunter2.x\n",
	})
	for _, name := range []string{"a.rego", "b.rego", "c.rego", "d.rego"} {
		sub := testutil.WriteTree(t, t.TempDir(), map[string]string{})
		data, _ := os.ReadFile(filepath.Join(dir, name))
		os.WriteFile(filepath.Join(sub, name), data, 0o644)
		err := loadErr(t, Options{Dirs: []string{sub}})
		assertRefused(t, err, []string{filepath.Join(sub, name) + ":", "rego_parse_error"}, "hunter2", "API_KEY", "\n")
	}
}

// disallowed are policies calling builtins that reach the network, the
// clock, randomness or the process; the call is on line 4.
var disallowed = map[string]string{
	"http.send":               `r := http.send({"method": "GET", "url": "http://169.254.169.254/"})`,
	"net.lookup_ip_addr":      `r := net.lookup_ip_addr("attacker.example")`,
	"time.now_ns":             `r := time.now_ns()`,
	"rand.intn":               `r := rand.intn("x", 100)`,
	"uuid.rfc4122":            `r := uuid.rfc4122("x")`,
	"opa.runtime":             `r := opa.runtime().env`,
	"trace":                   `trace("x"); r := 1`,
	"json.match_schema":       `r := json.match_schema({}, {"$ref": "http://attacker.example/s.json"})`,
	"io.jwt.encode_sign":      `r := io.jwt.encode_sign({"alg": "ES256"}, {}, {})`,
	"strings.render_template": `r := strings.render_template("{{range 100000000000}}{{end}}", {})`,
}

// TestPolicyDisallowedBuiltinsRefused: each is refused at load, naming
// file, line and builtin (they loaded and ran).
func TestPolicyDisallowedBuiltinsRefused(t *testing.T) {
	for name, expr := range disallowed {
		t.Run(name, func(t *testing.T) {
			src := "package main\n\ndeny contains msg if {\n\t" + expr + "\n\tmsg := sprintf(\"%v\", [r])\n}\n"
			if name == "trace" {
				src = strings.Replace(src, "[r]", "[1]", 1)
			}
			dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"a.rego": src})
			want := filepath.Join(dir, "a.rego") + ":4: policy uses " + name + ", which gitops-lint does not allow ("
			assertRefused(t, loadErr(t, Options{Dirs: []string{dir}}), []string{want})
			// In tests too.
			test := "package main_test\n\nimport data.main\n\ntest_x if main.deny\n"
			os.WriteFile(filepath.Join(dir, "a_test.rego"), []byte(test), 0o644)
			assertRefused(t, testErr(t, dir, Options{}), []string{want})
		})
	}
}

// TestEveryNondeterministicBuiltinDisallowed keeps the list complete as
// OPA grows: everything OPA flags nondeterministic is refused, and every
// refused name is a real builtin.
func TestEveryNondeterministicBuiltinDisallowed(t *testing.T) {
	all := map[string]bool{}
	for _, b := range ast.CapabilitiesForThisVersion().Builtins {
		all[b.Name] = true
		if _, bad := disallowedReason(b.Name); b.IsNondeterministic() && !bad {
			t.Errorf("%s is nondeterministic and allowed", b.Name)
		}
	}
	for _, d := range DisallowedBuiltins {
		if !all[d.Name] {
			t.Errorf("%s is not an OPA builtin", d.Name)
		}
	}
	for _, b := range capabilities().Builtins {
		if _, bad := disallowedReason(b.Name); bad {
			t.Errorf("%s left in the capabilities", b.Name)
		}
	}
	for _, c := range CappedBuiltins {
		if !all[c.Name] || preChecks[c.Name] == nil {
			t.Errorf("capped builtin %s: not a builtin or not checked", c.Name)
		}
	}
}

// TestBuiltinLibraryTestsInert: the built-in library compiles with the
// reduced capabilities and its Rego tests pass through `policy test`.
func TestBuiltinLibraryTestsInert(t *testing.T) {
	rs, err := RunTests(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if !r.Passed {
			t.Errorf("%s: %v", r.Name, r.Err)
		}
	}
	if len(rs) < 15 {
		t.Errorf("%d tests", len(rs))
	}
}

// hostileRepo is a repository of four objects for Check.
func hostileRepo(t *testing.T) *render.Result {
	t.Helper()
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": "# placeholder\n",
		"clusters/dev/team-a.yaml":                tenantRepo,
		"apps/service.yaml":                       lbService,
		"apps/cm.yaml":                            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n",
		"apps/cm2.yaml":                           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  k: v\n",
	})
	res, err := render.Render(context.Background(), render.Options{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkBounded loads the policy and checks repo, failing if that takes
// more than 20 s or allocates more than 500 MiB (generous bounds, not a
// benchmark: the unbounded versions took minutes and gigabytes).
func checkBounded(t *testing.T, res *render.Result, opts Options) []finding.Finding {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	type out struct {
		fs  []finding.Finding
		err error
	}
	o := within(t, 20*time.Second, func() out {
		e, err := Load(context.Background(), opts)
		if err != nil {
			return out{nil, err}
		}
		return out{e.Check(context.Background(), res), nil}
	})
	if o.err != nil {
		t.Fatal(o.err)
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%s, %d MiB allocated", elapsed.Round(time.Millisecond), alloc>>20)
	if alloc > 500<<20 {
		t.Errorf("allocated %d MiB", alloc>>20)
	}
	return o.fs
}

func policyErrors(fs []finding.Finding) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.Rule == RuleError.ID {
			out = append(out, f)
		}
	}
	return out
}

// TestPolicyAmplifyingBuiltinsBounded: builtins whose output is not
// bounded by their input are refused before they allocate, reported as a
// policy/error finding at the object (numbers.range(1, 1e9) and
// net.cidr_expand("0.0.0.0/0") ran past 120 s at 3-6 GB).
func TestPolicyAmplifyingBuiltinsBounded(t *testing.T) {
	res := hostileRepo(t)
	cases := map[string]string{
		"numbers.range":      `x := numbers.range(1, 1e9)`,
		"numbers.range_step": `x := numbers.range_step(0, 1e12, 3)`,
		"net.cidr_expand":    `x := net.cidr_expand("0.0.0.0/0")`,
		"net.cidr_expand v6": `x := net.cidr_expand("::/0")`,
		"bits.lsh":           `x := [bits.lsh(1, 1e12)]`,
		"sprintf":            `x := sprintf(concat("", ["%999999d" | some _ in numbers.range(1, 1000)]), numbers.range(1, 1000))`,
		"concat":             `s := concat("", ["x" | some _ in numbers.range(1, 10000)]); x := concat(",", [s | some _ in numbers.range(1, 10000)])`,
		"json.marshal":       `a := [["x", "y"] | some _ in numbers.range(1, 1000)]; b := [a | some _ in numbers.range(1, 1000)]; x := json.marshal([b | some _ in numbers.range(1, 1000)])`,
		"replace":            `s := concat("", ["x" | some _ in numbers.range(1, 10000)]); x := replace(s, "", s)`,
		"regex.split":        `u := concat("", ["ab" | some _ in numbers.range(1, 1000)]); s := concat("", [u | some _ in numbers.range(1, 600)]); x := regex.split("", s)`,
		"mul":                `a := bits.lsh(1, 30000); x := [a * a * a]`,
		"array.concat":       `a := numbers.range(1, 1000); b := array.concat(a, a); c := array.concat(b, b); d := array.concat(c, c); e := array.concat(d, d); f := array.concat(e, e); g := array.concat(f, f); h := array.concat(g, g); i := array.concat(h, h); j := array.concat(i, i); k := array.concat(j, j); x := array.concat(k, k)`,
	}
	for name, expr := range cases {
		t.Run(name, func(t *testing.T) {
			src := "package main\n\ndeny contains msg if {\n\t" + expr + "\n\tmsg := sprintf(\"%d\", [count(x)])\n}\n"
			dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"a.rego": src})
			fs := checkBounded(t, res, Options{Dirs: []string{dir}, NoBuiltin: true})
			errs := policyErrors(fs)
			if len(errs) != 4 || len(fs) != 4 {
				t.Fatalf("want a policy/error finding per object, got %+v", fs)
			}
			builtin := strings.Fields(name)[0]
			for _, f := range errs {
				if f.Severity != finding.Error || f.File == "" || f.Line == 0 || !strings.Contains(f.Message, "main.deny") || !strings.Contains(f.Message, builtin+": ") || !strings.Contains(f.Message, "gitops-lint allows") {
					t.Errorf("finding %+v", f)
				}
			}
		})
	}
}

// TestPolicyTimeoutNamesRule: a rule slower than policy-time is reported
// by name, with the limit and how to raise it, once: it is not evaluated
// again, and the other rules' findings are kept.
func TestPolicyTimeoutNamesRule(t *testing.T) {
	res := hostileRepo(t)
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"a.rego": `package main

deny_slow contains "never" if {
	some i in numbers.range(1, 1000000)
	some j in numbers.range(1, 1000000)
	i == j + 5000000
}

warn_fast contains msg if {
	msg := sprintf("%s seen", [input.kind])
}
`})
	limits := confine.Defaults()
	limits.PolicyTime = 200 * time.Millisecond
	start := time.Now()
	fs := checkBounded(t, res, Options{Dirs: []string{dir}, NoBuiltin: true, Limits: limits, Workers: 1})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s for 4 objects at 200ms", d)
	}
	var fast int
	errs := policyErrors(fs)
	for _, f := range fs {
		if f.Rule == "policy/warn-fast" {
			fast++
		}
	}
	if fast != 4 {
		t.Errorf("warn_fast findings: %d, want 4: %+v", fast, fs)
	}
	if len(errs) != 1 {
		t.Fatalf("want one timeout finding, got %+v", errs)
	}
	for _, want := range []string{"main.deny_slow", "ran out of time", "policy-time limit of 200ms", "--limit policy-time=30s"} {
		if !strings.Contains(errs[0].Message, want) {
			t.Errorf("message %q lacks %q", errs[0].Message, want)
		}
	}
	if errs[0].File == "" || errs[0].Severity != finding.Error {
		t.Errorf("finding %+v", errs[0])
	}
}

// TestPolicyBuiltinErrorReported: a builtin error in a user policy is a
// policy/error finding (it made the rule silently undefined), and the
// other rules still report.
func TestPolicyBuiltinErrorReported(t *testing.T) {
	res := hostileRepo(t)
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"a.rego": `package main

deny_bad contains msg if {
	input.kind == "Service"
	n := to_number("twelve")
	msg := sprintf("%v", [n])
}
`})
	fs := checkBounded(t, res, Options{Dirs: []string{dir}})
	errs := policyErrors(fs)
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "main.deny_bad") || !strings.Contains(errs[0].Message, "to_number") || errs[0].File != "apps/service.yaml" {
		t.Fatalf("want one policy/error on the Service naming the rule and builtin, got %+v", errs)
	}
	// The built-in library's finding on the same object is kept.
	var lb bool
	for _, f := range fs {
		lb = lb || f.Rule == "policy/no-loadbalancer"
	}
	if !lb {
		t.Errorf("built-in finding lost: %+v", fs)
	}
}

// TestPolicyErrorMessagesBounded: an evaluation error quoting a huge
// operand is cut short in the finding.
func TestPolicyErrorMessagesBounded(t *testing.T) {
	res := hostileRepo(t)
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"a.rego": `package main

deny contains msg if {
	input.kind == "Service"
	s := concat("", ["9" | some _ in numbers.range(1, 100000)])
	n := to_number(concat("", ["x", s]))
	msg := sprintf("%v", [n])
}
`})
	fs := policyErrors(checkBounded(t, res, Options{Dirs: []string{dir}, NoBuiltin: true}))
	if len(fs) != 1 || len(fs[0].Message) > 1000 {
		t.Fatalf("got %d findings, message of %d bytes", len(fs), len(fs[0].Message))
	}
}

// TestDisallowedBuiltinErrorIsUsage: the refusal is an exit-2 usage error.
func TestDisallowedBuiltinErrorIsUsage(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"a.rego": "package main\n\nx := time.now_ns()\n"})
	err := loadErr(t, Options{Dirs: []string{dir}})
	var u *finding.UsageError
	if !errors.As(err, &u) {
		t.Fatalf("%v", err)
	}
}

// TestCapsAllowOrdinaryUse: the caps leave ordinary calls alone, with
// their usual results.
func TestCapsAllowOrdinaryUse(t *testing.T) {
	cases := map[string]string{
		`count(numbers.range(1, 1000000))`:                                                   `1000000`,
		`count(numbers.range_step(0, 300000, 3))`:                                            `100001`,
		`count(net.cidr_expand("10.0.0.0/13"))`:                                              `524288`,
		`sprintf("%-10s|%5.2f|%v|%q", ["a", 3.14159, [1, {"k": "v"}], "x\ny"])`:              `"a         | 3.14|[1, {\"k\": \"v\"}]|\"x\\ny\""`,
		`count(concat(",", [u | some _ in numbers.range(1, 1000)]))`:                         `2000999`,
		`replace("a-b-c", "-", "--")`:                                                        `"a--b--c"`,
		`strings.replace_n({"a": "AA", "b": "B"}, "abab")`:                                   `"AABAAB"`,
		`regex.replace("foo bar", "(o+)", "[$1]")`:                                           `"f[oo] bar"`,
		`json.marshal_with_options({"a": [1, 2]}, {"indent": "  "})`:                         `"{\n  \"a\": [\n    1,\n    2\n  ]\n}"`,
		`yaml.marshal({"a": [1, 2]})`:                                                        `"a:\n  - 1\n  - 2\n"`,
		`bits.lsh(1, 64)`:                                                                    `18446744073709551616`,
		`format_int(255, 16)`:                                                                `"ff"`,
		`product([2, 3, 7])`:                                                                 `42`,
		`count(split(concat("", [u | some _ in numbers.range(1, 600)]), ","))`:               `600001`,
		`count(regex.split(",", concat("", [u | some _ in numbers.range(1, 600)])))`:         `600001`,
		`regex.find_n("a", concat("", [u | some _ in numbers.range(1, 1000)]), 3)`:           `["a","a","a"]`,
		`count(regex.find_n("a[,]", concat("", [u | some _ in numbers.range(1, 600)]), -1))`: `600000`,
		`array.flatten([[1, 2], 3, [4]])`:                                                    `[1,2,3,4]`,
		`units.parse_bytes("10MiB")`:                                                         `10485760`,
	}
	for expr, want := range cases {
		// u is 2,000 bytes: "a,a,...".
		q := fmt.Sprintf(`u := concat("", ["a," | some _ in numbers.range(1, 1000)]); x := %s`, expr)
		rs, err := rego.New(rego.Query(q), rego.StrictBuiltinErrors(true)).Eval(context.Background())
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		if len(rs) != 1 {
			t.Errorf("%s: undefined", expr)
			continue
		}
		got, _ := json.Marshal(rs[0].Bindings["x"])
		if string(got) != want {
			t.Errorf("%s = %s, want %s", expr, got, want)
		}
	}
}

// TestPolicyCombinedTimeoutNamesRule: an environment-wide rule that runs
// out of time is reported for the environment.
func TestPolicyCombinedTimeoutNamesRule(t *testing.T) {
	res := hostileRepo(t)
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"a.rego": `# METADATA
# custom:
#   combine: true
package main

deny_all_slow contains "never" if {
	some i in numbers.range(1, 1000000)
	some j in numbers.range(1, 1000000)
	i == j + 5000000
}
`})
	limits := confine.Defaults()
	limits.PolicyTime = 200 * time.Millisecond
	fs := checkBounded(t, res, Options{Dirs: []string{dir}, NoBuiltin: true, Limits: limits})
	if len(fs) != 1 || fs[0].Rule != RuleError.ID || fs[0].Environment != "dev" || !strings.Contains(fs[0].Message, "main.deny_all_slow") || !strings.Contains(fs[0].Message, "--limit policy-time=30s") {
		t.Fatalf("got %+v", fs)
	}
}

// nested is a policy comparing two values that double at each of n
// levels: OPA's type checker takes time exponential in n to unify their
// types, and cannot be interrupted.
func nested(n int) string {
	var b strings.Builder
	b.WriteString("package main\n\na0 := [\"x\"]\nb0 := [\"x\"]\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "a%d := [a%d, a%d]\nb%d := [b%d, b%d]\n", i, i-1, i-1, i, i-1, i-1)
	}
	fmt.Fprintf(&b, "deny contains \"x\" if a%d == b%d\n", n, n)
	return b.String()
}

// TestPolicyCompileBounded: a policy the compiler would take seconds to
// minutes on (doubling with each line) is refused after policy-time.
func TestPolicyCompileBounded(t *testing.T) {
	dir := testutil.WriteTree(t, t.TempDir(), map[string]string{"a.rego": nested(13)})
	limits := confine.Defaults()
	limits.PolicyTime = 100 * time.Millisecond
	start := time.Now()
	want := []string{"compiling the policies did not finish within the policy-time limit of 100ms", "--limit policy-time=30s"}
	assertRefused(t, loadErr(t, Options{Dirs: []string{dir}, Limits: limits}), want)
	assertRefused(t, testErr(t, dir, Options{Limits: limits}), []string{"did not finish within the policy-time limit of 100ms"})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
	// A few levels compile as usual, within the default limit (100ms is
	// too tight for the built-in library on a loaded machine).
	os.WriteFile(filepath.Join(dir, "a.rego"), []byte(nested(3)), 0o644)
	if err := loadErr(t, Options{Dirs: []string{dir}, Limits: confine.Defaults()}); err != nil {
		t.Error(err)
	}
}

// TestEvaluationAbandonedPastDeadline: an evaluation stuck in a call that
// ignores its deadline is given up abandonAfter past it; the run goes on.
func TestEvaluationAbandonedPastDeadline(t *testing.T) {
	stuck := rego.Function1(&rego.Function{Name: "stuck", Decl: types.NewFunction(types.Args(types.N), types.N)},
		func(_ rego.BuiltinContext, a *ast.Term) (*ast.Term, error) {
			time.Sleep(3 * time.Second)
			return a, nil
		})
	pq, err := rego.New(rego.Query(`r := {"0": stuck(1)}`), stuck).PrepareForEval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{limit: 100 * time.Millisecond, evals: newWorkerPool()}
	defer e.evals.close()
	start := time.Now()
	_, err = e.run(context.Background(), &pq, rego.EvalInput(map[string]any{}))
	if d := time.Since(start); !errors.Is(err, errTimeout) || d > 100*time.Millisecond+abandonAfter+500*time.Millisecond {
		t.Errorf("after %s: %v", d, err)
	}
	// The pool still serves.
	pq2, _ := rego.New(rego.Query(`r := {"0": 1}`)).PrepareForEval(context.Background())
	if r, err := e.run(context.Background(), &pq2, rego.EvalInput(map[string]any{})); err != nil || r["0"] == nil {
		t.Errorf("%v %v", r, err)
	}
}
