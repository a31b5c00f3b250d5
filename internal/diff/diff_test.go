package diff

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/render"
)

func obj(apiVersion, kind, ns, name string, extra map[string]any) *render.Object {
	md := map[string]any{"name": name}
	if ns != "" {
		md["namespace"] = ns
	}
	c := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": md}
	for k, v := range extra {
		c[k] = v
	}
	return &render.Object{Content: c}
}

func result(envs ...*render.Environment) *render.Result { return &render.Result{Environments: envs} }

func env(name string, ks ...*render.Kustomization) *render.Environment {
	return &render.Environment{Name: name, Kustomizations: ks}
}

func ks(ns, name string, objs ...*render.Object) *render.Kustomization {
	return &render.Kustomization{Namespace: ns, Name: name, Rendered: true, Objects: objs}
}

func TestMaskSecretPair(t *testing.T) {
	old := map[string]any{"kind": "Secret", "data": map[string]any{"same": "c2FtZQ==", "changed": "b2xk", "gone": "eA=="}}
	new := map[string]any{"kind": "Secret", "data": map[string]any{"same": "c2FtZQ==", "changed": "bmV3", "added": "eQ=="}, "stringData": map[string]any{"pw": "hunter2"}}
	mo, mn := MaskSecretPair(old, new)
	want := map[string]string{"same": MaskUnchanged, "changed": MaskChanged, "added": MaskChanged}
	for k, v := range want {
		if got := mn["data"].(map[string]any)[k]; got != v {
			t.Errorf("new data[%s] = %v, want %v", k, got, v)
		}
	}
	for _, k := range []string{"same", "changed", "gone"} {
		if got := mo["data"].(map[string]any)[k]; got != MaskUnchanged {
			t.Errorf("old data[%s] = %v, want %v", k, got, MaskUnchanged)
		}
	}
	if got := mn["stringData"].(map[string]any)["pw"]; got != MaskChanged {
		t.Errorf("stringData[pw] = %v", got)
	}
	// Inputs untouched.
	if old["data"].(map[string]any)["changed"] != "b2xk" || new["stringData"].(map[string]any)["pw"] != "hunter2" {
		t.Error("MaskSecretPair modified its input")
	}
	// An added Secret: everything is new.
	_, mn = MaskSecretPair(nil, new)
	if got := mn["data"].(map[string]any)["same"]; got != MaskChanged {
		t.Errorf("added Secret data[same] = %v, want %v", got, MaskChanged)
	}
}

func TestDiffMasksSecretValues(t *testing.T) {
	sec := func(pw string) *render.Object {
		return obj("v1", "Secret", "app", "creds", map[string]any{
			"stringData": map[string]any{"password": pw, "user": "admin-user-value"},
		})
	}
	base := result(env("dev", ks("flux-system", "apps", sec("old-secret-value"))))
	head := result(env("dev", ks("flux-system", "apps", sec("new-secret-value"), obj("v1", "Secret", "app", "fresh", map[string]any{"data": map[string]any{"k": "dG9wc2VjcmV0"}}))))
	rep, err := Compare(base, head, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The report's printers (internal/report) print what the Report holds:
	// no secret in it, masks in each object's diff.
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"old-secret-value", "new-secret-value", "admin-user-value", "dG9wc2VjcmV0"} {
		if strings.Contains(string(js), secret) {
			t.Errorf("report leaks %q:\n%s", secret, js)
		}
	}
	changes := map[string]*Change{}
	for _, c := range rep.Environments[0].Kustomizations[0].Changes {
		changes[string(c.Kind)+" "+c.Object.String()] = c
	}
	creds, fresh := changes["changed Secret/app/creds"], changes["added Secret/app/fresh"]
	if creds == nil || fresh == nil {
		t.Fatalf("changes = %v", changes)
	}
	for _, want := range []string{"-  password: <masked>", "+  password: '<masked: changed>'", "   user: <masked>"} {
		if !strings.Contains(creds.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, creds.Diff)
		}
	}
	if e := rep.Environments[0]; e.Name != "dev" || e.Changed != 1 || e.Added != 1 || e.Removed != 0 {
		t.Errorf("environment = %+v", e)
	}
}

func TestDiffPairing(t *testing.T) {
	deploy := func(apiVersion string, replicas int) *render.Object {
		return obj(apiVersion, "Deployment", "app", "web", map[string]any{"spec": map[string]any{"replicas": replicas}})
	}
	cm := obj("v1", "ConfigMap", "app", "cfg", nil)
	base := result(
		env("dev", ks("flux-system", "apps", deploy("apps/v1beta2", 1), cm, obj("v1", "Service", "app", "old", nil)), ks("flux-system", "gone", cm)),
		env("old-env", ks("flux-system", "x", cm)),
	)
	head := result(
		env("dev", ks("flux-system", "apps", deploy("apps/v1", 2), cm, obj("v1", "Service", "app", "new", nil)), ks("flux-system", "fresh", cm)),
		env("new-env", ks("flux-system", "x", cm)),
	)
	rep, err := Compare(base, head, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range rep.Environments {
		got[e.Name] = string(e.Status)
		for _, k := range e.Kustomizations {
			got[e.Name+" "+k.ID()] = string(k.Status)
			for _, c := range k.Changes {
				got[e.Name+" "+k.ID()+" "+c.Object.String()] = string(c.Kind)
			}
		}
	}
	want := map[string]string{
		"dev":                  "changed",
		"dev flux-system/apps": "changed",
		"dev flux-system/apps Deployment/app/web": "changed", // same group, other version: a change
		"dev flux-system/apps Service/app/old":    "removed",
		"dev flux-system/apps Service/app/new":    "added",
		"dev flux-system/gone":                    "removed",
		"dev flux-system/gone ConfigMap/app/cfg":  "removed",
		"dev flux-system/fresh":                   "added",
		"dev flux-system/fresh ConfigMap/app/cfg": "added",
		"new-env":               "added",
		"new-env flux-system/x": "added",
		"new-env flux-system/x ConfigMap/app/cfg": "added",
		"old-env":               "removed",
		"old-env flux-system/x": "removed",
		"old-env flux-system/x ConfigMap/app/cfg": "removed",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d entries, want %d: %v", len(got), len(want), got)
	}
	if rep.Summary != (Summary{Environments: 3, Changed: 1, Added: 3, Removed: 3}) {
		t.Errorf("summary = %+v", rep.Summary)
	}
	// Filter and an unchanged environment.
	rep, _ = Compare(base, base, func(n string) bool { return n == "dev" })
	if len(rep.Environments) != 1 || rep.Environments[0].Status != "" || len(rep.Environments[0].Kustomizations) != 0 {
		t.Errorf("unchanged diff: %+v", rep.Environments)
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js, &back); err != nil || back.SchemaVersion != SchemaVersion {
		t.Errorf("json round trip: %v %+v", err, back)
	}
}

func TestDiffUnrenderedSide(t *testing.T) {
	broken := ks("flux-system", "apps")
	broken.Rendered = false
	base := result(env("dev", ks("flux-system", "apps", obj("v1", "ConfigMap", "a", "b", nil))))
	head := result(env("dev", broken))
	rep, err := Compare(base, head, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := rep.Environments[0].Kustomizations[0]
	if len(k.Changes) != 0 || !strings.Contains(k.Note, "does not render at head") {
		t.Errorf("got %+v", k)
	}
}
