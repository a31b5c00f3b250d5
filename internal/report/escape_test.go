package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestEscape pins the escaping of display formats.
func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text: a,b;c]", "plain text: a,b;c]"},
		{"é 日本 🎉 👨‍👩‍👧 ⚠️ 🏳️‍🌈", "é 日本 🎉 👨‍👩‍👧 ⚠️ 🏳️‍🌈"},
		{"a\nb\r\nc\rd\te", `a\nb\r\nc\rd\te`},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"\x1b]8;;http://evil\x07x\x1b]8;;\x07", `\x1b]8;;http://evil\ax\x1b]8;;\a`},
		{"\x00\b\f\v\x7f", `\x00\b\f\v\x7f`},
		{"\u0085\u009b", `\u0085\u009b`},
		{"a\u202eb\u2066\u2069\u200e\u200f\u061c", `a\u202eb\u2066\u2069\u200e\u200f\u061c`},
		{"\u200b\u200c\u200d\ufeff\u00ad\u2028\u2029\u3164\ufffe", `\u200b\u200c\u200d\ufeff\u00ad\u2028\u2029\u3164\ufffe`},
		{"\U000e0041", `\U000e0041`},
		{"\xff\xc2", `\xff\xc2`},
		{"::error::x", `\x3a:error::x`},
		{"  ::error::x", `  \x3a:error::x`},
		{"\u00a0\u3000::x", "\u00a0\u3000\\x3a:x"},
		{"\t::x", `\t\x3a:x`},
		{"a ::x", "a ::x"},
		{":x::", ":x::"},
		{"##[error]x", `\x23#[error]x`},
		{"a ##[x", `a \x23#[x`},
		{"###[", `#\x23#[`},
		{"##vso[task.complete]", `\x23#vso[task.complete]`},
		{"x ##VsO[task", `x \x23#VsO[task`},
		{"#\u200b#[", `\x23\u200b#[`},
		{"#\u0301#vso[", "\\x23\u0301#vso["},
		{"# #[ ##v[ ##vso ##", "# #[ ##v[ ##vso ##"},
		{`a\b`, `a\\b`},
		{`\d+\.x`, `\d+\.x`},
		{"\\\x1b", `\\\x1b`},
		{`\`, `\`},
		{`\\`, `\\\`},
		{"\\##[", `\\\x23#[`},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	lines := []struct{ in, want string }{
		{"a\nb\r\nc", "a\nb\r\nc"},
		{"a\n::x\n  ::y\r\n##[z", "a\n\\x3a:x\n  \\x3a:y\r\n\\x23#[z"},
		{"a\rb\n\r", "a\\rb\n\\r"},
	}
	for _, tt := range lines {
		if got := escapeLines(tt.in); got != tt.want {
			t.Errorf("escapeLines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// unescape decodes Escape's output: \\ is a backslash, \a \b \f \n \r \t
// \v, \xHH, \uHHHH and \UHHHHHHHH are escapes, any other backslash is
// itself.
func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		c := s[i+1]
		if j := strings.IndexByte(`\abfnrtv`, c); j >= 0 {
			b.WriteByte("\\\a\b\f\n\r\t\v"[j])
			i++
			continue
		}
		n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
		if n == 0 {
			b.WriteByte('\\')
			continue
		}
		if i+2+n > len(s) {
			return "", errors.New("short escape")
		}
		v, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32)
		if err != nil {
			return "", err
		}
		if c == 'x' {
			b.WriteByte(byte(v))
		} else {
			b.WriteRune(rune(v))
		}
		i += 1 + n
	}
	return b.String(), nil
}

// TestEscapeProperties checks on random strings of troublesome characters
// that Escape's output decodes to exactly its input, shows no invisible or
// control character, and holds no command prefix even with ignorable
// characters skipped (as .NET's culture-sensitive comparison may).
func TestEscapeProperties(t *testing.T) {
	alphabet := []string{"#", "#", ":", ":", "[", "]", "v", "V", "s", "o", " ", "\u00a0", "\n", "\r", "\t", "\\", "x", "u", "1",
		"b", "\x1b", "\x00", "\x7f", "\u0085", "\u200b", "\u200d", "\u202e", "\u0301", "\ufe0f", "🎉", "é", "\xff", "%"}
	rng := rand.New(rand.NewSource(1))
	skip := func(r rune) bool { return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) }
	for range 20000 {
		var in strings.Builder
		for range rng.Intn(12) {
			in.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		s := in.String()
		for _, multiline := range []bool{false, true} {
			out := escapeText(s, multiline)
			if back, err := unescape(out); err != nil || back != s {
				t.Fatalf("escapeText(%q, %v) = %q, which decodes to %q (%v)", s, multiline, out, back, err)
			}
			visible := strings.Map(func(r rune) rune {
				if skip(r) {
					return -1
				}
				return r
			}, out)
			for _, line := range strings.Split(visible, "\n") {
				checkLine(t, line, none)
			}
			for i, r := range out {
				if multiline && (r == '\n' || r == '\r' && strings.HasPrefix(out[i:], "\r\n")) {
					continue
				}
				if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == utf8.RuneError || (unicode.Is(unicode.Cf, r) && r != 0x200d) {
					t.Fatalf("escapeText(%q, %v) = %q holds %U", s, multiline, out, r)
				}
			}
		}
	}
}

// TestJSONSafe: the JSON spelling changes, the values do not.
func TestJSONSafe(t *testing.T) {
	in := map[string]string{"a": "##vso[x] ##[y] #\u200b#[z] \u202e\u0085\u2028\x7f é 🎉 👨‍👩‍👧 \U000e0041"}
	var b bytes.Buffer
	if err := encodeJSON(&b, in); err != nil {
		t.Fatal(err)
	}
	want := `{
  "a": "\u0023#vso[x] \u0023#[y] \u0023\u200b#[z] \u202e\u0085\u2028\u007f é 🎉 👨‍👩‍👧 \udb40\udc41"
}
`
	if b.String() != want {
		t.Errorf("encodeJSON = %s, want %s", b.String(), want)
	}
	var back map[string]string
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["a"] != in["a"] {
		t.Errorf("round trip = %q (%v), want %q", back["a"], err, in["a"])
	}
}

// TestMarkdownEscape: one escaper for table cells, as text or as code.
func TestMarkdownEscape(t *testing.T) {
	tests := []struct {
		in   string
		code bool
		want string
	}{
		{"a <b> & c|d", false, "a &lt;b&gt; &amp; c\\|d"},
		{"l1\r\nl2\nl3\n", false, "l1<br>l2<br>l3"},
		{"l1\n::error::x", false, `l1<br>\\x3a:error::x`},
		{"\x1b[31m \\* ##vso[", false, `\\x1b[31m \\* \\x23#vso[`},
		{"a`b|c\nd", true, "`a'b\\|c\\nd`"},
		{"::x ##[y \u202e", true, "`\\x3a:x \\x23#[y \\u202e`"},
	}
	for _, tt := range tests {
		if got := mdEscape(tt.in, tt.code); got != tt.want {
			t.Errorf("mdEscape(%q, %v) = %q, want %q", tt.in, tt.code, got, tt.want)
		}
	}
}
