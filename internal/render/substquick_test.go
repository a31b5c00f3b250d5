package render

import (
	"context"
	"reflect"
	"strings"
	"testing"

	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resource"
)

// oneResource reads doc as kustomize does, nil unless it is one object.
func oneResource(doc string) *resource.Resource {
	rs, err := provider.NewDefaultDepProvider().GetResourceFactory().SliceFromBytes([]byte(doc))
	if err != nil || len(rs) != 1 {
		return nil
	}
	return rs[0]
}

// fluxSubstitute is Flux's substitution of one object with inline
// variables, then the conversion every object goes through.
func fluxSubstitute(t testing.TB, doc string, vars map[string]string, strict bool) (map[string]any, bool) {
	res := oneResource(doc)
	if res == nil {
		return nil, false
	}
	sub := map[string]any{}
	for k, v := range vars {
		sub[k] = v
	}
	ks := unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "k", "namespace": "flux-system"},
		"spec":     map[string]any{"postBuild": map[string]any{"substitute": sub}},
	}}
	if _, err := fluxkustomize.SubstituteVariables(context.Background(), nil, ks, res,
		fluxkustomize.SubstituteWithStrict(strict)); err != nil {
		return nil, false
	}
	m, err := toUnstructured(res)
	if err != nil {
		return nil, false
	}
	return m, true
}

// quickSubstitute is quick's result for the same object, ok false when it
// left the object to Flux's path.
func quickSubstitute(t testing.TB, doc string, vars map[string]string, strict bool) (map[string]any, bool) {
	res := oneResource(doc)
	if res == nil || substitutionDisabled(res) {
		return nil, false // apply leaves it to Flux, which changes nothing
	}
	clean := map[string]string{}
	for k, v := range vars {
		clean[k] = strings.ReplaceAll(v, "\n", "")
	}
	s := &substituter{active: true, complete: true, strict: strict, vars: clean, quickVars: quickOK(clean)}
	m, err := s.quick(res)
	return m, err == nil
}

func TestQuickSubstitution(t *testing.T) {
	vars := map[string]string{
		"DOMAIN": "example.com", "REPLICAS": "3", "FLAG": "true", "FLOAT": "1.0", "BIG": "12345678901234567890",
		"EMPTY": "", "LIST": "[a, b]", "MAP": "{a: 1}", "COLON": "a: b", "HASH": "x #c", "QUOTE": `say "hi"`,
		"SQ": "it's", "BACKSLASH": `a\nb`, "SPACE": " lead", "STAR": "*alias", "AMP": "&anchor v", "DASH": "- x",
		"TILDE": "~", "YES": "yes", "OCT": "0755", "HEX": "0x1F", "LONG": strings.Repeat("word ", 30), "PIPE": "| x",
		"UNI": "héllo wörld", "PCT": "%x", "AT": "@x", "BT": "`x",
		"NEL": "a\u0085b", "LS": "a\u2028b", "BOM": "\ufeffx", "C1": "a\u009bb",
	}
	var names []string
	for k := range vars {
		names = append(names, k)
	}
	shapes := []string{
		"v: ${%s}",
		"v: \"${%s}\"",
		"v: 'pre-${%s}-post'",
		"v: https://${%s}/path",
		"v: a b ${%s} c",
		"v: \"a: ${%s}\"",
		"v: |\n    line one ${%s}\n    ${%s} two\n",
		"v: |-\n    ${%s}\n",
		"list:\n  - ${%s}\n  - x-${%s}\n",
		"deep:\n  a:\n    b:\n      - c: ${%s}\n",
		"v: cost $5 and ${%s}",
		"v: \"" + strings.Repeat("x", 60) + " ${%s} " + strings.Repeat("y", 30) + "\"",
		"v: ${%s}\nother: $$notquick",
		"v: ${%s:=default}",
		"v: ${%s:-5Gi} and ${%s=x}",
		"v: ${MISSING:=fallback} ${%s}",
		"v: ${MISSING} ${%s}",
		"v: '{{ $labels.x }} ${%s}'",
		"v: ${%s:+alt} ${%s:2}",
		"a:\n  b:\n    c:\n      - d:\n          e: " + strings.Repeat("w ", 25) + "${%s} ${%s} x",
	}
	taken := 0
	for _, shape := range shapes {
		for _, name := range names {
			for _, strict := range []bool{false, true} {
				body := strings.ReplaceAll(shape, "%s", name)
				doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  " + strings.ReplaceAll(body, "\n", "\n  ") + "\n"
				doc = strings.TrimRight(doc, " \n") + "\n"
				got, ok := quickSubstitute(t, doc, vars, strict)
				if !ok {
					continue
				}
				taken++
				want, wok := fluxSubstitute(t, doc, vars, strict)
				if !wok {
					t.Errorf("quick substituted what Flux fails on (strict=%v):\n%s", strict, doc)
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("strict=%v\n%s\nquick: %#v\nflux:  %#v", strict, doc, got["data"], want["data"])
				}
			}
		}
	}
	// The common cases take the quick path (else this test proves nothing).
	if taken < len(shapes)*len(names) {
		t.Errorf("quick path taken %d times, want at least %d", taken, len(shapes)*len(names))
	}
	t.Logf("quick path taken for %d of %d cases", taken, 2*len(shapes)*len(names))
}

func FuzzQuickSubstitution(f *testing.F) {
	f.Add("v: ${A}\nw: x-${A}-y\n", "A", "3", false)
	f.Add("v: |\n  a ${A}\n  b\n", "A", "x: y", true)
	f.Add("l:\n- ${A}\n- '${A}'\n", "A", "[1, 2]", false)
	f.Add("v: \"${A} and ${B}\"\n", "A", "\"", false)
	f.Add("v: ${A:=5Gi} ${B:-x y} ${A=z}\n", "A", "", true)
	f.Add("v: '{{ $labels.x }} ${A}'\n", "A", "it's", false)
	f.Add("a:\n  b:\n  - c:\n      d: "+strings.Repeat("w ", 30)+"${A} ${A} x\n", "A", "", false)
	f.Fuzz(func(t *testing.T, body, name, value string, strict bool) {
		if len(body) > 2000 || len(value) > 200 || !varNameRe.MatchString(name) {
			return
		}
		doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n" + body
		vars := map[string]string{name: value}
		got, ok := quickSubstitute(t, doc, vars, strict)
		if !ok {
			return
		}
		want, wok := fluxSubstitute(t, doc, vars, strict)
		if !wok {
			t.Fatalf("quick substituted what Flux fails on:\n%q", doc)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q with %s=%q\nquick: %#v\nflux:  %#v", doc, name, value, got, want)
		}
	})
}
