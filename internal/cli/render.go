package cli

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/gitops-lint/gitops-lint/internal/converge"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/identity"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/report"
)

func newRenderCommand(a *app) *cobra.Command {
	fv := &flagValues{}
	cmd := &cobra.Command{
		Use:   "render [PATH]",
		Short: "Print the rendered objects as a YAML stream",
		Long: `Render prints every object kustomize-controller would apply for the
repository at PATH (default "."), as a YAML stream on stdout. Each object is
preceded by a comment naming the source file and line it came from, its
environment and its Flux Kustomization:

  # Source: deploy/base/service.yaml:4 (dev flux-system/apps, applied as …)

Render findings go to stderr, followed by a summary line of what was
rendered and how long it took (always; stdout holds the stream only). The
exit code is 1 when there is an error among the
findings.`,
		Example: `  gitops-lint render --env dev --kustomization flux-system/apps`,
		Args:    maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.render(cmd, fv, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&fv.kustomization, flagKustomization, "", "print only the objects of the Flux Kustomization `NAMESPACE/NAME`")
	fs.StringVar(&fv.graph, "graph", "", "print the dependsOn graph of each environment instead of the objects: text (the default for a bare --graph) or dot, with the longest chain and the time to converge")
	fs.Lookup("graph").NoOptDefVal = "text"
	addCommonFlags(fs, fv)
	fs.SortFlags = false
	return cmd
}

func (a *app) render(cmd *cobra.Command, fv *flagValues, args []string) error {
	opts, err := a.options(cmd, fv, args, false)
	if err != nil {
		return err
	}
	start := time.Now()
	stop := a.progress("rendering " + displayPath(opts.Root))
	res, err := a.renderRepo(cmd.Context(), opts)
	stop()
	if err != nil {
		return err
	}

	if fv.graph != "" {
		p, err := report.Graph.New(fv.graph)
		if err != nil {
			return finding.Usagef("--graph: want %s, got %q", report.Graph.Choices(), fv.graph)
		}
		graphs := make([]*converge.Graph, 0, len(res.Environments))
		for _, env := range res.Environments {
			graphs = append(graphs, converge.BuildGraph(env))
		}
		if err := p.Write(a.stdout, graphs); err != nil {
			return fmt.Errorf("write graph: %w", err)
		}
		return nil
	}
	// summary counts what the stream holds: with --kustomization, the
	// environments that have it.
	var (
		out     bytes.Buffer
		summary finding.Summary
	)
	for _, env := range res.Environments {
		shown := false
		for _, k := range env.Kustomizations {
			if opts.Kustomization != "" && k.ID() != opts.Kustomization {
				continue
			}
			if res.Tenant && !k.Linted {
				continue // tenant mode shows the tenant's objects
			}
			shown = true
			countUnit(&summary, k)
			for _, o := range k.Objects {
				if err := writeObject(&out, env, k, o); err != nil {
					return err
				}
			}
		}
		if shown || opts.Kustomization == "" {
			summary.Environments++
		}
	}
	summary.DurationMs = time.Since(start).Milliseconds()
	if opts.Kustomization != "" && summary.Kustomizations+summary.HelmReleases == 0 {
		return finding.Usagef("--%s %s: no such Flux Kustomization in %s", flagKustomization, opts.Kustomization, displayPath(opts.Root))
	}

	findings := res.Findings
	if opts.Kustomization != "" {
		findings = nil
		for _, f := range res.Findings {
			if f.Kustomization == "" || f.Kustomization == opts.Kustomization {
				findings = append(findings, f)
			}
		}
	}
	findings = finding.Sort(findings)

	if _, err := a.stdout.Write(out.Bytes()); err != nil {
		return fmt.Errorf("write rendered objects: %w", err)
	}
	// The findings and the summary go to stderr: stdout is the stream.
	{
		w, err := report.New(string(report.FormatText), report.WithColor(a.colorStderr()), report.WithLimit(opts.Limits.Or().ReportBytes))
		if err != nil {
			return err
		}
		summary.Count(findings)
		rep := &report.Report{
			Tool:     report.Tool{Name: toolName, Version: Version()},
			Summary:  summary,
			Findings: findings,
		}
		if err := w.Write(a.stderr, rep); err != nil {
			return err
		}
	}
	a.exitCode = finding.ExitCode(findings, finding.FailOnError)
	return nil
}

// writeObject writes one document of the stream:
//
//	---
//	# Source: deploy/base/service.yaml:4 (dev flux-system/apps, applied as kustomize-controller's own identity)
//	apiVersion: v1
//	…
func writeObject(w io.Writer, env *render.Environment, k *render.Kustomization, o *render.Object) error {
	src := o.File
	if src == "" {
		src = o.OriginPath // from another source: its path there
	}
	if src == "" {
		src = "(generated)"
	} else if o.Line > 0 {
		src += ":" + strconv.Itoa(o.Line)
	}
	as := "kustomize-controller's own identity"
	if k.Kind == render.KindHelmRelease {
		as = "helm-controller's own identity"
	}
	if id, ok := identity.Of(env, k); ok {
		as = id.User()
	}
	if _, err := fmt.Fprintf(w, "---\n# Source: %s (%s %s, applied as %s)\n", src, env.Name, k.ID(), as); err != nil {
		return fmt.Errorf("write rendered object: %w", err)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(o.Content); err != nil {
		return fmt.Errorf("encode %s: %w", o.Ref(), err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode %s: %w", o.Ref(), err)
	}
	return nil
}
