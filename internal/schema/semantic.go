package schema

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Semantic checks the validations the apiserver makes in Go code rather than
// in its OpenAPI schema, for the fields every team writes: object names,
// label and annotation keys and values, container images and ports, and
// workload selectors matching their pod template. Each problem is worded as
// the apiserver's field error.
func Semantic(obj map[string]any, builtin bool) []Problem {
	var out []Problem
	add := func(path []string, msg string) { out = append(out, Problem{Path: path, Msg: msg}) }
	md, _ := obj["metadata"].(map[string]any)
	kind, _ := obj["kind"].(string)
	if name, ok := md["name"].(string); ok && builtin {
		for _, e := range nameErrors(kind, name) {
			add([]string{"metadata", "name"}, fmt.Sprintf("Invalid value: %q: %s", name, e))
		}
	}
	checkMeta(md, []string{"metadata"}, add)
	if !builtin {
		return out
	}
	switch kind {
	case "Service":
		ports, _ := nestedList(obj, "spec", "ports")
		for i, p := range ports {
			pm, _ := p.(map[string]any)
			for _, field := range []string{"port", "nodePort"} {
				if n, ok := asInt(pm[field]); ok && (n < 1 || n > 65535) && !(field == "nodePort" && n == 0) {
					add([]string{"spec", "ports", fmt.Sprint(i), field}, fmt.Sprintf("Invalid value: %d: must be between 1 and 65535, inclusive", n))
				}
			}
			if n, ok := asInt(pm["targetPort"]); ok && (n < 1 || n > 65535) {
				add([]string{"spec", "ports", fmt.Sprint(i), "targetPort"}, fmt.Sprintf("Invalid value: %d: must be between 1 and 65535, inclusive", n))
			}
		}
	case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet":
		checkSelector(obj, add)
	}
	if pod, path := podSpec(obj); pod != nil {
		checkPod(pod, path, add)
		if tmd, ok := nestedMap(obj, path[:len(path)-1]...); ok && len(path) > 1 {
			if m, ok := tmd["metadata"].(map[string]any); ok {
				checkMeta(m, append(append([]string(nil), path[:len(path)-1]...), "metadata"), add)
			}
		}
	}
	return out
}

// nameErrors validates metadata.name as the kind's apiserver strategy does:
// DNS-1035 labels for Services, DNS-1123 labels for Namespaces, path
// segments for RBAC roles, DNS-1123 subdomains otherwise.
func nameErrors(kind, name string) []string {
	switch kind {
	case "Service":
		return validation.IsDNS1035Label(name)
	case "Namespace":
		return validation.IsDNS1123Label(name)
	case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
		var errs []string
		for _, bad := range []string{"/", "%"} {
			if strings.Contains(name, bad) {
				errs = append(errs, fmt.Sprintf("may not contain '%s'", bad))
			}
		}
		if name == "." || name == ".." {
			errs = append(errs, fmt.Sprintf("may not be '%s'", name))
		}
		return errs
	}
	return validation.IsDNS1123Subdomain(name)
}

func checkMeta(md map[string]any, path []string, add func([]string, string)) {
	if ls, ok := md["labels"].(map[string]any); ok {
		for k, v := range ls {
			p := append(append([]string(nil), path...), "labels")
			for _, e := range validation.IsQualifiedName(k) {
				add(p, fmt.Sprintf("Invalid value: %q: %s", k, e))
			}
			if s, ok := v.(string); ok {
				for _, e := range validation.IsValidLabelValue(s) {
					add(append(p, k), fmt.Sprintf("Invalid value: %q: %s", s, e))
				}
			}
		}
	}
	if as, ok := md["annotations"].(map[string]any); ok {
		total := 0
		for k, v := range as {
			for _, e := range validation.IsQualifiedName(strings.ToLower(k)) {
				add(append(append([]string(nil), path...), "annotations"), fmt.Sprintf("Invalid value: %q: %s", k, e))
			}
			s, _ := v.(string)
			total += len(k) + len(s)
		}
		if total > 256*1024 {
			add(append(append([]string(nil), path...), "annotations"), fmt.Sprintf("Too long: may not be more than %d bytes", 256*1024))
		}
	}
}

func podSpec(obj map[string]any) (map[string]any, []string) {
	kind, _ := obj["kind"].(string)
	var path []string
	switch kind {
	case "Pod":
		path = []string{"spec"}
	case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job":
		path = []string{"spec", "template", "spec"}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template", "spec"}
	default:
		return nil, nil
	}
	m, ok := nestedMap(obj, path...)
	if !ok {
		return nil, nil
	}
	return m, path
}

func checkPod(pod map[string]any, path []string, add func([]string, string)) {
	for _, field := range []string{"initContainers", "containers"} {
		list, _ := pod[field].([]any)
		for i, c := range list {
			cm, _ := c.(map[string]any)
			cp := append(append([]string(nil), path...), field, fmt.Sprint(i))
			if img, _ := cm["image"].(string); strings.TrimSpace(img) == "" {
				add(append(cp, "image"), "Required value")
			}
			ports, _ := cm["ports"].([]any)
			for j, p := range ports {
				pm, _ := p.(map[string]any)
				for _, pf := range []string{"containerPort", "hostPort"} {
					if n, ok := asInt(pm[pf]); ok && (n < 1 || n > 65535) && !(pf == "hostPort" && n == 0) {
						add(append(cp, "ports", fmt.Sprint(j), pf), fmt.Sprintf("Invalid value: %d: must be between 1 and 65535, inclusive", n))
					}
				}
			}
		}
	}
}

// checkSelector requires a workload's selector to select its own pod
// template, as the apps validation does.
func checkSelector(obj map[string]any, add func([]string, string)) {
	selM, ok := nestedMap(obj, "spec", "selector")
	if !ok {
		return
	}
	var sel metav1.LabelSelector
	if ml, ok := selM["matchLabels"].(map[string]any); ok {
		sel.MatchLabels = map[string]string{}
		for k, v := range ml {
			sel.MatchLabels[k], _ = v.(string)
		}
	}
	if me, ok := selM["matchExpressions"].([]any); ok {
		for _, e := range me {
			em, _ := e.(map[string]any)
			req := metav1.LabelSelectorRequirement{}
			req.Key, _ = em["key"].(string)
			op, _ := em["operator"].(string)
			req.Operator = metav1.LabelSelectorOperator(op)
			vals, _ := em["values"].([]any)
			for _, v := range vals {
				s, _ := v.(string)
				req.Values = append(req.Values, s)
			}
			sel.MatchExpressions = append(sel.MatchExpressions, req)
		}
	}
	s, err := metav1.LabelSelectorAsSelector(&sel)
	if err != nil || s.Empty() {
		return
	}
	tl := map[string]string{}
	if m, ok := nestedMap(obj, "spec", "template", "metadata", "labels"); ok {
		for k, v := range m {
			tl[k], _ = v.(string)
		}
	}
	if !s.Matches(labels.Set(tl)) {
		add([]string{"spec", "template", "metadata", "labels"}, fmt.Sprintf("Invalid value: %v: `selector` does not match template `labels`", labels.Set(tl)))
	}
}

func nestedList(m map[string]any, keys ...string) ([]any, bool) {
	parent, ok := nestedMap(m, keys[:len(keys)-1]...)
	if !ok {
		return nil, false
	}
	l, ok := parent[keys[len(keys)-1]].([]any)
	return l, ok
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}
