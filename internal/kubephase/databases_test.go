package kubephase

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestDatabaseAddress: the cloud's MySQL is at its HAProxy Service's
// cluster IP, or where atmosphere_database_address says; no Service is a
// clear error.
func TestDatabaseAddress(t *testing.T) {
	cfg := testenv.Kube(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	ns := testenv.Namespace(t, cfg)
	s := &Stack{Config: testSettings()}
	if _, err := s.databaseAddress(ctx, cs, ns); err == nil || !strings.Contains(err.Error(), "Service "+ns+"/percona-xtradb-haproxy") {
		t.Errorf("no Service: %v", err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "percona-xtradb-haproxy"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "mysql", Port: 3306}}}}
	made, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if addr, err := s.databaseAddress(ctx, cs, ns); err != nil || addr != made.Spec.ClusterIP+":3306" {
		t.Errorf("address %q, %v; want the Service's %s:3306", addr, err, made.Spec.ClusterIP)
	}
	s.Config.Vars["atmosphere_database_address"] = "db.example.com:3307"
	if addr, err := s.databaseAddress(ctx, cs, ns); err != nil || addr != "db.example.com:3307" {
		t.Errorf("address %q, %v; want the inventory's", addr, err)
	}
}

// TestGrants: keycloak's database and user are the knobs its values use;
// a name MySQL would not take is found before anything is changed.
func TestGrants(t *testing.T) {
	s := &Stack{Config: testSettings()}
	grants, err := s.Grants("keycloak")
	if err != nil || len(grants) != 1 || grants[0].Database != "keycloak" || grants[0].User != "keycloak" || grants[0].Password != "keycloak_database_password-secret" {
		t.Errorf("grants %+v, %v", grants, err)
	}
	if grants, err := s.Grants("nova"); err != nil || len(grants) != 0 {
		t.Errorf("nova's grants %+v, %v: its charts make their own", grants, err)
	}
	s.Config.Vars["keycloak_database_name"] = "key-cloak"
	if err := s.CheckGrants("keycloak"); err == nil || !strings.Contains(err.Error(), `database name "key-cloak"`) {
		t.Errorf("a bad database name: %v", err)
	}
}
