package confine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Keys of the --limit flag (and of GITOPS_LINT_LIMIT). They are deliberately
// not settable in .gitops-lint.yaml: the repository being linted must not be
// able to raise the bounds that protect the machine linting it.
const (
	// LimitFileBytes bounds one file read from the repository (or a
	// directory it supplies); larger files are reported and not parsed.
	LimitFileBytes = "file-bytes"
	// LimitTotalBytes bounds all files read from the repository, the
	// platform repository and every --source, --policy, --crd-dir and
	// --rbac-dir directory together.
	LimitTotalBytes = "total-bytes"
	// LimitRenderedBytes bounds the bytes of all rendered objects.
	LimitRenderedBytes = "rendered-bytes"
	// LimitObjects bounds the number of rendered objects.
	LimitObjects = "objects"
	// LimitSubstitutionBytes bounds the output of one Kustomization's
	// postBuild substitution.
	LimitSubstitutionBytes = "substitution-bytes"
	// LimitPolicyTime bounds one evaluation of the Rego policies (one
	// object, or one environment for combined policies).
	LimitPolicyTime = "policy-time"
	// LimitReportBytes bounds one written report.
	LimitReportBytes = "report-bytes"
)

// ConfigFileBytes bounds the config file. It is not a --limit key: no real
// config comes near it.
const ConfigFileBytes = 1 << 20

// Limits are the bounds of one run.
type Limits struct {
	FileBytes         int64
	TotalBytes        int64
	RenderedBytes     int64
	Objects           int64
	SubstitutionBytes int64
	PolicyTime        time.Duration
	ReportBytes       int64
}

// Defaults are generous for real repositories (the largest of the corpus
// reads 2.3 MB of YAML and renders ~2,000 objects) and small enough that a
// hostile repository ends in seconds within a few hundred MiB.
func Defaults() Limits {
	return Limits{
		FileBytes:         16 << 20,
		TotalBytes:        256 << 20,
		RenderedBytes:     512 << 20,
		Objects:           200_000,
		SubstitutionBytes: 16 << 20,
		PolicyTime:        10 * time.Second,
		ReportBytes:       64 << 20,
	}
}

// Or returns l, or Defaults() when l is the zero Limits (no --limit given).
func (l Limits) Or() Limits {
	if l == (Limits{}) {
		return Defaults()
	}
	return l
}

// limitKey describes one --limit key.
type limitKey struct {
	name  string
	help  string
	bytes bool
	time  bool
	field func(*Limits) any
}

var limitKeys = []limitKey{
	{LimitFileBytes, "one file read from the repository or a directory it supplies", true, false, func(l *Limits) any { return &l.FileBytes }},
	{LimitTotalBytes, "all files read in one run", true, false, func(l *Limits) any { return &l.TotalBytes }},
	{LimitRenderedBytes, "all rendered objects", true, false, func(l *Limits) any { return &l.RenderedBytes }},
	{LimitObjects, "the number of rendered objects", false, false, func(l *Limits) any { return &l.Objects }},
	{LimitSubstitutionBytes, "the output of one postBuild substitution", true, false, func(l *Limits) any { return &l.SubstitutionBytes }},
	{LimitPolicyTime, "one Rego policy evaluation", false, true, func(l *Limits) any { return &l.PolicyTime }},
	{LimitReportBytes, "one written report", true, false, func(l *Limits) any { return &l.ReportBytes }},
}

// LimitKeys lists the --limit keys with their defaults, for help texts.
func LimitKeys() []string {
	d := Defaults()
	out := make([]string, 0, len(limitKeys))
	for _, k := range limitKeys {
		out = append(out, fmt.Sprintf("%s (%s; default %s)", k.name, k.help, format(k, k.field(&d))))
	}
	return out
}

func format(k limitKey, v any) string {
	switch p := v.(type) {
	case *int64:
		if k.bytes {
			return FormatBytes(*p)
		}
		return strconv.FormatInt(*p, 10)
	case *time.Duration:
		return p.String()
	}
	return ""
}

// Set applies one KEY=VALUE: sizes take a unit (KiB, MiB, GiB; bare numbers
// are bytes), times a Go duration (30s, 2m), counts a number; 0 means
// unlimited.
func (l *Limits) Set(spec string) error {
	key, val, ok := strings.Cut(spec, "=")
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	i := slices.IndexFunc(limitKeys, func(k limitKey) bool { return k.name == key })
	if !ok || i < 0 {
		names := make([]string, len(limitKeys))
		for j, k := range limitKeys {
			names[j] = k.name
		}
		return fmt.Errorf("want KEY=VALUE with KEY one of %s, got %q", strings.Join(names, ", "), spec)
	}
	k := limitKeys[i]
	switch p := k.field(l).(type) {
	case *int64:
		var n int64
		var err error
		if k.bytes {
			n, err = ParseBytes(val)
		} else {
			n, err = strconv.ParseInt(val, 10, 64)
		}
		if err != nil || n < 0 {
			return fmt.Errorf("%s: invalid value %q", key, val)
		}
		*p = n
	case *time.Duration:
		d, err := time.ParseDuration(val)
		if err != nil || d < 0 {
			return fmt.Errorf("%s: invalid duration %q (e.g. 30s)", key, val)
		}
		*p = d
	}
	return nil
}

var units = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}

// ParseBytes reads a size such as 16MiB, 512KiB or 1048576.
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("%s: too large", s)
	}
	return n * mult, nil
}

// FormatBytes prints a size in the largest binary unit that divides it.
func FormatBytes(n int64) string {
	switch {
	case n <= 0:
		return "unlimited"
	case n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
