package charts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// NormalizeURL is the cache key of a repository URL, as source-controller
// keys its index cache: scheme and host lowercased, the scheme's default
// port dropped, trailing slashes of the path removed, no fragment, no
// user information. source-controller appends one "/" to an HTTP
// repository's path where this removes them: the same URLs are equal.
func NormalizeURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("repository URL %q: %w", raw, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch u.Scheme {
	case "http", "https", "oci":
	default:
		return "", fmt.Errorf("repository URL %q: want an http, https or oci URL", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("repository URL %q: no host", raw)
	}
	host := strings.ToLower(u.Host)
	if h, p, err := net.SplitHostPort(host); err == nil {
		if (u.Scheme == "https" || u.Scheme == "oci") && p == "443" || u.Scheme == "http" && p == "80" {
			host = h
			if strings.Contains(h, ":") {
				host = "[" + h + "]"
			}
		}
	}
	u.Host = host
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u.String(), nil
}

var unsafeChar = regexp.MustCompile(`[^a-z0-9._-]+`)

// RepoDir is the directory name of an HTTP repository below http/: its
// host and path, lowercased, every run of characters other than a-z 0-9
// . _ - replaced by "_", at most 80 characters, then "-" and the first 12
// hex digits of the sha256 of NormalizeURL(url), which keeps URLs that
// map to the same name apart. https://Charts.Example.com:443/stable/
// is charts.example.com_stable-<hash>.
func RepoDir(raw string) (string, error) {
	n, err := NormalizeURL(raw)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(n)
	name := unsafeChar.ReplaceAllString(strings.ToLower(u.Host+u.Path), "_")
	name = strings.Trim(name, "._")
	if len(name) > 80 {
		name = name[:80]
	}
	if name == "" {
		name = "repo"
	}
	sum := sha256.Sum256([]byte(n))
	return name + "-" + hex.EncodeToString(sum[:])[:12], nil
}

// ociRepo is an OCI repository: registry host[:port] and repository path.
type ociRepo struct {
	Registry, Repository string
}

func (o ociRepo) String() string { return o.Registry + "/" + o.Repository }

// dir is the layout's directory below the root, '/'-separated:
// oci/<registry>/<repository> (":" of a port written "_").
func (o ociRepo) dir() string {
	return path.Join("oci", strings.ReplaceAll(o.Registry, ":", "_"), o.Repository)
}

var repoComponent = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$`)

// ociRepoOf is the OCI repository holding ref's chart: the URL's path,
// plus "/"+Chart for a HelmRepository of type oci.
func ociRepoOf(ref Ref) (ociRepo, error) {
	n, err := NormalizeURL(ref.URL)
	if err != nil {
		return ociRepo{}, err
	}
	u, _ := url.Parse(n)
	if u.Scheme != "oci" {
		return ociRepo{}, fmt.Errorf("OCI repository URL %q: want oci://", ref.URL)
	}
	p := strings.Trim(u.Path, "/")
	if ref.Kind != KindOCIRepository {
		if ref.Chart == "" {
			return ociRepo{}, fmt.Errorf("OCI HelmRepository %s: no chart name", ref.URL)
		}
		p = strings.Trim(p+"/"+ref.Chart, "/")
	}
	if p == "" {
		return ociRepo{}, fmt.Errorf("OCI URL %q: no repository", ref.URL)
	}
	for _, c := range strings.Split(p, "/") {
		if !repoComponent.MatchString(c) {
			return ociRepo{}, fmt.Errorf("OCI URL %q: invalid repository name %q", ref.URL, p)
		}
	}
	if u.RawQuery != "" {
		return ociRepo{}, fmt.Errorf("OCI URL %q: unexpected query", ref.URL)
	}
	return ociRepo{Registry: u.Host, Repository: p}, nil
}

// validChartName guards the file names built from a chart name and version.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

func archiveName(chart, version string) (string, error) {
	if !validName.MatchString(chart) || !validName.MatchString(version) || strings.Contains(chart+version, "..") {
		return "", fmt.Errorf("unsafe chart name or version %q %q", chart, version)
	}
	return chart + "-" + version + ".tgz", nil
}
