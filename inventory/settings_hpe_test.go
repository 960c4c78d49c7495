package inventory

import (
	"slices"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
)

// hpeNimbleCredentials are what csi_driver hpe-nimble requires (the role's
// assert): the array's address, a username and a password.
const hpeNimbleCredentials = "hpe_nimble_csi_backend: 192.0.2.10\nhpe_nimble_csi_username: admin\nhpe_nimble_csi_password: nimble-s3cr3t\n"

// TestHPENimbleRefusals: with csi_driver hpe-nimble, what the role asserts
// is refused before the run as the settings and the knobs' check (the one
// plan and deploy make) find it: each credential not set or empty, an
// access protocol but iscsi and fc (naming the value and both), a
// parameter of the StorageClass that is not a string; each problem names
// the key (and the file that sets it), and none shows the password. With csi_driver rbd
// the same variables are not read, and nothing is refused.
func TestHPENimbleRefusals(t *testing.T) {
	const f = "group_vars/all/main.yml"
	tests := []struct {
		name, doc string
		want      []string // each problem, in order of its key; none for none
	}{
		{"credentials and the defaults", "csi_driver: hpe-nimble\n" + hpeNimbleCredentials, nil},
		{"fc, parameters of strings", "csi_driver: hpe-nimble\n" + hpeNimbleCredentials +
			"hpe_nimble_csi_access_protocol: fc\nhpe_nimble_csi_storageclass_parameters: {dedupeEnabled: \"true\"}\n", nil},
		{"no credential", "csi_driver: hpe-nimble\n", []string{
			"hpe_nimble_csi_backend: required with csi_driver hpe-nimble (the role asserts it), and not set or empty",
			"hpe_nimble_csi_password: required with csi_driver hpe-nimble",
			"hpe_nimble_csi_username: required with csi_driver hpe-nimble"}},
		{"an empty username", "csi_driver: hpe-nimble\n" + hpeNimbleCredentials + "hpe_nimble_csi_username: \"\"\n", []string{
			f + ": hpe_nimble_csi_username: required with csi_driver hpe-nimble"}},
		{"an access protocol the role does not take", "csi_driver: hpe-nimble\n" + hpeNimbleCredentials + "hpe_nimble_csi_access_protocol: nvme\n",
			[]string{f + `: hpe_nimble_csi_access_protocol: want one of "iscsi", "fc", got the string "nvme"`}},
		{"a parameter not a string", "csi_driver: hpe-nimble\n" + hpeNimbleCredentials +
			"hpe_nimble_csi_storageclass_parameters: {dedupeEnabled: true}\n",
			[]string{f + ": hpe_nimble_csi_storageclass_parameters: want a mapping of strings"}},
		{"a password not a string", "csi_driver: hpe-nimble\n" + hpeNimbleCredentials + "hpe_nimble_csi_password: 12345678\n",
			[]string{f + ": hpe_nimble_csi_password: want a string, got a number"}},
		{"another release namespace", "csi_driver: hpe-nimble\n" + hpeNimbleCredentials + "hpe_nimble_csi_helm_release_namespace: hpe\n",
			[]string{f + `: hpe_nimble_csi_helm_release_namespace: want "kube-system"`}},
		{"rbd: not read", "hpe_nimble_csi_access_protocol: nvme\nhpe_nimble_csi_helm_release_name: other\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Load(write(t, map[string]string{f: "keepalived_enabled: false\ncluster_issuer_type: none\n" + tt.doc}), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			s, err := inv.Settings()
			if err != nil {
				t.Fatalf("settings refused: %v", err)
			}
			var problems []string
			for _, p := range components.Default().CheckKnobs(s.Config, inv.Vars) {
				problems = append(problems, inv.ProblemWith(p.Key, p.Message).String())
			}
			if len(problems) != len(tt.want) || slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "12345678") || strings.Contains(p, "nimble-s3cr3t") }) {
				t.Fatalf("problems %q, want %d: %q (no password shown)", problems, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(problems[i], w) {
					t.Errorf("problem %d: %q, want %q…", i, problems[i], w)
				}
			}
		})
	}
}
