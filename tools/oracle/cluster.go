package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Cluster is etcd, kube-apiserver and kube-controller-manager on loopback.
type Cluster struct {
	dir   string
	URL   string
	Token string
	procs []*exec.Cmd
	mu    sync.Mutex
	logf  func(string, ...any)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// etcdBinary finds etcd, installing Debian's etcd-server when missing.
func etcdBinary(logf func(string, ...any)) (string, error) {
	if p, err := exec.LookPath("etcd"); err == nil {
		return p, nil
	}
	if os.Getenv("ORACLE_NO_APT") != "" {
		return "", fmt.Errorf("etcd not found (install Debian's etcd-server)")
	}
	logf("etcd not found: installing etcd-server with apt-get")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "etcd-server"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get %v: %w\n%s", args, err, out)
		}
	}
	return exec.LookPath("etcd")
}

// StartCluster starts the three processes and waits for /readyz.
func StartCluster(ctx context.Context, apiserverBin, kcmBin, etcdBin string, logf func(string, ...any)) (c *Cluster, err error) {
	dir, err := os.MkdirTemp("", "gitops-lint-oracle-")
	if err != nil {
		return nil, err
	}
	c = &Cluster{dir: dir, logf: logf}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	c.Token = hex.EncodeToString(tok)
	if err := os.WriteFile(filepath.Join(dir, "tokens.csv"), []byte(c.Token+",oracle-admin,oracle-admin,\"system:masters\"\n"), 0o600); err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err := os.WriteFile(filepath.Join(dir, "sa.key"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		return nil, err
	}
	clientPort, err := freePort()
	if err != nil {
		return nil, err
	}
	peerPort, err := freePort()
	if err != nil {
		return nil, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	if err := c.start("etcd", etcdBin,
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls=http://127.0.0.1:"+strconv.Itoa(peerPort),
		"--initial-advertise-peer-urls=http://127.0.0.1:"+strconv.Itoa(peerPort),
		"--initial-cluster=default=http://127.0.0.1:"+strconv.Itoa(peerPort),
		"--unsafe-no-fsync", "--quota-backend-bytes=4294967296"); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c.URL = "https://127.0.0.1:" + strconv.Itoa(port)
	if err := c.start("kube-apiserver", apiserverBin,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--etcd-servers="+etcdURL,
		"--authorization-mode=RBAC",
		// Gates that relax validation: gitops-lint cannot know a cluster's
		// gates, so it accepts what they allow (minReplicas: 0 needs
		// HPAScaleToZero, which real clusters enable).
		"--feature-gates=HPAScaleToZero=true,MutatingAdmissionPolicy=true",
		"--runtime-config=admissionregistration.k8s.io/v1beta1=true",
		// Privileged pods are allowed on every real cluster (kubeadm,
		// k3s, Talos); the apiserver's default forbids them.
		"--allow-privileged=true",
		"--token-auth-file="+filepath.Join(dir, "tokens.csv"),
		"--service-account-key-file="+filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(dir, "sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--endpoint-reconciler-type=none",
	); err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: oracle
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: %q}
contexts:
- name: oracle
  context: {cluster: oracle, user: admin}
current-context: oracle
`, c.URL, c.Token)
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		return nil, err
	}
	cl := NewClient(c.URL, c.Token)
	if err := cl.WaitReady(ctx, 120*time.Second); err != nil {
		return nil, fmt.Errorf("kube-apiserver not ready: %w (logs in %s)", err, dir)
	}
	kcmPort, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := c.start("kube-controller-manager", kcmBin,
		"--kubeconfig="+kubeconfig,
		"--controllers=clusterrole-aggregation,serviceaccount",
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(kcmPort),
		"--leader-elect=false",
		"--cert-dir="+filepath.Join(dir, "kcm-certs"),
	); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(name, bin string, args ...string) error {
	logFile, err := os.Create(filepath.Join(c.dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	c.mu.Lock()
	c.procs = append(c.procs, cmd)
	c.mu.Unlock()
	go func() { _ = cmd.Wait() }()
	return nil
}

// Stop ends every process it started, by PID, newest first, and removes the
// temporary directory unless ORACLE_KEEP is set.
func (c *Cluster) Stop() {
	c.mu.Lock()
	procs := c.procs
	c.procs = nil
	c.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i].Process
		_ = p.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			for j := 0; j < 50; j++ {
				if err := p.Signal(syscall.Signal(0)); err != nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			close(done)
		}()
		<-done
		_ = p.Kill()
	}
	if os.Getenv("ORACLE_KEEP") == "" && c.dir != "" {
		_ = os.RemoveAll(c.dir)
	} else if c.dir != "" {
		c.logf("cluster logs kept in %s", c.dir)
	}
}
