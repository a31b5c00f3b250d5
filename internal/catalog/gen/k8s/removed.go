package main

import (
	"regexp"
	"sort"
	"strconv"
)

// Removal is one entry of removed.json: an apiVersion/Kind some release
// served and the newest pinned release does not.
type Removal struct {
	// LastServed is the last minor ("1.24") whose OpenAPI document lists a
	// writable resource for the kind at that apiVersion. The documents are
	// generated with every API group enabled, so for alpha (and, before
	// 1.24, beta) versions this is when the code was deleted, not when the
	// version stopped being served by default.
	LastServed string `json:"lastServed"`
	// Replacement is the apiVersion serving the same Kind in the newest
	// release: same group first, then the most stable version; "" if none.
	Replacement string `json:"replacement"`
	// DeprecatedIn is the minor ("1.21") a served release's definition of
	// the kind says it was deprecated in ("Deprecated in v1.16 in favor
	// of..."), when one says so; many only say "deprecated by apps/v1/X".
	DeprecatedIn string `json:"deprecatedIn,omitempty"`
}

// ServedRelease is one release's writable kinds, for Removed.
type ServedRelease struct {
	Minor string // "1.24"
	Kinds map[GVK]Kind
	// Deprecated maps kinds to the minor their definition's description
	// says they were deprecated in.
	Deprecated map[GVK]string
}

// Removed computes the removed-API table from releases in ascending order;
// the last one is the newest.
func Removed(releases []ServedRelease) map[string]Removal {
	out := map[string]Removal{}
	if len(releases) == 0 {
		return out
	}
	newest := releases[len(releases)-1].Kinds
	last := map[GVK]string{}
	deprecated := map[GVK]string{}
	for _, r := range releases {
		for g := range r.Kinds {
			last[g] = r.Minor
			if d := r.Deprecated[g]; d != "" && deprecated[g] == "" {
				deprecated[g] = d
			}
		}
	}
	for g, minor := range last {
		if _, ok := newest[g]; ok {
			continue
		}
		out[g.Key()] = Removal{LastServed: minor, Replacement: replacement(g, newest), DeprecatedIn: deprecated[g]}
	}
	return out
}

// replacement picks the apiVersion that serves g.Kind in newest.
func replacement(g GVK, newest map[GVK]Kind) string {
	var cands []GVK
	for n := range newest {
		if n.Kind == g.Kind {
			cands = append(cands, n)
		}
	}
	if len(cands) == 0 {
		return ""
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if (a.Group == g.Group) != (b.Group == g.Group) {
			return a.Group == g.Group
		}
		if c := compareVersions(a.Version, b.Version); c != 0 {
			return c > 0
		}
		return a.Group < b.Group
	})
	return cands[0].APIVersion()
}

var deprecatedIn = regexp.MustCompile(`(?i)\bdeprecated in v?(1\.[0-9]+)`)

// Deprecations reads "Deprecated in v1.NN" from the descriptions of the
// definitions of kinds.
func Deprecations(defs map[string]any, idx map[GVK]string) map[GVK]string {
	out := map[GVK]string{}
	for g, name := range idx {
		def, _ := defs[name].(map[string]any)
		desc, _ := def["description"].(string)
		if m := deprecatedIn.FindStringSubmatch(desc); m != nil {
			out[g] = m[1]
		}
	}
	return out
}

var kubeVersion = regexp.MustCompile(`^v([0-9]+)(?:(alpha|beta)([0-9]+))?$`)

// compareVersions orders Kubernetes API versions by stability the way the
// apiserver's discovery does: GA > beta > alpha, then higher numbers first.
// It returns >0 when a is preferred over b.
func compareVersions(a, b string) int {
	ra, rb := versionRank(a), versionRank(b)
	for i := range ra {
		if ra[i] != rb[i] {
			return ra[i] - rb[i]
		}
	}
	switch {
	case a < b:
		return 1 // arbitrary but fixed order for non-Kubernetes-style versions
	case a > b:
		return -1
	}
	return 0
}

// versionRank is [level, major, minor] with level GA=3, beta=2, alpha=1,
// other=0.
func versionRank(v string) [3]int {
	m := kubeVersion.FindStringSubmatch(v)
	if m == nil {
		return [3]int{}
	}
	major, _ := strconv.Atoi(m[1])
	switch m[2] {
	case "":
		return [3]int{3, major, 0}
	case "beta":
		minor, _ := strconv.Atoi(m[3])
		return [3]int{2, major, minor}
	default:
		minor, _ := strconv.Atoi(m[3])
		return [3]int{1, major, minor}
	}
}
