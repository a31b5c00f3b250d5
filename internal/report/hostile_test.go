package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// hostilePayload is what an attacker writes into a manifest: CI commands
// on their own lines (also after whitespace, which the GitHub runner trims,
// and mid-line, where Azure and the runner's legacy parser still look),
// terminal escapes (SGR, an OSC 8 hyperlink, BEL, backspace, CR, a C1 CSI),
// bidi and zero-width characters, and NUL.
const hostilePayload = "\n::error::pwned\n##vso[task.setvariable variable=x]y\r\x1b[31mred\x1b]8;;http://evil\x07link\x1b]8;;\x07" +
	"\u202eevil\x00\x07\b\n  ::add-mask::secret\n\u00a0\u3000::stop-commands::tok\n##[error]fake ##vso[task.complete result=Succeeded]ok" +
	" \u0085::set-output name=a::b\u2028::x \u200b::y #\u200b#[warning]w \u2066\u2069\u200e\u200f\ufeff\x7f\u009b31m"

// hostileStarts are what each hostile value starts with: a command at the
// very start of the value (a file name is a line of its own in the text
// report), after spaces, after a no-break space.
var hostileStarts = []string{"::error file=x::owned", "  ::warning::w", "\u00a0::notice::n", "##vso[task.complete result=Succeeded]", "##[group]g"}

func hostile(i int) string { return hostileStarts[i%len(hostileStarts)] + hostilePayload }

// hostileReport has one finding whose every repository-supplied field is
// hostile, one with a hostile severity and a message that is not UTF-8,
// one ordinary finding, and hostile environment, Kustomization and
// repository names.
func hostileReport() *Report {
	fs := []finding.Finding{
		{Rule: hostile(0), Severity: finding.Error, Message: hostile(1), File: hostile(2), Line: 3, Column: 4,
			Environment: hostile(3), Kustomization: hostile(4),
			Object: &finding.Object{APIVersion: hostile(0), Kind: hostile(1), Namespace: hostile(2), Name: hostile(3)}},
		{Rule: hostile(1), Severity: finding.Severity(hostile(4)), Message: "not UTF-8: \xff\xc2\x9b[31m\xe2\x80" + hostile(0),
			File: hostile(3), Environment: "dev"},
		{Rule: hostile(2), Severity: finding.Warning, Message: hostile(3), File: hostile(4), Line: 1, Column: 1,
			Kustomization: hostile(0)},
		{Rule: "yaml/syntax", Severity: finding.Info, File: "ok.yaml", Line: 1, Column: 1, Message: "ordinary"},
	}
	s := finding.Summary{Environments: 2, Kustomizations: 3, Objects: 4}
	s.Count(fs)
	return &Report{
		Tool: Tool{Name: "gitops-lint", Version: "v0.0.0-test"}, Summary: s, Findings: fs,
		Environments: []Environment{{Name: hostile(1), Kustomizations: []string{hostile(2), "flux-system/apps"}}, {Name: "dev"}},
		Repository:   hostile(3),
		Failed:       true,
	}
}

// allowed says whether a line that starts a CI command (after leading
// whitespace) is one gitops-lint writes itself.
type allowed func(line string) bool

func none(string) bool { return false }

// checkDisplay asserts what every display format guarantees: no control
// byte but LF and TAB (none of ESC but the SGR colours when colour is on),
// no C1 control, no bidi, format or line separator character, no "##[" or
// "##vso[" anywhere and no "::" first on a line (after whitespace) unless
// gitops-lint wrote that command itself.
func checkDisplay(t *testing.T, out string, color bool, own allowed) {
	t.Helper()
	if color {
		for _, sgr := range []string{ansiReset, ansiBold, ansiDim, ansiUnderline, ansiRed, ansiGreen, ansiYellow, ansiBlue, ansiCyan} {
			out = strings.ReplaceAll(out, sgr, "")
		}
	}
	for i := 0; i < len(out); i++ {
		if c := out[i]; (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			t.Errorf("control byte %#x at %d: %q", c, i, around(out, i))
		}
	}
	for i, r := range out {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(out[i:]); n == 1 {
				t.Errorf("byte that is not UTF-8 at %d: %q", i, around(out, i))
				continue
			}
		}
		if (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 || unicode.Is(unicode.Cf, r) {
			t.Errorf("invisible or control character %U at %d: %q", r, i, around(out, i))
		}
	}
	for _, line := range strings.Split(out, "\n") {
		checkLine(t, line, own)
	}
}

// checkLine checks one line as the GitHub runner and Azure agent read it.
func checkLine(t *testing.T, line string, own allowed) {
	t.Helper()
	if own(line) {
		if strings.Count(strings.ToLower(line), "##vso[") > 1 || strings.Contains(line, "##[") {
			t.Errorf("command carries a second one: %q", line)
		}
		return
	}
	if trimmed := strings.TrimLeftFunc(line, unicode.IsSpace); strings.HasPrefix(trimmed, "::") {
		t.Errorf("line starts a GitHub workflow command: %q", line)
	}
	if strings.Contains(line, "##[") {
		t.Errorf("line holds a legacy runner command or Azure format tag: %q", line)
	}
	if strings.Contains(strings.ToLower(line), "##vso[") {
		t.Errorf("line holds an Azure logging command: %q", line)
	}
}

func around(s string, i int) string {
	return s[max(0, i-20):min(len(s), i+20)]
}

// githubCommandLine parses a line as the Actions runner does (TryParseV2)
// and reports the command name, properties and message.
func githubCommandLine(line string) (name string, props map[string]string, data string, ok bool) {
	msg := strings.TrimLeftFunc(line, unicode.IsSpace)
	if !strings.HasPrefix(msg, "::") {
		return "", nil, "", false
	}
	end := strings.Index(msg[2:], "::")
	if end < 0 {
		return "", nil, "", false
	}
	info := msg[2 : 2+end]
	name, rest, _ := strings.Cut(info, " ")
	props = map[string]string{}
	for _, p := range strings.Split(strings.TrimSpace(rest), ",") {
		if k, v, ok := strings.Cut(p, "="); ok {
			props[k] = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(v)
		}
	}
	data = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(msg[2+end+2:])
	return name, props, data, true
}

// azureCommandLine parses a line as the Azure agent does (Command.TryParse,
// with DecodePercents).
func azureCommandLine(line string) (name string, props map[string]string, data string, ok bool) {
	i := strings.Index(line, "##vso[")
	if i < 0 {
		return "", nil, "", false
	}
	rb := strings.IndexByte(line[i:], ']')
	if rb < 0 {
		return "", nil, "", false
	}
	info := line[i+6 : i+rb]
	name, rest, _ := strings.Cut(info, " ")
	unescape := strings.NewReplacer("%3B", ";", "%0D", "\r", "%0A", "\n", "%5D", "]")
	props = map[string]string{}
	for _, p := range strings.Split(rest, ";") {
		if k, v, ok := strings.Cut(p, "="); ok {
			props[k] = strings.ReplaceAll(unescape.Replace(v), "%AZP25", "%")
		}
	}
	data = strings.ReplaceAll(unescape.Replace(line[i+rb+1:]), "%AZP25", "%")
	return name, props, data, true
}

// checkUnescaped checks a value a CI platform decodes from a command: it
// is shown as an annotation, so it must hold no control character but line
// breaks, and no command of its own.
func checkUnescaped(t *testing.T, what, s string) {
	t.Helper()
	checkDisplay(t, strings.ReplaceAll(s, "\r\n", "\n"), false, none)
	if strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\r") {
		t.Errorf("%s: a lone CR: %q", what, s)
	}
}

// TestHostileDisplay renders the hostile findings in every display format
// and checks what CI logs and terminals would act on.
func TestHostileDisplay(t *testing.T) {
	r := hostileReport()
	t.Run("text", func(t *testing.T) {
		checkDisplay(t, string(write(t, "text", r)), false, none)
	})
	t.Run("text-color", func(t *testing.T) {
		checkDisplay(t, string(write(t, "text", r, WithColor(true))), true, none)
	})
	t.Run("markdown", func(t *testing.T) {
		checkDisplay(t, string(write(t, "markdown", r)), false, none)
	})
	t.Run("github", func(t *testing.T) {
		summary := filepath.Join(t.TempDir(), "summary.md")
		out := string(write(t, "github", r, WithStepSummary(summary)))
		commands := 0
		own := func(line string) bool {
			if !strings.HasPrefix(line, "::") {
				return false
			}
			name, props, data, ok := githubCommandLine(line)
			if !ok || (name != "error" && name != "warning" && name != "notice") {
				t.Errorf("unexpected command %q: %q", name, line)
				return false
			}
			commands++
			for k, v := range props {
				if k != "file" && k != "line" && k != "col" && k != "title" {
					t.Errorf("unexpected property %q in %q", k, line)
				}
				checkUnescaped(t, "property "+k, v)
			}
			checkUnescaped(t, "message", data)
			return true
		}
		checkDisplay(t, out, false, own)
		if commands != len(r.Findings) {
			t.Errorf("%d commands for %d findings:\n%s", commands, len(r.Findings), out)
		}
		md, err := os.ReadFile(summary)
		if err != nil {
			t.Fatal(err)
		}
		checkDisplay(t, string(md), false, none)
	})
	t.Run("azure", func(t *testing.T) {
		out := string(write(t, "azure", r))
		var issues, complete int
		own := func(line string) bool {
			if !strings.HasPrefix(line, "##vso[") {
				return false
			}
			name, props, data, ok := azureCommandLine(line)
			switch {
			case ok && name == "task.logissue":
				issues++
			case ok && name == "task.complete" && props["result"] == "Failed":
				complete++
			default:
				t.Errorf("unexpected command %q: %q", name, line)
				return false
			}
			for k, v := range props {
				checkUnescaped(t, "property "+k, v)
			}
			checkUnescaped(t, "message", data)
			return true
		}
		checkDisplay(t, out, false, own)
		var want int
		for _, f := range r.Findings {
			if f.Severity == finding.Error || f.Severity == finding.Warning {
				want++
			}
		}
		if issues != want || complete != 1 {
			t.Errorf("%d task.logissue and %d task.complete, want %d and 1:\n%s", issues, complete, want, out)
		}
	})
	t.Run("junit", func(t *testing.T) {
		out := write(t, "junit", r)
		checkDisplay(t, string(out), false, none)
		var doc struct{}
		if err := xml.Unmarshal(out, &doc); err != nil {
			t.Fatalf("junit does not parse: %v", err)
		}
		// What a test reporter decodes and shows must be as safe.
		dec := xml.NewDecoder(bytes.NewReader(out))
		var texts int
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("junit does not parse: %v", err)
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				for _, a := range tok.Attr {
					checkUnescaped(t, tok.Name.Local+"@"+a.Name.Local, a.Value)
					texts++
				}
			case xml.CharData:
				checkUnescaped(t, "text", string(tok))
				texts++
			}
		}
		if texts == 0 {
			t.Error("no text decoded")
		}
	})
}

// TestHostileJSON: JSON and SARIF keep the exact strings (encoding/json
// escapes controls itself), yet the bytes printed hold no command, no C1
// or bidi character and no control byte.
func TestHostileJSON(t *testing.T) {
	r := hostileReport()
	want := r.Findings[0]
	t.Run("json", func(t *testing.T) {
		out := write(t, "json", r)
		checkDisplay(t, string(out), false, none)
		var doc struct {
			Findings []finding.Finding `json:"findings"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		got := doc.Findings[0]
		if got.Object == nil || *got.Object != *want.Object {
			t.Errorf("object = %+v, want %+v", got.Object, want.Object)
		}
		got.Object, want.Object = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("finding does not round-trip:\n got %#v\nwant %#v", got, want)
		}
		if doc.Findings[1].Severity != r.Findings[1].Severity || doc.Findings[1].Rule != r.Findings[1].Rule {
			t.Errorf("severity and rule do not round-trip")
		}
	})
	t.Run("sarif", func(t *testing.T) {
		out := write(t, "sarif", r)
		checkDisplay(t, string(out), false, none)
		run := decodeSARIF(t, out).Runs[0]
		res := run.Results[0]
		if res.RuleID != want.Rule || res.Message.Text != r.Findings[0].Message ||
			res.Properties.Environment != want.Environment || res.Properties.Kustomization != want.Kustomization ||
			res.Properties.Object != *r.Findings[0].Object || run.Tool.Driver.Rules[res.RuleIndex].ID != want.Rule {
			t.Errorf("result does not round-trip: %+v", res)
		}
	})
}
