package report

import (
	"bytes"
	"fmt"
	"io"

	"github.com/gitops-lint/gitops-lint/internal/confine"
)

// WithLimit caps every findings report the Writer writes at n bytes (0 or
// less: no cap); the caller passes the run's confine.Limits.ReportBytes.
// (The other kinds of output are not capped; a diff's markdown keeps under
// MarkdownLimit.) A report
// that would be larger is cut at a finding boundary and stays valid in its
// format: it holds the first findings, in order, that fit, and says how
// many more there are (text, github, azure: a line before the summary;
// markdown: a note; JUnit: a skipped testcase; JSON and SARIF: a
// "truncated" count in the summary). The summary still counts every
// finding. The report without any finding is written even if it alone
// exceeds n. The github format's step summary is capped too.
func WithLimit(n int64) Option {
	return func(o *options) { o.limit = max(n, 0) }
}

// truncatedNote is the line that ends the findings of a cut report.
func truncatedNote(omitted int, limit int64) string {
	return fmt.Sprintf("… %s not shown: the report reached its %s limit (raise it with --limit %s=SIZE)",
		plural(omitted, "more finding", "more findings"), confine.FormatBytes(limit), confine.LimitReportBytes)
}

// sizedBuffer keeps what is written to it up to limit bytes, and only
// counts what comes after.
type sizedBuffer struct {
	bytes.Buffer
	limit int64
	size  int64 // bytes written, kept or not
}

func (b *sizedBuffer) Write(p []byte) (int, error) {
	b.size += int64(len(p))
	if b.size <= b.limit {
		return b.Buffer.Write(p)
	}
	return len(p), nil
}

func (b *sizedBuffer) reset() {
	b.Buffer.Reset()
	b.size = 0
}

// writeCapped writes the largest report of at most limit bytes that
// render(k) makes, where render writes the report with the first k of n
// findings (k < n: with its truncation marker), and cost(i) is about what
// finding i adds to it (cost is called once per finding, in order, so it
// may keep state). The report grows with k: each render measures how far
// the cut is from the limit, and the costs say where to cut next, so a few
// renders of about limit bytes find the best cut; a search by halves
// closes what is left. At most two renders are held at once.
func writeCapped(w io.Writer, n int, limit int64, cost func(i int) int64, render func(w io.Writer, k int) error) error {
	if limit <= 0 {
		return render(w, n)
	}
	var costs []int64
	costAt := func(i int) int64 {
		for len(costs) <= i {
			costs = append(costs, cost(len(costs)))
		}
		return costs[i]
	}
	// lo fits (best holds it), hi does not (n+1: not known).
	lo, hi := 0, n+1
	// try renders k findings and returns its size; if it fits, it keeps
	// the result as best and k as lo, else k as hi.
	best, scratch := &sizedBuffer{limit: limit}, &sizedBuffer{limit: limit}
	try := func(k int) (int64, error) {
		scratch.reset()
		if err := render(scratch, k); err != nil {
			return 0, err
		}
		size := scratch.size
		if size <= limit {
			best, scratch = scratch, best
			lo = k
		} else {
			hi = k
		}
		return size, nil
	}
	base, err := try(0)
	if err != nil {
		return err
	}
	if base > limit || n == 0 {
		// Not even the report without findings fits: write it whole.
		return render(w, 0)
	}
	// aim is the cut the costs give for a report of size bytes with k
	// findings: as many more findings as fit in the room left, or as many
	// fewer as make up for the excess.
	aim := func(k int, size int64) int {
		for size <= limit && k < n && size+costAt(k) <= limit {
			size += costAt(k)
			k++
		}
		for size > limit && k > 0 {
			k--
			size -= costAt(k)
		}
		return k
	}
	// Aim a few times; a fitting cut whose costs say no more fit still
	// tries one more, which reaches the full report (no truncation marker).
	k := aim(0, base)
	for range 4 {
		if k <= lo || k >= hi {
			break
		}
		size, err := try(k)
		if err != nil {
			return err
		}
		switch next := aim(k, size); {
		case next == k && size <= limit:
			k++ // the costs say no more fit: check the next
		case next == k:
			k--
		default:
			k = next
		}
	}
	// Bracket the cut, then halve.
	for step := 1; hi == n+1 && lo < n; step *= 2 {
		if _, err := try(min(lo+step, n)); err != nil {
			return err
		}
	}
	for step := 1; lo == 0 && hi-step > 0; step *= 2 {
		if _, err := try(hi - step); err != nil {
			return err
		}
	}
	for hi-lo > 1 {
		if _, err := try(lo + (hi-lo)/2); err != nil {
			return err
		}
	}
	_, err = w.Write(best.Bytes())
	return err
}
