package helm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fluxchartutil "github.com/fluxcd/pkg/chartutil"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"sigs.k8s.io/yaml"
)

func mustLoadDir(t *testing.T, dir string) *Chart {
	t.Helper()
	c, err := LoadDir(dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustRender(t *testing.T, c *Chart, values map[string]any, o Options) []Manifest {
	t.Helper()
	ms, err := Render(context.Background(), c, values, o)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func hrFrom(t *testing.T, y string) map[string]any {
	t.Helper()
	var hr map[string]any
	if err := yaml.Unmarshal([]byte(y), &hr); err != nil {
		t.Fatal(err)
	}
	return hr
}

func TestReleaseName(t *testing.T) {
	var b strings.Builder
	for _, hr := range []string{
		`{metadata: {name: podinfo, namespace: apps}}`,
		`{metadata: {name: podinfo, namespace: apps}, spec: {targetNamespace: prod}}`,
		`{metadata: {name: podinfo, namespace: apps}, spec: {targetNamespace: prod, releaseName: custom}}`,
		`{metadata: {name: a-very-long-helmrelease-name-that-goes-on, namespace: apps}, spec: {targetNamespace: the-target-namespace}}`,
		`{metadata: {name: exactly-fifty-three-characters-long-release-name-xxxx, namespace: apps}}`,
		`{metadata: {name: podinfo, namespace: apps}, spec: {releaseName: a-release-name-given-explicitly-that-is-longer-than-53-chars}}`,
	} {
		m := hrFrom(t, hr)
		name := ReleaseName(m)
		if len(name) > 53 {
			t.Errorf("%s: %q is longer than 53", hr, name)
		}
		fmt.Fprintf(&b, "%s\n  name=%s (%d) namespace=%s\n", hr, name, len(name), ReleaseNamespace(m))
	}
	golden(t, "release-name", b.String())
}

func TestComposeValues(t *testing.T) {
	src := func(kind, ns, name string) (map[string]string, bool) {
		switch kind + "/" + ns + "/" + name {
		case "ConfigMap/apps/base":
			return map[string]string{"values.yaml": "replicas: 2\nimage: base\nlist: [1, 2]\nnested: {a: 1, b: 1}\n", "custom": "nested: {b: 5}\n"}, true
		case "Secret/apps/creds":
			return map[string]string{"values.yaml": "password: s3cret\nnested: {c: 3}\n", "token": "abc", "csv": "abc,def", "quoted": `"007"`, "number": "007"}, true
		}
		return nil, false
	}
	hr := hrFrom(t, `
metadata: {name: demo, namespace: apps}
spec:
  valuesFrom:
    - kind: ConfigMap
      name: base
    - kind: ConfigMap
      name: base
      valuesKey: custom
    - kind: Secret
      name: creds
    - kind: Secret
      name: creds
      valuesKey: token
      targetPath: auth.token
    - kind: Secret
      name: creds
      valuesKey: quoted
      targetPath: auth.quoted
    - kind: Secret
      name: creds
      valuesKey: csv
      targetPath: auth.literal
      literal: true
    - kind: Secret
      name: creds
      valuesKey: number
      targetPath: auth.number
    - kind: ConfigMap
      name: absent
      optional: true
    - kind: ConfigMap
      name: base
      valuesKey: absent-key
      optional: true
  values:
    image: override
    list: [3]
`)
	got, err := ComposeValues(context.Background(), hr, src)
	if err != nil {
		t.Fatal(err)
	}
	y, _ := yaml.Marshal(got)
	var b strings.Builder
	b.WriteString(string(y))

	for _, bad := range []string{
		`{metadata: {name: demo, namespace: apps}, spec: {valuesFrom: [{kind: ConfigMap, name: absent}]}}`,
		`{metadata: {name: demo, namespace: apps}, spec: {valuesFrom: [{kind: Secret, name: creds, valuesKey: nope}]}}`,
		`{metadata: {name: demo, namespace: apps}, spec: {valuesFrom: [{kind: Secret, name: creds, valuesKey: csv, targetPath: a.b}]}}`,
	} {
		_, err := ComposeValues(context.Background(), hrFrom(t, bad), src)
		var ref *fluxchartutil.ErrValuesReference
		if !errors.As(err, &ref) {
			t.Fatalf("%s: want ErrValuesReference, got %v", bad, err)
		}
		fmt.Fprintf(&b, "error: %v\n", err)
	}
	golden(t, "compose-values", b.String())
}

func TestRenderFull(t *testing.T) {
	c := mustLoadDir(t, demoChart(t, nil))
	if c.Name() != "demo" || c.Version() != "1.2.3" {
		t.Fatalf("chart %s@%s", c.Name(), c.Version())
	}
	o := baseOptions()
	o.IncludeCRDs = true
	golden(t, "render-full", show(t, mustRender(t, c, map[string]any{"replicas": 2}, o)))
}

func TestValuesFilesReplaceDefaults(t *testing.T) {
	dir := demoChart(t, nil)
	c := mustLoadDir(t, dir)
	o := baseOptions()
	o.ValuesFiles = []string{"values-prod.yaml", "./values-extra.yaml"}
	ms := mustRender(t, c, nil, o)
	var dep Manifest
	for _, m := range ms {
		if m.Object["kind"] == "Deployment" {
			dep = m
		}
	}
	// values.yaml replaced: nested.b and sub.enabled gone; the subchart is
	// still rendered (its condition path is absent, so enabled).
	golden(t, "values-files", show(t, []Manifest{dep}))

	// Source-relative paths, as for a GitRepository.
	o.ValuesFiles = []string{"demo/values-prod.yaml"}
	o.ValuesFilesRoot = filepath.Dir(dir)
	if _, err := Render(context.Background(), c, nil, o); err != nil {
		t.Fatal(err)
	}
	o.ValuesFiles = []string{"../../etc/passwd"}
	if _, err := Render(context.Background(), c, nil, o); err == nil || !strings.Contains(err.Error(), "outside of the source root") {
		t.Fatalf("escape: %v", err)
	}
	o.ValuesFiles = []string{"missing.yaml"}
	o.ValuesFilesRoot = ""
	if _, err := Render(context.Background(), c, nil, o); err == nil {
		t.Fatal("missing values file: no error")
	}
	o.IgnoreMissingValuesFiles = true
	if _, err := Render(context.Background(), c, nil, o); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaFailure(t *testing.T) {
	c := mustLoadDir(t, demoChart(t, nil))
	o := baseOptions()
	_, err := Render(context.Background(), c, map[string]any{"replicas": "two"}, o)
	if err == nil {
		t.Fatal("no schema error")
	}
	var ie *InstallError
	if !errors.As(err, &ie) {
		t.Fatalf("not an InstallError: %T", err)
	}
	o.DisableSchemaValidation = true
	if _, err := Render(context.Background(), c, map[string]any{"replicas": 0}, o); err != nil {
		t.Fatalf("schema validation not disabled: %v", err)
	}
	golden(t, "schema-failure", err.Error()+"\n")
}

func TestCapabilities(t *testing.T) {
	c := mustLoadDir(t, demoChart(t, nil))
	var b strings.Builder
	for _, apis := range [][]string{nil, {"v1", "v1/Pod", "apps/v1", "monitoring.coreos.com/v1", "monitoring.coreos.com/v1/ServiceMonitor"}} {
		o := baseOptions()
		o.APIVersions = apis
		for _, m := range mustRender(t, c, nil, o) {
			if m.Object["kind"] == "ServiceMonitor" || m.Template == "demo/templates/info.yaml" {
				b.WriteString(show(t, []Manifest{m}))
			}
		}
		b.WriteString("===\n")
	}
	o := baseOptions()
	o.KubeVersion = "1.29.4"
	for _, m := range mustRender(t, c, nil, o) {
		if m.Template == "demo/templates/info.yaml" {
			b.WriteString(show(t, []Manifest{m}))
		}
	}
	golden(t, "capabilities", b.String())
}

func TestKubeVersionConstraint(t *testing.T) {
	dir := demoChart(t, nil)
	cy, _ := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	writeTree(t, dir, map[string]string{"Chart.yaml": string(cy) + "kubeVersion: \">=1.40.0-0\"\n"})
	c := mustLoadDir(t, dir)
	_, err := Render(context.Background(), c, nil, baseOptions())
	if err == nil || !strings.Contains(err.Error(), "chart requires kubeVersion: >=1.40.0-0 which is incompatible with Kubernetes v1.36.0") {
		t.Fatalf("got %v", err)
	}
}

const randomTemplate = `apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-random
stringData:
  alnum: {{ randAlphaNum 16 | quote }}
  alpha: {{ randAlpha 8 | quote }}
  num: {{ randNumeric 6 | quote }}
  ascii: {{ randAscii 10 | toJson }}
  bytes: {{ randBytes 8 | quote }}
  int: {{ randInt 1 1000 | quote }}
  uuid: {{ uuidv4 | quote }}
  shuffle: {{ shuffle "abcdefgh" | quote }}
  now: {{ now | date "2006-01-02T15:04:05Z07:00" | quote }}
  html: {{ now | htmlDate | quote }}
  ago: {{ ago (toDate "2006-01-02" "2024-12-31") | quote }}
  bcrypt: {{ bcrypt "pw" | quote }}
  htpasswd: {{ htpasswd "user" "pw" | quote }}
  aes: {{ encryptAES "key" "plain" | quote }}
  aesRoundTrip: {{ encryptAES "key" "plain" | decryptAES "key" | quote }}
  {{- $ca := genCA "demo-ca" 365 }}
  ca.crt: {{ $ca.Cert | b64enc | quote }}
  ca.key: {{ $ca.Key | b64enc | quote }}
  {{- $cert := genSignedCert "demo" (list "10.0.0.1") (list "demo.svc") 30 $ca }}
  tls.crt: {{ $cert.Cert | b64enc | quote }}
  {{- $self := genSelfSignedCert "self" nil nil 10 }}
  self.crt: {{ $self.Cert | sha256sum | quote }}
  key: {{ genPrivateKey "rsa" | sha256sum | quote }}
  {{- $withKey := genCAWithKey "k" 1 (genPrivateKey "ed25519") }}
  withKey: {{ $withKey.Cert | sha256sum | quote }}
`

func TestDeterministic(t *testing.T) {
	dir := demoChart(t, map[string]string{"demo/templates/random.yaml": randomTemplate})
	o := baseOptions()
	o.IncludeCRDs, o.IncludeTests = true, true
	first := show(t, mustRender(t, mustLoadDir(t, dir), nil, o))
	c := mustLoadDir(t, dir)
	for range 3 {
		if again := show(t, mustRender(t, c, nil, o)); again != first {
			t.Fatalf("renders differ:\n%s\n---\n%s", first, again)
		}
	}
	if !strings.Contains(first, "2025-01-01T00:00:00Z") {
		t.Error("fixed clock not used")
	}
	// The seed follows the release; another release gets other values.
	o.ReleaseName = "other"
	if other := show(t, mustRender(t, c, nil, o)); strings.Contains(other, extract(first, "alnum:")) {
		t.Error("seed does not depend on the release")
	}
	var random []Manifest
	for _, m := range mustRender(t, c, nil, baseOptions()) {
		if m.Template == "demo/templates/random.yaml" {
			random = append(random, m)
		}
	}
	golden(t, "deterministic", show(t, random))
}

func extract(s, key string) string {
	i := strings.Index(s, key)
	if i < 0 {
		return "\x00"
	}
	line := s[i:]
	return line[:strings.IndexByte(line, '\n')]
}

func TestHooksAndTests(t *testing.T) {
	c := mustLoadDir(t, demoChart(t, nil))
	var b strings.Builder
	for _, tc := range []struct {
		name               string
		tests, disableHook bool
	}{{"default", false, false}, {"tests", true, false}, {"disableHooks", true, true}} {
		o := baseOptions()
		o.IncludeTests, o.DisableHooks = tc.tests, tc.disableHook
		fmt.Fprintf(&b, "== %s\n", tc.name)
		for _, m := range mustRender(t, c, nil, o) {
			md := m.Object["metadata"].(map[string]any)
			fmt.Fprintf(&b, "%s %s index=%d hook=%q\n", m.Object["kind"], md["name"], m.Index, m.Hook)
		}
	}
	golden(t, "hooks", b.String())
}

func TestCRDPolicy(t *testing.T) {
	c := mustLoadDir(t, demoChart(t, nil))
	var b strings.Builder
	for _, policy := range []string{"", "Create", "CreateReplace", "Skip", "Bogus"} {
		hr := hrFrom(t, `{metadata: {name: demo, namespace: apps}, spec: {install: {crds: "`+policy+`"}}}`)
		o, err := OptionsFor(hr)
		if err != nil {
			fmt.Fprintf(&b, "%q: error: %v\n", policy, err)
			continue
		}
		n := 0
		for _, m := range mustRender(t, c, nil, o) {
			if m.CRD {
				n++
				if m.Object["kind"] != "CustomResourceDefinition" {
					t.Errorf("non-CRD from crds/: %v", m.Object["kind"])
				}
			}
		}
		fmt.Fprintf(&b, "%q: include=%t crds=%d\n", policy, o.IncludeCRDs, n)
	}
	golden(t, "crd-policy", b.String())
}

func TestPostRenderers(t *testing.T) {
	c := mustLoadDir(t, demoChart(t, nil))
	hr := hrFrom(t, `
metadata: {name: demo, namespace: flux-system}
spec:
  targetNamespace: apps
  releaseName: demo
  commonMetadata:
    labels:
      team: web
      helm.toolkit.fluxcd.io/name: collides
    annotations:
      owner: web@example.com
  postRenderers:
    - kustomize:
        patches:
          - patch: |
              apiVersion: apps/v1
              kind: Deployment
              metadata:
                name: demo
              spec:
                template:
                  spec:
                    containers:
                      - name: app
                        env:
                          - name: FROM_SMP
                            value: "1"
          - target:
              kind: Service
              name: demo
            patch: |
              - op: add
                path: /spec/type
                value: NodePort
        images:
          - name: nginx
            newName: registry.example.com/nginx
            newTag: "9.9"
    - kustomize:
        patches:
          - target:
              kind: Deployment
            patch: |
              - op: replace
                path: /spec/replicas
                value: 7
`)
	o, err := OptionsFor(hr)
	if err != nil {
		t.Fatal(err)
	}
	o.Namespaced, o.KubeVersion = scope, "1.36"
	ms := mustRender(t, c, nil, o)
	for _, m := range ms {
		labels, _ := m.Object["metadata"].(map[string]any)["labels"].(map[string]any)
		if labels["helm.toolkit.fluxcd.io/name"] != "demo" || labels["helm.toolkit.fluxcd.io/namespace"] != "flux-system" {
			t.Errorf("%s: origin labels %v", m.Template, labels)
		}
		if !m.CRD && labels["team"] != "web" {
			t.Errorf("%s: common labels %v", m.Template, labels)
		}
	}
	golden(t, "post-render", show(t, ms))

	// nohooks: hooks skip the post-renderers (no common label on the Job).
	o.PostRenderStrategy = "nohooks"
	for _, m := range mustRender(t, c, nil, o) {
		labels, _ := m.Object["metadata"].(map[string]any)["labels"].(map[string]any)
		if !m.CRD && (m.Hook != "") == (labels["team"] == "web") {
			t.Errorf("nohooks: %s hook=%q labels=%v", m.Template, m.Hook, labels)
		}
	}
	// separate: hooks are post-rendered on their own, where the patch
	// naming the Deployment finds no target: Helm 4.2 fails so too.
	o.PostRenderStrategy = "separate"
	if _, err := Render(context.Background(), c, nil, o); err == nil || !strings.Contains(err.Error(), "error while running post render on hooks: no resource matches strategic merge patch") {
		t.Fatalf("separate: %v", err)
	}
	o.PostRenderers = nil
	for _, m := range mustRender(t, c, nil, o) {
		labels, _ := m.Object["metadata"].(map[string]any)["labels"].(map[string]any)
		if !m.CRD && labels["team"] != "web" {
			t.Errorf("separate: %s labels=%v", m.Template, labels)
		}
	}
	o.PostRenderStrategy = "bogus"
	if _, err := Render(context.Background(), c, nil, o); err == nil || !strings.Contains(err.Error(), "unknown post-render strategy") {
		t.Fatalf("bogus strategy: %v", err)
	}
}

func TestNamespaceDefaulting(t *testing.T) {
	c := mustLoadDir(t, demoChart(t, nil))
	var b strings.Builder
	for _, withScope := range []bool{true, false} {
		o := baseOptions()
		o.APIVersions = []string{"v1", "monitoring.coreos.com/v1"}
		if !withScope {
			o.Namespaced = nil
		}
		fmt.Fprintf(&b, "== scope=%t\n", withScope)
		for _, m := range mustRender(t, c, nil, o) {
			md := m.Object["metadata"].(map[string]any)
			fmt.Fprintf(&b, "%s/%s namespace=%v\n", m.Object["kind"], md["name"], md["namespace"])
		}
	}
	golden(t, "namespace", b.String())
}

func TestLookup(t *testing.T) {
	c := mustLoadDir(t, demoChart(t, nil))
	if c.UsesLookup() {
		t.Fatal("demo chart does not use lookup")
	}
	c = mustLoadDir(t, demoChart(t, map[string]string{"demo/templates/lk.yaml": `{{- $s := (lookup "v1" "Secret" .Release.Namespace "x") }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: lk
data:
  found: {{ empty $s | ternary "no" "yes" | quote }}
`}))
	if !c.UsesLookup() {
		t.Fatal("lookup not detected in templates")
	}
	// Through tpl on a value: seen at render time only.
	c = mustLoadDir(t, demoChart(t, map[string]string{"demo/templates/tpl.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: tpl
data:
  x: {{ tpl .Values.dyn . | quote }}
`}))
	if c.UsesLookup() {
		t.Fatal("lookup wrongly detected")
	}
	ms := mustRender(t, c, map[string]any{"dyn": `{{ lookup "v1" "Namespace" "" "" | len }}`}, baseOptions())
	if !c.UsesLookup() {
		t.Fatal("lookup call through tpl not reported")
	}
	for _, m := range ms {
		if m.Template == "demo/templates/tpl.yaml" && m.Object["data"].(map[string]any)["x"] != "0" {
			t.Errorf("lookup returned %v", m.Object["data"])
		}
	}
}

func TestTemplateErrorWording(t *testing.T) {
	c := mustLoadDir(t, demoChart(t, map[string]string{"demo/templates/bad.yaml": `{{ required "a value for .Values.must is required" .Values.must }}`}))
	_, err := Render(context.Background(), c, nil, baseOptions())
	if err == nil {
		t.Fatal("no error")
	}
	golden(t, "template-error", err.Error()+"\n")
	o := baseOptions()
	o.ReleaseName = "Not_Valid"
	if _, err := Render(context.Background(), mustLoadDir(t, demoChart(t, nil)), nil, o); err == nil || !strings.Contains(err.Error(), "release name check failed") {
		t.Fatalf("invalid release name: %v", err)
	}
}

func TestPanicAndTimeout(t *testing.T) {
	c := mustLoadDir(t, demoChart(t, nil))
	o := baseOptions()
	o.Namespaced = func(string, string) (bool, bool) { panic("boom") }
	_, err := Render(context.Background(), c, nil, o)
	if err == nil || !strings.Contains(err.Error(), "rendering chart panicked: boom") {
		t.Fatalf("panic: %v", err)
	}
	var b strings.Builder
	b.WriteString(firstLines(err.Error(), 1) + "\n")

	slow := mustLoadDir(t, demoChart(t, map[string]string{"demo/templates/slow.yaml": `{{- range until 3000 }}{{ range until 3000 }}{{ end }}{{ end }}`}))
	o = baseOptions()
	o.Timeout = 5 * time.Millisecond
	start := time.Now()
	_, err = Render(context.Background(), slow, nil, o)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("timeout not honoured: %v", time.Since(start))
	}
	b.WriteString(err.Error() + "\n")
	golden(t, "panic-timeout", b.String())
}

func TestLoadArchive(t *testing.T) {
	dir := demoChart(t, nil)
	loaded := mustLoadDir(t, dir)
	out := t.TempDir()
	// Helm's own packaging (pkg/chart/v2/util Save), with the file://
	// subchart packed into charts/.
	tgz, err := chartutil.Save(loaded.c, out)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadArchive(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	o := baseOptions()
	o.IncludeCRDs, o.IncludeTests = true, true
	fromDir := show(t, mustRender(t, loaded, nil, o))
	fromTgz := show(t, mustRender(t, c, nil, o))
	if fromDir != fromTgz {
		t.Errorf("archive renders differently from the directory:\n%s\n---\n%s", fromDir, fromTgz)
	}
	o.ValuesFiles = []string{"values-prod.yaml"}
	if _, err := Render(context.Background(), c, nil, o); err != nil {
		t.Fatalf("valuesFiles from archive: %v", err)
	}

	if _, err := LoadArchive(data, Limits{MaxArchiveSize: 100}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("compressed limit: %v", err)
	}
	// A chart whose files unpack far beyond their compressed size.
	bomb := demoChart(t, map[string]string{"demo/big.txt": strings.Repeat("0", 2<<20)})
	bc, err := LoadDir(bomb, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tgz, err = chartutil.Save(bc.c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(tgz)
	if len(data) > 1<<20 {
		t.Fatalf("bomb compresses to %d", len(data))
	}
	if _, err := LoadArchive(data, Limits{MaxUncompressedSize: 1 << 20}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("uncompressed limit: %v", err)
	}
	if _, err := LoadDir(bomb, Limits{MaxUncompressedSize: 1 << 20}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("directory limit: %v", err)
	}
	if _, err := LoadArchive([]byte("not a tgz"), Limits{}); err == nil {
		t.Error("garbage accepted")
	}
	golden(t, "archive-limits", fmt.Sprintf("%v\n", func() error { _, err := LoadArchive(data, Limits{MaxUncompressedSize: 1 << 20}); return err }()))
}

func TestLoadDirDependencies(t *testing.T) {
	dir := demoChart(t, nil)
	// Confined to the repository root: the subchart lies beside the chart.
	if _, err := LoadDir(dir, Limits{RootDir: dir}); err == nil || !strings.Contains(err.Error(), "outside of the source root") {
		t.Errorf("escape from root: %v", err)
	}
	if _, err := LoadDir(dir, Limits{RootDir: filepath.Dir(dir)}); err != nil {
		t.Error(err)
	}
	// Subchart disabled by its condition.
	c := mustLoadDir(t, dir)
	for _, m := range mustRender(t, c, map[string]any{"sub": map[string]any{"enabled": false}}, baseOptions()) {
		if strings.HasPrefix(m.Template, "demo/charts/sub/") {
			t.Errorf("disabled subchart rendered: %s", m.Template)
		}
	}
	// The chart itself is not changed by a render.
	if len(c.c.Dependencies()) != 1 {
		t.Error("render changed the loaded chart")
	}
	// Symbolic links out of the root are refused (Helm's loader follows them).
	link := demoChart(t, nil)
	secret := filepath.Join(t.TempDir(), "secret.txt")
	writeTree(t, filepath.Dir(secret), map[string]string{"secret.txt": "s3cret"})
	if err := os.Symlink(secret, filepath.Join(link, "leak.txt")); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(link, Limits{RootDir: filepath.Dir(link)}); err == nil || !strings.Contains(err.Error(), "symbolic link to outside") {
		t.Errorf("symlink out of root: %v", err)
	}
	// Version constraint and remote dependencies.
	cy, _ := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	writeTree(t, dir, map[string]string{"Chart.yaml": strings.Replace(string(cy), ">=0.1.0", "~1.0", 1)})
	if _, err := LoadDir(dir, Limits{}); err == nil || !strings.Contains(err.Error(), "can't get a valid version for constraint '~1.0'") {
		t.Errorf("constraint: %v", err)
	}
	writeTree(t, dir, map[string]string{"Chart.yaml": string(cy) + "  - name: redis\n    version: 1.x\n    repository: https://charts.example.com\n"})
	if _, err := LoadDir(dir, Limits{}); err == nil || !strings.Contains(err.Error(), "misses dependencies") {
		t.Errorf("remote dependency: %v", err)
	}
}
