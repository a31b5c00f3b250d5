package charts

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"
)

// Index is the part of a Helm repository's index.yaml the cache reads.
type Index struct {
	APIVersion string                    `json:"apiVersion"`
	Entries    map[string][]ChartVersion `json:"entries"`
}

// ChartVersion is one entry of an index.
type ChartVersion struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Digest  string   `json:"digest,omitempty"`
	URLs    []string `json:"urls,omitempty"`
	Created string   `json:"created,omitempty"`
}

// ParseIndex reads an index.yaml as Helm does (YAML read as JSON).
func ParseIndex(data []byte) (*Index, error) {
	var idx Index
	if err := yaml.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("index.yaml: %w", err)
	}
	if idx.APIVersion == "" {
		return nil, errors.New("index.yaml: no apiVersion")
	}
	return &idx, nil
}

// errNoVersion: the index or the tags have no version matching.
var errNoVersion = errors.New("no version matches")

// selectVersion picks, among versions, the one source-controller and Helm
// pick for constraint: an exact string match first; otherwise, "" and "*"
// take the highest version without a prerelease, and a constraint the
// highest version it accepts (Masterminds/semver: a prerelease only when
// the constraint names one). Versions that are not semver are ignored.
func selectVersion(versions []string, constraint string) (string, error) {
	constraint = strings.TrimSpace(constraint)
	if constraint != "" && slices.Contains(versions, constraint) {
		return constraint, nil
	}
	var c *semver.Constraints
	if constraint != "" && constraint != "*" {
		var err error
		if c, err = semver.NewConstraint(constraint); err != nil {
			return "", fmt.Errorf("version constraint %q: %w", constraint, err)
		}
	}
	var best *semver.Version
	bestRaw := ""
	for _, raw := range versions {
		v, err := semver.NewVersion(raw)
		if err != nil {
			continue
		}
		if c == nil && v.Prerelease() != "" {
			continue
		}
		if c != nil && !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) || v.Equal(best) && raw < bestRaw {
			best, bestRaw = v, raw
		}
	}
	if best == nil {
		if constraint == "" {
			constraint = "*"
		}
		return "", fmt.Errorf("%w %q", errNoVersion, constraint)
	}
	return bestRaw, nil
}

// Select is the entry of chart that constraint picks.
func (idx *Index) Select(chart, constraint string) (ChartVersion, error) {
	entries := idx.Entries[chart]
	if len(entries) == 0 {
		return ChartVersion{}, fmt.Errorf("no chart %q in the index", chart)
	}
	versions := make([]string, len(entries))
	for i, e := range entries {
		versions[i] = e.Version
	}
	v, err := selectVersion(versions, constraint)
	if err != nil {
		return ChartVersion{}, fmt.Errorf("chart %q: %w", chart, err)
	}
	for _, e := range entries {
		if e.Version == v {
			return e, nil
		}
	}
	return ChartVersion{}, fmt.Errorf("chart %q: %w", chart, errNoVersion)
}

// indexDigest is an index entry's digest as "sha256:<hex>" ("" if none).
func indexDigest(d string) string {
	d = strings.ToLower(strings.TrimSpace(d))
	if d == "" {
		return ""
	}
	if !strings.Contains(d, ":") {
		d = "sha256:" + d
	}
	return d
}
