package components

import (
	"slices"
	"strings"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// chartJobs are Jobs of openstack-helm charts whose work a phase of the
// component does natively: the manifests keys that make them start with
// manifests, their names end with one of suffixes.
type chartJobs struct {
	manifests string
	suffixes  []string
}

var (
	// keystoneJobs register a chart's service in keystone: helm-toolkit's
	// ks-service, ks-user and ks-endpoints ("glance-ks-user"), and heat's
	// and magnum's domain user ("heat-domain-ks-user"); the catalog phase
	// does their work.
	keystoneJobs = chartJobs{"job_ks_", []string{"-ks-user", "-ks-service", "-ks-endpoints"}}
	// databaseJobs make a chart's databases and their user
	// ("glance-db-init"); the database phase does their work.
	databaseJobs = chartJobs{"job_db_init", []string{"-db-init"}}
)

// withoutJobs returns own, the values a component gives its chart (whose
// defaults are chart), with the chart's Jobs of jobs turned off: every
// manifests key of theirs the chart and own leave on is set to false, and
// every list of Jobs under dependencies that names one of them is given
// whole without it, so that no pod waits for a Job that is not made. It is
// for a component with a phase that does their work natively (its catalog
// phase for keystoneJobs, its database phase for databaseJobs); own is not
// changed.
func withoutJobs(chart, own values.Values, jobs chartJobs) values.Values {
	eff := values.Merge(chart, own)
	out := values.Copy(own)
	// Each path set in out is one of eff's maps (a key of own's that is
	// not a map would be one in eff too, and not walked), so values.Set
	// crosses only maps and cannot fail. The keys of dependencies are
	// words, without dots.
	if manifests, ok := eff["manifests"].(map[string]any); ok {
		for k, on := range manifests {
			if strings.HasPrefix(k, jobs.manifests) && on == true {
				_ = values.Set(out, "manifests."+k, false)
			}
		}
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, x := range m {
			p := path + "." + k
			list, isList := x.([]any)
			if k != "jobs" || !isList {
				walk(p, x)
				continue
			}
			kept := slices.DeleteFunc(slices.Clone(list), func(j any) bool {
				name, _ := j.(string)
				return slices.ContainsFunc(jobs.suffixes, func(s string) bool { return strings.HasSuffix(name, s) })
			})
			if len(kept) != len(list) {
				_ = values.Set(out, p, kept)
			}
		}
	}
	walk("dependencies", eff["dependencies"])
	return out
}

// nativeJobs are the families of chart Jobs whose work a phase of the
// component does natively, which ReleaseValues turns off.
func (c *Component) nativeJobs() []chartJobs {
	var out []chartJobs
	if len(c.services) > 0 {
		out = append(out, keystoneJobs)
	}
	if c.databases != nil {
		out = append(out, databaseJobs)
	}
	if _, ok := c.Phase(PhaseQueue); ok {
		out = append(out, rabbitJobs)
	}
	return out
}

// WithChartJobs returns deployed, values the component's release is given
// (ReleaseValues), with its chart's Jobs whose work its phases do natively
// given back as its role leaves them: each manifests key of those Jobs is
// own's value (own: the component's own values with the operator's
// overrides, what ReleaseValues started from), or removed when own does
// not set it, and so is every Jobs list under dependencies, so that the
// chart's defaults apply. It is for the tools atmosphere is compared with,
// which deploy the roles' values, every chart Job with them (make bench);
// deployed is not changed.
func (c *Component) WithChartJobs(own, deployed values.Values) values.Values {
	out := values.Copy(deployed)
	families := c.nativeJobs()
	if len(families) == 0 {
		return out
	}
	if manifests, ok := out["manifests"].(map[string]any); ok {
		for k := range manifests {
			if !slices.ContainsFunc(families, func(j chartJobs) bool { return strings.HasPrefix(k, j.manifests) }) {
				continue
			}
			if v, ok := values.Get(own, "manifests."+k); ok {
				manifests[k] = v
			} else {
				delete(manifests, k)
			}
		}
		if len(manifests) == 0 {
			delete(out, "manifests")
		}
	}
	var walk func(path string, m map[string]any)
	walk = func(path string, m map[string]any) {
		for k, x := range m {
			p := path + "." + k
			if _, isList := x.([]any); k == "jobs" && isList {
				if v, ok := values.Get(own, p); ok {
					m[k] = values.Copy(values.Values{"v": v})["v"]
				} else {
					delete(m, k)
				}
				continue
			}
			if sub, ok := x.(map[string]any); ok {
				walk(p, sub)
				if len(sub) == 0 {
					delete(m, k)
				}
			}
		}
	}
	if deps, ok := out["dependencies"].(map[string]any); ok {
		walk("dependencies", deps)
		if len(deps) == 0 {
			delete(out, "dependencies")
		}
	}
	return out
}
