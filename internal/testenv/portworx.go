package testenv

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// The Deployment of Portworx's operator, as atmosphere's portworx role
// (and atmosphere-go's portworx component) applies it.
const (
	portworxOperatorNamespace = "kube-system"
	portworxOperatorName      = "portworx-operator"
)

// PortworxStorageClusterCRD is the CustomResourceDefinition of
// StorageClusters that the stand-in of Portworx's operator creates.
const PortworxStorageClusterCRD = "storageclusters.core.libopenstorage.org"

// portworxStandIn plays, on the test cluster, what Portworx's operator
// does when it starts, which a deploy waits on: once the operator's
// Deployment (kube-system/portworx-operator) has an available replica
// (kwok "runs" its pod), the CustomResourceDefinition of StorageClusters
// (core.libopenstorage.org/v1, kind StorageCluster, namespaced) is
// created, as the operator registers it; a schema that takes any fields
// stands in for the operator's. A Deployment annotated StandInPaused gets
// no CRD: its test plays an operator that never starts. Nothing else of
// Portworx is played (no StorageCluster status, no Portworx pods); its CSI
// driver's volumes are the stand-in provisioner's (pxd.portworx.com in
// StandInProvisioners). It runs until ctx ends.
func portworxStandIn(ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface) {
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		_ = portworxStandInPass(ctx, cs, dyn) // the next pass retries what failed
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// portworxStandInPass makes one pass: the CRD, when the operator is up and
// the CRD is not there.
func portworxStandInPass(ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface) error {
	d, err := cs.AppsV1().Deployments(portworxOperatorNamespace).Get(ctx, portworxOperatorName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if d.Annotations[StandInPaused] == "true" || d.Status.AvailableReplicas < 1 {
		return nil
	}
	_, err = dyn.Resource(crdResource).Create(ctx, portworxStorageClusterCRD(), metav1.CreateOptions{FieldManager: "atmosphere-test-stand-in"})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create CustomResourceDefinition %s: %w", PortworxStorageClusterCRD, err)
	}
	return nil
}

// portworxStorageClusterCRD is the stand-in's CRD of StorageClusters: the
// operator's names, group, version and scope, with a status subresource.
func portworxStorageClusterCRD() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata": map[string]any{"name": PortworxStorageClusterCRD,
			"annotations": map[string]any{"atmosphere.test/made-by": "the test bed's stand-in of Portworx's operator"}},
		"spec": map[string]any{
			"group": "core.libopenstorage.org",
			"scope": "Namespaced",
			"names": map[string]any{"kind": "StorageCluster", "listKind": "StorageClusterList", "plural": "storageclusters",
				"singular": "storagecluster", "shortNames": []any{"stc"}},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"subresources": map[string]any{"status": map[string]any{}},
				"schema":       map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}}
}
