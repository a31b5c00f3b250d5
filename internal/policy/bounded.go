package policy

import (
	"errors"
	"fmt"
	"math/big"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/builtins"
	"github.com/open-policy-agent/opa/v1/types"
)

// Caps of OPA builtins whose output is not bounded by the size of their
// input (a count, a CIDR prefix, a format width, a shift, a shared value
// rendered in full). A builtin call over a cap fails with a builtin error
// ("eval_builtin_error: numbers.range: ...") before it allocates, which the
// run reports as a policy/error finding. The caps are far above what a
// real policy needs and keep one call within a few hundred MiB.
const (
	// MaxBuiltinElements caps the elements of an array, set or object a
	// builtin returns.
	MaxBuiltinElements = 1_000_000
	// MaxBuiltinStringBytes caps the string a builtin returns.
	MaxBuiltinStringBytes = 16 << 20
	// MaxBuiltinNumberDigits caps the decimal digits (exponent included) of
	// a number a builtin computes on or returns.
	MaxBuiltinNumberDigits = 10_000
	// MaxBuiltinPairs caps the pairs net.cidr_contains_matches compares.
	MaxBuiltinPairs = 10_000_000
)

// CappedBuiltin is an OPA builtin gitops-lint bounds, with its cap.
type CappedBuiltin struct {
	Name string
	Cap  string
}

const (
	capElements = "at most 1,000,000 elements"
	capString   = "output of at most 16 MiB"
	capDigits   = "numbers of at most 10,000 digits"
)

// CappedBuiltins lists the builtins checked before they run. Besides
// them, every builtin that returns a string, number or collection has its
// result checked against MaxBuiltinStringBytes, MaxBuiltinNumberDigits and
// MaxBuiltinElements, so that chaining calls (array.concat(a, a), ...)
// cannot grow a value without bound either.
var CappedBuiltins = []CappedBuiltin{
	{"numbers.range", capElements},
	{"numbers.range_step", capElements},
	{"net.cidr_expand", capElements},
	{"net.cidr_contains_matches", "at most 10,000,000 pairs compared"},
	{"array.flatten", capElements},
	{"split", capElements},
	{"strings.split_n", capElements},
	{"regex.split", capElements},
	{"regex.find_n", capElements},
	{"regex.find_all_string_submatch_n", capElements},
	{"indexof_n", capElements},
	{"sprintf", capString + " (widths and precisions included)"},
	{"concat", capString},
	{"replace", capString},
	{"strings.replace_n", capString},
	{"regex.replace", capString},
	{"json.marshal", capString},
	{"json.marshal_with_options", capString + " (indentation included)"},
	{"yaml.marshal", capString + " (indentation included)"},
	{"urlquery.encode_object", capString},
	{"internal.template_string", capString + " (Rego template strings)"},
	{"bits.lsh", capDigits},
	{"plus", capDigits}, {"minus", capDigits}, {"mul", capDigits}, {"div", capDigits}, {"rem", capDigits},
	{"abs", capDigits}, {"round", capDigits}, {"ceil", capDigits}, {"floor", capDigits},
	{"bits.or", capDigits}, {"bits.and", capDigits}, {"bits.negate", capDigits}, {"bits.xor", capDigits}, {"bits.rsh", capDigits},
	{"format_int", capDigits},
	{"sum", capDigits},
	{"product", capDigits + " (the product's digits)"},
	{"units.parse", "a quantity of at most 10,000 characters"},
	{"units.parse_bytes", "a quantity of at most 10,000 characters"},
}

// capError is a refused builtin call; OPA prefixes it with the builtin's
// name.
type capError struct{ msg string }

func (e *capError) Error() string { return e.msg }

func tooMany(what string, n *big.Int, limit int64) error {
	return &capError{fmt.Sprintf("the result would have %s %s, more than the %d gitops-lint allows", n, what, limit)}
}

func tooLong(estimate int64) error {
	return &capError{fmt.Sprintf("the result would be about %d bytes, more than the %d gitops-lint allows", estimate, int64(MaxBuiltinStringBytes))}
}

func tooBig(digits int64) error {
	return &capError{fmt.Sprintf("a number of %d digits is more than the %d gitops-lint allows", digits, MaxBuiltinNumberDigits)}
}

// preCheck refuses a call before the builtin runs. It returns nil when the
// operands are not what it expects: the builtin then reports its own error.
// ops are the call's arguments, then its output when the call has one
// (count(x, n)).
type preCheck func(ops []*ast.Term) error

var preChecks = map[string]preCheck{
	"numbers.range":                    checkRange(false),
	"numbers.range_step":               checkRange(true),
	"net.cidr_expand":                  checkCIDRExpand,
	"net.cidr_contains_matches":        checkCIDRMatches,
	"array.flatten":                    checkFlatten,
	"split":                            checkParts,
	"strings.split_n":                  checkParts,
	"indexof_n":                        checkParts,
	"regex.split":                      checkRegexMatches(0, 0),
	"regex.find_n":                     checkRegexMatches(1, 0),
	"regex.find_all_string_submatch_n": checkRegexMatches(1, 1),
	"sprintf":                          checkSprintf,
	"concat":                           checkConcat,
	"replace":                          checkReplace,
	"strings.replace_n":                checkReplaceN,
	"regex.replace":                    checkRegexReplace,
	"json.marshal":                     checkMarshal(0),
	"json.marshal_with_options":        checkMarshal(1),
	"yaml.marshal":                     checkMarshal(2),
	"urlquery.encode_object":           checkRendered(3),
	"internal.template_string":         checkRendered(2),
	"bits.lsh":                         checkShift,
	"plus":                             checkNumbers,
	"minus":                            checkNumbers,
	"mul":                              checkNumbers,
	"div":                              checkNumbers,
	"rem":                              checkNumbers,
	"abs":                              checkNumbers,
	"round":                            checkNumbers,
	"ceil":                             checkNumbers,
	"floor":                            checkNumbers,
	"bits.or":                          checkNumbers,
	"bits.and":                         checkNumbers,
	"bits.negate":                      checkNumbers,
	"bits.xor":                         checkNumbers,
	"bits.rsh":                         checkNumbers,
	"format_int":                       checkNumbers,
	"sum":                              checkSum,
	"product":                          checkProduct,
	"units.parse":                      checkQuantity,
	"units.parse_bytes":                checkQuantity,
}

// OPA's builtin registry is global: the bounded versions replace OPA's own
// for the whole process, before any policy is compiled or evaluated.
// (rego.Function cannot replace a standard builtin: OPA looks its own up
// first.)
func init() {
	for _, b := range ast.Builtins {
		orig := topdown.GetBuiltin(b.Name)
		if orig == nil {
			continue
		}
		pre := preChecks[b.Name]
		post := returnsValue(b)
		if pre == nil && !post {
			continue
		}
		topdown.RegisterBuiltinFunc(b.Name, boundedBuiltin(orig, pre, post))
	}
}

// returnsValue reports whether b's result can be large: anything but a
// boolean (comparisons, membership, predicates), and none of the
// evaluator's internals.
func returnsValue(b *ast.Builtin) bool {
	if b.Decl == nil || strings.HasPrefix(b.Name, "internal.") && b.Name != "internal.template_string" {
		return false
	}
	r := b.Decl.Result()
	return r != nil && types.Compare(r, types.B) != 0
}

func boundedBuiltin(orig topdown.BuiltinFunc, pre preCheck, post bool) topdown.BuiltinFunc {
	return func(bctx topdown.BuiltinContext, ops []*ast.Term, iter func(*ast.Term) error) error {
		if pre != nil {
			if err := pre(ops); err != nil {
				return err
			}
		}
		if !post {
			return orig(bctx, ops, iter)
		}
		return orig(bctx, ops, func(t *ast.Term) error {
			if err := checkResult(t.Value); err != nil {
				return err
			}
			return iter(t)
		})
	}
}

// checkResult bounds what any builtin returns.
func checkResult(v ast.Value) error {
	switch x := v.(type) {
	case ast.String:
		if len(x) > MaxBuiltinStringBytes {
			return tooLong(int64(len(x)))
		}
	case ast.Number:
		if d := digits(x); d > MaxBuiltinNumberDigits {
			return tooBig(d)
		}
	case *ast.Array:
		if x.Len() > MaxBuiltinElements {
			return tooMany("elements", big.NewInt(int64(x.Len())), MaxBuiltinElements)
		}
	case ast.Set:
		if x.Len() > MaxBuiltinElements {
			return tooMany("elements", big.NewInt(int64(x.Len())), MaxBuiltinElements)
		}
	case ast.Object:
		if x.Len() > MaxBuiltinElements {
			return tooMany("elements", big.NewInt(int64(x.Len())), MaxBuiltinElements)
		}
	}
	return nil
}

// digits is the size of a number written out in decimal: its mantissa's
// digits plus the magnitude of its exponent (1e999999 has a million).
func digits(n ast.Number) int64 {
	s := strings.TrimLeft(string(n), "+-")
	mant, exp, ok := strings.Cut(strings.ToLower(s), "e")
	d := int64(len(mant))
	if ok {
		e, err := strconv.ParseInt(strings.TrimLeft(exp, "+-"), 10, 64)
		if err != nil || e > 1<<40 {
			return 1 << 40
		}
		d += e
	}
	return d
}

func checkNumbers(ops []*ast.Term) error {
	for _, op := range ops {
		if n, ok := op.Value.(ast.Number); ok {
			if d := digits(n); d > MaxBuiltinNumberDigits {
				return tooBig(d)
			}
		}
	}
	return nil
}

func eachElem(v ast.Value, fn func(*ast.Term)) {
	switch x := v.(type) {
	case *ast.Array:
		for i := range x.Len() {
			fn(x.Elem(i))
		}
	case ast.Set:
		x.Foreach(fn)
	}
}

func checkSum(ops []*ast.Term) error {
	var err error
	eachElem(ops[0].Value, func(t *ast.Term) {
		if n, ok := t.Value.(ast.Number); ok && err == nil {
			if d := digits(n); d > MaxBuiltinNumberDigits {
				err = tooBig(d)
			}
		}
	})
	return err
}

// checkProduct bounds the product's digits by the sum of its factors'.
func checkProduct(ops []*ast.Term) error {
	var total int64
	eachElem(ops[0].Value, func(t *ast.Term) {
		if n, ok := t.Value.(ast.Number); ok {
			total += digits(n)
		}
	})
	if total > MaxBuiltinNumberDigits {
		return tooBig(total)
	}
	return nil
}

func checkQuantity(ops []*ast.Term) error {
	if s, ok := ops[0].Value.(ast.String); ok && len(s) > MaxBuiltinNumberDigits {
		return tooBig(int64(len(s)))
	}
	return nil
}

// maxBits is the bit length of the largest number of MaxBuiltinNumberDigits
// digits.
const maxBits = MaxBuiltinNumberDigits * 3322 / 1000

// intOperands refuses ops with a number of too many digits (err), then
// reads ops[0] and ops[1] as integers: ok is false when one is not (the
// builtin then reports its own error).
func intOperands(ops []*ast.Term) (x, y *big.Int, ok bool, err error) {
	if err := checkNumbers(ops); err != nil {
		return nil, nil, false, err
	}
	x, errX := builtins.BigIntOperand(ops[0].Value, 1)
	if errX != nil {
		return nil, nil, false, nil
	}
	y, errY := builtins.BigIntOperand(ops[1].Value, 2)
	return x, y, errY == nil, nil
}

func checkShift(ops []*ast.Term) error {
	x, s, ok, err := intOperands(ops)
	if !ok || s.Sign() < 0 {
		return err
	}
	if !s.IsInt64() || int64(x.BitLen())+s.Int64() > maxBits {
		bits := new(big.Int).Add(s, big.NewInt(int64(x.BitLen())))
		return &capError{fmt.Sprintf("the result would have %s bits, more than the %d gitops-lint allows", bits, maxBits)}
	}
	return nil
}

// checkRange bounds numbers.range(a, b) and numbers.range_step(a, b, step)
// to |b-a|/step+1 elements.
func checkRange(stepped bool) preCheck {
	return func(ops []*ast.Term) error {
		return rangeSize(ops, stepped)
	}
}

func rangeSize(ops []*ast.Term, stepped bool) error {
	x, y, ok, err := intOperands(ops)
	if !ok {
		return err
	}
	n := new(big.Int).Sub(y, x)
	n.Abs(n)
	if stepped {
		step, err := builtins.BigIntOperand(ops[2].Value, 3)
		if err != nil || step.Sign() <= 0 {
			return nil
		}
		n.Quo(n, step)
	}
	n.Add(n, big.NewInt(1))
	if n.Cmp(big.NewInt(MaxBuiltinElements)) > 0 {
		return tooMany("elements", n, MaxBuiltinElements)
	}
	return nil
}

func checkCIDRExpand(ops []*ast.Term) error {
	s, ok := ops[0].Value.(ast.String)
	if !ok {
		return nil
	}
	_, ipNet, err := net.ParseCIDR(string(s))
	if err != nil {
		return nil
	}
	ones, bits := ipNet.Mask.Size()
	host := bits - ones
	if host >= 62 || int64(1)<<host > MaxBuiltinElements {
		return tooMany("addresses", new(big.Int).Lsh(big.NewInt(1), uint(host)), MaxBuiltinElements)
	}
	return nil
}

func collectionLen(v ast.Value) int64 {
	switch x := v.(type) {
	case *ast.Array:
		return int64(x.Len())
	case ast.Set:
		return int64(x.Len())
	case ast.Object:
		return int64(x.Len())
	}
	return 1
}

func checkCIDRMatches(ops []*ast.Term) error {
	n := collectionLen(ops[0].Value) * collectionLen(ops[1].Value)
	if n > MaxBuiltinPairs {
		return &capError{fmt.Sprintf("it would compare %d pairs, more than the %d gitops-lint allows", n, int64(MaxBuiltinPairs))}
	}
	return nil
}

func checkFlatten(ops []*ast.Term) error {
	a, ok := ops[0].Value.(*ast.Array)
	if !ok {
		return nil
	}
	var n int64
	for i := range a.Len() {
		if inner, ok := a.Elem(i).Value.(*ast.Array); ok {
			n += int64(inner.Len())
		} else {
			n++
		}
	}
	if n > MaxBuiltinElements {
		return tooMany("elements", big.NewInt(n), MaxBuiltinElements)
	}
	return nil
}

// parts is how many pieces splitting s on sep gives.
func parts(s, sep string) int64 {
	if sep == "" {
		return int64(utf8.RuneCountInString(s))
	}
	return int64(strings.Count(s, sep)) + 1
}

// checkParts bounds the pieces of string ops[0] split on ops[1] (split,
// strings.split_n), which also bound the places ops[1] stands in it
// (indexof_n).
func checkParts(ops []*ast.Term) error {
	s, ok1 := ops[0].Value.(ast.String)
	sep, ok2 := ops[1].Value.(ast.String)
	if !ok1 || !ok2 || int64(len(s)) < MaxBuiltinElements {
		return nil
	}
	if n := parts(string(s), string(sep)); n > MaxBuiltinElements {
		return tooMany("elements", big.NewInt(n), MaxBuiltinElements)
	}
	return nil
}

// checkRegexMatches bounds the matches (times the groups, when groups is
// 1) of pattern ops[0] in string ops[1], at most ops[2] when that is a
// limit (regex.find_n and regex.find_all_string_submatch_n; -1: all).
func checkRegexMatches(withN, groups int) preCheck {
	return func(ops []*ast.Term) error {
		p, ok1 := ops[0].Value.(ast.String)
		s, ok2 := ops[1].Value.(ast.String)
		if !ok1 || !ok2 {
			return nil
		}
		re, err := regexp.Compile(string(p))
		if err != nil {
			return nil
		}
		per := int64(1)
		if groups == 1 {
			per = int64(re.NumSubexp()) + 1
		}
		if withN == 1 {
			if n, ok := ops[2].Value.(ast.Number); ok {
				if i, ok := n.Int64(); ok && i >= 0 && i*per <= MaxBuiltinElements {
					return nil
				}
			}
		}
		if (int64(len(s))+1)*per <= MaxBuiltinElements {
			return nil
		}
		if n := countMatches(re, string(s)) * per; n > MaxBuiltinElements {
			return tooMany("elements", big.NewInt(n), MaxBuiltinElements)
		}
		return nil
	}
}

// countMatches counts the matches of re in s without keeping them.
func countMatches(re *regexp.Regexp, s string) int64 {
	if lit, complete := re.LiteralPrefix(); complete {
		return int64(strings.Count(s, lit)) // "" matches at every rune boundary
	}
	var n int64
	re.ReplaceAllStringFunc(s, func(string) string { n++; return "" })
	return n
}

func checkConcat(ops []*ast.Term) error {
	sep, ok := ops[0].Value.(ast.String)
	if !ok {
		return nil
	}
	var total int64
	eachElem(ops[1].Value, func(t *ast.Term) {
		if s, ok := t.Value.(ast.String); ok {
			total += int64(len(s)) + int64(len(sep))
		}
	})
	if total > MaxBuiltinStringBytes {
		return tooLong(total)
	}
	return nil
}

func checkReplace(ops []*ast.Term) error {
	s, ok1 := ops[0].Value.(ast.String)
	old, ok2 := ops[1].Value.(ast.String)
	repl, ok3 := ops[2].Value.(ast.String)
	if !ok1 || !ok2 || !ok3 || len(repl) <= len(old) {
		return nil
	}
	n := int64(strings.Count(string(s), string(old)))
	if est := int64(len(s)) + n*int64(len(repl)-len(old)); est > MaxBuiltinStringBytes {
		return tooLong(est)
	}
	return nil
}

// limitWriter counts bytes and fails past the cap.
type limitWriter struct{ n int64 }

var errLimit = errors.New("limit")

func (w *limitWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if w.n > MaxBuiltinStringBytes {
		return 0, errLimit
	}
	return len(p), nil
}

func (w *limitWriter) WriteString(s string) (int, error) {
	w.n += int64(len(s))
	if w.n > MaxBuiltinStringBytes {
		return 0, errLimit
	}
	return len(s), nil
}

// checkReplaceN replays strings.replace_n's replacement (its pairs in key
// order, as OPA builds them) into a counter that stops at the cap.
func checkReplaceN(ops []*ast.Term) error {
	patterns, ok1 := ops[0].Value.(ast.Object)
	s, ok2 := ops[1].Value.(ast.String)
	if !ok1 || !ok2 {
		return nil
	}
	var keys []string
	maxNew := 0
	pairs := map[string]string{}
	for _, k := range patterns.Keys() {
		ks, ok := k.Value.(ast.String)
		vs, ok2 := patterns.Get(k).Value.(ast.String)
		if !ok || !ok2 {
			return nil
		}
		keys = append(keys, string(ks))
		pairs[string(ks)] = string(vs)
		maxNew = max(maxNew, len(vs))
	}
	if int64(len(s))+(int64(len(s))+1)*int64(maxNew) <= MaxBuiltinStringBytes {
		return nil
	}
	sort.Strings(keys)
	oldnew := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		oldnew = append(oldnew, k, pairs[k])
	}
	w := &limitWriter{}
	if _, err := strings.NewReplacer(oldnew...).WriteString(w, string(s)); errors.Is(err, errLimit) {
		return tooLong(w.n)
	}
	return nil
}

// checkRegexReplace bounds regex.replace(s, pattern, value): each match
// becomes value with each $reference expanded to at most the match.
func checkRegexReplace(ops []*ast.Term) error {
	s, ok1 := ops[0].Value.(ast.String)
	p, ok2 := ops[1].Value.(ast.String)
	v, ok3 := ops[2].Value.(ast.String)
	if !ok1 || !ok2 || !ok3 {
		return nil
	}
	refs := int64(strings.Count(string(v), "$"))
	ls, lv := int64(len(s)), int64(len(v))
	if ls+(ls+1)*lv+refs*ls <= MaxBuiltinStringBytes {
		return nil
	}
	re, err := regexp.Compile(string(p))
	if err != nil {
		return nil
	}
	est := ls
	re.ReplaceAllStringFunc(string(s), func(m string) string {
		if est <= MaxBuiltinStringBytes {
			est += lv + refs*int64(len(m))
		}
		return ""
	})
	if est > MaxBuiltinStringBytes {
		return tooLong(est)
	}
	return nil
}

// fmtStats scans a Go format string: the sum of its widths and precisions
// (fmt ignores those over 1e6; * takes one from the arguments), its verbs,
// and whether it picks arguments explicitly (%[2]s), which can render one
// argument many times.
func fmtStats(f string) (pad, verbs int64, indexed bool) {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		for i < len(f) && strings.IndexByte("+-# 0", f[i]) >= 0 {
			i++
		}
		index := func() {
			if i < len(f) && f[i] == '[' {
				indexed = true
				for i < len(f) && f[i] != ']' {
					i++
				}
				i++
			}
		}
		num := func() {
			index()
			if i < len(f) && f[i] == '*' {
				pad += 1_000_000
				i++
				return
			}
			n := int64(0)
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				if n < 1_000_000 {
					n = n*10 + int64(f[i]-'0')
				}
				i++
			}
			pad += min(n, 1_000_000)
		}
		num()
		if i < len(f) && f[i] == '.' {
			i++
			num()
		}
		index()
		if i < len(f) && f[i] != '%' {
			verbs++
		}
	}
	return pad, verbs, indexed
}

func checkSprintf(ops []*ast.Term) error {
	f, ok1 := ops[0].Value.(ast.String)
	args, ok2 := ops[1].Value.(*ast.Array)
	if !ok1 || !ok2 {
		return nil
	}
	pad, verbs, indexed := fmtStats(string(f))
	est := int64(len(f)) + pad
	var largest int64
	for i := range args.Len() {
		sz := sizeOf(args.Elem(i).Value)
		if _, scalar := args.Elem(i).Value.(ast.String); !scalar {
			sz.bytes *= 2 // a composite is rendered, then maybe quoted
		}
		est += sz.bytes
		largest = max(largest, sz.bytes)
		if est > MaxBuiltinStringBytes {
			return tooLong(est)
		}
	}
	if indexed {
		est += verbs * largest
	}
	if est > MaxBuiltinStringBytes {
		return tooLong(est)
	}
	return nil
}

// checkMarshal bounds json.marshal (0), json.marshal_with_options (1),
// whose indentation repeats per nesting level on every line, and
// yaml.marshal (2), which indents every line of a block too.
func checkMarshal(kind int) preCheck {
	return func(ops []*ast.Term) error {
		sz := sizeOf(ops[0].Value)
		est := sz.bytes
		switch kind {
		case 1:
			var prefix, indent int64
			if o, ok := ops[1].Value.(ast.Object); ok {
				if s, ok := valueAt(o, "prefix").(ast.String); ok {
					prefix = int64(len(s))
				}
				if s, ok := valueAt(o, "indent").(ast.String); ok {
					indent = int64(len(s))
				}
				if indent == 0 && prefix == 0 {
					indent = 1 // "pretty": a tab
				}
			}
			est += sz.nodes * (1 + prefix + (sz.depth+1)*indent)
		case 2:
			est += sz.nodes*(2*(sz.depth+1)+4) + sz.lines*2*(sz.depth+1)
		}
		if est > MaxBuiltinStringBytes {
			return tooLong(est)
		}
		return nil
	}
}

func valueAt(o ast.Object, key string) ast.Value {
	if t := o.Get(ast.StringTerm(key)); t != nil {
		return t.Value
	}
	return nil
}

// checkRendered bounds a builtin that renders its operands in full, at
// most factor times their size.
func checkRendered(factor int64) preCheck {
	return func(ops []*ast.Term) error {
		var est int64
		for _, op := range ops {
			est += factor * sizeOf(op.Value).bytes
			if est > MaxBuiltinStringBytes {
				return tooLong(est)
			}
		}
		return nil
	}
}

// size is a value's rendering as JSON, estimated from above: OPA shares
// values (a := [b, b]), so a value of a few KiB in memory can stand for
// exabytes written out. The walk stops as soon as the estimate passes
// MaxBuiltinStringBytes, so it costs at most that many steps.
type size struct {
	bytes, nodes, lines, depth int64
}

func sizeOf(v ast.Value) size {
	var s size
	s.walk(v, 0)
	return s
}

func (s *size) walk(v ast.Value, depth int64) bool {
	if s.bytes > MaxBuiltinStringBytes {
		return false
	}
	s.nodes++
	s.depth = max(s.depth, depth)
	switch x := v.(type) {
	case ast.String:
		s.bytes += quotedLen(string(x))
		s.lines += int64(strings.Count(string(x), "\n"))
	case ast.Number:
		s.bytes += int64(len(x))
	case ast.Boolean:
		s.bytes += 5
	case ast.Null:
		s.bytes += 4
	case *ast.Array:
		s.bytes += 2
		for i := range x.Len() {
			s.bytes++
			if !s.walk(x.Elem(i).Value, depth+1) {
				return false
			}
		}
	case ast.Set:
		s.bytes += 2
		if x.Until(func(t *ast.Term) bool {
			s.bytes++
			return !s.walk(t.Value, depth+1)
		}) {
			return false
		}
	case ast.Object:
		s.bytes += 2
		if x.Until(func(k, val *ast.Term) bool {
			s.bytes += 2
			return !s.walk(k.Value, depth+1) || !s.walk(val.Value, depth+1)
		}) {
			return false
		}
	default:
		s.bytes += 16
	}
	return s.bytes <= MaxBuiltinStringBytes
}

// quotedLen bounds a string's length once quoted by JSON, YAML or %q:
// control and HTML characters take up to 6 bytes, other non-ASCII bytes up
// to 3 (6 in invalid UTF-8).
func quotedLen(s string) int64 {
	n := int64(2)
	hi := int64(3)
	if !utf8.ValidString(s) {
		hi = 6
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '<', c == '>', c == '&':
			n += 6
		case c == '"', c == '\\':
			n += 2
		case c >= 0x80:
			n += hi
		default:
			n++
		}
	}
	return n
}
