package testenv

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// StandIns play, on the test cluster, the operators whose pods kwok never
// runs, for the objects a deploy waits on: a PerconaXtraDBCluster gets
// its operator's status, ready at the version of its image
// (setPXCStatus), cert-manager Certificates, Issuers and
// ClusterIssuers get a Ready=True condition, a RabbitmqCluster gets its
// default user's Secret (<name>-default-user; the user made in the test
// RabbitMQ first when ProvideRabbitMQ gave the cluster of cfg one:
// ensureRabbitMQDefaultUser) and AllReplicasReady=True;
// the stand-in of Portworx's operator creates the CRD of StorageClusters
// once the operator's Deployment is available (portworxStandIn); and a
// stand-in provisioner gives claims of the StorageClasses of
// StandInProvisioners (ceph-csi-rbd's "general") hostPath volumes, which the
// PV controller binds. Only what the real operators write is written; an
// object annotated StandInPaused is left alone. They run until ctx ends.
func StandIns(ctx context.Context, cfg *rest.Config) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ready := func(u *unstructured.Unstructured) bool {
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == "Ready" && m["status"] == "True" {
				return true
			}
		}
		return false
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	type standIn struct {
		gvr  schema.GroupVersionResource
		done func(*unstructured.Unstructured) bool
		set  func(*unstructured.Unstructured)
	}
	kinds := []standIn{
		{
			schema.GroupVersionResource{Group: "pxc.percona.com", Version: "v1", Resource: "perconaxtradbclusters"},
			func(u *unstructured.Unstructured) bool {
				s, _, _ := unstructured.NestedString(u.Object, "status", "state")
				image, _, _ := unstructured.NestedString(u.Object, "spec", "pxc", "image")
				running, _, _ := unstructured.NestedString(u.Object, "status", "pxc", "image")
				return s == "ready" && running == image
			},
			setPXCStatus,
		},
	}
	for _, r := range []string{"certificates", "issuers", "clusterissuers"} {
		kinds = append(kinds, standIn{
			schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: r},
			ready,
			func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{
					"type": "Ready", "status": "True", "reason": "StandIn",
					"message":            "set by the test's stand-in operator",
					"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
				}}, "status", "conditions")
			},
		})
	}
	kinds = append(kinds, standIn{
		rabbitmqClusters,
		func(u *unstructured.Unstructured) bool {
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				if m, ok := c.(map[string]any); ok && m["type"] == "AllReplicasReady" && m["status"] == "True" {
					return true
				}
			}
			return false
		},
		func(u *unstructured.Unstructured) {
			// The default user first, as the operator makes it before the
			// cluster is ready; kept if it is there.
			if err := ensureRabbitMQDefaultUser(ctx, cs, rabbitMQFor(cfg), u); err != nil {
				return // the next pass retries
			}
			now := time.Now().UTC().Format(time.RFC3339)
			_ = unstructured.SetNestedSlice(u.Object, []any{
				map[string]any{"type": "AllReplicasReady", "status": "True", "reason": "StandIn", "lastTransitionTime": now},
				map[string]any{"type": "ClusterAvailable", "status": "True", "reason": "StandIn", "lastTransitionTime": now},
			}, "status", "conditions")
		},
	})
	go portworxStandIn(ctx, cs, dyn)
	volumes := &volumeProvisioner{cs: cs, provisioners: StandInProvisioners}
	go func() {
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			_ = volumes.sync(ctx) // the next pass retries what failed
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	go func() {
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, k := range kinds {
				list, err := dyn.Resource(k.gvr).List(ctx, metav1.ListOptions{})
				if err != nil {
					continue // the CRD is not there yet
				}
				for i := range list.Items {
					u := &list.Items[i]
					if k.done(u) || u.GetAnnotations()[StandInPaused] == "true" {
						continue
					}
					k.set(u)
					var ri dynamic.ResourceInterface = dyn.Resource(k.gvr)
					if ns := u.GetNamespace(); ns != "" {
						ri = dyn.Resource(k.gvr).Namespace(ns)
					}
					opts := metav1.UpdateOptions{FieldManager: "atmosphere-test-stand-in"}
					if _, err := ri.UpdateStatus(ctx, u, opts); apierrors.IsNotFound(err) {
						_, _ = ri.Update(ctx, u, opts) // a CRD without a status subresource
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return nil
}

// ensureRabbitMQDefaultUser makes the Secret <name>-default-user of a
// RabbitmqCluster, as its operator does, unless it is there. With a
// server (ProvideRabbitMQ) the user is made in it first, as the operator
// makes it in the cluster's RabbitMQ: a random name default_user_<random>
// (clusters of several tests share the server), tag administrator, every
// permission on "/"; without one the user exists only in the Secret, named
// default_user_<cluster name>. The Secret's host and port are the
// cluster's Service's either way.
func ensureRabbitMQDefaultUser(ctx context.Context, cs kubernetes.Interface, server *RabbitMQ, u *unstructured.Unstructured) error {
	name := u.GetName() + "-default-user"
	if _, err := cs.CoreV1().Secrets(u.GetNamespace()).Get(ctx, name, metav1.GetOptions{}); err == nil {
		return nil
	} else if !apierrors.IsNotFound(err) {
		return err
	}
	user, password := "default_user_"+u.GetName(), randomString(24)
	if server != nil {
		user = "default_user_" + randomString(20)
		if err := server.CreateUser(ctx, user, password, "administrator"); err != nil {
			return fmt.Errorf("the default user of RabbitmqCluster %s/%s: %w", u.GetNamespace(), u.GetName(), err)
		}
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: u.GetNamespace()},
		StringData: map[string]string{"username": user, "password": password,
			"host": u.GetName() + "." + u.GetNamespace() + ".svc", "port": "5672", "provider": "rabbitmq", "type": "rabbitmq"},
	}
	if _, err := cs.CoreV1().Secrets(u.GetNamespace()).Create(ctx, secret, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// rabbitmqClusters are the RabbitmqCluster objects of RabbitMQ's operator.
var rabbitmqClusters = schema.GroupVersionResource{Group: "rabbitmq.com", Version: "v1beta1", Resource: "rabbitmqclusters"}

// SyncRabbitMQDefaultUsers makes in the server r the default user of each
// RabbitmqCluster of the cluster of cfg whose Secret <name>-default-user is
// there but whose user r does not know (a Secret the stand-in made before
// r was given to the cluster, or for a server since replaced), with the
// Secret's name and password, as ensureRabbitMQDefaultUser would have; it
// returns how many it made. A cluster without the CRD has none.
func SyncRabbitMQDefaultUsers(ctx context.Context, cfg *rest.Config, r *RabbitMQ) (int, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	list, err := dyn.Resource(rabbitmqClusters).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("list RabbitmqClusters: %w", err)
	}
	made := 0
	for _, u := range list.Items {
		secret, err := cs.CoreV1().Secrets(u.GetNamespace()).Get(ctx, u.GetName()+"-default-user", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue // the stand-in makes user and Secret together
		}
		if err != nil {
			return made, fmt.Errorf("the default user of RabbitmqCluster %s/%s: %w", u.GetNamespace(), u.GetName(), err)
		}
		user := string(secret.Data["username"])
		err = r.API(ctx, http.MethodGet, "/api/users/"+url.PathEscape(user), nil, nil)
		var me *ManagementError
		if errors.As(err, &me) && me.Status == http.StatusNotFound {
			if err = r.CreateUser(ctx, user, string(secret.Data["password"]), "administrator"); err == nil {
				made++
			}
		}
		if err != nil {
			return made, fmt.Errorf("the default user of RabbitmqCluster %s/%s: %w", u.GetNamespace(), u.GetName(), err)
		}
	}
	return made, nil
}

// StandInPaused is the annotation of an object the stand-in operators
// leave alone ("true"): its test writes its status, as an operator that
// found it unhealthy would.
const StandInPaused = "atmosphere.test/stand-in-paused"

// setPXCStatus writes a PerconaXtraDBCluster's status as its operator
// does: state, the members' size, ready count, image and version (the
// image's tag), the haproxy's. A new image is rolled out as the operator
// does, one pass "initializing" with a member down, the next "ready" at
// the new version.
func setPXCStatus(u *unstructured.Unstructured) {
	size, found, _ := unstructured.NestedInt64(u.Object, "spec", "pxc", "size")
	if !found {
		size = 3
	}
	proxies, found, _ := unstructured.NestedInt64(u.Object, "spec", "haproxy", "size")
	if !found {
		proxies = 0
	}
	image, _, _ := unstructured.NestedString(u.Object, "spec", "pxc", "image")
	state, _, _ := unstructured.NestedString(u.Object, "status", "state")
	running, _, _ := unstructured.NestedString(u.Object, "status", "pxc", "image")
	if state == "ready" && running != "" && running != image {
		_ = unstructured.SetNestedField(u.Object, "initializing", "status", "state")
		_ = unstructured.SetNestedField(u.Object, size-1, "status", "pxc", "ready")
		_ = unstructured.SetNestedField(u.Object, "initializing", "status", "pxc", "status")
		return
	}
	version := image[strings.LastIndex(image, ":")+1:]
	_ = unstructured.SetNestedField(u.Object, map[string]any{
		"size": size, "ready": size, "status": "ready", "image": image, "version": version,
	}, "status", "pxc")
	_ = unstructured.SetNestedField(u.Object, map[string]any{"size": proxies, "ready": proxies, "status": "ready"}, "status", "haproxy")
	_ = unstructured.SetNestedField(u.Object, size+proxies, "status", "size")
	_ = unstructured.SetNestedField(u.Object, size+proxies, "status", "ready")
	_ = unstructured.SetNestedField(u.Object, u.GetGeneration(), "status", "observedGeneration")
	_ = unstructured.SetNestedField(u.Object, "ready", "status", "state")
}

// RecordedExec is a stand-in for the Kubernetes API's exec into a pod
// (components.PodExec), for tests on kwok, whose pods run nothing to exec
// into: it runs nothing and records what would be run, and fails with Err
// when it is set. It is safe for concurrent use.
type RecordedExec struct {
	Err error

	mu  sync.Mutex
	ran []string
}

// Exec records "namespace/pod/container: command" and returns Err.
func (e *RecordedExec) Exec(_ context.Context, namespace, pod, container string, command []string) (string, string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ran = append(e.ran, namespace+"/"+pod+"/"+container+": "+strings.Join(command, " "))
	return "", "", e.Err
}

// Ran returns what would have been run, in order.
func (e *RecordedExec) Ran() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.ran...)
}

// randomString returns n random letters.
func randomString(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}
