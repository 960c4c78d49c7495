package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rollouts is what the cluster's own records say about the DaemonSets of a
// run: how many there were and how many pods they made, and when, counted
// from the run's start, the first was created and the last pod became
// ready. The API server's timestamps are whole seconds.
type rollouts struct {
	daemonSets, pods        int
	firstCreated, lastReady time.Duration
}

// daemonSetRollouts reads the rollouts of every DaemonSet on the bed.
func (b *bed) daemonSetRollouts(ctx context.Context, start time.Time) (rollouts, error) {
	var r rollouts
	dss, err := b.client.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return r, fmt.Errorf("list DaemonSets: %w", err)
	}
	pods, err := b.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return r, fmt.Errorf("list pods: %w", err)
	}
	owned := map[string]bool{}
	first := time.Time{}
	for _, ds := range dss.Items {
		owned[ds.Namespace+"/"+ds.Name] = true
		if first.IsZero() || ds.CreationTimestamp.Time.Before(first) {
			first = ds.CreationTimestamp.Time
		}
	}
	r.daemonSets = len(dss.Items)
	var last time.Time
	for _, p := range pods.Items {
		if !ownedBy(p.OwnerReferences, "DaemonSet", p.Namespace, owned) {
			continue
		}
		r.pods++
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && c.LastTransitionTime.After(last) {
				last = c.LastTransitionTime.Time
			}
		}
	}
	if !first.IsZero() {
		r.firstCreated = first.Sub(start.Truncate(time.Second))
	}
	if !last.IsZero() {
		r.lastReady = last.Sub(start.Truncate(time.Second))
	}
	return r, nil
}

func ownedBy(refs []metav1.OwnerReference, kind, namespace string, names map[string]bool) bool {
	for _, o := range refs {
		if o.Kind == kind && names[namespace+"/"+o.Name] {
			return true
		}
	}
	return false
}

// jobSpan is one Job of a component: when it was created, started and
// completed, counted from the component's first Job's creation.
type jobSpan struct {
	name                        string
	created, started, completed time.Duration
}

// componentJobs reads the Jobs of an openstack-helm component (labelled
// application=<component>) in the order they were created.
func (b *bed) componentJobs(ctx context.Context, component string) ([]jobSpan, error) {
	list, err := b.client.BatchV1().Jobs("").List(ctx, metav1.ListOptions{LabelSelector: "application=" + component})
	if err != nil {
		return nil, fmt.Errorf("list the Jobs of %s: %w", component, err)
	}
	jobs := list.Items
	slices.SortFunc(jobs, func(a, b batchv1.Job) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	var out []jobSpan
	for _, j := range jobs {
		origin := jobs[0].CreationTimestamp.Time
		s := jobSpan{name: strings.TrimPrefix(j.Name, component+"-"), created: j.CreationTimestamp.Sub(origin)}
		if j.Status.StartTime != nil {
			s.started = j.Status.StartTime.Sub(origin)
		}
		if j.Status.CompletionTime != nil {
			s.completed = j.Status.CompletionTime.Sub(origin)
		}
		out = append(out, s)
	}
	return out, nil
}

// chainComponents are the components of a critical chain line
// ("Critical chain (26s to its end): glance:install → nova:install").
func chainComponents(line string) []string {
	_, units, ok := strings.Cut(line, "): ")
	if !ok {
		return nil
	}
	var out []string
	for _, u := range strings.Split(units, " → ") {
		name, _, _ := strings.Cut(strings.TrimSpace(u), ":")
		if name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}
