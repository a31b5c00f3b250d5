package helm

import (
	"context"
	"os"
	"testing"

	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
)

func FuzzLoadArchive(f *testing.F) {
	dir := demoChart(f, nil)
	f.Add([]byte{})
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"))
	if c, err := LoadDir(dir, Limits{}); err == nil {
		if tgz, err := chartutil.Save(c.c, f.TempDir()); err == nil {
			if data, err := os.ReadFile(tgz); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadArchive(data, Limits{MaxArchiveSize: 1 << 20, MaxUncompressedSize: 4 << 20})
		if err != nil {
			return
		}
		_ = c.Name()
		o := baseOptions()
		o.Timeout = 2e9
		_, _ = Render(context.Background(), c, nil, o)
	})
}
