package main

import (
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The Keycloak tasks are taken from the roles as they are: keystone's four
// (realm, required actions, client, service account's roles) and
// kube_prometheus_stack's four (realm, the "roles" scope, clients,
// roles), each verbatim, and nothing else.
func TestKeycloakTasksOfTheRoles(t *testing.T) {
	for role, want := range map[string][]string{
		"keystone": {"Create Keycloak realms", "Setup Keycloak Authentication Required Actions (MFA)",
			"Create Keycloak clients", "Assign realm-management roles to service account"},
		"kube_prometheus_stack": {"Create Keycloak realm", "Add client roles in \"id_token\"", "Create Keycloak clients", "Create Keycloak roles"},
	} {
		text, names, err := keycloakTasks("../../../shared/atmosphere/roles/" + role + "/tasks/main.yml")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: tasks %q, want %q", role, names, want)
		}
		var tasks []map[string]any
		if err := yaml.Unmarshal(text, &tasks); err != nil {
			t.Fatalf("%s: the extracted tasks do not parse: %v\n%s", role, err, text)
		}
		if len(tasks) != len(want) {
			t.Errorf("%s: %d tasks parsed from the extract, want %d", role, len(tasks), len(want))
		}
		for _, task := range tasks {
			var module string
			for k := range task {
				if strings.HasPrefix(k, keycloakModulePrefix) {
					module = k
				}
			}
			if module == "" {
				t.Errorf("%s: extracted task %q calls no keycloak module", role, task["name"])
			}
		}
	}
}
