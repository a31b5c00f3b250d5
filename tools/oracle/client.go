package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client talks REST to the apiserver as the static admin.
type Client struct {
	base  string
	token string
	http  *http.Client

	mu        sync.Mutex
	resources map[string]apiResource // "group/version/Kind"
}

type apiResource struct {
	Name       string
	Namespaced bool
}

// NewClient returns a client for the loopback apiserver (its serving
// certificate is self-signed, so it is not verified).
func NewClient(base, token string) *Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 32}
	return &Client{base: base, token: token, http: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// Response is a raw answer.
type Response struct {
	Code int
	Body []byte
	// Warnings are the texts of the response's Warning headers (a
	// ValidatingAdmissionPolicy binding with validationActions: Warn).
	Warnings []string
}

// Status decodes a metav1.Status answer.
func (r Response) Status() (reason, message string) {
	var st struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(r.Body, &st)
	if st.Message == "" {
		st.Message = strings.TrimSpace(string(r.Body))
	}
	return st.Reason, st.Message
}

// Do sends one request; impersonate (user, groups) is optional.
func (c *Client) Do(ctx context.Context, method, path, contentType string, body []byte, user string, groups []string) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" {
		req.Header.Set("Impersonate-User", user)
		for _, g := range groups {
			req.Header.Add("Impersonate-Group", g)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Response{Code: resp.StatusCode, Body: b, Warnings: warnings(resp.Header.Values("Warning"))}, err
}

// WaitReady polls /readyz.
func (c *Client) WaitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		r, err := c.Do(ctx, "GET", "/readyz", "", nil, "", nil)
		if err == nil && r.Code == 200 {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("%d %s", r.Code, r.Body)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("timeout: %s", last)
}

// Discover (re)reads the API resources the apiserver serves.
func (c *Client) Discover(ctx context.Context) error {
	res := map[string]apiResource{}
	var gvs []string
	gvs = append(gvs, "v1")
	r, err := c.Do(ctx, "GET", "/apis", "", nil, "", nil)
	if err != nil {
		return err
	}
	var groups struct {
		Groups []struct {
			Versions []struct {
				GroupVersion string `json:"groupVersion"`
			} `json:"versions"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(r.Body, &groups); err != nil {
		return fmt.Errorf("discovery /apis: %w", err)
	}
	for _, g := range groups.Groups {
		for _, v := range g.Versions {
			gvs = append(gvs, v.GroupVersion)
		}
	}
	for _, gv := range gvs {
		path := "/apis/" + gv
		if gv == "v1" {
			path = "/api/v1"
		}
		r, err := c.Do(ctx, "GET", path, "", nil, "", nil)
		if err != nil {
			return err
		}
		if r.Code != 200 {
			continue // e.g. a CRD version being set up
		}
		var list struct {
			Resources []struct {
				Name       string `json:"name"`
				Namespaced bool   `json:"namespaced"`
				Kind       string `json:"kind"`
			} `json:"resources"`
		}
		if err := json.Unmarshal(r.Body, &list); err != nil {
			return fmt.Errorf("discovery %s: %w", path, err)
		}
		for _, x := range list.Resources {
			if strings.Contains(x.Name, "/") {
				continue
			}
			res[gv+"/"+x.Kind] = apiResource{Name: x.Name, Namespaced: x.Namespaced}
		}
	}
	c.mu.Lock()
	c.resources = res
	c.mu.Unlock()
	return nil
}

// Resource maps apiVersion and kind to the API resource.
func (c *Client) Resource(apiVersion, kind string) (apiResource, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.resources[apiVersion+"/"+kind]
	return r, ok
}

// ObjectPath is the URL path of a named object (namespace "" for
// cluster-scoped ones).
func ObjectPath(apiVersion, resource, namespace, name string) string {
	var b strings.Builder
	if strings.Contains(apiVersion, "/") {
		b.WriteString("/apis/" + apiVersion)
	} else {
		b.WriteString("/api/" + apiVersion)
	}
	if namespace != "" {
		b.WriteString("/namespaces/" + url.PathEscape(namespace))
	}
	b.WriteString("/" + resource)
	if name != "" {
		b.WriteString("/" + url.PathEscape(name))
	}
	return b.String()
}

// Apply server-side-applies obj (as user when set).
func (c *Client) Apply(ctx context.Context, obj map[string]any, manager string, dryRun bool, user string, groups []string) (Response, error) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	ri, ok := c.Resource(apiVersion, kind)
	if !ok {
		return Response{Code: 0, Body: []byte(fmt.Sprintf("the apiserver serves no resource for %s %s", apiVersion, kind))}, nil
	}
	if !ri.Namespaced {
		ns = ""
	} else if ns == "" {
		ns = "default"
	}
	q := url.Values{"fieldManager": {manager}, "force": {"true"}, "fieldValidation": {"Strict"}}
	if dryRun {
		q.Set("dryRun", "All")
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return Response{}, err
	}
	return c.Do(ctx, "PATCH", ObjectPath(apiVersion, ri.Name, ns, name)+"?"+q.Encode(), "application/apply-patch+yaml", body, user, groups)
}

// Delete removes an object as admin (404 is fine).
func (c *Client) Delete(ctx context.Context, obj map[string]any) error {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	ri, ok := c.Resource(apiVersion, kind)
	if !ok {
		return fmt.Errorf("no resource for %s %s", apiVersion, kind)
	}
	if !ri.Namespaced {
		ns = ""
	}
	r, err := c.Do(ctx, "DELETE", ObjectPath(apiVersion, ri.Name, ns, name), "", nil, "", nil)
	if err != nil {
		return err
	}
	if r.Code >= 300 && r.Code != 404 {
		return fmt.Errorf("delete %s %s/%s: %d %s", kind, ns, name, r.Code, r.Body)
	}
	return nil
}

// Get reads an object as admin.
func (c *Client) Get(ctx context.Context, path string) (map[string]any, int, error) {
	r, err := c.Do(ctx, "GET", path, "", nil, "", nil)
	if err != nil {
		return nil, 0, err
	}
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m, r.Code, nil
}

// SAR is one SubjectAccessReview question.
type SAR struct {
	User, Namespace, Verb, Group, Resource, Subresource, Name string
	Groups                                                    []string
}

// Access asks the apiserver's authorizer with a SubjectAccessReview.
func (c *Client) Access(ctx context.Context, q SAR) (bool, string, error) {
	body, _ := json.Marshal(map[string]any{
		"apiVersion": "authorization.k8s.io/v1",
		"kind":       "SubjectAccessReview",
		"spec": map[string]any{
			"user":   q.User,
			"groups": q.Groups,
			"resourceAttributes": map[string]any{
				"namespace": q.Namespace, "verb": q.Verb, "group": q.Group,
				"resource": q.Resource, "subresource": q.Subresource, "name": q.Name,
			},
		},
	})
	r, err := c.Do(ctx, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", "application/json", body, "", nil)
	if err != nil {
		return false, "", err
	}
	if r.Code != 201 && r.Code != 200 {
		return false, "", fmt.Errorf("subjectaccessreview: %d %s", r.Code, r.Body)
	}
	var out struct {
		Status struct {
			Allowed bool   `json:"allowed"`
			Reason  string `json:"reason"`
		} `json:"status"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		return false, "", err
	}
	return out.Status.Allowed, out.Status.Reason, nil
}

// warnings reads RFC 7234 Warning headers as the apiserver writes them:
// `299 - "text"`.
func warnings(headers []string) []string {
	var out []string
	for _, h := range headers {
		_, rest, ok := strings.Cut(h, " - ")
		if !ok {
			continue
		}
		if t, err := strconv.Unquote(strings.TrimSpace(rest)); err == nil {
			out = append(out, t)
		}
	}
	return out
}
