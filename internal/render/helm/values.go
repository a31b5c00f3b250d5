package helm

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	fluxchartutil "github.com/fluxcd/pkg/chartutil"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ValueSource serves the ConfigMaps and Secrets of the rendered
// environment: kind is "ConfigMap" or "Secret"; data is the ConfigMap's
// data, or the Secret's data decoded from base64 merged with its
// stringData (as the API server stores it).
type ValueSource func(kind, namespace, name string) (data map[string]string, found bool)

// ComposeValues composes a HelmRelease's values as helm-controller does
// (internal/controller/helmrelease_controller.go calls
// fluxcd/pkg/chartutil.ChartValuesFromReferences with the HelmRelease's
// namespace, spec.values and spec.valuesFrom): each valuesFrom reference in
// order (a ConfigMap/Secret key, default "values.yaml"; with targetPath set
// through Helm's strvals, or verbatim when literal; optional ones skipped
// when missing), then spec.values merged on top. Errors are chartutil's own
// (*chartutil.ErrValuesReference), worded as the controller's ValuesError.
func ComposeValues(ctx context.Context, hr map[string]any, src ValueSource) (map[string]any, error) {
	var refs []meta.ValuesReference
	if vf := get(hr, "spec", "valuesFrom"); vf != nil {
		if err := convert(vf, &refs); err != nil {
			return nil, fmt.Errorf("invalid spec.valuesFrom: %w", err)
		}
	}
	var values map[string]any
	if v, ok := get(hr, "spec", "values").(map[string]any); ok {
		values = v
	}
	c := sourceClient{src: src}
	out, err := fluxchartutil.ChartValuesFromReferences(ctx, logr.Discard(), c,
		str(hr, "metadata", "namespace"), values, refs...)
	if err != nil {
		return nil, err
	}
	return out.AsMap(), nil
}

// sourceClient is the controller-runtime client chartutil is handed: it
// serves Get for ConfigMaps and Secrets from a ValueSource and nothing else
// (chartutil calls nothing else; any other method panics on the nil
// embedded interface, which a test would catch).
type sourceClient struct {
	client.Client
	src ValueSource
}

func (c sourceClient) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		data, ok := c.lookup("ConfigMap", key)
		if !ok {
			return apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, key.Name)
		}
		o.Name, o.Namespace, o.Data = key.Name, key.Namespace, data
		return nil
	case *corev1.Secret:
		data, ok := c.lookup("Secret", key)
		if !ok {
			return apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, key.Name)
		}
		o.Name, o.Namespace = key.Name, key.Namespace
		o.Data = make(map[string][]byte, len(data))
		for k, v := range data {
			o.Data[k] = []byte(v)
		}
		return nil
	}
	return fmt.Errorf("unsupported object %T", obj)
}

func (c sourceClient) lookup(kind string, key client.ObjectKey) (map[string]string, bool) {
	if c.src == nil {
		return nil, false
	}
	data, ok := c.src(kind, key.Namespace, key.Name)
	if ok && data == nil {
		data = map[string]string{}
	}
	return data, ok
}
