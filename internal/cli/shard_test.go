package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// TestShardsUnion: the union of the findings of --shard 1/N … N/N is the
// unsharded report, and no finding is in two shards.
func TestShardsUnion(t *testing.T) {
	ar, err := txtar.ParseFile(filepath.Join("testdata", "script", "converge.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, "repo/") {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	findings := func(extra ...string) []string {
		var out, errb bytes.Buffer
		args := append([]string{filepath.Join(dir, "repo"), "--format", "json", "--fail-on", "never"}, extra...)
		if code := Main(args, nil, &out, &errb); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		var rep struct {
			Findings []json.RawMessage `json:"findings"`
		}
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, f := range rep.Findings {
			s = append(s, string(f))
		}
		return s
	}
	all := findings()
	if len(all) < 4 {
		t.Fatalf("fixture yields %d findings", len(all))
	}
	var union []string
	nonEmpty := 0
	for _, shard := range []string{"1/3", "2/3", "3/3"} {
		got := findings("--shard", shard)
		if len(got) > 0 {
			nonEmpty++
		}
		union = append(union, got...)
	}
	if nonEmpty < 2 {
		t.Errorf("the findings landed in %d shard(s): sharding does not split", nonEmpty)
	}
	slices.Sort(all)
	slices.Sort(union)
	if !slices.Equal(all, union) {
		t.Errorf("union of shards differs from the unsharded run:\nall   %d findings\nunion %d findings", len(all), len(union))
	}
}
