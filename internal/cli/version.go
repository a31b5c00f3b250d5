package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitops-lint/gitops-lint/internal/catalog"
	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// version, commit and date are set at link time by release builds
// (.goreleaser.yaml):
//
//	go build -ldflags "-X github.com/gitops-lint/gitops-lint/internal/cli.version=v1.2.3
//	  -X github.com/gitops-lint/gitops-lint/internal/cli.commit=<sha>
//	  -X github.com/gitops-lint/gitops-lint/internal/cli.date=2026-01-02T03:04:05Z"
//
// Builds without them (go install, make build) fall back to what the Go
// toolchain recorded: the module version and the VCS stamp. They are not
// flag state: nothing writes them at run time.
var version, commit, date string

// helmModules are the Helm modules whose version `version` reports when the
// build links one (HelmRelease rendering); absent, nothing is printed.
var helmModules = []string{"helm.sh/helm/v4", "helm.sh/helm/v3"}

// Version is the version of this build: the link-time version, else the
// module version `go install …@vX` recorded (or the pseudo-version the Go
// toolchain derives from the checkout's VCS stamp), else "dev". JSON, SARIF
// and diff reports carry the same value as tool.version.
func Version() string {
	return readBuild(debug.ReadBuildInfo).Version
}

// buildInfo is what `gitops-lint version` reports: enough for a bug report
// in one line.
type buildInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Commit is the VCS revision; Modified says the working tree had
	// uncommitted changes when it was built.
	Commit   string `json:"commit,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	// Date is the commit time of a VCS-stamped build, the build time of a
	// release build (RFC 3339).
	Date      string `json:"date,omitempty"`
	GoVersion string `json:"go"`
	Platform  string `json:"platform"`
	// Flux is the Flux distribution the embedded CRDs come from.
	Flux string `json:"flux"`
	// Kubernetes lists the minors with an embedded schema catalog.
	Kubernetes []string `json:"kubernetes"`
	// Helm is the version of the linked Helm module, if any.
	Helm string `json:"helm,omitempty"`
}

// readBuild merges the link-time values with the Go toolchain's build
// information (read is debug.ReadBuildInfo; tests replace it).
func readBuild(read func() (*debug.BuildInfo, bool)) buildInfo {
	b := buildInfo{
		Name:       toolName,
		Version:    version,
		Commit:     commit,
		Date:       date,
		GoVersion:  runtime.Version(),
		Platform:   runtime.GOOS + "/" + runtime.GOARCH,
		Flux:       catalog.FluxRelease,
		Kubernetes: catalog.Versions(),
	}
	bi, ok := read()
	if ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			b.GoVersion = bi.GoVersion
		}
		if b.Commit == "" {
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					b.Commit = s.Value
				case "vcs.time":
					b.Date = s.Value
				case "vcs.modified":
					b.Modified = s.Value == "true"
				}
			}
		}
		b.Helm = helmVersion(bi.Deps)
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

func helmVersion(deps []*debug.Module) string {
	for _, want := range helmModules {
		for _, d := range deps {
			if d.Path != want {
				continue
			}
			if d.Replace != nil && d.Replace.Version != "" {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
}

// String is the one line `gitops-lint version` prints: the version first
// (as before, so `gitops-lint version | cut -d' ' -f2` still works), then
// everything a bug report needs.
func (b buildInfo) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s %s (", b.Name, b.Version)
	if b.Commit != "" {
		c := b.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if b.Modified {
			c += "+dirty"
		}
		fmt.Fprintf(&s, "commit %s, ", c)
	} else {
		s.WriteString("commit unknown, ")
	}
	if b.Date != "" {
		fmt.Fprintf(&s, "%s, ", b.Date)
	}
	fmt.Fprintf(&s, "%s %s) flux %s, kubernetes %s", b.GoVersion, b.Platform, b.Flux, versionRange(b.Kubernetes))
	if b.Helm != "" {
		fmt.Fprintf(&s, ", helm %s", b.Helm)
	}
	return s.String()
}

// versionRange is "1.34-1.37" for the sorted minors, or "none".
func versionRange(vs []string) string {
	switch len(vs) {
	case 0:
		return "none"
	case 1:
		return vs[0]
	}
	return vs[0] + "-" + vs[len(vs)-1]
}

func newVersionCommand(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of gitops-lint and of what it embeds",
		Long: `Print the version of gitops-lint, the commit and date it was built from, the
Go version, and the versions of what it embeds: the Flux release of its CRD
schemas and the Kubernetes minors of its schema catalogs. Paste the line
into a bug report.`,
		Args: maxArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			b := readBuild(debug.ReadBuildInfo)
			var err error
			switch format {
			case "text":
				_, err = fmt.Fprintln(a.stdout, b.String())
			case "json":
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				err = enc.Encode(b)
			default:
				return finding.Usagef("--%s: version is printed as text or json, not %q", flagFormat, format)
			}
			if err != nil {
				return fmt.Errorf("write version: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, flagFormat, "text", "output format `F`: text or json")
	return cmd
}

// cacheIdentity names this build of the tool exactly, for the persistent
// cache: entries are never read by another build. A release or a clean
// VCS-stamped build is named by its version, commit and every module it
// links; anything else (a modified tree, a test binary) also by its
// executable's path, size and modification time, so that rebuilding from
// changed sources starts a new cache.
func cacheIdentity() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %s\n", version, commit, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
	exact := version != "" && commit != ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(&b, "%s %s %s\n", bi.Main.Path, bi.Main.Version, bi.Main.Sum)
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			fmt.Fprintf(&b, "%s %s %s\n", d.Path, d.Version, d.Sum)
		}
		revision, modified := "", true
		for _, s := range bi.Settings {
			fmt.Fprintf(&b, "%s=%s\n", s.Key, s.Value)
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value != "false"
			}
		}
		exact = exact || revision != "" && !modified
	}
	if !exact {
		if exe, err := os.Executable(); err == nil {
			if st, err := os.Stat(exe); err == nil {
				fmt.Fprintf(&b, "%s %d %d\n", exe, st.Size(), st.ModTime().UnixNano())
			}
		} else {
			fmt.Fprintf(&b, "no executable: %v\n", err)
		}
	}
	return b.String()
}
