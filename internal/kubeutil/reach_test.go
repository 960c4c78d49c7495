package kubeutil

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/vexxhost/atmosphere-go/internal/testcert"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// dialErr is the error net/http returns when a dial fails with errno.
func dialErr(errno error) error {
	return &url.Error{Op: "Get", URL: "https://10.0.0.1:6443/version?timeout=10s",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}}
}

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	target := Target{Kubeconfig: "/etc/kube/admin.conf", Context: "prod", Server: "https://10.0.0.1:6443", User: "admin"}
	get := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://10.0.0.1:6443/version?timeout=10s", Err: err}
	}
	cases := []struct {
		name string
		err  error
		kind ReachKind
		want []string
	}{
		{"connection refused", dialErr(syscall.ECONNREFUSED), Unreachable, []string{"cannot reach", "connection refused"}},
		{"no route to host", dialErr(syscall.EHOSTUNREACH), Unreachable, []string{"cannot reach", "no route to host"}},
		{"network unreachable", dialErr(syscall.ENETUNREACH), Unreachable, []string{"cannot reach", "network is unreachable"}},
		{"DNS", get(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Name: "api.example", Err: "no such host", IsNotFound: true}}),
			Unreachable, []string{"cannot reach", `host name "api.example" does not resolve (no such host)`}},
		{"no answer in time", get(timeoutErr{}), Unreachable, []string{"cannot reach", "no answer in time"}},
		{"deadline", fmt.Errorf("get version: %w", context.DeadlineExceeded), Unreachable, []string{"no answer in time"}},
		{"unknown authority", get(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), Untrusted,
			[]string{"certificate is not trusted", "certificate-authority", "unknown authority"}},
		{"wrong host", get(&tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: &x509.Certificate{DNSNames: []string{"other.example"}}, Host: "10.0.0.1"}}),
			Untrusted, []string{"certificate is not trusted", "10.0.0.1"}},
		{"expired", get(&tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Cert: &x509.Certificate{}, Reason: x509.Expired, Detail: "it expired"}}),
			Untrusted, []string{"certificate is not trusted", "expired"}},
		{"x509 as text", errors.New(`Get "https://10.0.0.1:6443/version": x509: certificate has expired or is not yet valid`),
			Untrusted, []string{"certificate is not trusted", "expired"}},
		{"not TLS", get(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), Untrusted, []string{"does not answer in TLS"}},
		{"401", apierrors.NewUnauthorized("Unauthorized"), Unauthorized, []string{`refused the credentials of user "admin"`, "401"}},
		{"403", apierrors.NewForbidden(schema.GroupResource{}, "version", errors.New("no")), Forbidden, []string{`user "admin"`, "403"}},
		{"cancelled", fmt.Errorf("get version: %w", context.Canceled), ReachOther, []string{"cancelled"}},
		{"server error", apierrors.NewInternalError(errors.New("etcd is down\nretry later")), ReachOther, []string{"etcd is down; retry later"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			re := Classify(tc.err, target)
			if re.Kind != tc.kind {
				t.Errorf("kind %q, want %q (%s)", re.Kind, tc.kind, re)
			}
			msg := re.Error()
			for _, w := range append(tc.want, target.Server, `context "prod"`, "kubeconfig /etc/kube/admin.conf") {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "?timeout=") {
				t.Errorf("%q: want one line without the request's URL", msg)
			}
			if !errors.Is(re, tc.err) {
				t.Errorf("the ReachError does not wrap %v", tc.err)
			}
		})
	}
}

// kubeconfig writes a kubeconfig of one cluster (server, trusting caPEM
// when given) with the contexts named, the first current.
func kubeconfig(t *testing.T, path, server string, caPEM []byte, contexts ...string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: "secret-token"}
	for _, name := range contexts {
		cfg.Contexts[name] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "admin"}
	}
	if len(contexts) > 0 {
		cfg.CurrentContext = contexts[0]
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	good := kubeconfig(t, filepath.Join(dir, "good"), "https://10.0.0.1:6443", nil, "prod", "lab")
	noCurrent := kubeconfig(t, filepath.Join(dir, "no-current"), "https://10.0.0.1:6443", nil)
	dangling := filepath.Join(dir, "dangling")
	if err := os.WriteFile(dangling, []byte("apiVersion: v1\nkind: Config\ncurrent-context: gone\ncontexts:\n- name: lab\n  context: {cluster: c, user: u}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken")
	if err := os.WriteFile(broken, []byte("clusters: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noCluster := filepath.Join(dir, "no-cluster")
	if err := os.WriteFile(noCluster, []byte("apiVersion: v1\nkind: Config\ncurrent-context: lab\ncontexts:\n- name: lab\n  context: {cluster: c, user: u}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noUser := filepath.Join(dir, "no-user")
	if err := os.WriteFile(noUser, []byte("apiVersion: v1\nkind: Config\ncurrent-context: lab\nclusters:\n- name: c\n  cluster: {server: https://10.0.0.1:6443}\ncontexts:\n- name: lab\n  context: {cluster: c, user: u}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	absent := filepath.Join(dir, "absent")
	cases := []struct {
		name       string
		explicit   string
		context    string
		env        string // $KUBECONFIG
		kind       ReachKind
		want       []string
		wantTarget Target // on success
	}{
		{name: "current context", explicit: good,
			wantTarget: Target{Kubeconfig: good, Context: "prod", Server: "https://10.0.0.1:6443", User: "admin"}},
		{name: "named context", explicit: good, context: "lab",
			wantTarget: Target{Kubeconfig: good, Context: "lab", Server: "https://10.0.0.1:6443", User: "admin"}},
		{name: "from $KUBECONFIG, missing files skipped", env: absent + string(filepath.ListSeparator) + good,
			wantTarget: Target{Kubeconfig: good, Context: "prod", Server: "https://10.0.0.1:6443", User: "admin"}},
		{name: "explicit file missing", explicit: absent, kind: NoKubeconfig, want: []string{"--kubeconfig " + absent + ": no such file"}},
		{name: "every $KUBECONFIG file missing", env: absent + string(filepath.ListSeparator) + absent + "2", kind: NoKubeconfig,
			want: []string{"$KUBECONFIG", absent + ", " + absent + "2", "--kubeconfig"}},
		{name: "no kubeconfig at all", kind: NoKubeconfig, want: []string{filepath.Join(home, ".kube", "config"), "$KUBECONFIG is not set", "--kubeconfig"}},
		{name: "unknown context", explicit: good, context: "staging", kind: NoContext,
			want: []string{`--context "staging"`, good, "its contexts: lab, prod"}},
		{name: "no current context", explicit: noCurrent, kind: NoContext, want: []string{noCurrent, "no current-context", "--context", "its contexts: none"}},
		{name: "dangling current context", explicit: dangling, kind: NoContext, want: []string{dangling, `current-context "gone"`, "its contexts: lab"}},
		{name: "not YAML", explicit: broken, kind: BadKubeconfig, want: []string{"kubeconfig " + broken}},
		{name: "context of no cluster", explicit: noCluster, kind: BadKubeconfig,
			want: []string{`context "lab" of kubeconfig ` + noCluster, `its cluster "c" is not in the kubeconfig (its clusters: none)`}},
		{name: "context of no user", explicit: noUser, kind: BadKubeconfig,
			want: []string{`context "lab" of kubeconfig ` + noUser, `its user "u" is not in the kubeconfig (its users: none)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv("KUBECONFIG", tc.env)
			// Not in a pod: no service account to fall back on.
			t.Setenv("KUBERNETES_SERVICE_HOST", "")
			cfg, target, err := LoadConfig(tc.explicit, tc.context)
			if tc.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				if target != tc.wantTarget || cfg.Host != tc.wantTarget.Server || cfg.BearerToken != "secret-token" {
					t.Errorf("target %+v, host %q; want %+v", target, cfg.Host, tc.wantTarget)
				}
				return
			}
			var re *ReachError
			if !errors.As(err, &re) || re.Kind != tc.kind {
				t.Fatalf("error %v (%T), want a ReachError of kind %q", err, err, tc.kind)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "KUBERNETES_MASTER") {
				t.Errorf("%q: want one line, and no KUBERNETES_MASTER", err)
			}
		})
	}
}

// untrustedCA is the PEM of a CA that signed nothing a test serves.
func untrustedCA(t *testing.T) []byte { return testcert.CA(t, "not-the-cluster-ca") }

// tlsServer is a TLS API server stand-in answering /version with code,
// and the PEM of the certificate that makes it trusted.
func tlsServer(t *testing.T, code int) (*httptest.Server, []byte) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		if code == http.StatusOK {
			io.WriteString(w, `{"major":"1","minor":"34","gitVersion":"v1.34.0"}`)
		}
	}))
	// The handshakes the client refuses are logged by the server.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

// freePort is a loopback address nobody listens on.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestReach: the one request of the pre-flight check against real peers.
func TestReach(t *testing.T) {
	ok, okCA := tlsServer(t, http.StatusOK)
	unauthorized, unauthorizedCA := tlsServer(t, http.StatusUnauthorized)
	forbidden, forbiddenCA := tlsServer(t, http.StatusForbidden)
	failing, failingCA := tlsServer(t, http.StatusInternalServerError)
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	refused := "https://" + freePort(t)
	cases := []struct {
		name   string
		server string
		ca     []byte
		kind   ReachKind // "" for an answer
		want   []string
	}{
		{"answers", ok.URL, okCA, "", nil},
		{"refused", refused, nil, Unreachable, []string{"cannot reach", refused, "connection refused"}},
		{"untrusted CA", ok.URL, untrustedCA(t), Untrusted, []string{ok.URL, "certificate is not trusted", "certificate-authority"}},
		{"not TLS", "https://" + strings.TrimPrefix(plain.URL, "http://"), nil, Untrusted, []string{"does not answer in TLS"}},
		{"401", unauthorized.URL, unauthorizedCA, Unauthorized, []string{unauthorized.URL, `user "admin"`, "401"}},
		{"403", forbidden.URL, forbiddenCA, Forbidden, []string{forbidden.URL, "403"}},
		{"500", failing.URL, failingCA, ReachOther, []string{failing.URL}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := kubeconfig(t, filepath.Join(t.TempDir(), "config"), tc.server, tc.ca, "test")
			cfg, target, err := LoadConfig(path, "")
			if err != nil {
				t.Fatal(err)
			}
			err = Reach(context.Background(), cfg, target, 5*time.Second)
			if tc.kind == "" {
				if err != nil {
					t.Fatalf("Reach: %v", err)
				}
				return
			}
			var re *ReachError
			if !errors.As(err, &re) || re.Kind != tc.kind {
				t.Fatalf("error %v, want a ReachError of kind %q", err, tc.kind)
			}
			for _, w := range append(tc.want, `context "test" of kubeconfig `+path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("%q: want one line", err)
			}
		})
	}
}
