package gen

import (
	"bytes"
	"encoding/json"

	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// JSONLines turns a YAML stream into the embedded form: each document
// decoded as gitops-lint decodes YAML (objects.Decode: YAML to JSON, then
// int64 or float64 numbers) and written as one line of compact JSON, in
// stream order. Decoding a line with k8s.io/apimachinery/pkg/util/json
// gives back the document's objects.Decode value, at a fraction of the cost
// of decoding the YAML at run time.
func JSONLines(stream []byte) ([]byte, error) {
	docs, err := objects.Decode(stream)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, d := range docs {
		line, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		b.Write(line) // compact JSON holds no raw newline
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}
