package catalog

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestMembers checks the splitter against encoding/json on every embedded
// catalog (top level and definitions) and on edge cases.
func TestMembers(t *testing.T) {
	for _, v := range Versions() {
		data, err := Kubernetes(v)
		if err != nil {
			t.Fatal(err)
		}
		check(t, v, data)
		var top map[string]json.RawMessage
		if err := json.Unmarshal(data, &top); err != nil {
			t.Fatal(err)
		}
		check(t, v+" definitions", top["definitions"])
	}
	for _, s := range []string{`{}`, ` { } `, `{"a":1,"b":"x\"}y","c":[1,{"d":"]"}],"e":null,"a":true}`, `{"k\u0041":{"x":[[],{}]}}`, "{\n\t\"a\" : -1.5e3 \r\n}"} {
		check(t, s, []byte(s))
	}
	for _, s := range []string{``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1} x`, `{"a":"b}`, `{"a":[1}`, `{a:1}`} {
		if _, err := Members([]byte(s)); err == nil {
			t.Errorf("Members(%q): no error", s)
		}
	}
}

func check(t *testing.T, name string, data []byte) {
	t.Helper()
	got, err := Members(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: Members differs from json.Unmarshal", name)
	}
}
