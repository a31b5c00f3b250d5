package main

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File is one upstream YAML file and where it came from.
type File struct {
	Origin string // module@version/path, for error messages
	Data   []byte
}

// separator matches a YAML document separator line.
var separator = regexp.MustCompile(`(?m)^---[ \t]*\r?$\n?`)

// Stream picks the CustomResourceDefinition documents out of files (other
// kinds, such as the Deployments of a distribution manifest, are dropped)
// and returns them as one YAML stream sorted by CRD name, each document's
// text exactly as upstream wrote it. Every name in expected must be there;
// a name found twice is an error.
func Stream(files []File, expected []string) ([]byte, error) {
	docs := map[string][]byte{}
	origin := map[string]string{}
	for _, f := range files {
		for _, doc := range separator.Split(string(f.Data), -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var head struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
				Metadata   struct {
					Name string `yaml:"name"`
				} `yaml:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				return nil, fmt.Errorf("parse %s: %w", f.Origin, err)
			}
			if head.Kind != "CustomResourceDefinition" {
				continue
			}
			if head.APIVersion != "apiextensions.k8s.io/v1" {
				return nil, fmt.Errorf("parse %s: CRD %s is %s, want apiextensions.k8s.io/v1", f.Origin, head.Metadata.Name, head.APIVersion)
			}
			name := head.Metadata.Name
			if name == "" {
				return nil, fmt.Errorf("parse %s: a CustomResourceDefinition has no metadata.name", f.Origin)
			}
			if prev, dup := origin[name]; dup {
				return nil, fmt.Errorf("CRD %s is in both %s and %s: pin one source per CRD", name, prev, f.Origin)
			}
			if !strings.HasSuffix(doc, "\n") {
				doc += "\n"
			}
			docs[name], origin[name] = []byte(doc), f.Origin
		}
	}
	var missing []string
	for _, name := range expected {
		if _, ok := docs[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("CRDs %s not found in the pinned modules", strings.Join(missing, ", "))
	}
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		b.WriteString("---\n")
		b.Write(docs[n])
	}
	return b.Bytes(), nil
}
