package kubephase

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/components"
	mysqldb "github.com/vexxhost/atmosphere-go/internal/database"
	"github.com/vexxhost/atmosphere-go/internal/mysqlconn"
)

// Grants are the databases and users a component needs in the cloud's
// MySQL, as its values name them: keycloak's (keycloak_database_name,
// keycloak_database_username, keycloak_database_password).
func (s *Stack) Grants(component string) ([]mysqldb.Grant, error) {
	return s.grants(component, s.Config)
}

// CheckGrants finds what is wrong with a component's databases and
// users, changing nothing (secrets are only peeked at).
func (s *Stack) CheckGrants(component string) error {
	cfg, _ := s.lenient(true)
	grants, err := s.grants(component, cfg)
	if err != nil {
		return err
	}
	for _, g := range grants {
		if err := g.Validate(); err != nil {
			return fmt.Errorf("database of %s: %w", component, err)
		}
	}
	return nil
}

// component is the stack's registry's component of that name (the
// default registry's when the stack has none).
func (s *Stack) component(name string) (*components.Component, bool) {
	reg := s.Registry
	if reg == nil {
		reg = components.Default()
	}
	return reg.Get(name)
}

func (s *Stack) grants(component string, cfg components.Settings) ([]mysqldb.Grant, error) {
	c, ok := s.component(component)
	if !ok {
		return nil, nil
	}
	own, err := c.DatabaseGrants(cfg)
	if err != nil {
		return nil, err
	}
	var grants []mysqldb.Grant
	for _, g := range own {
		grants = append(grants, mysqldb.Grant{Database: g.Database, User: g.User, Password: g.Password})
	}
	return grants, nil
}

// Where the cloud's MySQL is: the Percona XtraDB Cluster's HAProxy Service
// the charts' values name (oslo_db), its root password in the operator's
// Secret.
const (
	databaseService = "percona-xtradb-haproxy"
	databaseSecret  = "percona-xtradb"
	databaseWait    = 2 * time.Minute
)

// ConnectDatabase opens a connection to the cloud's MySQL, as the
// administrator (root, its password in the Percona XtraDB Cluster's
// Secret) when user is empty, else as user to database: at
// atmosphere_database_address (host:port) when the inventory sets it, else
// at the cluster IP of the cluster's HAProxy Service (reachable from the
// cluster's nodes, where the roles ran). A server that does not answer the
// administrator yet is tried again for two minutes, as the keycloak role
// waits for it; a refused login is not.
func (s *Stack) ConnectDatabase(ctx context.Context, client kubernetes.Interface, namespace, user, password, database string) (*sql.DB, error) {
	addr, err := s.serviceAddress(ctx, client, "atmosphere_database_address", "the cloud's MySQL", namespace, databaseService, 3306)
	if err != nil {
		return nil, err
	}
	if user != "" {
		return mysqlconn.Open(ctx, addr, user, password, database)
	}
	if s.Config.ClusterSecret == nil {
		return nil, fmt.Errorf("MySQL's root password: no cluster Secrets")
	}
	root, err := s.Config.ClusterSecret(databaseSecret, "root")
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("MySQL's root password: Secret %s/%s is not there (is percona-xtradb-cluster deployed?)", namespace, databaseSecret)
	}
	if err != nil {
		return nil, fmt.Errorf("MySQL's root password: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, databaseWait)
	defer cancel()
	for {
		db, err := mysqlconn.Open(ctx, addr, "root", root, "")
		if err == nil || mysqlconn.IsAccessDenied(err) {
			return db, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(2 * time.Second):
		}
	}
}

// serviceAddress is where a service of the cloud answers (host:port):
// the inventory's variable addrVar when set (a test bed's address), else
// the cluster IP of Service namespace/name at port (reachable from the
// cluster's nodes, where the roles ran); what names the service in errors.
func (s *Stack) serviceAddress(ctx context.Context, client kubernetes.Interface, addrVar, what, namespace, name string, port int) (string, error) {
	if addr, _ := s.Config.Vars[addrVar].(string); addr != "" {
		return addr, nil
	}
	svc, err := client.CoreV1().Services(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("find %s: Service %s/%s: %w", what, namespace, name, err)
	}
	if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
		return "", fmt.Errorf("find %s: Service %s/%s has no cluster IP", what, namespace, name)
	}
	return net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(port)), nil
}
