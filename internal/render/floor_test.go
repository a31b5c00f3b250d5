package render

import (
	"context"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"

	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"

	"github.com/gitops-lint/gitops-lint/internal/pool"
)

// replayBuild is one build of a render: the artifact it read and the Flux
// Kustomization it was generated from.
type replayBuild struct {
	a          *artifact
	ks         map[string]any
	dir, kfile string
	manifest   []byte
}

// recordBuilds renders root and returns its builds grouped in waves (a
// Kustomization's build needs its parent's, as in kustomize-controller),
// and the render.
func recordBuilds(tb testing.TB, root string) ([][]replayBuild, *Result) {
	var mu sync.Mutex
	var builds []replayBuild
	buildHook = func(a *artifact, ks map[string]any, dir, kfile string, manifest []byte) {
		mu.Lock()
		builds = append(builds, replayBuild{a, ks, dir, kfile, manifest})
		mu.Unlock()
	}
	res, err := Render(context.Background(), Options{Root: root})
	buildHook = nil
	if err != nil {
		tb.Fatal(err)
	}
	parent := map[string]string{}
	for _, env := range res.Environments {
		for _, k := range env.Kustomizations {
			parent[k.ID()] = k.Parent
		}
	}
	var waves [][]replayBuild
	for _, b := range builds {
		u := unstructured.Unstructured{Object: b.ks}
		id := (&Kustomization{Namespace: cmpOr(u.GetNamespace(), "default"), Name: u.GetName()}).ID()
		depth := 0
		for p := parent[id]; p != ""; p = parent[p] {
			depth++
		}
		for len(waves) <= depth {
			waves = append(waves, nil)
		}
		waves[depth] = append(waves[depth], b)
	}
	return waves, res
}

// TestKustomizeAlone holds that the floor replays the render's work: every
// build of onedr0p, each giving as many objects as the render kept and
// skipped for its Kustomization.
func TestKustomizeAlone(t *testing.T) {
	root := sharedDir(t, "corpus/onedr0p-home-ops")
	waves, res := recordBuilds(t, root)
	want := map[string]int{}
	for _, k := range res.Environments[0].Kustomizations {
		want[k.Name] = len(k.Objects) + k.Skipped
	}
	n := 0
	for _, w := range waves {
		for _, b := range w {
			n++
			name := (&unstructured.Unstructured{Object: b.ks}).GetName()
			got, err := replay(b)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got != want[name] {
				t.Errorf("%s: replay built %d objects, the render %d", name, got, want[name])
			}
		}
	}
	if n != len(want) || len(waves) != 3 {
		t.Errorf("replayed %d builds in %d waves, want %d in 3 (flux-system, cluster-apps, the apps)", n, len(waves), len(want))
	}
}

// replay runs one build as kustomize-controller does, from the
// kustomization file Flux's generator wrote: kustomize alone, without this
// renderer's guard, caches, origins, substitution or conversion.
func replay(b replayBuild) (int, error) {
	fs := securefs.MakeFsInMemory(b.a.mem)
	if err := fs.WriteFile(b.kfile, b.manifest); err != nil {
		return 0, err
	}
	k := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	m, err := k.Run(fs, b.dir)
	if err != nil {
		return 0, err
	}
	return m.Size(), nil
}

// BenchmarkKustomizeAlone is the floor under a render of onedr0p: the
// same builds (Flux's generator, then kustomize) in a warm process, wave
// by wave on GOMAXPROCS workers, with the binary's GOGC. Nothing a lint
// that renders as kustomize-controller does can take less wall time than
// this plus process start (docs/performance.md).
func BenchmarkKustomizeAlone(b *testing.B) {
	root := sharedDir(b, "corpus/onedr0p-home-ops")
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	waves, _ := recordBuilds(b, root)
	n := 0
	for _, w := range waves {
		n += len(w)
	}
	if n < 70 {
		b.Fatalf("recorded %d builds, want onedr0p's 79", n)
	}
	cpus := pool.NewLimiter(runtime.GOMAXPROCS(0))
	b.Run("waves", func(b *testing.B) {
		for b.Loop() {
			for _, w := range waves {
				pool.Each(context.Background(), cpus, len(w), func(i int) {
					if _, err := replay(w[i]); err != nil {
						b.Error(err) // Fatal is for the benchmark's own goroutine
					}
				})
			}
		}
	})
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			for _, w := range waves {
				for _, x := range w {
					if _, err := replay(x); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	})
}
