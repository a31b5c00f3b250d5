package gatekeeper

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkReview reviews 500 Deployments against 20 constraints (five of
// each loadable template) and reports the time per object.
func BenchmarkReview(b *testing.B) {
	srcs := readSources(b, filepath.Join("testdata", "policy", "templates.yaml"))
	for i := range 5 {
		srcs = append(srcs,
			constraint("K8sRequiredLabels", i, "deny", map[string]any{"labels": []any{"team", fmt.Sprintf("l%d", i)}}),
			constraint("K8sAllowedRepos", i, "warn", map[string]any{"repos": []any{fmt.Sprintf("registry%d.example.com/", i)}}),
			constraint("K8sDisallowedTags", i, "deny", map[string]any{"tags": []any{"latest", fmt.Sprintf("v%d", i)}}),
			constraint("K8sBlockedUsers", i, "dryrun", map[string]any{"users": []any{fmt.Sprintf("user%d", i)}}),
		)
	}
	p, probs, err := Load(context.Background(), srcs)
	if err != nil || len(probs) != 0 || p.Constraints() != 20 {
		b.Fatal(err, probs, p.Constraints())
	}
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "team-a", "labels": map[string]any{"env": "prod"}}}
	objs := make([]Source, 500)
	for i := range objs {
		objs[i] = Source{File: "bench.yaml", Line: i + 1, Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": fmt.Sprintf("app-%d", i), "namespace": "team-a", "labels": map[string]any{"team": "a"}},
			"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
				map[string]any{"name": "app", "image": fmt.Sprintf("registry%d.example.com/app:%d", i%7, i)},
				map[string]any{"name": "sidecar", "image": "docker.io/envoy:latest"},
			}}}},
		}}
	}
	ctx := context.Background()
	b.ResetTimer()
	violations := 0
	for b.Loop() {
		for _, o := range objs {
			vs, _, err := p.Review(ctx, o, ns, "alice", nil)
			if err != nil {
				b.Fatal(err)
			}
			violations += len(vs)
		}
	}
	if violations == 0 {
		b.Fatal("no violations")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(objs)), "ns/object")
}

func constraint(kind string, i int, action string, params map[string]any) Source {
	return Source{File: "bench-constraints.yaml", Line: i + 1, Object: map[string]any{
		"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": kind,
		"metadata": map[string]any{"name": fmt.Sprintf("c%d", i)},
		"spec": map[string]any{
			"enforcementAction": action,
			"match":             map[string]any{"kinds": []any{map[string]any{"apiGroups": []any{"apps"}, "kinds": []any{"Deployment"}}}},
			"parameters":        params,
		},
	}}
}
