package report

import (
	"bufio"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// junitRepositorySuite names the suite of findings that belong to no
// environment when the report does not name the repository.
const junitRepositorySuite = "repository"

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Errors   int              `xml:"errors,attr"`
	Skipped  int              `xml:"skipped,attr"`
	Cases    []*junitTestcase `xml:"testcase"`
}

type junitTestcase struct {
	Name      string         `xml:"name,attr"`
	Classname string         `xml:"classname,attr"`
	File      string         `xml:"file,attr,omitempty"`
	Skipped   *junitSkipped  `xml:"skipped,omitempty"`
	Failures  []junitFailure `xml:"failure"`
	SystemOut string         `xml:"system-out,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitWriter struct {
	limit int64 // bytes; 0: no limit
}

// junitTruncated names the skipped testcase that says a report was cut.
const junitTruncated = "(report truncated)"

// Write prints JUnit XML as CI test reporters read it (Azure DevOps
// PublishTestResults@2, GitHub test-report actions): a testsuite per
// environment, a testcase per Flux Kustomization, a <failure> per error
// finding; warnings and infos go to the testcase's system-out. Findings of
// no Kustomization get a testcase named after their file; findings of no
// environment go to a suite named after the repository. Names and texts
// are escaped for display (Escape), which also leaves no character XML
// 1.0 forbids. Over the size limit, the findings that fit are written and
// a skipped testcase in the repository's suite says how many more there
// are.
func (j junitWriter) Write(w io.Writer, r *Report) error {
	r = r.current()
	err := writeCapped(w, len(r.Findings), j.limit, junitCost(r), func(w io.Writer, k int) error {
		return writeJUnit(w, r, k, j.limit)
	})
	if err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	return nil
}

// writeJUnit writes the document with the first k findings.
func writeJUnit(w io.Writer, r *Report, k int, limit int64) error {
	// Suites are keyed by environment; "" is the repository's suite.
	type key struct{ env, name string }
	suites := map[string]*junitSuite{}
	cases := map[key]*junitTestcase{}
	var order []string
	suite := func(env string) *junitSuite {
		s, ok := suites[env]
		if !ok {
			s = &junitSuite{Name: cmp.Or(Escape(env), Escape(r.Repository), junitRepositorySuite)}
			suites[env] = s
			order = append(order, env)
		}
		return s
	}
	testcase := func(env, name, file string) *junitTestcase {
		k := key{env, name}
		c, ok := cases[k]
		if !ok {
			s := suite(env)
			c = &junitTestcase{Name: Escape(name), Classname: s.Name, File: Escape(file)}
			cases[k] = c
			s.Cases = append(s.Cases, c)
		}
		return c
	}
	// Every known Kustomization first, in render order, so that passing
	// ones are reported as passing tests.
	for _, e := range r.Environments {
		suite(e.Name)
		for _, k := range e.Kustomizations {
			testcase(e.Name, k, "")
		}
	}
	systemOut := map[*junitTestcase]*strings.Builder{} // warnings and infos, in order
	for _, f := range unfold(r.Findings[:k]) {
		name, file := f.Kustomization, ""
		if name == "" {
			name, file = cmp.Or(f.File, NoFile), f.File
		}
		c := testcase(f.Environment, name, file)
		if styleOf(f.Severity).failure {
			c.Failures = append(c.Failures, junitFailure{
				Message: Escape(f.Rule) + ": " + Escape(firstLine(f.Message)),
				Type:    Escape(f.Rule),
				Body:    detail(f, true),
			})
			continue
		}
		out := systemOut[c]
		if out == nil {
			out = &strings.Builder{}
			systemOut[c] = out
		}
		out.WriteString(Escape(string(f.Severity)) + ": " + detail(f, true) + "\n")
	}
	for c, out := range systemOut {
		c.SystemOut = out.String()
	}
	if k < len(r.Findings) {
		c := &junitTestcase{Name: junitTruncated, Classname: suite("").Name,
			Skipped: &junitSkipped{Message: truncatedNote(len(r.Findings)-k, limit)}}
		suites[""].Cases = append(suites[""].Cases, c)
	}

	// Environments in name order, the repository's suite last.
	slices.SortFunc(order, func(a, b string) int {
		if (a == "") != (b == "") {
			if a == "" {
				return 1
			}
			return -1
		}
		return cmp.Compare(a, b)
	})
	doc := junitSuites{Name: Escape(r.Tool.Name), Time: seconds(r.Summary.DurationMs)}
	for _, name := range order {
		s := suites[name]
		for _, c := range s.Cases {
			s.Tests++
			if len(c.Failures) > 0 {
				s.Failures++
			}
			if c.Skipped != nil {
				s.Skipped++
			}
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Suites = append(doc.Suites, *s)
	}

	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString(xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := bw.WriteByte('\n'); err != nil {
		return err
	}
	return bw.Flush()
}

// junitCost estimates what each finding adds to the document: its failure
// or system-out text, XML-escaped, and the testcase and suite it opens.
func junitCost(r *Report) func(i int) int64 {
	seen := map[junitKey]bool{}
	envs := map[string]bool{}
	for _, e := range r.Environments {
		envs[e.Name] = true
		for _, k := range e.Kustomizations {
			seen[junitKey{e.Name, k}] = true
		}
	}
	return func(i int) (n int64) {
		for _, f := range unfold(r.Findings[i : i+1]) {
			n += junitCostOf(r, f, seen, envs)
		}
		return n
	}
}

// junitCostOf is what one occurrence adds, given the testcases (seen) and
// suites (envs) already opened.
func junitCostOf(r *Report, f finding.Finding, seen map[junitKey]bool, envs map[string]bool) int64 {
	name, file := f.Kustomization, ""
	if name == "" {
		name, file = cmp.Or(f.File, NoFile), f.File
	}
	var n int64
	if !envs[f.Environment] {
		envs[f.Environment] = true
		n += 90 + xmlLen(Escape(f.Environment))
	}
	if k := (junitKey{f.Environment, name}); !seen[k] {
		seen[k] = true
		n += 70 + 2*xmlLen(Escape(name)) + xmlLen(Escape(file)) + xmlLen(Escape(cmp.Or(f.Environment, r.Repository)))
	}
	if styleOf(f.Severity).failure {
		return n + 50 + 2*xmlLen(Escape(f.Rule)) + xmlLen(Escape(firstLine(f.Message))) + xmlLen(detail(f, true))
	}
	return n + 10 + xmlLen(detail(f, true))
}

// junitKey is a testcase: its environment and name.
type junitKey struct{ env, name string }

// unfold is fs with each folded finding repeated once per context, as the
// testcases of a JUnit report, each about one Kustomization, need them.
func unfold(fs []finding.Finding) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if len(f.Contexts) == 0 {
			out = append(out, f)
			continue
		}
		for _, c := range f.Contexts {
			g := f
			g.Environment, g.Kustomization, g.Object = c.Environment, c.Kustomization, c.Object
			g.Occurrences, g.Contexts = 1, nil
			out = append(out, g)
		}
	}
	return out
}

// xmlLen is the length of s as XML text.
func xmlLen(s string) int64 {
	var c counter
	_ = xml.EscapeText(&c, []byte(s))
	return int64(c)
}

type counter int64

func (c *counter) Write(p []byte) (int, error) {
	*c += counter(len(p))
	return len(p), nil
}

// detail is "file:line:col: rule: message [context]", escaped for display;
// multiline keeps the message's line breaks.
func detail(f finding.Finding, multiline bool) string {
	var b strings.Builder
	if f.File != "" {
		b.WriteString(Escape(f.File))
		if f.Line > 0 {
			b.WriteString(":" + strconv.Itoa(f.Line) + ":" + strconv.Itoa(f.Column))
		}
		b.WriteString(": ")
	}
	b.WriteString(Escape(f.Rule) + ": " + escapeText(f.Message, multiline))
	if c := context(f); c != "" {
		b.WriteString(" " + c)
	}
	return b.String()
}

// firstLine is s up to its first line break.
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return strings.TrimSuffix(first, "\r")
}

// seconds formats milliseconds as JUnit's decimal seconds.
func seconds(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)
}
