package components

import (
	"reflect"
	"testing"

	"github.com/vexxhost/atmosphere-go/components/values"
)

func TestWithoutJobs(t *testing.T) {
	chart := values.Values{
		"manifests": map[string]any{"job_ks_user": true, "job_ks_service": true, "job_ks_endpoints": true,
			"job_ks_user_domain": true, "job_ks_placement_user": false, "job_db_sync": true},
		"dependencies": map[string]any{"static": map[string]any{
			"api":          map[string]any{"jobs": []any{"glance-db-sync", "glance-ks-user", "glance-ks-endpoints"}, "services": []any{"x"}},
			"ks_endpoints": map[string]any{"jobs": []any{"glance-ks-service"}},
			"engine":       map[string]any{"jobs": []any{"heat-domain-ks-user", "heat-db-sync"}},
			"db_sync":      map[string]any{"jobs": []any{"glance-db-init"}},
			"bootstrap":    map[string]any{"jobs": nil},
		}},
	}
	tests := []struct {
		name      string
		own, want values.Values
	}{
		{"the chart's defaults", values.Values{"conf": map[string]any{"a": 1}}, values.Values{
			"conf":      map[string]any{"a": 1},
			"manifests": map[string]any{"job_ks_user": false, "job_ks_service": false, "job_ks_endpoints": false, "job_ks_user_domain": false},
			"dependencies": map[string]any{"static": map[string]any{
				"api":          map[string]any{"jobs": []any{"glance-db-sync"}},
				"ks_endpoints": map[string]any{"jobs": []any{}},
				"engine":       map[string]any{"jobs": []any{"heat-db-sync"}},
			}},
		}},
		{"a list the values give", values.Values{
			"manifests":    map[string]any{"job_ks_user": false, "job_ks_service": false, "job_ks_endpoints": false, "job_ks_user_domain": false},
			"dependencies": map[string]any{"static": map[string]any{"api": map[string]any{"jobs": []any{"glance-ks-user", "glance-storage-init"}}}},
		}, values.Values{
			"manifests": map[string]any{"job_ks_user": false, "job_ks_service": false, "job_ks_endpoints": false, "job_ks_user_domain": false},
			"dependencies": map[string]any{"static": map[string]any{
				"api":          map[string]any{"jobs": []any{"glance-storage-init"}},
				"ks_endpoints": map[string]any{"jobs": []any{}},
				"engine":       map[string]any{"jobs": []any{"heat-db-sync"}},
			}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := values.Copy(tt.own)
			got := withoutJobs(chart, tt.own, keystoneJobs)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
			if !reflect.DeepEqual(tt.own, before) {
				t.Errorf("own changed: %v", tt.own)
			}
		})
	}
}
