package render

import (
	"context"
	"flag"
	"fmt"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// `go test ./internal/render -run TestFleet -args -fleet N -fleet-dir DIR`
// writes a synthetic fleet of N Kustomizations (testutil.WriteFleet) into
// DIR, for scripts/fleet.sh and make bench.
var (
	fleetSize = flag.Int("fleet", 0, "TestFleet: Kustomizations of the synthetic fleet to write into -fleet-dir")
	fleetDir  = flag.String("fleet-dir", "", "TestFleet: where to write the synthetic fleet")
)

// TestFleet renders a small synthetic fleet: every Kustomization renders
// its three objects in both clusters and nothing is reported (the
// generator writes a repository that converges). With -fleet-dir it writes
// a fleet of -fleet Kustomizations there instead.
func TestFleet(t *testing.T) {
	if *fleetDir != "" {
		if err := testutil.WriteFleet(*fleetDir, *fleetSize); err != nil {
			t.Fatal(err)
		}
		t.Logf("fleet of %d Kustomizations written to %s", *fleetSize, *fleetDir)
		return
	}
	dir := t.TempDir()
	if err := testutil.WriteFleet(dir, 40); err != nil {
		t.Fatal(err)
	}
	res, err := Render(context.Background(), Options{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.Severity != finding.Info {
			t.Errorf("%s: %s %s", f.File, f.Rule, f.Message)
		}
	}
	if len(res.Environments) != len(testutil.FleetClusters) {
		t.Fatalf("%d environments, want %d", len(res.Environments), len(testutil.FleetClusters))
	}
	for _, env := range res.Environments {
		apps, objs := 0, 0
		for _, k := range env.Kustomizations {
			if k.Namespace != "flux-system" {
				apps++
				objs += len(k.Objects)
			}
		}
		if apps != 20 || objs != 60 {
			t.Errorf("%s: %d app Kustomizations with %d objects, want 20 with 60", env.Name, apps, objs)
		}
	}
}

// BenchmarkRenderFleet renders synthetic fleets of 1,000 and 5,000
// Kustomizations: the cost should grow linearly.
func BenchmarkRenderFleet(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			if err := testutil.WriteFleet(dir, n); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := Render(context.Background(), Options{Root: dir}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
