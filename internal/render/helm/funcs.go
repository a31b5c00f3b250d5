package helm

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"text/template"
	"time"
)

// DefaultNow is the fixed clock of `now` when Options.Now is zero.
var DefaultNow = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// certificate has the fields of sprig's genCA/genSelfSignedCert results.
type certificate struct {
	Cert string
	Key  string
}

// determinism overrides Sprig's clock, randomness and key generation so a
// render is byte-stable: one seeded stream per render, consumed in the
// engine's fixed template order. Dates format in UTC (helm-controller runs
// with the container's UTC zone). Generated keys are Ed25519 (whose
// signatures are deterministic) instead of Sprig's RSA; bcrypt/htpasswd
// give a deterministic bcrypt-shaped string that verifies nothing.
type determinism struct {
	mu  sync.Mutex
	rng *rand.Rand
	now time.Time
}

func newDeterminism(seed string, now time.Time) *determinism {
	sum := sha256.Sum256([]byte(seed))
	return &determinism{
		rng: rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16]))),
		now: now,
	}
}

func (d *determinism) bytes(n int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(d.rng.Uint32())
	}
	return b
}

func (d *determinism) intN(n int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.IntN(n)
}

func (d *determinism) pick(alphabet string, count int) string {
	if count <= 0 {
		return ""
	}
	var sb strings.Builder
	for range count {
		sb.WriteByte(alphabet[d.intN(len(alphabet))])
	}
	return sb.String()
}

const (
	alpha   = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	numeric = "0123456789"
)

func ascii() string {
	var b []byte
	for c := byte(32); c <= 126; c++ {
		b = append(b, c)
	}
	return string(b)
}

func (d *determinism) toTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case *time.Time:
		return *t
	case int64:
		return time.Unix(t, 0)
	case int:
		return time.Unix(int64(t), 0)
	case int32:
		return time.Unix(int64(t), 0)
	}
	return d.now
}

func inZone(t time.Time, zone string) time.Time {
	if zone == "Local" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc)
}

func (d *determinism) funcs() template.FuncMap {
	asciiSet := ascii()
	dateInZone := func(f string, date any, zone string) string { return inZone(d.toTime(date), zone).Format(f) }
	bcryptish := func(input string) string {
		const b64 = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		return "$2a$10$" + d.pick(b64, 22) + base64.NewEncoding(b64).WithPadding(base64.NoPadding).EncodeToString(func() []byte { h := sha256.Sum256([]byte(input)); return h[:] }())[:31]
	}
	return template.FuncMap{
		"now":            func() time.Time { return d.now },
		"date":           func(f string, date any) string { return dateInZone(f, date, "UTC") },
		"htmlDate":       func(date any) string { return dateInZone("2006-01-02", date, "UTC") },
		"htmlDateInZone": func(date any, zone string) string { return dateInZone("2006-01-02", date, zone) },
		"dateInZone":     dateInZone,
		"date_in_zone":   dateInZone,
		"ago": func(date any) string {
			return d.now.Sub(d.toTime(date)).Round(time.Second).String()
		},
		"toDate": func(f, s string) time.Time {
			t, _ := time.ParseInLocation(f, s, time.UTC)
			return t
		},
		"mustToDate": func(f, s string) (time.Time, error) { return time.ParseInLocation(f, s, time.UTC) },

		"randAlphaNum": func(n int) string { return d.pick(alpha+numeric, n) },
		"randAlpha":    func(n int) string { return d.pick(alpha, n) },
		"randNumeric":  func(n int) string { return d.pick(numeric, n) },
		"randAscii":    func(n int) string { return d.pick(asciiSet, n) },
		"randBytes":    func(n int) (string, error) { return base64.StdEncoding.EncodeToString(d.bytes(n)), nil },
		"randInt":      func(lo, hi int) int { return d.intN(hi-lo) + lo },
		"shuffle": func(s string) string {
			r := []rune(s)
			for i := len(r) - 1; i > 0; i-- {
				j := d.intN(i + 1)
				r[i], r[j] = r[j], r[i]
			}
			return string(r)
		},
		"uuidv4": func() string {
			b := d.bytes(16)
			b[6] = (b[6] & 0x0f) | 0x40
			b[8] = (b[8] & 0x3f) | 0x80
			return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
		},
		"bcrypt": bcryptish,
		"htpasswd": func(user, pass string) string {
			if strings.Contains(user, ":") {
				return fmt.Sprintf("invalid username: %s", user)
			}
			return user + ":" + bcryptish(pass)
		},
		"encryptAES": d.encryptAES,

		"genPrivateKey": func(string) string { return d.privateKeyPEM(d.newKey()) },
		"genCA": func(cn string, days int) (certificate, error) {
			return d.cert(cn, nil, nil, days, d.newKey(), nil, true)
		},
		"genCAWithKey": func(cn string, days int, key string) (certificate, error) {
			k, err := parseKey(key)
			if err != nil {
				return certificate{}, err
			}
			return d.cert(cn, nil, nil, days, k, nil, true)
		},
		"genSelfSignedCert": func(cn string, ips, dns []any, days int) (certificate, error) {
			return d.cert(cn, ips, dns, days, d.newKey(), nil, false)
		},
		"genSelfSignedCertWithKey": func(cn string, ips, dns []any, days int, key string) (certificate, error) {
			k, err := parseKey(key)
			if err != nil {
				return certificate{}, err
			}
			return d.cert(cn, ips, dns, days, k, nil, false)
		},
		"genSignedCert": func(cn string, ips, dns []any, days int, ca certificate) (certificate, error) {
			return d.cert(cn, ips, dns, days, d.newKey(), &ca, false)
		},
		"genSignedCertWithKey": func(cn string, ips, dns []any, days int, ca certificate, key string) (certificate, error) {
			k, err := parseKey(key)
			if err != nil {
				return certificate{}, err
			}
			return d.cert(cn, ips, dns, days, k, &ca, false)
		},
	}
}

func (d *determinism) newKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(d.bytes(ed25519.SeedSize))
}

func (d *determinism) privateKeyPEM(k any) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return fmt.Sprintf("failed to marshal private key: %s", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func parseKey(s string) (any, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("no PEM data in input")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("error parsing private key of PEM type %q", block.Type)
}

func (d *determinism) cert(cn string, ips, dns []any, days int, key any, ca *certificate, isCA bool) (certificate, error) {
	s, ok := key.(crypto.Signer)
	if !ok {
		return certificate{}, fmt.Errorf("unsupported private key %T", key)
	}
	serial := new(big.Int).SetBytes(d.bytes(16))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             d.now,
		NotAfter:              d.now.Add(time.Hour * 24 * time.Duration(days)),
		KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	if isCA {
		tmpl.IsCA = true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	for _, ip := range ips {
		if p := net.ParseIP(fmt.Sprint(ip)); p != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, p)
		}
	}
	for _, n := range dns {
		tmpl.DNSNames = append(tmpl.DNSNames, fmt.Sprint(n))
	}
	parent, signKey := tmpl, key
	if ca != nil {
		block, _ := pem.Decode([]byte(ca.Cert))
		if block == nil {
			return certificate{}, errors.New("error decoding CA certificate")
		}
		pc, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return certificate{}, fmt.Errorf("error parsing CA certificate: %w", err)
		}
		ck, err := parseKey(ca.Key)
		if err != nil {
			return certificate{}, err
		}
		parent, signKey = pc, ck
	}
	der, err := x509.CreateCertificate(bytes.NewReader(d.bytes(256)), tmpl, parent, s.Public(), signKey)
	if err != nil {
		return certificate{}, fmt.Errorf("error creating certificate: %w", err)
	}
	return certificate{
		Cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		Key:  d.privateKeyPEM(key),
	}, nil
}

// encryptAES is Sprig's (AES-256-CBC, PKCS#7 padding, IV prepended,
// base64) with the IV from the seeded stream.
func (d *determinism) encryptAES(password, plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	key := make([]byte, 32)
	copy(key, []byte(password))
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	content := []byte(plaintext)
	pad := aes.BlockSize - len(content)%aes.BlockSize
	content = append(content, bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, aes.BlockSize+len(content))
	copy(out, d.bytes(aes.BlockSize))
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], content)
	return base64.StdEncoding.EncodeToString(out), nil
}
