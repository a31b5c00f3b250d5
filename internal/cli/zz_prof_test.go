package cli

import (
	"os"
	"runtime/pprof"
	"strings"
	"testing"
)

func TestZZProfile(t *testing.T) {
	repo := os.Getenv("PROF_REPO")
	if repo == "" {
		t.Skip()
	}
	f, _ := os.Create("/tmp/prof.cpu")
	pprof.StartCPUProfile(f)
	var out, errb strings.Builder
	Main(append([]string{"lint", repo, "--no-config", "--fail-on", "never"}, strings.Fields(os.Getenv("PROF_ARGS"))...), nil, &out, &errb)
	pprof.StopCPUProfile()
	t.Log(errb.String())
}
