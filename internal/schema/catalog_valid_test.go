package schema

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gitops-lint/gitops-lint/internal/catalog"
)

// checkedDefinitionsURL serves the definitions where the compiler checks
// them against the metaschema, unlike definitionsURL.
const checkedDefinitionsURL = "https://catalog.gitops-lint.invalid/definitions/"

// TestCatalogDefinitionsValid compiles every definition of every embedded
// catalog with the metaschema check that runs skip (definitionsURL).
func TestCatalogDefinitionsValid(t *testing.T) {
	if !strings.HasPrefix(definitionsURL, "https://json-schema.org/") || strings.HasPrefix(checkedDefinitionsURL, "https://json-schema.org/") {
		t.Fatal("definitionsURL and checkedDefinitionsURL: see definitionsURL")
	}
	for _, v := range catalog.Versions() {
		data, err := catalog.Kubernetes(v)
		if err != nil {
			t.Fatal(err)
		}
		cat, err := ParseCatalog(data)
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.UseLoader(catalogLoader{cat, checkedDefinitionsURL})
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range cat.Definitions {
				if !yield(n) {
					return
				}
			}
		})
		for _, n := range names {
			if _, err := c.Compile(checkedDefinitionsURL + n + ".json"); err != nil {
				t.Errorf("Kubernetes %s: %s: %v", v, n, err)
			}
		}
	}
}

// TestMetaschemaSkip shows what definitionsURL relies on: the compiler
// refuses a document that breaks the metaschema under any other URL (a CRD
// schema's, say) and does not check it under definitionsURL. Should a
// jsonschema release check it there too, runs are slower, not wrong: drop
// the second case then.
func TestMetaschemaSkip(t *testing.T) {
	cat := &Catalog{Definitions: map[string]json.RawMessage{"bad": json.RawMessage(`{"type": 3}`)}}
	for _, tc := range []struct {
		prefix  string
		refused bool
	}{{checkedDefinitionsURL, true}, {definitionsURL, false}} {
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.UseLoader(catalogLoader{cat, tc.prefix})
		_, err := c.Compile(tc.prefix + "bad.json")
		if (err != nil) != tc.refused {
			t.Errorf("%s: err = %v, want refused %v", tc.prefix, err, tc.refused)
		}
	}
}
