package admission

import (
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/predicates/object"
	predicates "k8s.io/apiserver/pkg/admission/plugin/webhook/predicates/rules"
)

// matches decides whether match resources (a policy's matchConstraints or
// a binding's matchResources) select a request, in the order and with the
// outcomes of the apiserver's policy matcher: the namespaceSelector and
// objectSelector first (their errors count only when the resource rules
// match), excludeResourceRules, then resourceRules, with matchPolicy
// Equivalent also trying the resource's equivalents. It returns the kind
// the request is matched as.
//
// The apiserver's matcher (k8s.io/apiserver/…/policy/matching) is not used
// because its namespace predicate holds a clientset, which would link
// every typed Kubernetes client into the binary; the namespaces here come
// from the environment's rendered objects.
func matches(m *admissionregistrationv1.MatchResources, attr admission.Attributes, ns namespaces, eq equivalents) (bool, schema.GroupVersionKind, error) {
	nsOK, nsErr := matchNamespace(m, attr, ns)
	if !nsOK && nsErr == nil {
		return false, schema.GroupVersionKind{}, nil
	}
	objOK, objErr := (&object.Matcher{}).MatchObjectSelector(&criteria{m}, attr)
	if !objOK && objErr == nil {
		return false, schema.GroupVersionKind{}, nil
	}
	if excluded, _, err := ruleMatch(m.ExcludeResourceRules, m.MatchPolicy, attr, eq); excluded || err != nil {
		return false, schema.GroupVersionKind{}, err
	}
	kind := attr.GetKind()
	if len(m.ResourceRules) > 0 {
		ok, k, err := ruleMatch(m.ResourceRules, m.MatchPolicy, attr, eq)
		if err != nil || !ok {
			return false, schema.GroupVersionKind{}, err
		}
		kind = k
	}
	if nsErr != nil {
		return false, schema.GroupVersionKind{}, nsErr
	}
	if objErr != nil {
		return false, schema.GroupVersionKind{}, objErr
	}
	return true, kind, nil
}

// matchNamespace applies the namespaceSelector: cluster-scoped requests
// (other than for a Namespace) always match; a Namespace being created is
// matched by its own labels, anything else by its namespace's.
func matchNamespace(m *admissionregistrationv1.MatchResources, attr admission.Attributes, ns namespaces) (bool, error) {
	name := attr.GetNamespace()
	isNamespace := attr.GetResource().Resource == "namespaces" && attr.GetSubresource() == ""
	if name == "" && !isNamespace {
		return true, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(m.NamespaceSelector)
	if err != nil {
		return false, apierrors.NewInternalError(err)
	}
	if sel.Empty() {
		return true, nil
	}
	var set map[string]string
	if isNamespace {
		if u, ok := attr.GetObject().(interface{ GetLabels() map[string]string }); ok {
			set = u.GetLabels()
		}
	} else {
		n, _ := ns.Get(name)
		set = n.Labels
	}
	return sel.Matches(labels.Set(set)), nil
}

// ruleMatch reports whether named rules select the request, directly or
// (matchPolicy Equivalent) through an equivalent resource, and the kind it
// is then matched as.
func ruleMatch(named []admissionregistrationv1.NamedRuleWithOperations, policy *admissionregistrationv1.MatchPolicyType, attr admission.Attributes, eq equivalents) (bool, schema.GroupVersionKind, error) {
	nameOK := func(r admissionregistrationv1.NamedRuleWithOperations) bool {
		if len(r.ResourceNames) == 0 {
			return true
		}
		for _, n := range r.ResourceNames {
			if n == attr.GetName() {
				return true
			}
		}
		return false
	}
	for _, r := range named {
		if (&predicates.Matcher{Rule: r.RuleWithOperations, Attr: attr}).Matches() && nameOK(r) {
			return true, attr.GetKind(), nil
		}
	}
	if policy == nil || *policy == admissionregistrationv1.Exact {
		return false, schema.GroupVersionKind{}, nil
	}
	for _, alt := range eq.of(attr.GetResource(), attr.GetSubresource()) {
		if alt == attr.GetResource() {
			continue
		}
		over := &resourceOverride{Attributes: attr, resource: alt}
		for _, r := range named {
			if !(&predicates.Matcher{Rule: r.RuleWithOperations, Attr: over}).Matches() {
				continue
			}
			kind := eq.kind(alt, attr.GetSubresource())
			if kind.Empty() {
				return false, schema.GroupVersionKind{}, fmt.Errorf("unable to convert to %v: unknown kind", alt)
			}
			if nameOK(r) {
				return true, kind, nil
			}
		}
	}
	return false, schema.GroupVersionKind{}, nil
}

type resourceOverride struct {
	admission.Attributes
	resource schema.GroupVersionResource
}

func (r *resourceOverride) GetResource() schema.GroupVersionResource { return r.resource }

// equivalents are the resources served at several versions (a CRD's
// versions): each is the same resource for matchPolicy Equivalent.
type equivalents map[schema.GroupResource][]versionKind

type versionKind struct {
	version, kind string
}

func (e equivalents) of(gvr schema.GroupVersionResource, sub string) []schema.GroupVersionResource {
	if sub != "" {
		return nil
	}
	var out []schema.GroupVersionResource
	for _, vk := range e[gvr.GroupResource()] {
		out = append(out, gvr.GroupResource().WithVersion(vk.version))
	}
	return out
}

func (e equivalents) kind(gvr schema.GroupVersionResource, sub string) schema.GroupVersionKind {
	for _, vk := range e[gvr.GroupResource()] {
		if vk.version == gvr.Version {
			return gvr.GroupVersion().WithKind(vk.kind)
		}
	}
	return schema.GroupVersionKind{}
}

// addCRD records the versions a CustomResourceDefinition serves.
func (e equivalents) addCRD(crd map[string]any) {
	spec, _ := crd["spec"].(map[string]any)
	group, _ := spec["group"].(string)
	names, _ := spec["names"].(map[string]any)
	kind, _ := names["kind"].(string)
	plural, _ := names["plural"].(string)
	vs, _ := spec["versions"].([]any)
	gr := schema.GroupResource{Group: group, Resource: plural}
	e[gr] = nil
	for _, v := range vs {
		vm, _ := v.(map[string]any)
		name, _ := vm["name"].(string)
		if served, _ := vm["served"].(bool); served && name != "" {
			e[gr] = append(e[gr], versionKind{name, kind})
		}
	}
}
