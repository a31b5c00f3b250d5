package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/confine"
)

// Confine checks that every path the file names stays where a repository
// may point: directories (sources, platform, crdDirs, rbacDirs,
// admissionDirs) inside the
// repository holding the file or under one of the trusted directories that
// the command line named (--trust-dir); report destinations (format:
// F=FILE) inside the repository only, outside .git, through no symbolic
// link, into a directory that exists. A config file is repository content:
// left unchecked, `crdDirs: [/]` walks the whole machine, `sources` renders
// any directory, and `format: markdown=.git/hooks/pre-commit` plants a hook.
// Paths given on the command line or in the environment are the CI owner's
// and are not checked here.
func (f *File) Confine(trusted []string) error {
	if f == nil {
		return nil
	}
	root := f.repoRoot()
	dir := func(key, p string) error {
		ok, err := confine.Within(root, p)
		if err != nil {
			return f.Errorf(key, "%s: %s: %v", key, p, err)
		}
		for _, t := range trusted {
			if in, err := confine.Within(t, p); err == nil && in {
				ok = true
				break
			}
		}
		if !ok {
			return f.Errorf(key, "%s: %s is outside the repository %s; a config file may only name directories inside its repository (name others on the command line, or allow them with --trust-dir DIR)", key, f.rel(p), root)
		}
		return nil
	}
	refs := make([]string, 0, len(f.Sources))
	for ref := range f.Sources {
		refs = append(refs, ref)
	}
	slices.Sort(refs)
	for _, ref := range refs {
		if err := dir(KeySources, f.Sources[ref]); err != nil {
			return err
		}
	}
	if f.Platform != "" {
		if err := dir(KeyPlatform, f.Platform); err != nil {
			return err
		}
	}
	for _, d := range f.CRDDirs {
		if err := dir(KeyCRDDirs, d); err != nil {
			return err
		}
	}
	for _, d := range f.RBACDirs {
		if err := dir(KeyRBACDirs, d); err != nil {
			return err
		}
	}
	for _, d := range f.AdmissionDirs {
		if err := dir(KeyAdmDirs, d); err != nil {
			return err
		}
	}
	for _, spec := range f.Format {
		_, file, ok := strings.Cut(spec, "=")
		if !ok || file == "" || file == "-" {
			continue
		}
		if _, err := f.Destination(file); err != nil {
			return f.Errorf(KeyFormat, "%s: %s: %v", KeyFormat, spec, err)
		}
	}
	return nil
}

// Destination checks a report file named by the config and returns it
// relative to Root ('/'-separated).
func (f *File) Destination(file string) (string, error) {
	root := f.repoRoot()
	if filepath.IsAbs(file) {
		return "", fmt.Errorf("a report file named in the config must be a relative path inside the repository (name other destinations with --format on the command line)")
	}
	rel, err := filepath.Rel(root, filepath.Join(f.Dir, file))
	if err != nil {
		return "", err
	}
	rel = filepath.ToSlash(rel)
	if _, err := confine.Rel(rel); err != nil {
		return "", fmt.Errorf("the report file leaves the repository")
	}
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		if strings.EqualFold(p, ".git") {
			return "", fmt.Errorf("a report file may not be written inside .git")
		}
		st, err := os.Lstat(filepath.Join(root, filepath.FromSlash(strings.Join(parts[:i+1], "/"))))
		last := i == len(parts)-1
		switch {
		case os.IsNotExist(err) && last:
			return rel, nil
		case os.IsNotExist(err):
			return "", fmt.Errorf("directory %s does not exist; gitops-lint does not create directories named by a config file", strings.Join(parts[:i+1], "/"))
		case err != nil:
			return "", err
		case st.Mode()&os.ModeSymlink != 0:
			return "", fmt.Errorf("%s is a symbolic link; a report file named in the config is never written through one", strings.Join(parts[:i+1], "/"))
		case last && !st.Mode().IsRegular():
			return "", fmt.Errorf("%s exists and is not a regular file", rel)
		case !last && !st.IsDir():
			return "", fmt.Errorf("%s is not a directory", strings.Join(parts[:i+1], "/"))
		}
	}
	return rel, nil
}

// rel shows p relative to the config's directory when it is below it.
func (f *File) rel(p string) string {
	if r, err := filepath.Rel(f.Dir, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// repoRoot is Root, or Dir for a file Parse made without Load.
func (f *File) repoRoot() string {
	if f.Root == "" {
		return f.Dir
	}
	return f.Root
}
