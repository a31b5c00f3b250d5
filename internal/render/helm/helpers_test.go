package helm

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/<name>.golden (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file:\n--- want\n%s\n--- got\n%s", p, want, got)
	}
}

// writeTree writes files (path → content) under dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// show prints manifests like `helm template`, with the Manifest fields.
func show(t *testing.T, ms []Manifest) string {
	t.Helper()
	var b strings.Builder
	for _, m := range ms {
		b.WriteString("---\n# Source: " + m.Template)
		b.WriteString(" index=" + itoa(m.Index))
		if m.Hook != "" {
			b.WriteString(" hook=" + m.Hook)
		}
		if m.CRD {
			b.WriteString(" crd")
		}
		b.WriteString("\n")
		y, err := yaml.Marshal(m.Object)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(y)
	}
	return b.String()
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// demoChart is a chart exercising the behaviours under test, with a
// file:// subchart beside it. It returns the chart directory.
func demoChart(t testing.TB, extra map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"demo/Chart.yaml": `apiVersion: v2
name: demo
version: 1.2.3
appVersion: "4.5"
dependencies:
  - name: sub
    version: ">=0.1.0"
    repository: file://../sub
    condition: sub.enabled
`,
		"demo/values.yaml": `replicas: 1
image: nginx:1.0
nested:
  a: 1
  b: 2
sub:
  enabled: true
`,
		"demo/values-prod.yaml": `replicas: 3
nested:
  a: 10
`,
		"demo/values-extra.yaml": `image: nginx:2.0
`,
		"demo/values.schema.json": `{
  "$schema": "https://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "replicas": {"type": "integer", "minimum": 1}
  }
}
`,
		"demo/templates/_helpers.tpl": `{{- define "demo.labels" -}}
app: {{ .Chart.Name }}
{{- end -}}
`,
		"demo/templates/NOTES.txt": `Installed {{ .Release.Name }}.`,
		"demo/templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    {{- include "demo.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels:
      {{- include "demo.labels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "demo.labels" . | nindent 8 }}
      annotations:
        nested: {{ .Values.nested | toJson | quote }}
    spec:
      containers:
        - name: app
          image: {{ .Values.image }}
`,
		"demo/templates/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  ports:
    - port: 80
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .Release.Name }}
  namespace: explicit
`,
		"demo/templates/monitor.yaml": `{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ .Release.Name }}
spec:
  endpoints:
    - port: http
{{- end }}
`,
		"demo/templates/info.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-info
data:
  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
  hasPodV1: {{ .Capabilities.APIVersions.Has "v1/Pod" | quote }}
  release: {{ printf "%s/%s install=%t upgrade=%t revision=%d service=%s" .Release.Namespace .Release.Name .Release.IsInstall .Release.IsUpgrade .Release.Revision .Release.Service | quote }}
  chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
`,
		"demo/templates/hooks.yaml": `apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-5"
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: {{ .Values.image }}
---
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test
  annotations:
    helm.sh/hook: test
spec:
  restartPolicy: Never
  containers:
    - name: test
      image: busybox
`,
		"demo/crds/widgets.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    plural: widgets
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: not-a-crd
`,
		"sub/Chart.yaml": `apiVersion: v2
name: sub
version: 0.2.0
`,
		"sub/values.yaml": `greeting: hello
`,
		"sub/templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-sub
data:
  greeting: {{ .Values.greeting }}
`,
	}
	for k, v := range extra {
		files[k] = v
	}
	writeTree(t, root, files)
	return filepath.Join(root, "demo")
}

func scope(apiVersion, kind string) (bool, bool) {
	switch kind {
	case "Namespace", "ClusterRole", "CustomResourceDefinition":
		return false, true
	case "Deployment", "Service", "ServiceAccount", "ConfigMap", "Job", "Pod", "Secret":
		return true, true
	}
	return false, false
}

func baseOptions() Options {
	o := Options{ReleaseName: "demo", Namespace: "apps", KubeVersion: "1.36", Namespaced: scope}
	o.Origin.Name, o.Origin.Namespace = "demo", "flux-system"
	return o
}
