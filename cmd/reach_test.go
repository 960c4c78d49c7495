package cmd

import (
	"context"
	"github.com/vexxhost/atmosphere-go/internal/testcert"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// writeKubeconfig writes a kubeconfig whose one context, ctx, points at
// server and trusts caPEM.
func writeKubeconfig(t *testing.T, path, server string, caPEM []byte) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: "not-a-real-token"}
	cfg.Contexts["ctx"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "admin"}
	cfg.CurrentContext = "ctx"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// otherCA is the PEM of a CA that signed nothing a test serves.
func otherCA(t *testing.T) []byte { return testcert.CA(t, "some other cluster's CA") }

// TestUnreachableCluster runs each verb that talks to the cluster, as a
// process, against a cluster it cannot use: each must say so in one line
// naming the kubeconfig, the context and the server, and exit 2 before
// anything else is tried.
func TestUnreachableCluster(t *testing.T) {
	dir := t.TempDir()
	// A loopback port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "https://" + l.Addr().String()
	l.Close()
	refused := writeKubeconfig(t, filepath.Join(dir, "refused.kubeconfig"), refusedURL, nil)

	// A real TLS peer whose certificate the kubeconfig's CA did not sign.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the TLS server was answered a request (%s %s) over a handshake the client should refuse", r.Method, r.URL)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close) // after the parallel subtests
	untrusted := writeKubeconfig(t, filepath.Join(dir, "untrusted.kubeconfig"), srv.URL, otherCA(t))

	absent := filepath.Join(dir, "absent.kubeconfig")
	home := t.TempDir() // no .kube/config in it
	verbs := []struct {
		name string
		args []string
	}{
		{"deploy", []string{"deploy"}},
		{"deploy --dry-run", []string{"deploy", "--dry-run"}},
		{"plan", []string{"plan"}},
		{"status", []string{"status"}},
		{"upgrade", []string{"upgrade", "glance"}},
	}
	clusters := []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{"connection refused", []string{"--kubeconfig", refused}, nil,
			[]string{"cannot reach the Kubernetes API server " + refusedURL, `context "ctx" of kubeconfig ` + refused, "connection refused"}},
		{"kubeconfig missing", []string{"--kubeconfig", absent}, nil, []string{"--kubeconfig " + absent + ": no such file"}},
		{"$KUBECONFIG missing", nil, []string{"KUBECONFIG=" + absent},
			[]string{"no kubeconfig", "$KUBECONFIG", absent, "--kubeconfig"}},
		{"unknown context", []string{"--kubeconfig", refused, "--context", "prod"}, nil,
			[]string{`--context "prod": no such context in kubeconfig ` + refused, "its contexts: ctx"}},
		{"untrusted certificate", []string{"--kubeconfig", untrusted}, nil,
			[]string{"the Kubernetes API server " + srv.URL, `context "ctx" of kubeconfig ` + untrusted, "certificate is not trusted"}},
	}
	for _, v := range verbs {
		for _, c := range clusters {
			t.Run(v.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				env := append([]string{"HOME=" + home, "KUBECONFIG=", "KUBERNETES_SERVICE_HOST="}, c.env...)
				stdout, stderr, code := cli(t, env, append(append([]string{}, v.args...), c.args...)...)
				lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
				if code != ExitUsage || stdout != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") {
					t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit %d, no output and one error line", code, stdout, stderr, ExitUsage)
				}
				for _, w := range c.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("%q lacks %q", stderr, w)
					}
				}
				if strings.Contains(stderr, "KUBERNETES_MASTER") {
					t.Errorf("%q: says KUBERNETES_MASTER", stderr)
				}
			})
		}
	}
	// Without any kubeconfig, every verb but plan (which plans from the
	// registry alone then) names where it looked.
	for _, v := range verbs {
		if v.name == "plan" {
			continue
		}
		t.Run(v.name+"/no kubeconfig at all", func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := cli(t, []string{"HOME=" + home, "KUBECONFIG=", "KUBERNETES_SERVICE_HOST="}, v.args...)
			want := "error: no kubeconfig: " + filepath.Join(home, ".kube", "config") + " does not exist and $KUBECONFIG is not set; set --kubeconfig FILE or $KUBECONFIG\n"
			if code != ExitUsage || stdout != "" || stderr != want {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, ExitUsage, want)
			}
		})
	}
}

// TestCredentialsRefused: the test cluster's kube-apiserver, reached with
// its own CA but a token it does not know, refuses the credentials; each
// verb says so in one line naming the server, the context and the user,
// and exits 2. With the cluster's own credentials the check passes.
func TestCredentialsRefused(t *testing.T) {
	cfg := testenv.Kube(t)
	read := func(data []byte, file string) []byte {
		if len(data) > 0 || file == "" {
			return data
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ca := read(cfg.CAData, cfg.CAFile)
	if len(ca) == 0 {
		t.Fatalf("the test cluster's config has no CA")
	}
	bad := writeKubeconfig(t, filepath.Join(t.TempDir(), "bad-token.kubeconfig"), cfg.Host, ca)

	good := clientcmdapi.NewConfig()
	good.Clusters["c"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: ca}
	good.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken,
		ClientCertificateData: read(cfg.CertData, cfg.CertFile), ClientKeyData: read(cfg.KeyData, cfg.KeyFile)}
	good.Contexts["ctx"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "admin"}
	good.CurrentContext = "ctx"
	goodPath := filepath.Join(t.TempDir(), "good.kubeconfig")
	if err := clientcmd.WriteToFile(*good, goodPath); err != nil {
		t.Fatal(err)
	}
	if _, err := (&kubeFlags{kubeconfig: goodPath}).reach(context.Background()); err != nil {
		t.Fatalf("the pre-flight check refuses the test cluster's own credentials: %v", err)
	}

	for _, args := range [][]string{{"deploy"}, {"deploy", "--dry-run"}, {"plan"}, {"status"}, {"upgrade", "glance"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			stdout, stderr, code := cli(t, []string{"KUBERNETES_SERVICE_HOST="}, append(args, "--kubeconfig", bad)...)
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if code != ExitUsage || stdout != "" || len(lines) != 1 {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit %d, no output and one error line", code, stdout, stderr, ExitUsage)
			}
			for _, w := range []string{"the Kubernetes API server " + cfg.Host, `context "ctx" of kubeconfig ` + bad,
				`refused the credentials of user "admin" (401 Unauthorized)`} {
				if !strings.Contains(stderr, w) {
					t.Errorf("%q lacks %q", stderr, w)
				}
			}
		})
	}
}
