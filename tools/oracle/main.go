// Command oracle proves gitops-lint's RBAC and schema verdicts against a real
// kube-apiserver: it starts one on loopback, loads each environment's RBAC
// and CRDs, replays every object as the impersonated ServiceAccount with a
// server-side-apply dry run, and compares the answers with gitops-lint's
// findings; then it compares rbacsim with SubjectAccessReviews over a random
// matrix of roles, bindings and requests. See docs/oracle.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/gitops-lint/gitops-lint/internal/quiet"
)

func main() {
	// kustomize prints its deprecation notices straight to os.Stderr;
	// the oracle's own output goes to the original stderr.
	stderr = quiet.KustomizeNotices()
	os.Exit(run())
}

// stderr is where the oracle reports progress (the process's stderr
// before kustomize's notices are filtered out of it).
var stderr io.Writer = os.Stderr

func run() int {
	report := flag.Bool("report", false, "print the agreement table and every disagreement")
	matrixN := flag.Int("matrix", 1000, "random RBAC matrix cases (0: none)")
	seed := flag.Uint64("seed", 1, "matrix seed")
	root := flag.String("root", "../..", "gitops-lint repository root")
	buildOnly := flag.Bool("build-only", false, "only build (or find) the binaries")
	var only []Repo
	flag.Func("repo", "replay only this repository directory (repeatable; no sources mapped)", func(dir string) error {
		abs, err := filepath.Abs(dir)
		only = append(only, Repo{Name: filepath.Base(abs), Root: abs})
		return err
	})
	flag.Parse()
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "oracle: "+format+"\n", args...)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	t0 := time.Now()
	apiserverBin, kcmBin, err := binaries(logf)
	if err != nil {
		logf("build: %v", err)
		return 2
	}
	if *buildOnly {
		fmt.Println(filepath.Dir(apiserverBin))
		return 0
	}
	etcdBin, err := etcdBinary(logf)
	if err != nil {
		logf("%v", err)
		return 2
	}
	out, err := Run(ctx, Config{Root: *root, Matrix: *matrixN, Seed: *seed, APIServer: apiserverBin, KCM: kcmBin, Etcd: etcdBin, Repos: only}, logf)
	if ctx.Err() != nil {
		logf("interrupted; every process stopped")
		return 130
	}
	if err != nil {
		logf("%v", err)
		if out == nil {
			return 2
		}
	}
	if *report || out.Disagreements() > 0 {
		out.Print(os.Stdout)
	}
	logf("done in %s", time.Since(t0).Round(time.Second))
	if err != nil {
		return 2
	}
	if out.Disagreements() > 0 {
		return 1
	}
	return 0
}

// Config of one oracle run.
type Config struct {
	Root                 string
	Matrix               int
	Seed                 uint64
	APIServer, KCM, Etcd string
	// Repos, when set, replaces the default repositories.
	Repos []Repo
}

// Outcome is everything one run found.
type Outcome struct {
	Replay *Replayer
	Matrix MatrixResult
}

// Disagreements counts every disagreement.
func (o *Outcome) Disagreements() int {
	n := len(o.Matrix.Diffs)
	if o.Replay != nil {
		n += len(o.Replay.Diffs)
	}
	return n
}

// Run starts the cluster, replays and runs the matrix; the cluster is
// stopped before it returns, whatever happens.
func Run(ctx context.Context, cfg Config, logf func(string, ...any)) (*Outcome, error) {
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, err
	}
	t := time.Now()
	cluster, err := StartCluster(ctx, cfg.APIServer, cfg.KCM, cfg.Etcd, logf)
	if err != nil {
		return nil, err
	}
	defer cluster.Stop()
	logf("cluster ready at %s in %s", cluster.URL, time.Since(t).Round(time.Millisecond))
	cl := NewClient(cluster.URL, cluster.Token)
	if err := cl.Discover(ctx); err != nil {
		return nil, err
	}
	rp, err := NewReplayer(cl, logf)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Replay: rp}
	rs := cfg.Repos
	if rs == nil {
		var cleanup func()
		rs, cleanup, err = repos(root)
		if err != nil {
			return nil, err
		}
		defer cleanup()
	}
	// Wait for the bootstrap aggregated roles (admin, edit, view).
	rp.waitAggregation(ctx)
	for _, repo := range rs {
		if err := rp.Replay(ctx, repo); err != nil {
			return out, err
		}
	}
	if cfg.Matrix > 0 {
		m, err := RunMatrix(ctx, cl, cfg.Matrix, cfg.Seed, logf)
		out.Matrix = m
		if err != nil {
			return out, fmt.Errorf("matrix: %w", err)
		}
	}
	return out, nil
}

// Print writes the agreement table and the disagreements.
func (o *Outcome) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "REPO\tENVIRONMENT\tOBJECTS\tAGREE\tDISAGREE\tUNDECIDED\tAPI DENIED\t(ESCALATION)\tAPI INVALID\tDELETE SARs\tVAP+BINDINGS\t(REFUSED)\tADMISSION DENIED\tADMISSION WARNED")
	rp := o.Replay
	if rp != nil {
		for _, r := range rp.Results {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", r.Repo, r.Env, r.Objects, r.Agree, r.Disagree, r.Uncertain, r.Denied, r.Escalation, r.Invalid, r.PruneChecked, r.Policies, r.Refused, r.AdmissionDenied, r.AdmissionWarned)
		}
	}
	fmt.Fprintf(tw, "matrix\t(SubjectAccessReview vs rbacsim)\t%d\t%d\t%d\t-\t%d\t-\t-\t-\t-\t-\t-\t-\n", o.Matrix.Cases, o.Matrix.Agree, len(o.Matrix.Diffs), o.Matrix.Cases-o.Matrix.Allowed)
	tw.Flush()
	if o.Matrix.Cases > 0 {
		fmt.Fprintf(w, "matrix: the apiserver allowed %d of %d cases and denied %d\n", o.Matrix.Allowed, o.Matrix.Cases, o.Matrix.Cases-o.Matrix.Allowed)
	}
	section := func(title string, ds []Disagreement) {
		if len(ds) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s (%d):\n", title, len(ds))
		for _, d := range ds {
			fmt.Fprintf(w, "- %s: %s [%s]\n    apiserver:   %s\n    gitops-lint: %s\n", d.Where, d.Object, d.Aspect, oneLine(d.Apiserver), oneLine(d.Lint))
		}
	}
	if rp != nil {
		section("Disagreements (replay)", rp.Diffs)
	}
	section("Disagreements (matrix)", o.Matrix.Diffs)
	if rp != nil {
		section("Undecided (the apiserver's answer decides nothing gitops-lint checks)", rp.Unsure)
		section("Forbidden-message wording differences (recorded, not failures)", rp.Wording)
		if len(rp.Warnings) > 0 {
			fmt.Fprintf(w, "\nWarnings (%d):\n", len(rp.Warnings))
			for _, s := range rp.Warnings {
				fmt.Fprintf(w, "- %s\n", oneLine(s))
			}
		}
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

// extractTxtar writes the files of archive under prefix into dir.
func extractTxtar(archive, prefix, dir string) error {
	a, err := txtar.ParseFile(archive)
	if err != nil {
		return err
	}
	n := 0
	for _, f := range a.Files {
		if !strings.HasPrefix(f.Name, prefix) {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(f.Name, prefix)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%s: no %s files", archive, prefix)
	}
	return nil
}
