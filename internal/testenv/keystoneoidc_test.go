package testenv

import (
	"strings"
	"testing"
)

// chartApache is the part of the chart's wsgi-keystone.conf the test bed
// adapts, as atmosphere renders it.
const chartApache = `Listen 0.0.0.0:5000
<VirtualHost *:5000>
  WSGIDaemonProcess keystone-public processes=4 threads=1 user=keystone group=keystone display-name=%{GROUP}
  WSGIScriptAlias / /var/www/cgi-bin/keystone/keystone-wsgi-public
  OIDCMetadataDir /var/lib/apache2/oidc
  OIDCRedirectURI http://127.0.0.1:5000/v3/auth/OS-FEDERATION/identity_providers/redirect
</VirtualHost>
`

// TestApacheForTestBed: the chart's Apache configuration is adapted to the
// test bed where the image and this machine differ, and only there; one
// that lacks a line the adaptation expects is refused, naming it.
func TestApacheForTestBed(t *testing.T) {
	k := &OIDCKeystone{StateDir: "/state"}
	k.setPort(18000)
	got, err := k.apacheForTestBed(chartApache)
	if err != nil {
		t.Fatal(err)
	}
	want := `Listen 127.0.0.1:18000
<VirtualHost *:18000>
  WSGIDaemonProcess keystone-public processes=1 threads=4 user=www-data group=www-data python-home=/state/venv display-name=%{GROUP}
  WSGIScriptAlias / /usr/bin/keystone-wsgi-public
  OIDCMetadataDir /state/oidc
  OIDCRedirectURI http://127.0.0.1:5000/v3/auth/OS-FEDERATION/identity_providers/redirect
</VirtualHost>
`
	if got != want {
		t.Errorf("adapted:\n%s\nwant:\n%s", got, want)
	}
	for _, missing := range []string{"Listen 0.0.0.0:5000", "<VirtualHost *:5000>", "/var/www/cgi-bin/keystone/keystone-wsgi-public",
		"user=keystone group=keystone", "OIDCMetadataDir /var/lib/apache2/oidc"} {
		t.Run(missing, func(t *testing.T) {
			_, err := k.apacheForTestBed(strings.Replace(chartApache, missing, "", 1))
			if err == nil || !strings.Contains(err.Error(), "has no") {
				t.Errorf("without %q: err %v, want one naming what is missing", missing, err)
			}
		})
	}
}

// TestKeystoneConfSections: the sections given are written after the test
// bed's own, a multistring option once per value, [federation] points at
// the test bed's callback template, and [identity] has the chart's
// domain-specific drivers beside the test bed's password hashing.
func TestKeystoneConfSections(t *testing.T) {
	k := &OIDCKeystone{StateDir: "/state"}
	conf := strings.Join(k.keystoneConf(map[string]map[string]any{
		"openid": {"remote_id_attribute": "HTTP_OIDC_ISS"},
		"federation": {"trusted_dashboard": map[string]any{"type": "multistring",
			"values": []any{"http://localhost:9990/auth/websso/", "https://dashboard.test/auth/websso/"}}},
	}), "\n")
	for _, want := range []string{
		"[federation]\nsso_callback_template = /state/keystone/sso_callback_template.html\n" +
			"trusted_dashboard = http://localhost:9990/auth/websso/\ntrusted_dashboard = https://dashboard.test/auth/websso/\n[openid]\nremote_id_attribute = HTTP_OIDC_ISS",
		"[cache]\nenabled = false",
		"[identity]\ndomain_config_dir = /state/keystone/domains\ndomain_specific_drivers_enabled = True\npassword_hash_algorithm = bcrypt\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("keystone.conf lacks\n%s\nin\n%s", want, conf)
		}
	}
}
