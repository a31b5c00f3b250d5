package render

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/fluxcd/pkg/envsubst"
	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// substituter runs kustomize-controller's post-build substitution for one
// Kustomization, reading substituteFrom ConfigMaps and Secrets from what the
// environment renders instead of from a cluster.
type substituter struct {
	run    *envRun
	k      *Kustomization
	ks     map[string]any
	active bool
	strict bool
	always bool
	// complete is false when a substituteFrom object is not rendered in the
	// environment (created outside git): its variables are unknown, so they
	// are left as written instead of being reported or blanked.
	complete bool
	vars     map[string]string
}

func (run *envRun) newSubstituter(k *Kustomization, ks map[string]any) *substituter {
	s := &substituter{run: run, k: k, ks: ks, complete: true}
	if _, ok := objects.Nested(ks, "spec", "postBuild").(map[string]any); !ok {
		return s
	}
	s.active = true
	s.strict = run.env.Lockdown.StrictSubstitution
	s.always = objects.NestedString(ks, "spec", "postBuild", "substituteStrategy") == "Always"
	s.vars = map[string]string{}
	for _, ref := range substituteFrom(ks) {
		data, ok := run.lookupVars(ref.Kind, k.Namespace, ref.Name)
		if !ok {
			if !ref.Optional {
				s.complete = false
			}
			continue
		}
		for kk, v := range data {
			s.vars[kk] = strings.ReplaceAll(v, "\n", "")
		}
	}
	if sub, ok := objects.Nested(ks, "spec", "postBuild", "substitute").(map[string]any); ok {
		for kk, v := range sub {
			s.vars[kk] = strings.ReplaceAll(str(v), "\n", "")
		}
	}
	return s
}

// lookupVars returns the data of a rendered ConfigMap or Secret as the
// controller would read it (Secret values decoded, stringData merged as the
// apiserver merges it). Values of a SOPS-encrypted Secret cannot be known:
// each is given as its own ${name} reference so that it stays as written.
func (run *envRun) lookupVars(kind, ns, name string) (map[string]string, bool) {
	run.mu.Lock()
	obj, ok := run.objs[objKey(kind, ns, name)]
	run.mu.Unlock()
	if !ok || (kind != "ConfigMap" && kind != "Secret") {
		return nil, false
	}
	out := map[string]string{}
	_, encrypted := obj["sops"]
	data, _ := obj["data"].(map[string]any)
	for k, v := range data {
		switch {
		case encrypted:
			out[k] = "${" + k + "}"
		case kind == "Secret":
			b, err := base64.StdEncoding.DecodeString(str(v))
			if err != nil {
				out[k] = "${" + k + "}"
				continue
			}
			out[k] = string(b)
		default:
			out[k] = str(v)
		}
	}
	if kind == "Secret" {
		sd, _ := obj["stringData"].(map[string]any)
		for k, v := range sd {
			if encrypted {
				out[k] = "${" + k + "}"
			} else {
				out[k] = str(v)
			}
		}
	}
	return out, true
}

// Get serves ConfigMaps and Secrets to Flux's substitution code.
func (c varClient) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		data, ok := c.run.lookupVars("ConfigMap", key.Namespace, key.Name)
		if !ok {
			return apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, key.Name)
		}
		o.Data = data
	case *corev1.Secret:
		data, ok := c.run.lookupVars("Secret", key.Namespace, key.Name)
		if !ok {
			return apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, key.Name)
		}
		o.Data = map[string][]byte{}
		for k, v := range data {
			o.Data[k] = []byte(v)
		}
	default:
		return fmt.Errorf("gitops-lint serves only ConfigMaps and Secrets, not %T", obj)
	}
	return nil
}

// varClient is the read-only client Flux's substitution receives; every
// method but Get is left unimplemented on purpose (nil interface).
type varClient struct {
	client.Client
	run *envRun
}

var bareVarRe = regexp.MustCompile(`\$\{([_a-zA-Z][_a-zA-Z0-9]*)\}`)

var varNotSetRe = regexp.MustCompile(`variable not set \(strict mode\): "([^"]+)"`)

// apply substitutes variables in res. Strict-mode misses become
// render/substitution findings at the line that holds the variable; the
// object is then rendered with the variable left as written.
func (s *substituter) apply(ctx context.Context, res *resource.Resource, obj *Object) error {
	if !s.active {
		return nil
	}
	if s.complete {
		u := unstructured.Unstructured{Object: s.ks}
		_, err := fluxkustomize.SubstituteVariables(ctx, varClient{run: s.run}, u, res,
			fluxkustomize.SubstituteWithStrict(s.strict),
			fluxkustomize.SubstituteWithAlways(s.always))
		if err == nil {
			return nil
		}
		m := varNotSetRe.FindStringSubmatch(err.Error())
		if m == nil {
			return fmt.Errorf("post build failed for '%s/%s': %w", res.GetGvk(), res.GetName(), err)
		}
		s.reportUnset(res, obj)
	}
	return s.lenient(res)
}

// reportUnset reports every variable of res that strict mode rejects.
func (s *substituter) reportUnset(res *resource.Resource, obj *Object) {
	data, err := res.AsYAML()
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for {
		_, err := envsubst.Eval(string(data), func(name string) (string, bool) {
			if seen[name] {
				return "", true
			}
			v, ok := s.vars[name]
			return v, ok
		})
		m := varNotSetRe.FindStringSubmatch(fmt.Sprint(err))
		if m == nil || seen[m[1]] {
			return
		}
		name := m[1]
		seen[name] = true
		file, line := s.run.varLine(obj, name)
		f := s.run.finding(s.k, finding.RuleSubstitution, finding.Error, file, line,
			fmt.Sprintf("post build failed for '%s/%s': envsubst error: variable substitution failed: variable not set (strict mode): %q — set it in spec.postBuild.substitute or a substituteFrom ConfigMap/Secret of %s, or give it a default: ${%s:=value}",
				res.GetGvk(), res.GetName(), name, s.k.ID(), name))
		f.Object = &finding.Object{APIVersion: res.GetApiVersion(), Kind: res.GetKind(), Namespace: res.GetNamespace(), Name: res.GetName()}
		s.run.r.add(f)
	}
}

// lenient substitutes known variables and leaves unknown ones as written.
func (s *substituter) lenient(res *resource.Resource) error {
	if res.GetLabels()["kustomize.toolkit.fluxcd.io/substitute"] == "disabled" ||
		res.GetAnnotations()["kustomize.toolkit.fluxcd.io/substitute"] == "disabled" {
		return nil
	}
	if len(s.vars) == 0 && !s.always && s.complete {
		return nil
	}
	data, err := res.AsYAML()
	if err != nil {
		return err
	}
	// Variables written bare (${NAME}) with no known value stay as written;
	// those with an operator (${NAME:=default}) get their default.
	bare := map[string]bool{}
	for _, m := range bareVarRe.FindAllStringSubmatch(string(data), -1) {
		bare[m[1]] = true
	}
	out, err := envsubst.Eval(string(data), func(name string) (string, bool) {
		if v, ok := s.vars[name]; ok {
			return v, true
		}
		if bare[name] {
			return "${" + name + "}", true
		}
		return "", false
	})
	if err != nil {
		return fmt.Errorf("post build failed for '%s/%s': envsubst error: %w", res.GetGvk(), res.GetName(), err)
	}
	j, err := yaml.YAMLToJSON([]byte(out))
	if err != nil {
		return fmt.Errorf("post build failed for '%s/%s': YAMLToJSON: %w", res.GetGvk(), res.GetName(), err)
	}
	return res.UnmarshalJSON(j)
}

// varLine finds the line holding ${name} in the object's source document,
// falling back to the document itself.
func (run *envRun) varLine(obj *Object, name string) (string, int) {
	if obj.File == "" {
		return "", 0
	}
	data, err := os.ReadFile(fileIn(run.r.lint.Root, obj.File))
	if err != nil {
		return obj.File, obj.Line
	}
	re := regexp.MustCompile(`\$\{` + regexp.QuoteMeta(name) + `\b`)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), MaxFileSize)
	first := 0
	for n := 1; sc.Scan(); n++ {
		if re.MatchString(sc.Text()) {
			if n >= obj.Line {
				return obj.File, n
			}
			if first == 0 {
				first = n
			}
		}
	}
	if first > 0 {
		return obj.File, first
	}
	return obj.File, obj.Line
}

func fileIn(root, rel string) string { return root + string(os.PathSeparator) + rel }
