package schema

import "testing"

// BenchmarkLoad is the schema checker's construction (the embedded Flux
// CRDs are decoded once per process, so not measured after the first
// iteration).
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstCompile is construction plus the first compilation of a
// few common built-in kinds, as a run pays it.
func BenchmarkFirstCompile(b *testing.B) {
	defs := []string{"io.k8s.api.apps.v1.Deployment", "io.k8s.api.core.v1.Service", "io.k8s.api.core.v1.ConfigMap", "io.k8s.api.networking.v1.Ingress"}
	for b.Loop() {
		c, err := Load(Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range defs {
			if _, err := c.v.builtin(d); err != nil {
				b.Fatal(err)
			}
		}
	}
}
