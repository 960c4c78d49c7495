package kubeutil

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/homedir"
)

// Target is the cluster a kubeconfig and context point at, as the
// operator named them: what an error about reaching it names.
type Target struct {
	// Kubeconfig is the file the context was found in (the files looked
	// at, comma-separated, when none was found).
	Kubeconfig string
	// Context is the kubeconfig context used.
	Context string
	// Server is the API server's URL.
	Server string
	// User is the context's user entry.
	User string
}

// String names the context and its kubeconfig, as in
// `context "kind" of kubeconfig /root/.kube/config`.
func (t Target) String() string {
	switch {
	case t.Context != "" && t.Kubeconfig != "":
		return fmt.Sprintf("context %q of kubeconfig %s", t.Context, t.Kubeconfig)
	case t.Kubeconfig != "":
		return "kubeconfig " + t.Kubeconfig
	case t.Context != "":
		return fmt.Sprintf("context %q", t.Context)
	}
	return "no kubeconfig"
}

// ReachKind says why a cluster could not be used.
type ReachKind string

// The kinds of ReachError. Every kind but ReachOther is a problem of the
// kubeconfig or of the cluster it names, which the operator fixes.
const (
	// NoKubeconfig: none of the kubeconfig files looked at exists.
	NoKubeconfig ReachKind = "no kubeconfig"
	// BadKubeconfig: a kubeconfig that does not parse or is incomplete.
	BadKubeconfig ReachKind = "bad kubeconfig"
	// NoContext: the context asked for (or the current one) is not in
	// the kubeconfig.
	NoContext ReachKind = "no such context"
	// Unreachable: connection refused, no route, a name that does not
	// resolve, no answer in time.
	Unreachable ReachKind = "unreachable"
	// Untrusted: the TLS handshake failed (a certificate the kubeconfig
	// does not trust, or a server that does not speak TLS).
	Untrusted ReachKind = "tls"
	// Unauthorized: the API server refused the credentials (401).
	Unauthorized ReachKind = "unauthorized"
	// Forbidden: the credentials may not read the API server (403).
	Forbidden ReachKind = "forbidden"
	// ReachOther: any other failure of the check (a 5xx, a cancelled
	// context).
	ReachOther ReachKind = "other"
)

// ReachError is a cluster that cannot be used. Its message is one line
// that names the kubeconfig, the context and, once known, the server.
type ReachError struct {
	Kind   ReachKind
	Target Target
	// Msg is the whole message.
	Msg string
	// Err is the error the check met, when there was one.
	Err error
}

func (e *ReachError) Error() string { return e.Msg }
func (e *ReachError) Unwrap() error { return e.Err }

// oneLine joins the lines of s with "; " (clientcmd's validation errors
// can span lines).
func oneLine(s string) string {
	var lines []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

// KubeconfigFiles returns the kubeconfig files client-go (and kubectl)
// read, in order, and where that list came from: the explicit path of
// --kubeconfig, else the files of $KUBECONFIG, else ~/.kube/config.
func KubeconfigFiles(explicit string) (files []string, from string) {
	if explicit != "" {
		return []string{explicit}, "--kubeconfig"
	}
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		for _, f := range filepath.SplitList(env) {
			if f != "" && !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
		if len(files) > 0 {
			return files, "$KUBECONFIG"
		}
	}
	return []string{filepath.Join(homedir.HomeDir(), clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)}, "the default"
}

// LoadConfig builds the REST config of the kubeconfig explicit (or the
// files KubeconfigFiles names when it is empty) and of kubeContext (or
// the kubeconfig's current context when it is empty), as kubectl does;
// with no kubeconfig file at all and no explicit one, the pod's service
// account when it runs in a cluster. It reads files only. Its errors are
// *ReachError: no kubeconfig (naming the paths looked at), a context
// not found (naming it and the contexts present), a bad kubeconfig.
func LoadConfig(explicit, kubeContext string) (*rest.Config, Target, error) {
	files, from := KubeconfigFiles(explicit)
	var existing []string
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			existing = append(existing, f)
		} else if !errors.Is(err, os.ErrNotExist) {
			t := Target{Kubeconfig: f, Context: kubeContext}
			return nil, t, &ReachError{Kind: BadKubeconfig, Target: t, Err: err,
				Msg: fmt.Sprintf("kubeconfig %s: %v", f, err)}
		}
	}
	if len(existing) == 0 {
		if explicit == "" && kubeContext == "" {
			if cfg, err := rest.InClusterConfig(); err == nil {
				return cfg, Target{Kubeconfig: "(in-cluster service account)", Server: cfg.Host}, nil
			}
		}
		t := Target{Kubeconfig: strings.Join(files, ", "), Context: kubeContext}
		var msg string
		switch from {
		case "--kubeconfig":
			msg = fmt.Sprintf("--kubeconfig %s: no such file", explicit)
		case "$KUBECONFIG":
			msg = fmt.Sprintf("no kubeconfig: none of the files of $KUBECONFIG exists (%s); set --kubeconfig FILE or $KUBECONFIG", t.Kubeconfig)
		default:
			msg = fmt.Sprintf("no kubeconfig: %s does not exist and $KUBECONFIG is not set; set --kubeconfig FILE or $KUBECONFIG", t.Kubeconfig)
		}
		return nil, t, &ReachError{Kind: NoKubeconfig, Target: t, Msg: msg}
	}

	rules := &clientcmd.ClientConfigLoadingRules{Precedence: existing}
	if explicit != "" {
		rules = &clientcmd.ClientConfigLoadingRules{ExplicitPath: explicit}
	}
	raw, err := rules.Load()
	if err != nil {
		t := Target{Kubeconfig: strings.Join(existing, ", "), Context: kubeContext}
		return nil, t, &ReachError{Kind: BadKubeconfig, Target: t, Err: err,
			Msg: fmt.Sprintf("kubeconfig %s: %s", t.Kubeconfig, oneLine(err.Error()))}
	}
	name := kubeContext
	if name == "" {
		name = raw.CurrentContext
	}
	kc, ok := raw.Contexts[name]
	if !ok {
		t := Target{Kubeconfig: strings.Join(existing, ", "), Context: name}
		present := keys(raw.Contexts)
		var msg string
		switch {
		case kubeContext != "":
			msg = fmt.Sprintf("--context %q: no such context in kubeconfig %s (its contexts: %s)", kubeContext, t.Kubeconfig, present)
		case name == "":
			msg = fmt.Sprintf("kubeconfig %s sets no current-context: set --context (its contexts: %s)", t.Kubeconfig, present)
		default:
			msg = fmt.Sprintf("kubeconfig %s: its current-context %q is no context of it: set --context (its contexts: %s)", t.Kubeconfig, name, present)
		}
		return nil, t, &ReachError{Kind: NoContext, Target: t, Msg: msg}
	}
	t := Target{Kubeconfig: kc.LocationOfOrigin, Context: name, User: kc.AuthInfo}
	if t.Kubeconfig == "" {
		t.Kubeconfig = strings.Join(existing, ", ")
	}
	c, ok := raw.Clusters[kc.Cluster]
	if !ok {
		return nil, t, &ReachError{Kind: BadKubeconfig, Target: t,
			Msg: fmt.Sprintf("%s: its cluster %q is not in the kubeconfig (its clusters: %s)", t, kc.Cluster, keys(raw.Clusters))}
	}
	t.Server = c.Server
	if _, ok := raw.AuthInfos[kc.AuthInfo]; kc.AuthInfo != "" && !ok {
		return nil, t, &ReachError{Kind: BadKubeconfig, Target: t,
			Msg: fmt.Sprintf("%s: its user %q is not in the kubeconfig (its users: %s)", t, kc.AuthInfo, keys(raw.AuthInfos))}
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, name, &clientcmd.ConfigOverrides{}, rules).ClientConfig()
	if err != nil {
		return nil, t, &ReachError{Kind: BadKubeconfig, Target: t, Err: err,
			Msg: fmt.Sprintf("%s: %s", t, oneLine(err.Error()))}
	}
	t.Server = cfg.Host
	return cfg, t, nil
}

// keys lists the names of a kubeconfig's entries (contexts, clusters,
// users), sorted, or says there are none.
func keys[V any](entries map[string]V) string {
	if len(entries) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(entries)), ", ")
}

// Reach makes one request, GET /version, to the API server of cfg, bounded
// by timeout and ctx, and returns nil when it answers, else the
// *ReachError of Classify. It changes nothing in the cluster.
func Reach(ctx context.Context, cfg *rest.Config, t Target, timeout time.Duration) error {
	c := rest.CopyConfig(cfg)
	c.Timeout = timeout
	dc, err := discovery.NewDiscoveryClientForConfig(c)
	if err != nil {
		return &ReachError{Kind: BadKubeconfig, Target: t, Err: err, Msg: fmt.Sprintf("%s: %s", t, oneLine(err.Error()))}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := dc.RESTClient().Get().AbsPath("/version").Do(ctx).Raw(); err != nil {
		return Classify(err, t)
	}
	return nil
}

// Classify turns the error of a request to t's API server into a
// *ReachError of one line naming the server, the context and the
// kubeconfig: unreachable (connection refused, no route, DNS, no answer
// in time), untrusted (TLS), unauthorized (401), forbidden (403), or
// other.
func Classify(err error, t Target) *ReachError {
	where := fmt.Sprintf("(%s)", t)
	server := t.Server
	if server == "" {
		server = "(no server)"
	}
	re := &ReachError{Kind: ReachOther, Target: t, Err: err}
	var (
		dnsErr     *net.DNSError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		verifyErr  *tls.CertificateVerificationError
		recordErr  tls.RecordHeaderError
		netErr     net.Error
	)
	unreachable := func(why string) *ReachError {
		re.Kind = Unreachable
		re.Msg = fmt.Sprintf("cannot reach the Kubernetes API server %s %s: %s", server, where, why)
		return re
	}
	untrusted := func(why string) *ReachError {
		re.Kind = Untrusted
		re.Msg = fmt.Sprintf("the Kubernetes API server %s %s: %s", server, where, why)
		return re
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return unreachable("connection refused (no API server listens there)")
	case errors.Is(err, syscall.EHOSTUNREACH):
		return unreachable("no route to host")
	case errors.Is(err, syscall.ENETUNREACH):
		return unreachable("network is unreachable")
	case errors.As(err, &dnsErr):
		return unreachable(fmt.Sprintf("the host name %q does not resolve (%s)", dnsErr.Name, dnsErr.Err))
	case errors.As(err, &unknownCA):
		return untrusted("its certificate is not trusted: it is not signed by the kubeconfig's certificate-authority (x509: certificate signed by unknown authority)")
	case errors.As(err, &hostErr):
		return untrusted("its certificate is not trusted: " + hostErr.Error())
	case errors.As(err, &invalidErr):
		return untrusted("its certificate is not trusted: " + invalidErr.Error())
	case errors.As(err, &verifyErr):
		return untrusted("its certificate is not trusted: " + verifyErr.Err.Error())
	case errors.As(err, &recordErr) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return untrusted("it does not answer in TLS (is the server's scheme right, http or https?)")
	case strings.Contains(err.Error(), "x509: "):
		return untrusted("its certificate is not trusted: " + innerText(err))
	case apierrors.IsUnauthorized(err):
		re.Kind = Unauthorized
		re.Msg = fmt.Sprintf("the Kubernetes API server %s %s refused the credentials of user %q (401 Unauthorized): %s", server, where, t.User, innerText(err))
		return re
	case apierrors.IsForbidden(err):
		re.Kind = Forbidden
		re.Msg = fmt.Sprintf("the Kubernetes API server %s %s refused user %q access (403 Forbidden): %s", server, where, t.User, innerText(err))
		return re
	case errors.Is(err, context.Canceled):
		re.Msg = fmt.Sprintf("check the Kubernetes API server %s %s: cancelled", server, where)
		return re
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return unreachable("no answer in time")
	}
	re.Msg = fmt.Sprintf("check the Kubernetes API server %s %s: %s", server, where, innerText(err))
	return re
}

// innerText is an error's text on one line without the request's method
// and URL that net/http puts before it (the URL carries client-go's
// ?timeout= and the server is named already).
func innerText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return oneLine(err.Error())
}
