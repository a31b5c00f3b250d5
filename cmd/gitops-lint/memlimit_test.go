package main

import "testing"

func TestLimitFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, memoryLimit},
		{50 << 20, memoryLimit},     // room enough under the fixed limit
		{100 << 20, memoryLimit},    // exactly: live + headroom = 300 MiB
		{150 << 20, 350 << 20},      // the collector keeps its headroom
		{280 << 20, maxMemoryLimit}, // never past the bound
		{1 << 40, maxMemoryLimit},
	} {
		if got := limitFor(tc.live); got != tc.want {
			t.Errorf("limitFor(%d MiB) = %d MiB, want %d MiB", tc.live>>20, got>>20, tc.want>>20)
		}
	}
}
