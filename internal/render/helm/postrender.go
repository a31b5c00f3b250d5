package helm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"sigs.k8s.io/kustomize/api/builtins" //nolint:staticcheck // the transformers helm-controller's post-renderer uses; kustomize v0.21 ships them
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// postRenderer is helm's postrenderer.PostRenderer without the import.
type postRenderer interface {
	Run(*bytes.Buffer) (*bytes.Buffer, error)
}

// combined is helm-controller internal/postrender/combined.go.
type combined []postRenderer

func (c combined) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	var err error
	for _, r := range c {
		if in, err = r.Run(in); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// postRender* mirror the v2 API types of spec.postRenderers[].kustomize
// (fluxcd/pkg/apis/kustomize Patch, Selector, Image).
type postRenderSpec struct {
	Kustomize *struct {
		Patches []struct {
			Patch  string `json:"patch,omitempty"`
			Target *struct {
				Group              string `json:"group,omitempty"`
				Version            string `json:"version,omitempty"`
				Kind               string `json:"kind,omitempty"`
				Namespace          string `json:"namespace,omitempty"`
				Name               string `json:"name,omitempty"`
				AnnotationSelector string `json:"annotationSelector,omitempty"`
				LabelSelector      string `json:"labelSelector,omitempty"`
			} `json:"target,omitempty"`
		} `json:"patches,omitempty"`
		Images []struct {
			Name    string `json:"name"`
			NewName string `json:"newName,omitempty"`
			NewTag  string `json:"newTag,omitempty"`
			Digest  string `json:"digest,omitempty"`
		} `json:"images,omitempty"`
	} `json:"kustomize,omitempty"`
}

// buildPostRenderers is internal/postrender/build.go BuildPostRenderers:
// each kustomize post-renderer in order, then commonMetadata, then the
// origin labels (last, so they win a label key collision).
func buildPostRenderers(opts Options) (postRenderer, error) {
	var rs combined
	for i, raw := range opts.PostRenderers {
		var spec postRenderSpec
		if err := convert(raw, &spec); err != nil {
			return nil, fmt.Errorf("invalid spec.postRenderers[%d]: %w", i, err)
		}
		if spec.Kustomize == nil {
			continue
		}
		k := &kustomizeRenderer{}
		for _, img := range spec.Kustomize.Images {
			k.cfg.Images = append(k.cfg.Images, kustypes.Image{Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: img.Digest})
		}
		for _, p := range spec.Kustomize.Patches {
			kp := kustypes.Patch{Patch: p.Patch}
			if t := p.Target; t != nil {
				kp.Target = &kustypes.Selector{LabelSelector: t.LabelSelector, AnnotationSelector: t.AnnotationSelector}
				kp.Target.Group, kp.Target.Version, kp.Target.Kind = t.Group, t.Version, t.Kind
				kp.Target.Name, kp.Target.Namespace = t.Name, t.Namespace
			}
			k.cfg.Patches = append(k.cfg.Patches, kp)
		}
		rs = append(rs, k)
	}
	if opts.CommonMetadata != nil {
		var cm struct {
			Labels      map[string]string `json:"labels,omitempty"`
			Annotations map[string]string `json:"annotations,omitempty"`
		}
		if err := convert(opts.CommonMetadata, &cm); err != nil {
			return nil, fmt.Errorf("invalid spec.commonMetadata: %w", err)
		}
		var ts []resmap.Transformer
		if cm.Labels != nil {
			ts = append(ts, labelTransformer(cm.Labels))
		}
		if cm.Annotations != nil {
			ts = append(ts, &builtins.AnnotationsTransformerPlugin{
				Annotations: cm.Annotations,
				FieldSpecs:  []kustypes.FieldSpec{{Path: "metadata/annotations", CreateIfNotPresent: true}},
			})
		}
		rs = append(rs, transformRenderer(ts))
	}
	rs = append(rs, transformRenderer{labelTransformer(originLabels(opts.Origin.Namespace, opts.Origin.Name))})
	return rs, nil
}

const originGroup = "helm.toolkit.fluxcd.io"

// originLabels is internal/postrender/common_renderer.go originLabels.
func originLabels(namespace, name string) map[string]string {
	return map[string]string{originGroup + "/name": name, originGroup + "/namespace": namespace}
}

func labelTransformer(labels map[string]string) resmap.Transformer {
	return &builtins.LabelTransformerPlugin{
		Labels:     labels,
		FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/labels", CreateIfNotPresent: true}},
	}
}

// kustomizeMu: helm-controller serialises kustomize builds (kustomize
// issue 3659, concurrent map access); so do we.
var kustomizeMu sync.Mutex

// kustomizeRenderer is internal/postrender/kustomize.go: the stream as
// helm-output.yaml in an in-memory filesystem, a kustomization with the
// patches and images, built with plugins disabled.
type kustomizeRenderer struct{ cfg kustypes.Kustomization }

func (k *kustomizeRenderer) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	fs := filesys.MakeFsInMemory()
	cfg := k.cfg
	cfg.APIVersion, cfg.Kind = kustypes.KustomizationVersion, kustypes.KustomizationKind
	const input = "helm-output.yaml"
	cfg.Resources = []string{input}
	if err := fs.WriteFile(input, in.Bytes()); err != nil {
		return nil, err
	}
	kb, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile("kustomization.yaml", kb); err != nil {
		return nil, err
	}
	kustomizeMu.Lock()
	defer kustomizeMu.Unlock()
	rm, err := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	}).Run(fs, ".")
	if err != nil {
		return nil, err
	}
	out, err := rm.AsYaml()
	if err != nil {
		return nil, err
	}
	return bytes.NewBuffer(out), nil
}

// transformRenderer is internal/postrender/transformer.go transform.
type transformRenderer []resmap.Transformer

func (t transformRenderer) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	if len(t) == 0 {
		return in, nil
	}
	kustomizeMu.Lock()
	defer kustomizeMu.Unlock()
	rf := provider.NewDefaultDepProvider().GetResourceFactory()
	rm, err := resmap.NewFactory(rf).NewResMapFromBytes(in.Bytes())
	if err != nil {
		return nil, err
	}
	for _, tr := range t {
		if err := tr.Transform(rm); err != nil {
			return nil, err
		}
	}
	out, err := rm.AsYaml()
	if err != nil {
		return nil, err
	}
	return bytes.NewBuffer(out), nil
}

// filenameAnnotation, annotateAndMerge and splitAndDeannotate are Helm's
// (pkg/action/action.go, unexported there): the stream handed to the
// post-renderer carries each document's template in an annotation.
const filenameAnnotation = "postrenderer.helm.sh/postrender-filename"

func annotateAndMerge(files map[string]string) (string, error) {
	var all []*kyaml.RNode
	for _, fname := range slices.Sorted(maps.Keys(files)) {
		content := files[fname]
		if strings.HasPrefix(path.Base(fname), "_") || strings.TrimSpace(content) == "" {
			continue
		}
		docs := releaseutil.SplitManifests(content)
		keys := slices.Collect(maps.Keys(docs))
		sort.Sort(releaseutil.BySplitManifestsOrder(keys))
		for _, key := range keys {
			doc := docs[key]
			if strings.TrimSpace(doc) == "" {
				continue
			}
			nodes, err := kio.ParseAll(doc)
			if err != nil {
				return "", fmt.Errorf("parsing %s: %w", fname, err)
			}
			for _, n := range nodes {
				if err := n.PipeE(kyaml.SetAnnotation(filenameAnnotation, fname)); err != nil {
					return "", fmt.Errorf("annotating %s: %w", fname, err)
				}
				all = append(all, n)
			}
		}
	}
	merged, err := kio.StringAll(all)
	if err != nil {
		return "", fmt.Errorf("writing merged docs: %w", err)
	}
	return merged, nil
}

func splitAndDeannotate(postrendered, fallbackPrefix string) (map[string]string, error) {
	nodes, err := kio.ParseAll(postrendered)
	if err != nil {
		return nil, fmt.Errorf("error parsing YAML: %w", err)
	}
	byFile := map[string][]*kyaml.RNode{}
	for i, n := range nodes {
		meta, err := n.GetMeta()
		if err != nil {
			return nil, fmt.Errorf("getting metadata: %w", err)
		}
		fname := meta.Annotations[filenameAnnotation]
		if fname == "" {
			if fallbackPrefix == "" {
				fname = fmt.Sprintf("generated-by-postrender-%d.yaml", i)
			} else {
				fname = fmt.Sprintf("generated-by-postrender-%s-%d.yaml", fallbackPrefix, i)
			}
		}
		if err := n.PipeE(kyaml.ClearAnnotation(filenameAnnotation)); err != nil {
			return nil, fmt.Errorf("clearing filename annotation: %w", err)
		}
		byFile[fname] = append(byFile[fname], n)
	}
	out := make(map[string]string, len(byFile))
	for fname, docs := range byFile {
		s, err := kio.StringAll(docs)
		if err != nil {
			return nil, fmt.Errorf("re-writing %s: %w", fname, err)
		}
		out[fname] = s
	}
	return out, nil
}
