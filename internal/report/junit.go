package report

import (
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
	Failures  []junitFailure `xml:"failure"`
	SystemOut string         `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitWriter struct{}

// Write prints JUnit XML as CI test reporters read it (Azure DevOps
// PublishTestResults@2, GitHub test-report actions): a testsuite per
// environment, a testcase per Flux Kustomization, a <failure> per error
// finding; warnings and infos go to the testcase's system-out. Findings of
// no Kustomization get a testcase named after their file; findings of no
// environment go to a suite named after the repository.
func (junitWriter) Write(w io.Writer, r *Report) error {
	// Suites are keyed by environment; "" is the repository's suite.
	type key struct{ env, name string }
	suites := map[string]*junitSuite{}
	cases := map[key]*junitTestcase{}
	var order []string
	suite := func(env string) *junitSuite {
		s, ok := suites[env]
		if !ok {
			s = &junitSuite{Name: cmp.Or(env, r.Repository, junitRepositorySuite)}
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
			c = &junitTestcase{Name: name, Classname: s.Name, File: file}
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
	for _, f := range r.Findings {
		name, file := f.Kustomization, ""
		if name == "" {
			name, file = cmp.Or(f.File, NoFile), f.File
		}
		c := testcase(f.Environment, name, file)
		if f.Severity == finding.Error {
			c.Failures = append(c.Failures, junitFailure{
				Message: f.Rule + ": " + firstLine(f.Message),
				Type:    f.Rule,
				Body:    junitDetail(f),
			})
			continue
		}
		c.SystemOut += string(f.Severity) + ": " + junitDetail(f) + "\n"
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
	doc := junitSuites{Name: r.Tool.Name, Time: seconds(r.Summary.DurationMs)}
	for _, name := range order {
		s := suites[name]
		for _, c := range s.Cases {
			s.Tests++
			if len(c.Failures) > 0 {
				s.Failures++
			}
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Suites = append(doc.Suites, *s)
	}

	var b strings.Builder
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	b.WriteByte('\n')
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	return nil
}

// junitDetail is "file:line:col: rule: message [context]".
func junitDetail(f finding.Finding) string {
	var b strings.Builder
	if f.File != "" {
		b.WriteString(f.File)
		if f.Line > 0 {
			b.WriteString(":" + strconv.Itoa(f.Line) + ":" + strconv.Itoa(f.Column))
		}
		b.WriteString(": ")
	}
	b.WriteString(f.Rule + ": " + f.Message)
	if c := context(f); c != "" {
		b.WriteString(" " + c)
	}
	return b.String()
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// seconds formats milliseconds as JUnit's decimal seconds.
func seconds(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)
}
