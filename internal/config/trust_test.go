package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// hostileRepo is a repository (with .git) inside a directory that also
// holds a file outside it.
func hostileRepo(t *testing.T) (outer, repo string) {
	t.Helper()
	outer = t.TempDir()
	repo = filepath.Join(outer, "repo")
	for _, d := range []string{".git/hooks", "reports", "crds", "sub"} {
		if err := os.MkdirAll(filepath.Join(repo, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WriteFile(t, filepath.Join(outer, "outside.yaml"), "SECRET_KEY_FROM_OUTSIDE: 1\n")
	return outer, repo
}

// loadBounded loads with a deadline: a hostile config must never hang.
func loadBounded(t *testing.T, p string) (*File, error) {
	t.Helper()
	type res struct {
		f   *File
		err error
	}
	ch := make(chan res, 1)
	go func() { f, err := Load(p); ch <- res{f, err} }()
	select {
	case r := <-ch:
		return r.f, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("Load(%s) hangs", p)
	}
	return nil, nil
}

func TestLoadRefusesHostileFiles(t *testing.T) {
	t.Setenv("GITOPS_LINT_TEST_MARKER", "marker-must-not-leak")
	cases := map[string]func(t *testing.T, repo, cfg string){
		"link to /proc/self/environ": func(t *testing.T, repo, cfg string) {
			if err := os.Symlink("/proc/self/environ", cfg); err != nil {
				t.Fatal(err)
			}
		},
		"link to /dev/zero": func(t *testing.T, repo, cfg string) {
			if err := os.Symlink("/dev/zero", cfg); err != nil {
				t.Fatal(err)
			}
		},
		"link to a file outside the repository": func(t *testing.T, repo, cfg string) {
			if err := os.Symlink("../outside.yaml", cfg); err != nil {
				t.Fatal(err)
			}
		},
		"fifo": func(t *testing.T, repo, cfg string) {
			if err := syscall.Mkfifo(cfg, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"oversized": func(t *testing.T, repo, cfg string) {
			testutil.WriteFile(t, cfg, "# "+strings.Repeat("x", 2<<20)+"\n")
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			_, repo := hostileRepo(t)
			cfg := filepath.Join(repo, FileName)
			setup(t, repo, cfg)
			_, err := loadBounded(t, cfg)
			if err == nil {
				t.Fatal("Load accepted a hostile config")
			}
			msg := err.Error()
			for _, leak := range []string{"marker-must-not-leak", "SECRET_KEY_FROM_OUTSIDE", "PATH="} {
				if strings.Contains(msg, leak) {
					t.Errorf("error leaks %q: %s", leak, msg)
				}
			}
			if !strings.HasPrefix(msg, cfg+": read config: ") {
				t.Errorf("error does not name the file first: %s", msg)
			}
		})
	}
}

func TestLoadFollowsLinksInsideTheRepository(t *testing.T) {
	_, repo := hostileRepo(t)
	testutil.WriteFile(t, filepath.Join(repo, "sub", "lint.yaml"), "failOn: warning\n")
	if err := os.Symlink("sub/lint.yaml", filepath.Join(repo, FileName)); err != nil {
		t.Fatal(err)
	}
	f, err := Load(filepath.Join(repo, FileName))
	if err != nil || f.FailOn != "warning" || f.Root != repo {
		t.Fatalf("Load = %+v, %v", f, err)
	}
}

func TestConfine(t *testing.T) {
	outer, repo := hostileRepo(t)
	testutil.WriteFile(t, filepath.Join(repo, "tracked.json"), "{}")
	if err := os.Symlink(filepath.Join(repo, ".git", "hooks"), filepath.Join(repo, "hooks")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../.git/hooks/pre-commit", filepath.Join(repo, "reports", "link.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(repo, "up")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, yaml string
		trusted    []string
		wantErr    string // "" accepted
	}{
		{"report inside", "format: [json=reports/r.json]", nil, ""},
		{"report at the root", "format: [text, sarif=r.sarif]", nil, ""},
		{"report in the parent", "format: [json=../PWNED.json]", nil, "the report file leaves the repository"},
		{"report in a hook", "format: [markdown=.git/hooks/pre-commit]", nil, "inside .git"},
		{"report in .GIT", "format: [markdown=.GIT/hooks/pre-commit]", nil, "inside .git"},
		{"absolute report", "format: [junit=/tmp/newdir/x.xml]", nil, "must be a relative path"},
		{"report in a new directory", "format: [json=newdir/x.json]", nil, "does not create directories"},
		{"report through a linked directory", "format: [markdown=hooks/pre-commit]", nil, "hooks is a symbolic link"},
		{"report onto a link", "format: [markdown=reports/link.md]", nil, "reports/link.md is a symbolic link"},
		{"report onto a directory", "format: [json=crds]", nil, "not a regular file"},
		{"crds inside", "crdDirs: [crds]", nil, ""},
		{"crds at the root", "crdDirs: [/]", nil, "crdDirs: / is outside the repository"},
		{"crds through a link", "crdDirs: [up]", nil, "is outside the repository"},
		{"rbac outside", "rbacDirs: [..]", nil, "rbacDirs: " + outer + " is outside the repository"},
		{"source outside", "sources: {ns/name: /etc}", nil, "sources: /etc is outside the repository"},
		{"platform outside", "platform: ../platform", nil, "platform: " + filepath.Join(outer, "platform") + " is outside the repository"},
		{"platform under a trusted dir", "platform: ../platform", []string{outer}, ""},
		{"trust does not cover reports", "format: [json=../r.json]", []string{outer}, "leaves the repository"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(filepath.Join(repo, FileName), repo, []byte(c.yaml+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			f.Root = repo
			err = f.Confine(c.trusted)
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.wantErr != "" && err == nil:
				t.Errorf("accepted, want %q", c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Errorf("error %q, want it to contain %q", err, c.wantErr)
			case err != nil && !strings.HasPrefix(err.Error(), filepath.Join(repo, FileName)+":1: "):
				t.Errorf("error does not point at the key's line: %v", err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(repo, "newdir")); err == nil {
		t.Error("a directory was created")
	}
}
