package components

import (
	"slices"
	"strings"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// keystoneJobSuffixes end the names of the Jobs with which an
// openstack-helm chart registers its service in keystone: helm-toolkit's
// ks-service, ks-user and ks-endpoints ("glance-ks-user"), and heat's and
// magnum's domain user ("heat-domain-ks-user").
var keystoneJobSuffixes = []string{"-ks-user", "-ks-service", "-ks-endpoints"}

// withoutKeystoneJobs returns own, the values a component gives its chart
// (whose defaults are chart), with the chart's keystone Jobs turned off:
// every manifests.job_ks_* the chart and own leave on is set to false, and
// every list of Jobs under dependencies that names one of them
// (keystoneJobSuffixes) is given whole without it, so that no pod waits
// for a Job that is not made. It is for a component whose catalog phase
// makes the same service, endpoints and users, with the same passwords,
// natively (Component.Services); own is not changed.
func withoutKeystoneJobs(chart, own values.Values) values.Values {
	eff := values.Merge(chart, own)
	out := values.Copy(own)
	if manifests, ok := eff["manifests"].(map[string]any); ok {
		for k, on := range manifests {
			if strings.HasPrefix(k, "job_ks_") && on == true {
				setIn(out, []string{"manifests", k}, false)
			}
		}
	}
	var walk func(path []string, v any)
	walk = func(path []string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, x := range m {
			p := append(slices.Clone(path), k)
			jobs, isList := x.([]any)
			if k != "jobs" || !isList {
				walk(p, x)
				continue
			}
			kept := slices.DeleteFunc(slices.Clone(jobs), func(j any) bool {
				name, _ := j.(string)
				return slices.ContainsFunc(keystoneJobSuffixes, func(s string) bool { return strings.HasSuffix(name, s) })
			})
			if len(kept) != len(jobs) {
				setIn(out, p, kept)
			}
		}
	}
	walk([]string{"dependencies"}, eff["dependencies"])
	return out
}

// setIn sets v at the path of keys in m, making the maps on the way.
func setIn(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}
