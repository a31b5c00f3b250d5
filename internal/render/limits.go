package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/pool"
)

// The bounds of a run. A repository under review is untrusted: every file
// it supplies is read within confine.Limits (per file and in total), and
// what it makes gitops-lint build is bounded too (rendered bytes and
// objects, the output of one post-build substitution, kustomize's work).
// A bound that stops the run is reported as one render/limit finding and
// the run ends normally with what it has.

// bounds returns the run's limits: the zero Limits means confine.Defaults.
func (o *Options) bounds() confine.Limits {
	if o.Limits == (confine.Limits{}) {
		return confine.Defaults()
	}
	return o.Limits
}

// Derived bounds. Bytes alone do not bound what parsing YAML or running
// kustomize costs, so these follow from the byte and object limits.
const (
	// nodeBytesPerFile: a YAML file may parse into at most FileBytes/8
	// nodes by nodeBound's estimate, checked before parsing (yaml.v3 keeps
	// ~160 bytes per node; nodeBound counts one per 7 to 13 bytes of real
	// manifests, where block scalars hold much text in one node, and one
	// per byte of a dense list of numbers).
	nodeBytesPerFile = 8
	// nodeBytesPerRun: the indexes of a run hold at most TotalBytes/128
	// parsed nodes (2 Mi nodes, ~320 MiB, by default: ~40 MiB of real
	// manifests, which average over 20 bytes per node; the largest corpus
	// repository holds 98 Ki).
	nodeBytesPerRun = 128
	// objectsPerBuild: kustomize checks every resource it adds against
	// all those it holds (resmap.Append), so a build of n resources costs
	// n² (4,000 resources: ~14 s). A run may spend what one build of
	// Objects/50 resources costs (4,000 by default; the largest build of
	// the corpus has 211, all its builds together cost 362²), or of
	// minBuildResources when that is more.
	objectsPerBuild   = 50
	minBuildResources = 1000
)

// workBudget is the kustomize work (squared resources per build, summed) a
// run may spend: what one build of buildResources(objects) costs.
func workBudget(objects int64) int64 {
	if objects <= 0 {
		return 0
	}
	n := buildResources(objects)
	return satMul(n, n)
}

// buildResources is the largest build a run may make: a fiftieth of the
// objects limit, at least minBuildResources (a lower objects limit
// bounds the build by itself).
func buildResources(objects int64) int64 {
	return max(objects/objectsPerBuild, minBuildResources)
}

// reader reads the files of a run: the linted repository, the platform
// repository and every --source directory. Each file is read once (the
// index keeps its bytes for the artifacts), refused beyond the per-file
// limit, and charged to the run's total budget; once the budget is spent
// nothing more is read.
type reader struct {
	limits confine.Limits
	budget *confine.Budget
	// cpu holds a slot for each YAML parse (nil: unbounded, as a prefetch
	// that runs before the run's limiter exists).
	cpu *pool.Limiter
	// nodes bounds the parsed YAML the indexes hold.
	nodes *confine.Budget
	// charged counts what this reader charged to budget (for a
	// prefetched index handed to a run with its own budget).
	charged atomic.Int64

	mu sync.Mutex
	// stop is the first refusal of the total budget (nil: none).
	stop *stopped
}

// stopped records where reading stopped.
type stopped struct {
	abs string // the file that did not fit
	why string // what was exceeded
}

func newReader(l confine.Limits, budget *confine.Budget) *reader {
	if budget == nil {
		budget = confine.NewBudget(l.TotalBytes, confine.LimitTotalBytes)
	}
	return &reader{limits: l, budget: budget, nodes: confine.NewBudget(perRun(l.TotalBytes), confine.LimitTotalBytes)}
}

func perRun(total int64) int64 {
	if total <= 0 {
		return 0
	}
	return max(total/nodeBytesPerRun, 1)
}

// errStopped refuses every read after the total budget ran out.
var errStopped = errors.New("the run's total byte budget is spent")

// stopped reports whether reading has stopped.
func (rd *reader) stopped() *stopped {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	return rd.stop
}

// halt records the first place reading stopped; with earlier, abs was
// read before the place recorded (an index records what it parsed in walk
// order, after reading ahead).
func (rd *reader) halt(abs, why string, earlier bool) {
	rd.mu.Lock()
	if rd.stop == nil || earlier {
		rd.stop = &stopped{abs: abs, why: why}
	}
	rd.mu.Unlock()
}

// parseable reports whether data may be parsed within the per-file limits.
func (rd *reader) parseable(data []byte) bool {
	l := rd.limits.FileBytes
	return l <= 0 || int64(len(data)) <= l && nodeBound(data) <= max(l/nodeBytesPerFile, 1)
}

// tooLarge is a file over the per-file limit.
type tooLarge struct {
	rel   string
	limit int64
}

func (e *tooLarge) Error() string {
	return fmt.Sprintf("%s is larger than the limit of %s (raise it with --limit %s=SIZE)", e.rel, confine.FormatBytes(e.limit), confine.LimitFileBytes)
}

// read returns the regular file rel of root (whose absolute path is abs).
// A file over the per-file limit is refused without being read; a file
// that would overrun the total budget stops all reading (errStopped).
func (rd *reader) read(root *confine.Root, abs, rel string, size int64) ([]byte, error) {
	if rd.stopped() != nil {
		return nil, errStopped
	}
	if l := rd.limits.FileBytes; l > 0 && size > l {
		return nil, &tooLarge{rel: rel, limit: l}
	}
	data, err := root.ReadFile(rel)
	var ce *confine.Error
	switch {
	case errors.As(err, &ce) && errors.Is(err, confine.ErrBudget):
		rd.halt(abs, fmt.Sprintf("the files read so far reach the total byte limit of %s (raise it with --limit %s=SIZE)", confine.FormatBytes(rd.budget.Limit()), confine.LimitTotalBytes), false)
		return nil, errStopped
	case errors.As(err, &ce) && errors.Is(err, confine.ErrTooLarge):
		return nil, &tooLarge{rel: rel, limit: rd.limits.FileBytes}
	case err != nil:
		return nil, err
	}
	rd.charged.Add(int64(len(data)))
	return data, nil
}

// takeNodes charges n parsed nodes of file abs to the run; false stops
// reading (at abs, read before any file that stopped reading since).
func (rd *reader) takeNodes(abs string, n int64) bool {
	if rd.nodes.Take(n) {
		return true
	}
	rd.halt(abs, fmt.Sprintf("the YAML read so far parses into more than %d nodes, the most the total byte limit of %s allows (one node per %d bytes; raise it with --limit %s=SIZE)",
		rd.nodes.Limit(), confine.FormatBytes(rd.limits.TotalBytes), nodeBytesPerRun, confine.LimitTotalBytes), true)
	return false
}

// openRoot opens dir for confined reads through rd (per-file limit and
// budget are applied by rd; the Root itself refuses links leaving dir,
// devices and FIFOs).
func (rd *reader) openRoot(dir string) (*confine.Root, error) {
	fileLimit := rd.limits.FileBytes
	return confine.Open(dir, fileLimit, rd.budget)
}

// sizeOf is the size of a walked regular file (-1 when unknown).
func sizeOf(d fs.DirEntry) int64 {
	info, err := d.Info()
	if err != nil {
		return -1
	}
	return info.Size()
}

// nodeBound is a cheap upper estimate of the nodes yaml.v3 builds for
// data, computed before parsing: every node but a document's root starts
// at a line break or after one of ":-,[{?" (a value, a sequence entry, a
// flow item, a complex key), and each such place starts at most two (an
// entry and the collection it opens, or a flow key and its empty value).
func nodeBound(data []byte) int64 {
	n := int64(2)
	for _, c := range []byte("\n:-,[{?") {
		n += 2 * int64(bytes.Count(data, []byte{c}))
	}
	return n
}

// countDocs over-estimates the YAML documents of data: one, plus one per
// line that starts with a document marker.
func countDocs(data []byte) int64 {
	return 1 + int64(bytes.Count(data, []byte("\n---")))
}

// sat adds without overflowing.
func sat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// satMul multiplies non-negative numbers without overflowing.
func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

// limitError stops one build at a bound of the run.
type limitError struct {
	key string // the --limit key
	msg string // what was exceeded, and where
	// runWide: the bound is the run's (rendering stops), not one
	// Kustomization's.
	runWide bool
}

func (e *limitError) Error() string { return e.msg }

// limitLog gathers the render/limit findings of a run: one per run-wide
// bound (the Kustomizations it left unrendered listed in it), one per
// Kustomization for its own substitution bound.
type limitLog struct {
	mu       sync.Mutex
	hits     map[string]*limitHit // by --limit key
	firstKey string               // the first bound reached
}

type limitHit struct {
	first   finding.Finding
	firstBy string // sort key of first (deterministic choice)
	msg     string
	skipped []string // Kustomizations not rendered, "env\x00ns/name"
}

// record notes that k of env was not rendered because of e.
func (l *limitLog) record(env string, k *Kustomization, e *limitError, f finding.Finding) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hits == nil {
		l.hits = map[string]*limitHit{}
	}
	h := l.hits[e.key]
	key := env + "\x00" + k.ID()
	if h == nil {
		h = &limitHit{}
		l.hits[e.key] = h
		if l.firstKey == "" {
			l.firstKey = e.key
		}
	}
	if e.msg != "" && (h.msg == "" || key < h.firstBy) {
		h.first, h.firstBy, h.msg = f, key, e.msg
	}
	h.skipped = append(h.skipped, key)
}

// reached reports whether a run-wide bound stopped rendering.
func (l *limitLog) reached() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.firstKey != ""
}

// skip reports whether a run-wide bound stopped rendering, listing k of
// env as not rendered in the first bound's finding.
func (l *limitLog) skip(env string, k *Kustomization) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.firstKey == "" {
		return false
	}
	h := l.hits[l.firstKey]
	h.skipped = append(h.skipped, env+"\x00"+k.ID())
	return true
}

// findings returns one finding per bound that was hit.
func (l *limitLog) findings() []finding.Finding {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.hits))
	for k := range l.hits {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []finding.Finding
	for _, key := range keys {
		h := l.hits[key]
		f := h.first
		f.Message = h.msg + "; not rendered (nor what it would create): " + listCapped(h.skipped, 10)
		out = append(out, f)
	}
	return out
}

// listCapped lists Kustomizations ("env\x00ns/name") sorted, the first max
// of them, then how many more.
func listCapped(keys []string, max int) string {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	envs := map[string]bool{}
	for _, k := range keys {
		env, _, _ := strings.Cut(k, "\x00")
		envs[env] = true
	}
	var names []string
	for i, k := range keys {
		if i == max {
			names = append(names, "and "+strconv.Itoa(len(keys)-max)+" more")
			break
		}
		env, id, _ := strings.Cut(k, "\x00")
		if len(envs) > 1 {
			id += " (" + env + ")"
		}
		names = append(names, id)
	}
	return strings.Join(names, ", ")
}

// lintRel is abs relative to the linted repository, or "" outside it.
func (r *renderer) lintRel(abs string) string {
	if l, err := filepath.Rel(r.lint.Root, abs); err == nil && l != "." && !strings.HasPrefix(l, "..") {
		return filepath.ToSlash(l)
	}
	return ""
}

// charges are what rendering one Kustomization took from the run's
// rendered bytes and objects (given back when its output is dropped).
type charges struct{ bytes, objects int64 }

// charge takes size rendered bytes and count objects for c.
func (r *renderer) charge(c *charges, size, count int64) error {
	if !r.objects.Take(count) {
		return r.objectsLimit()
	}
	if !r.rendered.Take(size) {
		r.objects.Give(count)
		return r.renderedLimit()
	}
	c.bytes += size
	c.objects += count
	return nil
}

// refund gives back what c took.
func (r *renderer) refund(c *charges) {
	r.rendered.Give(c.bytes)
	r.objects.Give(c.objects)
	*c = charges{}
}

func (r *renderer) renderedLimit() *limitError {
	return &limitError{key: confine.LimitRenderedBytes, runWide: true,
		msg: fmt.Sprintf("rendering stopped: the rendered objects would exceed the limit of %s (raise it with --limit %s=SIZE)", confine.FormatBytes(r.limits.RenderedBytes), confine.LimitRenderedBytes)}
}

func (r *renderer) objectsLimit() *limitError {
	return &limitError{key: confine.LimitObjects, runWide: true,
		msg: fmt.Sprintf("rendering stopped: the rendered objects would number more than the limit of %d (raise it with --limit %s=COUNT)", r.limits.Objects, confine.LimitObjects)}
}

// workLimit stops a build that would make kustomize load n resources (the
// last of them from file), or, with mapping, handle the mappings of file.
func (r *renderer) workLimit(n int64, file string, mapping bool) *limitError {
	what := fmt.Sprintf("kustomize would load %d resources for one build (with %s); its build time grows with the square of that number", n, file)
	if mapping {
		what = fmt.Sprintf("kustomize would handle mappings of too many keys (in %s); its time grows with the square of a mapping's keys", file)
	}
	return &limitError{key: confine.LimitObjects + "\x00work", runWide: true,
		msg: fmt.Sprintf("rendering stopped: %s, so a run builds at most what one build of %d resources costs (a fiftieth of the limit of %d objects, at least %d; raise it with --limit %s=COUNT, or split the Kustomization)",
			what, buildResources(r.limits.Objects), r.limits.Objects, minBuildResources, confine.LimitObjects)}
}

// limited handles an error that stops the build of k: a bound of the run
// (recorded for its render/limit finding) or the end of reading (reported
// where reading stopped). It reports false for any other error.
func (run *envRun) limited(k *Kustomization, err error) bool {
	r := run.r
	var le *limitError
	switch {
	case errors.Is(err, errStopped):
	case errors.As(err, &le) && le.runWide:
		f := run.finding(k, RuleLimit, k.File, k.Line, k.Column, "")
		r.limitLog.record(run.env.Name, k, le, f)
	case errors.As(err, &le):
		r.add(run.finding(k, RuleLimit, k.File, k.Line, k.Column, le.msg+"; "+k.ID()+" is not rendered"))
	default:
		return false
	}
	r.refund(&k.charged)
	k.Objects, k.Rendered = nil, false
	return true
}

// halted reports whether nothing more is to be built: reading stopped, or
// a run-wide bound was reached (the Kustomization is then listed as not
// rendered in its finding).
func (run *envRun) halted(k *Kustomization) bool {
	r := run.r
	if r.rd.stopped() != nil {
		return true
	}
	return r.limitLog.skip(run.env.Name, k)
}

// maxQuoted bounds the content a message quotes from a rendered object.
const maxQuoted = 4 << 10

// clip cuts s to at most n bytes (at a rune boundary), saying how much
// was left out.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d more bytes)", len(s)-cut)
}
