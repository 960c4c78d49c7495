package kubephase

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/vexxhost/atmosphere-go/components"
)

func TestSecretPlaceExtract(t *testing.T) {
	values := map[string]any{
		"whole": "s3cret",
		"url":   "mysql+pymysql://glance:s3cret@mariadb.openstack.svc:3306/glance",
		"conf":  "Listen 5000\n  OIDCCryptoPassphrase s3cret\n  OIDCOther x\n",
		"key":   "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
		"list":  []any{map[string]any{"password": "s3cret"}},
		"other": "mysql+pymysql://glance:s3cret@elsewhere/glance",
		"num":   3,
	}
	for _, tc := range []struct {
		name  string
		place SecretPlace
		want  string
		found bool
	}{
		{"whole string", SecretPlace{Path: []string{"whole"}, FromStart: true, ToEnd: true}, "s3cret", true},
		{"inside a URL", SecretPlace{Path: []string{"url"}, Before: "mysql+pymysql://glance:", After: "@mariadb.openstack.svc:3306/glance", FromStart: true, ToEnd: true}, "s3cret", true},
		{"on a line of a file", SecretPlace{Path: []string{"conf"}, Before: "\n  OIDCCryptoPassphrase ", After: "\n"}, "s3cret", true},
		{"a multi-line key", SecretPlace{Path: []string{"key"}, FromStart: true, ToEnd: true}, "-----BEGIN KEY-----\nabc\n-----END KEY-----\n", true},
		{"in a list", SecretPlace{Path: []string{"list", "0", "password"}, FromStart: true, ToEnd: true}, "s3cret", true},
		{"other text around it", SecretPlace{Path: []string{"other"}, Before: "mysql+pymysql://glance:", After: "@mariadb.openstack.svc:3306/glance", FromStart: true, ToEnd: true}, "", false},
		{"no such path", SecretPlace{Path: []string{"nothing", "here"}, FromStart: true, ToEnd: true}, "", false},
		{"a list index out of range", SecretPlace{Path: []string{"list", "3", "password"}, FromStart: true, ToEnd: true}, "", false},
		{"not a string", SecretPlace{Path: []string{"num"}, FromStart: true, ToEnd: true}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, found := tc.place.Extract(values)
			if got != tc.want || found != tc.found {
				t.Errorf("Extract = %q, %v; want %q, %v", got, found, tc.want, tc.found)
			}
		})
	}
}

func TestMarkersPlacesIn(t *testing.T) {
	m := &markers{nonce: "test", byMarker: map[string]string{}, byVar: map[string]string{}}
	a, _ := m.of("a_password")
	b, _ := m.of("b_password")
	for _, tc := range []struct {
		name, text string
		want       []SecretPlace
	}{
		{"whole", a, []SecretPlace{{Var: "a_password", FromStart: true, ToEnd: true}}},
		{"two in a URL", "amqp://" + a + ":" + b + "@host/", []SecretPlace{
			{Var: "a_password", Before: "amqp://", After: ":", FromStart: true},
			{Var: "b_password", Before: ":", After: "@host/", ToEnd: true}}},
		{"on lines", "x\npass " + a + "\ny", []SecretPlace{{Var: "a_password", Before: "\npass ", After: "\n"}}},
		{"side by side: no place", a + b, nil},
		{"none", "nothing", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := m.placesIn(nil, tc.text)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("places = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// placesStack renders the default components' values with the test
// settings (each secret "<variable>-secret") from the local charts.
func placesStack() *Stack {
	s := &Stack{Config: testSettings(), Charts: chartLoader()}
	s.Config.ClusterSecret = func(name, key string) (string, error) {
		return "", apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
	}
	return s
}

// TestSecretPlacesRoundTrip: for every Helm component, each place found
// reads back, from the values rendered with the secrets themselves, the
// secret of its variable; and the places of glance are where its chart
// reads its passwords.
func TestSecretPlacesRoundTrip(t *testing.T) {
	s := placesStack()
	ctx := context.Background()
	total := 0
	for _, c := range components.Default().Components() {
		if c.Chart == nil {
			continue
		}
		places, err := s.SecretPlaces(ctx, c)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		cfg, _ := s.lenient(false)
		rel, err := s.releaseWith(ctx, c, cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		for _, p := range places {
			total++
			want, _ := s.Config.Secret(p.Var)
			if got, ok := p.Extract(rel.Values); !ok || got != want {
				t.Errorf("%s: %s at %s: read %q (%v), want %q", c.Name, p.Var, p.PathString(), got, ok, want)
			}
		}
		if c.Name == "glance" {
			var got []string
			for _, p := range places {
				got = append(got, p.Var+"@"+p.PathString())
			}
			for _, want := range []string{
				"openstack_helm_endpoints_glance_mariadb_password@endpoints.oslo_db.auth.glance.password",
				"openstack_helm_endpoints_glance_keystone_password@endpoints.identity.auth.glance.password",
			} {
				if !slices.Contains(got, want) {
					t.Errorf("glance's places %v lack %s", got, want)
				}
			}
		}
	}
	if total < 50 {
		t.Errorf("%d places in all: too few for a deployment's passwords", total)
	}
	t.Logf("%d places", total)
}

// asLive is an object as the API server keeps it: a Secret's stringData
// in its data, base64-encoded.
func asLive(obj map[string]any) map[string]any {
	out := maps.Clone(obj)
	if obj["kind"] != "Secret" {
		return out
	}
	data := map[string]any{}
	if d, ok := obj["data"].(map[string]any); ok {
		maps.Copy(data, d)
	}
	if sd, ok := obj["stringData"].(map[string]any); ok {
		for k, v := range sd {
			data[k] = base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(v)))
		}
	}
	delete(out, "stringData")
	out["data"] = data
	return out
}

// TestObjectSecretPlacesRoundTrip: for every component, each place of its
// own objects reads back, from the objects rendered with the secrets
// themselves as the API server keeps them, the secret of its variable;
// the secrets no chart's values hold (keepalived's, oauth2-proxy's) have
// places.
func TestObjectSecretPlacesRoundTrip(t *testing.T) {
	s := placesStack()
	vars := map[string]bool{}
	for _, c := range components.Default().Components() {
		places, err := s.ObjectSecretPlaces(c)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		cfg, _ := s.lenient(false)
		objs, err := objects(c, cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		live := map[string]map[string]any{}
		for _, o := range objs {
			ns := o.GetNamespace()
			if ns == "" {
				ns = c.Namespace
			}
			p := ObjectSecretPlace{Kind: o.GetKind(), Namespace: ns, Name: o.GetName()}
			live[p.Object()] = asLive(o.Object)
		}
		for _, p := range places {
			vars[p.Var] = true
			want, _ := s.Config.Secret(p.Var)
			if got, ok := p.Extract(live[p.Object()]); !ok || got != want {
				t.Errorf("%s: %s at %s %s: read %q (%v), want %q", c.Name, p.Var, p.Object(), p.PathString(), got, ok, want)
			}
		}
	}
	for _, v := range []string{"keepalived_password", "kube_prometheus_stack_prometheus_cookie_secret", "openstack_helm_endpoints_rgw_keystone_password"} {
		if !vars[v] {
			t.Errorf("no object holds %s", v)
		}
	}
}
