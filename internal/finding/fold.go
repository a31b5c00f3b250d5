package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// foldKey is what makes two findings the same problem: the rule, its
// severity, the position and the message. Only where it was reached from
// (environment, Kustomization, object) may differ.
type foldKey struct {
	rule         string
	severity     Severity
	file         string
	line, column int
	message      string
}

func keyOf(f Finding) foldKey {
	return foldKey{f.Rule, f.Severity, f.File, f.Line, f.Column, f.Message}
}

// Fold turns the findings that are the same problem (same rule, severity,
// file, line, column and message) into one finding that lists every
// context it occurs in — a base shared by 17 namespaces is one finding to
// fix, not 17. fs must be sorted (Sort); the result keeps that order, each
// folded finding at its first occurrence, and every finding has
// Occurrences set.
func Fold(fs []Finding) []Finding {
	at := make(map[foldKey]int, len(fs))
	out := fs[:0]
	for _, f := range fs {
		k := keyOf(f)
		i, seen := at[k]
		if !seen {
			f.Occurrences = max(f.Occurrences, 1)
			at[k] = len(out)
			out = append(out, f)
			continue
		}
		first := &out[i]
		if len(first.Contexts) == 0 {
			first.Contexts = []Context{first.Context()}
		}
		c := f.Context()
		if len(f.Contexts) > 0 {
			first.Contexts = append(first.Contexts, f.Contexts...)
		} else {
			first.Contexts = append(first.Contexts, c)
		}
		first.Occurrences += f.Count()
	}
	clear(fs[len(out):])
	return out
}

// Gather makes each group of findings one problem for Fold: every finding
// whose key is not "" moves to the position and message of the first of
// its key — a file of the repository before none, then the contract order
// — keeping its own context, so that Fold lists each as a context of one
// finding. Checkers use it for one cause reached from many objects (no
// CRD for a kind, a chart not cached).
func Gather(fs []Finding, key func(Finding) string) []Finding {
	first := map[string]Finding{}
	for _, f := range fs {
		k := key(f)
		if k == "" {
			continue
		}
		if cur, ok := first[k]; !ok || earlier(f, cur) {
			first[k] = f
		}
	}
	for i, f := range fs {
		if k := key(f); k != "" {
			at := first[k]
			fs[i].File, fs[i].Line, fs[i].Column, fs[i].Message = at.File, at.Line, at.Column, at.Message
		}
	}
	return fs
}

// earlier reports whether a comes before b for Gather.
func earlier(a, b Finding) bool {
	if (a.File == "") != (b.File == "") {
		return a.File != ""
	}
	return Compare(a, b) < 0
}

// Fingerprints sets the Fingerprint of every finding: a hash of its rule,
// file and message — never its line or column, so that it survives edits
// above it, and never its contexts, so that an environment added or
// removed does not make it new. Findings that share all three are told
// apart by their order in fs (the contract order).
func Fingerprints(fs []Finding) {
	seen := make(map[string]int, len(fs))
	for i := range fs {
		f := &fs[i]
		h := hashParts(f.Rule, f.File, f.Message)
		n := seen[h]
		seen[h] = n + 1
		if n > 0 {
			h = hashParts(h, strconv.Itoa(n))
		}
		f.Fingerprint = h
	}
}

func hashParts(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// MarkBaseline sets Baseline on every finding whose Fingerprint known
// holds, and returns how many it marked.
func MarkBaseline(fs []Finding, known map[string]bool) int {
	n := 0
	for i := range fs {
		if known[fs[i].Fingerprint] {
			fs[i].Baseline = true
			n++
		}
	}
	return n
}
