package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/catalog"
	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/pool"
)

// Options select the schema data of a run.
type Options struct {
	// KubernetesVersion is "X.Y" ("" for the newest embedded).
	KubernetesVersion string
	// CRDDirs hold extra CustomResourceDefinitions (YAML files), read
	// within FileBytes a file and the run's Budget.
	CRDDirs   []string
	FileBytes int64
	Budget    *confine.Budget
	Workers   int
	// CPU is the run's limiter (nil: Workers slots of its own).
	CPU *pool.Limiter
}

// Load builds a Checker from the embedded catalog.
func Load(opts Options) (*Checker, error) {
	versions := catalog.Versions()
	version := opts.KubernetesVersion
	if version == "" {
		version = versions[len(versions)-1]
	}
	version = strings.TrimPrefix(version, "v")
	if !slices.Contains(versions, version) {
		return nil, finding.Usagef("--kubernetes-version %s: no schema catalog for it is embedded (embedded: %s)", opts.KubernetesVersion, strings.Join(versions, ", "))
	}
	data, err := catalog.Kubernetes(version)
	if err != nil {
		return nil, err
	}
	cat, err := ParseCatalog(data)
	if err != nil {
		return nil, err
	}
	if removed, err := catalog.Removed(); err == nil {
		if err := json.Unmarshal(removed, &cat.Removed); err != nil {
			return nil, fmt.Errorf("decode removed API versions: %w", err)
		}
	}
	crds, err := catalog.FluxCRDObjects()
	if err != nil {
		return nil, fmt.Errorf("embedded Flux CRDs: %w", err)
	}
	// Flux's CRDs as the Flux Operator installs them (operator.go).
	crds = WithOperatorPatch(crds)
	for _, dir := range opts.CRDDirs {
		more, err := crdsFromDir(dir, opts.FileBytes, opts.Budget)
		if err != nil {
			return nil, err
		}
		// --crd-dir wins over the embedded ones.
		crds = append(more, crds...)
	}
	c, err := NewChecker(cat, crds)
	if err != nil {
		return nil, err
	}
	c.Workers = opts.Workers
	c.CPU = opts.CPU
	return c, nil
}

// crdsFromDir reads every CRD of the YAML files below dir.
func crdsFromDir(dir string, fileBytes int64, budget *confine.Budget) ([]map[string]any, error) {
	objs, err := objects.ReadDir(dir, fileBytes, budget)
	if err != nil {
		return nil, finding.Usagef("--crd-dir %s: %w", dir, err)
	}
	return slices.DeleteFunc(objs, func(m map[string]any) bool { return m["kind"] != "CustomResourceDefinition" }), nil
}
