package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FleetClusters are the clusters of a synthetic fleet: each follows the
// same apps, overlaid per cluster.
var FleetClusters = []string{"dev", "prod"}

// WriteFleet writes a synthetic Flux fleet of n application
// Kustomizations into dir, shaped like the repositories platform teams run:
// a bootstrap sync per cluster (FleetClusters), an infrastructure
// Kustomization creating one Namespace per team (50 teams), and n/len
// (clusters) Flux Kustomizations per cluster, each building an
// application directory (a Deployment, a Service and a ConfigMap, through
// a shared base and a per-cluster patch) with postBuild substitution,
// impersonating its team's ServiceAccount and depending on the
// infrastructure, listed per team. So n Kustomizations render about 3n
// objects. The tree
// is deterministic: the same n always writes the same bytes.
func WriteFleet(dir string, n int) error {
	const teams = 50
	files := map[string]string{}
	perCluster := max(1, n/len(FleetClusters))
	apps := perCluster
	files["base/app/kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deployment.yaml, service.yaml, configmap.yaml]\n"
	files["base/app/deployment.yaml"] = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  labels: {app.kubernetes.io/name: app}
spec:
  replicas: 1
  selector:
    matchLabels: {app.kubernetes.io/name: app}
  template:
    metadata:
      labels: {app.kubernetes.io/name: app}
    spec:
      containers:
        - name: app
          image: ghcr.io/example/app:1.0.0
          ports: [{containerPort: 8080, name: http}]
          env:
            - {name: CLUSTER, value: "${CLUSTER}"}
            - {name: TEAM, value: "${TEAM}"}
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {memory: 64Mi}
`
	files["base/app/service.yaml"] = "apiVersion: v1\nkind: Service\nmetadata:\n  name: app\nspec:\n  selector: {app.kubernetes.io/name: app}\n  ports: [{port: 80, targetPort: http}]\n"
	files["base/app/configmap.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  cluster: \"${CLUSTER}\"\n  level: \"${LOG_LEVEL:=info}\"\n"
	var infra strings.Builder
	for t := range teams {
		fmt.Fprintf(&infra, "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-%02d\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: deployer\n  namespace: team-%02d\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: deployer\n  namespace: team-%02d\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}\nsubjects: [{kind: ServiceAccount, name: deployer, namespace: team-%02d}]\n", t, t, t, t)
	}
	files["infrastructure/teams.yaml"] = infra.String()
	files["infrastructure/kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [teams.yaml]\n"
	for i := range apps {
		files[fmt.Sprintf("apps/app-%05d/kustomization.yaml", i)] = fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamePrefix: a%05d-\nresources: [../../base/app]\nlabels:\n  - pairs: {app.example.com/id: \"%05d\"}\n", i, i)
	}
	for _, c := range FleetClusters {
		files["clusters/"+c+"/flux-system/gotk-sync.yaml"] = fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 1m
  url: https://example.com/fleet.git
  ref: {branch: %s}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 10m
  path: ./clusters/%s
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`, map[bool]string{true: "main", false: c}[c == "prod"], c)
		files["clusters/"+c+"/infrastructure.yaml"] = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: infrastructure, namespace: flux-system}
spec:
  interval: 10m
  path: ./infrastructure
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`
		// Grouped per team, as real fleets are: one kustomization listing
		// thousands of files is quadratic in kustomize itself.
		lists := make([]strings.Builder, teams)
		for i := range apps {
			team := fmt.Sprintf("team-%02d", i%teams)
			name := fmt.Sprintf("app-%05d.yaml", i)
			fmt.Fprintf(&lists[i%teams], "  - %s\n", name)
			files["fleet/"+c+"/"+team+"/"+name] = fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app-%05d, namespace: %s}
spec:
  interval: 10m
  dependsOn: [{name: infrastructure, namespace: flux-system}]
  path: ./apps/app-%05d
  prune: true
  serviceAccountName: deployer
  targetNamespace: %s
  sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
  postBuild:
    substitute: {CLUSTER: %s, TEAM: %s}
`, i, team, i, team, c, team)
		}
		var top strings.Builder
		top.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
		for t := range teams {
			if lists[t].Len() == 0 {
				continue
			}
			team := fmt.Sprintf("team-%02d", t)
			fmt.Fprintf(&top, "  - %s\n", team)
			files["fleet/"+c+"/"+team+"/kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n" + lists[t].String()
		}
		files["fleet/"+c+"/kustomization.yaml"] = top.String()
		files["clusters/"+c+"/apps.yaml"] = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  dependsOn: [{name: infrastructure}]
  path: ./fleet/` + c + `
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`
	}
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
