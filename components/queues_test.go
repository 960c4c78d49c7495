package components

import (
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components/values"
)

func TestQueueGrants(t *testing.T) {
	c, _ := Default().Get("nova")
	endpoint := func() map[string]any {
		return map[string]any{
			"auth": map[string]any{
				"admin": map[string]any{"username": "default_user_x", "password": "admin-secret"},
				"nova":  map[string]any{"username": "nova", "password": "nova-secret"},
			},
			"hosts": map[string]any{"default": "rabbitmq-nova"},
			"path":  "/nova",
			"port":  map[string]any{"http": map[string]any{"default": 15672}},
		}
	}
	tests := []struct {
		name    string
		edit    func(v values.Values)
		want    QueueGrant
		wantErr string
	}{
		{name: "as helm-toolkit reads them", edit: func(values.Values) {}, want: QueueGrant{
			Cluster: "rabbitmq-nova", Namespace: "openstack", ManagementPort: 15672, AdminUser: "default_user_x",
			AdminPassword: "admin-secret", User: "nova", Password: "nova-secret", Vhost: "nova"}},
		{name: "path as path.default, no path: vhost /", edit: func(v values.Values) {
			_ = values.Set(v, "endpoints.oslo_messaging.path", map[string]any{"default": ""})
		}, want: QueueGrant{
			Cluster: "rabbitmq-nova", Namespace: "openstack", ManagementPort: 15672, AdminUser: "default_user_x",
			AdminPassword: "admin-secret", User: "nova", Password: "nova-secret", Vhost: "/"}},
		{name: "no endpoint", edit: func(v values.Values) { delete(v, "endpoints") }, wantErr: "no RabbitMQ endpoint"},
		{name: "no host", edit: func(v values.Values) { _ = values.Set(v, "endpoints.oslo_messaging.hosts.default", "") },
			wantErr: "endpoints.oslo_messaging.hosts.default is empty"},
		{name: "no management port", edit: func(v values.Values) { _ = values.Set(v, "endpoints.oslo_messaging.port.http", nil) },
			wantErr: "port.http.default"},
		{name: "policies not a list", edit: func(v values.Values) { _ = values.Set(v, "conf.rabbitmq.policies", "x") },
			wantErr: "conf.rabbitmq.policies: want a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := values.Values{"endpoints": map[string]any{"oslo_messaging": endpoint()}}
			tt.edit(v)
			got, err := c.QueueGrants(v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q in it", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Cluster != tt.want.Cluster || got[0].Namespace != tt.want.Namespace ||
				got[0].ManagementPort != tt.want.ManagementPort || got[0].AdminUser != tt.want.AdminUser ||
				got[0].AdminPassword != tt.want.AdminPassword || got[0].User != tt.want.User ||
				got[0].Password != tt.want.Password || got[0].Vhost != tt.want.Vhost {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	placement, _ := Default().Get("placement")
	if got, err := placement.QueueGrants(values.Values{}); err != nil || got != nil {
		t.Errorf("placement (no queue phase): %v, %v; want none", got, err)
	}
}
