package report

// The printers of the graph kind: the dependsOn graph of each environment
// (gitops-lint render --graph), as text or Graphviz DOT. Environment names
// and node ids are repository data, escaped.

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/converge"
)

// graphText prints each graph as a list of nodes with what they depend on,
// then its longest chain and the time to converge along it.
func graphText(w io.Writer, gs []*converge.Graph) error {
	var b strings.Builder
	for _, g := range gs {
		fmt.Fprintf(&b, "%s: %d Kustomizations and HelmReleases\n", Escape(g.Environment), len(g.Nodes))
		for _, n := range g.Nodes {
			if len(n.DependsOn) == 0 {
				fmt.Fprintf(&b, "  %s\n", Escape(n.ID))
				continue
			}
			fmt.Fprintf(&b, "  %s ← %s\n", Escape(n.ID), strings.Join(escapeAll(n.DependsOn), ", "))
		}
		chain, total := g.LongestChain()
		fmt.Fprintf(&b, "  longest chain (%d): %s\n  time to converge, at most: %s (sum of spec.timeout, else interval, along it)\n",
			len(chain), strings.Join(escapeAll(chain), " → "), total)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// graphDOT prints each graph as a Graphviz digraph.
func graphDOT(w io.Writer, gs []*converge.Graph) error {
	var b strings.Builder
	for _, g := range gs {
		fmt.Fprintf(&b, "digraph %s {\n  rankdir=LR;\n", dotQuote(g.Environment))
		for _, n := range g.Nodes {
			shape := "box"
			if strings.HasPrefix(n.ID, "HelmRelease/") {
				shape = "ellipse"
			}
			fmt.Fprintf(&b, "  %s [shape=%s];\n", dotQuote(n.ID), shape)
		}
		for _, n := range g.Nodes {
			for _, d := range n.DependsOn {
				fmt.Fprintf(&b, "  %s -> %s;\n", dotQuote(n.ID), dotQuote(d))
			}
		}
		b.WriteString("}\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// dotQuote is s, escaped for display, as a DOT quoted string.
func dotQuote(s string) string { return strconv.Quote(Escape(s)) }

func escapeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Escape(s)
	}
	return out
}
