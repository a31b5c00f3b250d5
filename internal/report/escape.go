package report

// Every string an output prints that the linted repository could have
// chosen (a finding's message, file, rule, severity, environment,
// Kustomization and object; environment and repository names; a diff's
// environments, Kustomizations, objects and lines; the nodes of a dependsOn
// graph) goes through this file, and no writer escapes on its own.
//
// The threat: reports are printed in CI logs and terminals. GitHub Actions
// runs a workflow command on a line that starts with "::" once leading
// whitespace is trimmed, and, through its legacy parser, on a "##[" anywhere
// in a line; Azure Pipelines runs a "##vso[" anywhere in a line and formats
// lines that start with "##[". Terminals act on ESC, CSI, OSC 8 hyperlinks,
// BEL, backspace and carriage return, and bidi controls reorder what a
// reviewer reads. So, for display (every format but JSON and SARIF):
//
//   - Invisible and control characters are written as Go escapes, the way
//     strconv.Quote writes them: \n \r \t \a \b \f \v, \x1b for other ASCII
//     controls and DEL, \x9b for a byte that is not UTF-8, \u0085 \u202e
//     \u200b for C1 controls, Unicode format characters (bidi controls,
//     zero-width characters, BOM, soft hyphen, tags), U+2028, U+2029, other
//     default-ignorable code points, U+FFFE and U+FFFF. U+200D (zero-width
//     joiner) is kept between two emoji, so that emoji sequences stay
//     intact; all other Unicode is kept as it is.
//   - A command prefix is broken by writing its first character as a Go
//     escape: "##[" and "##vso[" anywhere become \x23#[ and \x23#vso[ ("vso"
//     in any case), and "::" at the start of a value or of a line, after
//     whitespace, becomes \x3a:. Invisible characters between the characters
//     of a prefix do not hide it (.NET may compare culture-sensitively,
//     which skips them).
//   - A backslash is written as \\ when what follows it would otherwise
//     read as an escape, so that the output decodes to exactly the input.
//
// Multi-line values (messages) keep their line breaks, LF or CRLF; each
// format then lays them out its own way (the text format indents them, the
// CI formats escape them as the platform says, Markdown writes <br>).
//
// Code shown as it is — a line of a diff of an object's YAML — is escaped
// the same way, one line at a time, but for backslashes, which stay as
// they are (escapeCode): YAML's own escapes ("\n" in a quoted string, a
// regular expression) read as they do in the file, and a line with nothing
// to escape is unchanged.
//
// JSON and SARIF keep their exact content: jsonSafe only spells the same
// characters with JSON's own \u escapes.

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Escape makes one value of repository data safe on one line of a log or
// terminal: line breaks included, every control or invisible character is
// escaped, and no CI command can start in it.
func Escape(s string) string { return escapeText(s, false) }

// escapeLines is Escape for a message whose line breaks ("\n" or "\r\n")
// the format keeps: they stay as they are, and each line is guarded as the
// start of a log line.
func escapeLines(s string) string { return escapeText(s, true) }

// unit is one rune of a value being escaped.
type unit struct {
	r       rune
	invalid bool // r is one byte that is not UTF-8
	breaks  bool // a kept line break ("\n", or the "\r" of "\r\n")
	defuse  bool // the first character of a CI command prefix
}

func decode(s string) []unit {
	us := make([]unit, 0, len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			us = append(us, unit{r: rune(s[i]), invalid: true})
		} else {
			us = append(us, unit{r: r})
		}
		i += n
	}
	return us
}

// plain reports whether s needs no escaping at all (the common case): only
// printable ASCII (and LF, when multiline), no '#' or backslash, and no
// ':' first on a line but for spaces.
func plain(s string, multiline bool) bool {
	lineStart := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\n' && multiline:
			lineStart = true
		case c < 0x20 || c >= 0x7f || c == '#' || c == '\\':
			return false
		case c == ':' && lineStart:
			return false
		case c != ' ':
			lineStart = false
		}
	}
	return true
}

func escapeText(s string, multiline bool) string { return escapeAs(s, multiline, true) }

// escapeCode is Escape for one line of code shown as it is (a diff line):
// every backslash is written as itself, so the output reads like the code
// but does not always decode back to it.
func escapeCode(s string) string { return escapeAs(s, false, false) }

// escapeAs escapes s for display; exact doubles a backslash that would
// read as the start of an escape, so that the output decodes to s.
func escapeAs(s string, multiline, exact bool) string {
	if plain(s, multiline) {
		return s
	}
	us := decode(s)
	if multiline {
		for i := range us {
			switch {
			case us[i].r == '\n' && !us[i].invalid:
				us[i].breaks = true
			case us[i].r == '\r' && !us[i].invalid && i+1 < len(us) && us[i+1].r == '\n' && !us[i+1].invalid:
				us[i].breaks = true
			}
		}
	}
	defuse(us, true)

	var b strings.Builder
	b.Grow(len(s) + 16)
	for i, u := range us {
		if exact && u.r == '\\' && !u.invalid && i+1 < len(us) && startsEscape(us, i+1) {
			b.WriteString(`\\`)
			continue
		}
		if e, ok := escapeUnit(us, i); ok {
			b.WriteString(e)
			continue
		}
		b.WriteRune(u.r)
	}
	return b.String()
}

// escapeUnit is the Go escape that unit i is written as, if any.
func escapeUnit(us []unit, i int) (string, bool) {
	u := us[i]
	switch {
	case u.invalid:
		return `\x` + hex2(byte(u.r)), true
	case u.breaks:
		return "", false
	case u.defuse:
		return `\x` + hex2(byte(u.r)), true
	case !hidden(us, i):
		return "", false
	}
	switch u.r {
	case '\a':
		return `\a`, true
	case '\b':
		return `\b`, true
	case '\f':
		return `\f`, true
	case '\n':
		return `\n`, true
	case '\r':
		return `\r`, true
	case '\t':
		return `\t`, true
	case '\v':
		return `\v`, true
	}
	switch {
	case u.r < utf8.RuneSelf:
		return `\x` + hex2(byte(u.r)), true
	case u.r <= 0xffff:
		return `\u` + hexN(u.r, 4), true
	}
	return `\U` + hexN(u.r, 8), true
}

// startsEscape reports whether what unit i is written as begins with a
// character that, after a backslash, would read as an escape.
func startsEscape(us []unit, i int) bool {
	if _, ok := escapeUnit(us, i); ok && !us[i].breaks {
		return true // every escape begins with a backslash
	}
	return !us[i].invalid && strings.ContainsRune(`\abfnrtvxuU`, us[i].r)
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}

func hexN(r rune, n int) string {
	h := strconv.FormatInt(int64(r), 16)
	return strings.Repeat("0", n-len(h)) + h
}

// hidden reports whether rune i is a control or invisible character that
// display formats escape.
func hidden(us []unit, i int) bool {
	r := us[i].r
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f: // C0, DEL, C1
		return true
	case r < 0xa0:
		return false
	case r == 0x200d: // zero-width joiner: kept inside an emoji sequence
		return !(i > 0 && emojiJoinable(us[i-1].r) && i+1 < len(us) && unicode.Is(unicode.So, us[i+1].r))
	case r == 0x2028, r == 0x2029, r == 0xfffe, r == 0xffff:
		return true
	case r >= 0x2060 && r <= 0x206f, r >= 0xfff0 && r <= 0xfff8:
		return true // format characters, and unassigned default-ignorables
	case r >= 0xe0000 && r <= 0xe0fff && !(r >= 0xe0100 && r <= 0xe01ef):
		return true // tags and unassigned default-ignorables; not variation selectors
	case r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0, r == 0x17b4, r == 0x17b5:
		return true // Hangul fillers and Khmer inherent vowels: blank
	}
	return unicode.Is(unicode.Cf, r)
}

// emojiJoinable: a rune a zero-width joiner may follow in an emoji
// sequence (a pictograph, a skin tone modifier, or the emoji presentation
// selector).
func emojiJoinable(r rune) bool {
	return unicode.Is(unicode.So, r) || (r >= 0x1f3fb && r <= 0x1f3ff) || r == 0xfe0f
}

// skippable is a character a culture-sensitive comparison may ignore
// between the characters of a command prefix.
func skippable(us []unit, i int) bool {
	u := us[i]
	if u.invalid {
		return false
	}
	return hidden(us, i) || unicode.In(u.r, unicode.Mn, unicode.Me)
}

// next is the index of the first unit at or after i that is not skippable,
// or len(us).
func next(us []unit, i int) int {
	for i < len(us) && skippable(us, i) {
		i++
	}
	return i
}

func is(us []unit, i int, r rune) bool {
	return i < len(us) && !us[i].invalid && us[i].r == r
}

func isFold(us []unit, i int, lower rune) bool {
	return i < len(us) && !us[i].invalid && unicode.ToLower(us[i].r) == lower
}

// defuse marks the first character of every CI command prefix: "##[" and
// "##vso[" anywhere, and, with lineStarts, "::" where a line starts (the
// value's start and after a kept line break), after whitespace.
func defuse(us []unit, lineStarts bool) {
	if lineStarts {
		for i := 0; i <= len(us); i++ {
			if i > 0 && !us[i-1].breaks {
				continue
			}
			j := i
			for j < len(us) && (skippable(us, j) || (!us[j].invalid && unicode.IsSpace(us[j].r))) && !us[j].breaks {
				j++
			}
			if is(us, j, ':') && is(us, next(us, j+1), ':') {
				us[j].defuse = true
			}
		}
	}
	for i := range us {
		if !is(us, i, '#') {
			continue
		}
		j := next(us, i+1)
		if !is(us, j, '#') {
			continue
		}
		k := next(us, j+1)
		if is(us, k, '[') {
			us[i].defuse = true
			continue
		}
		if isFold(us, k, 'v') {
			k = next(us, k+1)
			if isFold(us, k, 's') {
				k = next(us, k+1)
				if isFold(us, k, 'o') && is(us, next(us, k+1), '[') {
					us[i].defuse = true
				}
			}
		}
	}
}

// jsonSafe spells, in JSON text, every character display formats escape
// and the first '#' of every "##[" and "##vso[" with JSON's own \u escapes:
// the document decodes to exactly the same values, and printing it in a
// CI log or a terminal runs no command and moves no cursor. Those
// characters only ever occur inside JSON strings, where any character may
// be a \u escape.
func jsonSafe(b []byte) []byte {
	needs := false
	for _, c := range b {
		if c >= 0x7f || c == '#' {
			needs = true
			break
		}
	}
	if !needs {
		return b
	}
	us := decode(string(b))
	defuse(us, false)
	out := make([]byte, 0, len(b)+64)
	for i, u := range us {
		switch {
		case u.invalid: // never written by encoding/json
			out = append(out, byte(u.r))
		case u.defuse || (u.r >= 0x7f && hidden(us, i)):
			if r1, r2 := utf16.EncodeRune(u.r); r1 != utf8.RuneError {
				out = append(out, `\u`+hexN(r1, 4)+`\u`+hexN(r2, 4)...)
			} else {
				out = append(out, `\u`+hexN(u.r, 4)...)
			}
		default:
			out = utf8.AppendRune(out, u.r)
		}
	}
	return out
}

// GitHub's workflow commands, as the Actions runner unescapes them:
// "::name prop=value,prop=value::message". The message escapes '%', CR
// and LF; property values also ':' and ',' (which end the property list
// and a property). The runner replaces %25 last, so "%0A" in a value
// survives as itself.
var (
	githubDataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	githubPropertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// GitHubData escapes the message of a GitHub Actions workflow command.
func GitHubData(s string) string { return githubDataEscaper.Replace(s) }

// GitHubProperty escapes a property value of a workflow command.
func GitHubProperty(s string) string { return githubPropertyEscaper.Replace(s) }

// Azure Pipelines' escaping, as azure-pipelines-task-lib writes logging
// commands ("##vso[area.event prop=value;prop=value]message"): '%' becomes
// %AZP25 (the agent's own escape for it, replaced last), CR and LF become
// %0D and %0A; property values additionally escape ';' and ']', which end
// a property and the property list.
var (
	azureDataEscaper     = strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A")
	azurePropertyEscaper = strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A", ";", "%3B", "]", "%5D")
)

// AzureData escapes the message of an Azure Pipelines logging command.
func AzureData(s string) string { return azureDataEscaper.Replace(s) }

// AzureProperty escapes a property value of a logging command.
func AzureProperty(s string) string { return azurePropertyEscaper.Replace(s) }

// mdEscape makes s safe in one Markdown table cell. As text: no HTML, no
// column break, backslashes kept literal, line breaks as <br>. As inline
// code (code): backquotes become ', '|' stays inside the cell, and line
// breaks are escaped like every other control character.
func mdEscape(s string, code bool) string {
	if code {
		s = Escape(s)
	} else {
		s = escapeLines(strings.TrimRight(s, "\r\n"))
	}
	var b strings.Builder
	if code {
		b.WriteByte('`')
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '|':
			b.WriteString(`\|`)
		case code && c == '`':
			b.WriteByte('\'')
		case code:
			b.WriteByte(c)
		case c == '&':
			b.WriteString("&amp;")
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\r': // only ever the CR of a CRLF line break
		case c == '\n':
			b.WriteString("<br>")
		default:
			b.WriteByte(c)
		}
	}
	if code {
		b.WriteByte('`')
	}
	return b.String()
}
