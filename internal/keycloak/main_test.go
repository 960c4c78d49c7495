package keycloak

import (
	"testing"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestMain stops what the tests started of the test bed for this process
// alone (a Keycloak of its own when no test environment is up).
func TestMain(m *testing.M) { testenv.Main(m) }
