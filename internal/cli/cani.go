package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/identity"
	"github.com/gitops-lint/gitops-lint/internal/rbacsim"
)

type canIFlags struct {
	as, namespace, name string
}

func newCanICommand(a *app) *cobra.Command {
	fv := &flagValues{}
	cf := &canIFlags{}
	cmd := &cobra.Command{
		Use:   "can-i VERB RESOURCE[.GROUP][/SUBRESOURCE] [PATH] --as NAMESPACE/SERVICEACCOUNT",
		Short: "Answer whether a ServiceAccount may do something, from the repository's RBAC (kubectl auth can-i, offline)",
		Long: `can-i renders the repository at PATH (default ".") and answers, for each
environment, whether the ServiceAccount may make the request, from the Roles,
ClusterRoles (aggregation resolved) and bindings the environment renders plus
Kubernetes' bootstrap policy — the same rule matching the apiserver uses. It
names the bindings that grant the permission.

Exit codes: 0 yes in every environment, 1 no in at least one, 2 usage error.`,
		Example: `  gitops-lint can-i --as team-a/flux-reconciler create cronjobs.batch -n team-a
  gitops-lint can-i --as team-a/flux-reconciler patch deployments.apps/scale -n team-a --env dev`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 || len(args) > 3 {
				return finding.Usagef("can-i takes VERB RESOURCE[.GROUP] and an optional PATH, got %q", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.canI(cmd, fv, cf, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cf.as, "as", "", "the ServiceAccount, `NAMESPACE/NAME` (required)")
	fs.StringVarP(&cf.namespace, "namespace", "n", "", "the namespace of the request (empty: cluster scope)")
	fs.StringVar(&cf.name, "name", "", "the name of the object the request is about (for resourceNames rules)")
	addCommonFlags(fs, fv)
	fs.SortFlags = false
	return cmd
}

// parseResource splits kubectl's RESOURCE[.GROUP][/SUBRESOURCE].
func parseResource(s string) (resource, group, subresource string) {
	s, subresource, _ = strings.Cut(s, "/")
	resource, group, _ = strings.Cut(s, ".")
	return resource, group, subresource
}

func (a *app) canI(cmd *cobra.Command, fv *flagValues, cf *canIFlags, args []string) error {
	ns, name, ok := strings.Cut(cf.as, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return finding.Usagef("--as: want NAMESPACE/SERVICEACCOUNT, got %q", cf.as)
	}
	opts, err := a.options(cmd, fv, args[2:], false)
	if err != nil {
		return err
	}
	checker, err := rbacsim.Load(rbacsim.Options{RBACDirs: opts.RBACDirs, FileBytes: opts.Limits.Or().FileBytes, Budget: opts.Budget})
	if err != nil {
		return err
	}
	res, err := a.renderRepo(cmd.Context(), opts)
	if err != nil {
		return err
	}
	resource, group, sub := parseResource(args[1])
	req := rbacsim.Request{Verb: args[0], APIGroup: group, Resource: resource, Subresource: sub, Name: cf.name, Namespace: cf.namespace}
	id := identity.Identity{Namespace: ns, Name: name}
	if len(res.Environments) == 0 {
		return finding.Usagef("no environment found in %s", displayPath(opts.Root))
	}
	allYes := true
	for _, env := range res.Environments {
		yes, grants := checker.CanI(env, id, req)
		answer := "no"
		if yes {
			answer = "yes"
			var by []string
			for _, g := range grants {
				by = append(by, g.String())
			}
			answer += " — " + strings.Join(by, ", ")
		} else {
			allYes = false
		}
		prefix := ""
		if len(res.Environments) > 1 {
			prefix = env.Name + ": "
		}
		fmt.Fprintln(a.stdout, prefix+answer)
	}
	if !allYes {
		a.exitCode = finding.ExitFindings
	}
	return nil
}
