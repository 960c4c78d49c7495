package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// setEnv adds the variables of a part started later (Keycloak, the
// OpenStack APIs) to the env file, replacing their earlier lines and
// keeping every other.
func TestSetEnvReplacesItsLines(t *testing.T) {
	e := &env{envFile: filepath.Join(t.TempDir(), "testenv.env")}
	if err := os.WriteFile(e.envFile, []byte("A=1\nATMOSPHERE_TEST_KEYCLOAK_URL=http://old\nB=2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.setEnv(map[string]string{"ATMOSPHERE_TEST_KEYCLOAK_URL": "http://new", "ATMOSPHERE_TEST_KEYCLOAK_USER": "admin"}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(e.envFile)
	if err != nil {
		t.Fatal(err)
	}
	want := "A=1\nB=2\nATMOSPHERE_TEST_KEYCLOAK_URL=http://new\nATMOSPHERE_TEST_KEYCLOAK_USER=admin\n"
	if string(raw) != want {
		t.Errorf("env file:\n%s\nwant:\n%s", raw, want)
	}
}

// TestImagesKeepsTheEnvironment: the command `images` runs gets the
// environment as it is, the test bed's variables included (the demo's
// inventory looks up the Keycloak's URL), and the images' URLs.
func TestImagesKeepsTheEnvironment(t *testing.T) {
	t.Setenv(testenv.EnvKeycloakURL, "http://127.0.0.1:1")
	t.Setenv(testenv.EnvStateDir, t.TempDir())
	script := `test "$` + testenv.EnvKeycloakURL + `" = http://127.0.0.1:1 && test -n "$ATMOSPHERE_DEMO_IMAGE_RAW"`
	if err := run(context.Background(), []string{"images", "--", "sh", "-c", script}); err != nil {
		t.Fatalf("images: %v", err)
	}
}

// TestUpRabbitMQ: `up` starts RabbitMQ in its state directory (reusing it
// when it runs) and adds its addresses and administrator to the env file,
// which is what the tests' SharedRabbitMQ reads.
func TestUpRabbitMQ(t *testing.T) {
	dir := t.TempDir()
	e := &env{envFile: filepath.Join(dir, "testenv.env"), rabbitmq: filepath.Join(dir, "rabbitmq")}
	t.Cleanup(func() { _ = testenv.StopRabbitMQAt(e.rabbitmq) })
	if err := os.WriteFile(e.envFile, []byte("A=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for try := 1; try <= 2; try++ { // the second reuses the first's
		if err := e.upRabbitMQ(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	r, err := testenv.ReuseRabbitMQAt(context.Background(), e.rabbitmq)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(e.envFile)
	if err != nil {
		t.Fatal(err)
	}
	want := "A=1\n" + testenv.EnvRabbitMQAMQP + "=" + r.AMQPAddr + "\n" + testenv.EnvRabbitMQPassword + "=" + r.AdminPassword + "\n" +
		testenv.EnvRabbitMQURL + "=" + r.ManagementURL + "\n" + testenv.EnvRabbitMQUser + "=" + r.AdminUser + "\n"
	if string(raw) != want {
		t.Errorf("env file:\n%s\nwant:\n%s", raw, want)
	}
}
