package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// DefaultDurationsName is the ConfigMap measured durations are kept in.
const DefaultDurationsName = "atmosphere-durations"

const durationsKey = "durations.json"

// Durations keeps the measured duration of each unit in a ConfigMap, so
// that the next run ranks units and estimates its end from what the last
// ones measured rather than from the registry's estimates.
type Durations struct {
	Client          kubernetes.Interface
	Namespace, Name string
}

func (d *Durations) name() string {
	if d.Name == "" {
		return DefaultDurationsName
	}
	return d.Name
}

// Load returns the kept durations by unit key; none when nothing was kept.
func (d *Durations) Load(ctx context.Context) (map[string]time.Duration, error) {
	cm, err := d.Client.CoreV1().ConfigMaps(d.Namespace).Get(ctx, d.name(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return map[string]time.Duration{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read durations %s/%s: %w", d.Namespace, d.name(), err)
	}
	return decodeDurations(cm)
}

func decodeDurations(cm *corev1.ConfigMap) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	raw, ok := cm.Data[durationsKey]
	if !ok {
		return out, nil
	}
	var secs map[string]float64
	if err := json.Unmarshal([]byte(raw), &secs); err != nil {
		return nil, fmt.Errorf("read durations %s/%s: %s: %w", cm.Namespace, cm.Name, durationsKey, err)
	}
	for k, s := range secs {
		if s >= 0 {
			out[k] = time.Duration(s * float64(time.Second))
		}
	}
	return out, nil
}

// Save lays measured over the kept durations (units not measured keep
// theirs) and writes them back, retrying on a concurrent change.
func (d *Durations) Save(ctx context.Context, measured map[string]time.Duration) error {
	if len(measured) == 0 {
		return nil
	}
	if err := kubeutil.EnsureNamespace(ctx, d.Client, d.Namespace); err != nil {
		return err
	}
	cms := d.Client.CoreV1().ConfigMaps(d.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := cms.Get(ctx, d.name(), metav1.GetOptions{})
		create := apierrors.IsNotFound(err)
		if err != nil && !create {
			return err
		}
		if create {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: d.name(), Namespace: d.Namespace,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "atmosphere"}}}
		}
		kept, err := decodeDurations(cm)
		if err != nil {
			kept = map[string]time.Duration{} // a damaged record is replaced
		}
		maps.Copy(kept, measured)
		secs := map[string]float64{}
		for k, v := range kept {
			secs[k] = v.Round(time.Millisecond).Seconds()
		}
		raw, err := json.Marshal(secs)
		if err != nil {
			return err
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[durationsKey] = string(raw)
		if create {
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		} else {
			_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		}
		if apierrors.IsAlreadyExists(err) {
			return apierrors.NewConflict(corev1.Resource("configmaps"), d.name(), err)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("keep durations in %s/%s: %w", d.Namespace, d.name(), err)
	}
	return nil
}
