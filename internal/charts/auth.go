package charts

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// helmKeychain reads Helm's registry config (`helm registry login`):
// $HELM_REGISTRY_CONFIG, else <helm config home>/registry/config.json, a
// Docker config file. Credential helpers are not run. Credentials never
// come from the linted repository (HelmRepository and OCIRepository
// secretRef are ignored).
type helmKeychain struct{ getenv func(string) string }

func (k helmKeychain) path() string {
	if p := k.getenv("HELM_REGISTRY_CONFIG"); p != "" {
		return p
	}
	if h := k.getenv("HELM_CONFIG_HOME"); h != "" {
		return filepath.Join(h, "registry", "config.json")
	}
	if x := k.getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "helm", "registry", "config.json")
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "helm", "registry", "config.json")
}

// helmRegistryConfigBytes bounds the config file.
const helmRegistryConfigBytes = 1 << 20

func (k helmKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	p := k.path()
	if p == "" {
		return authn.Anonymous, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return authn.Anonymous, nil
	}
	defer f.Close()
	var cfg struct {
		Auths map[string]struct {
			Auth          string `json:"auth"`
			Username      string `json:"username"`
			Password      string `json:"password"`
			IdentityToken string `json:"identitytoken"`
		} `json:"auths"`
	}
	if err := json.NewDecoder(io.LimitReader(f, helmRegistryConfigBytes)).Decode(&cfg); err != nil {
		return authn.Anonymous, nil
	}
	want := target.RegistryStr()
	for host, a := range cfg.Auths {
		h := strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "http://")
		h, _, _ = strings.Cut(h, "/")
		if h != want {
			continue
		}
		ac := authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken}
		if a.Auth != "" {
			if raw, err := base64.StdEncoding.DecodeString(a.Auth); err == nil {
				ac.Username, ac.Password, _ = strings.Cut(string(raw), ":")
			}
		}
		return authn.FromConfig(ac), nil
	}
	return authn.Anonymous, nil
}
