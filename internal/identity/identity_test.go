package identity

import (
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/render"
)

func TestOf(t *testing.T) {
	plain := &render.Environment{}
	locked := &render.Environment{Lockdown: render.Lockdown{DefaultServiceAccount: "default"}}
	withSA := &render.Kustomization{Namespace: "team-a", ServiceAccountName: "deployer"}
	noSA := &render.Kustomization{Namespace: "team-a"}
	release := &render.Kustomization{Kind: render.KindHelmRelease, Namespace: "team-a"}
	helmLocked := &render.Environment{Lockdown: render.Lockdown{DefaultServiceAccount: "default", HelmDefaultServiceAccount: "helm"}}
	for _, c := range []struct {
		name string
		e    *render.Environment
		k    *render.Kustomization
		want Identity
		ok   bool
	}{
		{"spec.serviceAccountName", plain, withSA, Identity{Namespace: "team-a", Name: "deployer"}, true},
		{"serviceAccountName over the lockdown default", locked, withSA, Identity{Namespace: "team-a", Name: "deployer"}, true},
		{"--default-service-account", locked, noSA, Identity{Namespace: "team-a", Name: "default"}, true},
		{"kustomize-controller itself", plain, noSA, Identity{}, false},
		{"helm-controller's --default-service-account", helmLocked, release, Identity{Namespace: "team-a", Name: "helm"}, true},
		{"kustomize-controller's lockdown only: helm-controller itself", locked, release, Identity{}, false},
		{"a release's serviceAccountName", plain, &render.Kustomization{Kind: render.KindHelmRelease, Namespace: "team-a", ServiceAccountName: "deployer"}, Identity{Namespace: "team-a", Name: "deployer"}, true},
	} {
		got, ok := Of(c.e, c.k)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: Of = %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	if u := (Identity{Namespace: "team-a", Name: "deployer"}).User(); u != "system:serviceaccount:team-a:deployer" {
		t.Errorf("User() = %q", u)
	}
}
