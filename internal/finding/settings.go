package finding

import (
	"hash/fnv"
	"path"
	"strings"
)

// RuleSetting overrides a rule from the config file.
type RuleSetting struct {
	Severity Severity
	Disabled bool
	// Params are passed to policies (data.gitops_lint.params).
	Params map[string]any
}

// IgnoreEntry suppresses the findings of Rule (all rules when empty) in the
// files matching Path (a glob where ** spans directories; all files when
// empty).
type IgnoreEntry struct {
	Rule   string `yaml:"rule" json:"rule"`
	Path   string `yaml:"path" json:"path"`
	Reason string `yaml:"reason" json:"reason"`
}

// Matches reports whether the entry suppresses f.
func (e IgnoreEntry) Matches(f Finding) bool {
	if e.Rule != "" && e.Rule != f.Rule {
		return false
	}
	return e.Path == "" || GlobMatch(e.Path, f.File)
}

// IgnoreAnnotation is the object annotation that suppresses findings on that
// object: "rule[,rule…] — reason" (or "all").
const IgnoreAnnotation = "gitops-lint.io/ignore"

// AnnotationIgnores reports whether an ignore annotation's value covers rule.
func AnnotationIgnores(value, rule string) bool {
	list := value
	for _, sep := range []string{" — ", " -- ", " - ", ":"} {
		if i := strings.Index(list, sep); i >= 0 {
			list = list[:i]
		}
	}
	for _, r := range strings.Split(list, ",") {
		r = strings.TrimSpace(r)
		if r == rule || r == "all" || r == "*" {
			return true
		}
	}
	return false
}

// Apply applies the config file's rule settings and ignore entries and the
// objects' ignore annotations (annotation returns the ignore annotation of a
// finding's object, "" if none). Disabled rules are dropped; suppressed
// findings are removed and counted.
func Apply(fs []Finding, rules map[string]RuleSetting, ignore []IgnoreEntry, annotation func(Finding) string) (kept []Finding, suppressed int) {
	for _, f := range fs {
		if s, ok := rules[f.Rule]; ok {
			if s.Disabled {
				continue
			}
			if s.Severity != "" {
				f.Severity = s.Severity
			}
		}
		drop := false
		for _, e := range ignore {
			if e.Matches(f) {
				drop = true
				break
			}
		}
		if !drop && annotation != nil {
			if v := annotation(f); v != "" && AnnotationIgnores(v, f.Rule) {
				drop = true
			}
		}
		if drop {
			suppressed++
			continue
		}
		kept = append(kept, f)
	}
	return kept, suppressed
}

// GlobMatch matches a '/'-separated path against a glob where "**" spans
// any number of directories (leading and trailing slashes are ignored).
func GlobMatch(glob, p string) bool {
	return matchSegments(strings.Split(strings.Trim(glob, "/"), "/"), strings.Split(p, "/"))
}

func matchSegments(g, s []string) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for i := 0; i <= len(s); i++ {
				if matchSegments(g[1:], s[i:]) {
					return true
				}
			}
			return false
		}
		if len(s) == 0 {
			return false
		}
		if ok, _ := path.Match(g[0], s[0]); !ok {
			return false
		}
		g, s = g[1:], s[1:]
	}
	return len(s) == 0
}

// ShardOf assigns a finding to one of n shards (1-based): by environment and
// Kustomization, so that a Kustomization's findings stay together; findings
// of no Kustomization (YAML syntax, promotion) go to shard 1.
func ShardOf(f Finding, n int) int {
	if f.Kustomization == "" || n <= 1 {
		return 1
	}
	h := fnv.New32a()
	h.Write([]byte(f.Environment + "\x00" + f.Kustomization))
	return int(h.Sum32()%uint32(n)) + 1
}
