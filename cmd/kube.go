package cmd

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// kubeFlags are the standard flags that locate a cluster.
type kubeFlags struct {
	kubeconfig, context string
}

func (k *kubeFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&k.kubeconfig, "kubeconfig", "", "kubeconfig file ($KUBECONFIG, then ~/.kube/config, when empty)")
	fs.StringVar(&k.context, "context", "", "kubeconfig context (its current one when empty)")
}

// reachTimeout bounds the pre-flight request to the API server.
const reachTimeout = 10 * time.Second

// reach is the pre-flight check every verb that talks to the cluster makes
// first: it loads the client configuration of --kubeconfig/--context as
// kubectl does, then asks the API server for its version once, within
// reachTimeout. A cluster that cannot be used (no kubeconfig, an unknown
// context, a server that refuses connections or does not resolve, a
// certificate the kubeconfig does not trust, credentials refused) is a
// UsageError of one line naming the kubeconfig, the context and the
// server; any other failure of the check is returned as it is, one line
// too.
func (k *kubeFlags) reach(ctx context.Context) (*rest.Config, error) {
	cfg, target, err := kubeutil.LoadConfig(k.kubeconfig, k.context)
	if err == nil {
		err = kubeutil.Reach(ctx, cfg, target, reachTimeout)
	}
	var re *kubeutil.ReachError
	switch {
	case err == nil:
		return cfg, nil
	case errors.As(err, &re) && re.Kind != kubeutil.ReachOther:
		return nil, &UsageError{Err: err}
	}
	return nil, err
}
