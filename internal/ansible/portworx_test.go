package ansible

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestPortworxHostPlay runs portworx's host tasks (components'
// portworx.host.yaml, as its Ansible phase declares them) with Debian's
// ansible on localhost, their file and iscsi-iname moved into a temporary
// directory (the name file there, a stand-in iscsi-iname printing a fixed
// name): a file that names no initiator gets "InitiatorName=<iscsi-iname's
// name>", mode 0644, and the play reports a change; a file that names one
// is left as it is, iscsi-iname not run, nothing changed; a missing file
// fails the play, as the role's slurp does.
func TestPortworxHostPlay(t *testing.T) {
	c, ok := components.Default().Get("portworx")
	if !ok || c.Ansible == nil {
		t.Fatal("no component portworx with Ansible work")
	}
	dir := t.TempDir()
	nameFile := filepath.Join(dir, "initiatorname.iscsi")
	iname := filepath.Join(dir, "iscsi-iname")
	ran := filepath.Join(dir, "iscsi-iname-ran")
	if err := os.WriteFile(iname, []byte("#!/bin/sh\ntouch "+ran+"\necho iqn.2004-10.com.ubuntu:01:standin\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	raw, err := yaml.Marshal(c.Ansible.Tasks)
	if err != nil {
		t.Fatal(err)
	}
	tasks := strings.ReplaceAll(string(raw), "/etc/iscsi/initiatorname.iscsi", nameFile)
	tasks = strings.ReplaceAll(tasks, "cmd: iscsi-iname", "cmd: "+iname)
	if strings.Count(tasks, nameFile) != 2 || !strings.Contains(tasks, iname) {
		t.Fatalf("the play's file or command moved: %s", tasks)
	}
	// The owner and group are the host's root: the test's own user here.
	tasks = strings.ReplaceAll(tasks, "owner: root", "owner: \"{{ ansible_user_id }}\"")
	tasks = strings.ReplaceAll(tasks, "group: root", "group: \"{{ ansible_user_gid }}\"")
	var parsed []any
	if err := yaml.Unmarshal([]byte(tasks), &parsed); err != nil {
		t.Fatal(err)
	}
	play, err := yaml.Marshal([]map[string]any{{"hosts": "all", "gather_facts": true, "gather_subset": []any{"!all", "min"}, "tasks": parsed}})
	if err != nil {
		t.Fatal(err)
	}
	playbook := filepath.Join(dir, "play.yml")
	if err := os.WriteFile(playbook, play, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	for _, tc := range []struct {
		name, before, after string
		changed, iname      bool
	}{
		{"no name", "## DO NOT EDIT OR REMOVE THIS FILE!\n", "InitiatorName=iqn.2004-10.com.ubuntu:01:standin", true, true},
		{"a name", "InitiatorName=iqn.1993-08.org.debian:01:kept\n", "InitiatorName=iqn.1993-08.org.debian:01:kept\n", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.Remove(ran)
			if err := os.WriteFile(nameFile, []byte(tc.before), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := testenv.RunPlaybook(ctx, playbook)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(nameFile)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.after {
				t.Errorf("the file holds %q, want %q", got, tc.after)
			}
			if _, err := os.Stat(ran); (err == nil) != tc.iname {
				t.Errorf("iscsi-iname ran: %v, want %v", err == nil, tc.iname)
			}
			if changed := !strings.Contains(out, "changed=0"); changed != tc.changed {
				t.Errorf("the play changed something: %v, want %v\n%s", changed, tc.changed, testenv.LastLines(out, 8))
			}
			if st, err := os.Stat(nameFile); err == nil && tc.changed && st.Mode().Perm() != 0o644 {
				t.Errorf("the file's mode %v, want 0644", st.Mode().Perm())
			}
		})
	}

	t.Run("no file", func(t *testing.T) {
		_ = os.Remove(nameFile)
		if _, err := testenv.RunPlaybook(ctx, playbook); err == nil {
			t.Errorf("the play ran without the name file")
		}
	})
}
