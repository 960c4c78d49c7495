package testenv

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The test bed's Keycloak grants its admin a token of the master realm's
// admin-cli, and that token reads the master realm through the admin API.
func TestKeycloakAdminAPI(t *testing.T) {
	kc := Keycloak(t)
	if !strings.HasPrefix(kc.URL, "http://127.0.0.1:") || kc.AdminUser == "" || kc.AdminPassword == "" {
		t.Fatalf("Keycloak server %s, user %q: want a loopback URL and an admin with a password", kc.URL, kc.AdminUser)
	}
	ctx := context.Background()
	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {kc.AdminUser}, "password": {kc.AdminPassword}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, kc.URL+"/realms/master/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("admin token: HTTP %d, %v", resp.StatusCode, err)
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, kc.URL+"/admin/realms/master", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var realm struct {
		Realm   string `json:"realm"`
		Enabled bool   `json:"enabled"`
	}
	if err := json.NewDecoder(resp2.Body).Decode(&realm); err != nil || realm.Realm != "master" || !realm.Enabled {
		t.Fatalf("GET /admin/realms/master: HTTP %d, %+v, %v", resp2.StatusCode, realm, err)
	}
}

func TestFindJavaPrefersJavaHomeThenTheNewest(t *testing.T) {
	dir := t.TempDir()
	jdk := func(name, version string) string {
		home := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(home, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(home, "bin", "java"), nil, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(home, "release"), []byte(`JAVA_VERSION="`+version+"\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return home
	}
	old := jvmDir
	t.Cleanup(func() { jvmDir = old })
	jvmDir = dir
	j17, j21, j25 := jdk("java-17", "17.0.15"), jdk("temurin-21", "21.0.2"), jdk("temurin-25", "25.0.3")

	t.Setenv("JAVA_HOME", j21)
	if got, err := FindJava(21); err != nil || got != j21 {
		t.Errorf("JAVA_HOME Java 21: got %q, %v; want JAVA_HOME", got, err)
	}
	t.Setenv("JAVA_HOME", j17)
	if got, err := FindJava(21); err != nil || got != j25 {
		t.Errorf("JAVA_HOME Java 17: got %q, %v; want the newest, %s", got, err, j25)
	}
	_, err := FindJava(26)
	if err == nil || !strings.Contains(err.Error(), "Java 26 or later") || !strings.Contains(err.Error(), "Java 17") {
		t.Errorf("no Java 26: got %v, want an error naming the wanted and found versions", err)
	}
}
