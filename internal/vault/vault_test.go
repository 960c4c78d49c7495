package vault

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The files under testdata were made by ansible-vault 2.14 (Debian's):
//
//	ansible-vault encrypt --vault-password-file password file-1.1.yml
//	ansible-vault encrypt --vault-id prod@password file-1.2.yml
//	ansible-vault encrypt_string --vault-password-file password 'an-encrypted-string-value' --name token > string.yml
func read(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestDecrypt(t *testing.T) {
	password, err := ReadPassword("testdata/password")
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := ReadPassword("testdata/wrong-password")
	if err != nil {
		t.Fatal(err)
	}
	plain := string(read(t, "plain.yml"))
	// The text of the !vault value, as the YAML block scalar gives it.
	_, str, _ := strings.Cut(string(read(t, "string.yml")), "|\n")
	tests := []struct {
		name     string
		data     []byte
		password []byte
		want     string
		err      string
	}{
		{"whole file, 1.1", read(t, "file-1.1.yml"), password, plain, ""},
		{"whole file, 1.2 with a vault id", read(t, "file-1.2.yml"), password, plain, ""},
		{"a !vault value, indented", []byte(str), password, "an-encrypted-string-value", ""},
		{"wrong password", read(t, "file-1.1.yml"), wrong, "", ErrWrongPassword.Error()},
		{"wrong password, !vault value", []byte(str), wrong, "", ErrWrongPassword.Error()},
		{"not a vault text", []byte("secret: x\n"), password, "", "no $ANSIBLE_VAULT header"},
		{"unknown format", []byte("$ANSIBLE_VAULT;2.0;AES256\n3031\n"), password, "", "format 2.0"},
		{"unknown cipher", []byte("$ANSIBLE_VAULT;1.1;AES\n3031\n"), password, "", "cipher AES"},
		{"body not hex", []byte("$ANSIBLE_VAULT;1.1;AES256\nzz\n"), password, "", "ansible-vault body"},
		{"body of two parts", []byte("$ANSIBLE_VAULT;1.1;AES256\n" + hexOf("00\n00") + "\n"), password, "", "got 2 parts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decrypt(tt.data, tt.password)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := Decrypt(read(t, "file-1.1.yml"), wrong); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: %v, want ErrWrongPassword", err)
	}
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(s))
	for _, c := range []byte(s) {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestIsEncrypted(t *testing.T) {
	tests := []struct {
		data string
		want bool
	}{
		{"$ANSIBLE_VAULT;1.1;AES256\n00\n", true},
		{"\n  $ANSIBLE_VAULT;1.2;AES256;prod\n00\n", true},
		{"a: $ANSIBLE_VAULT\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsEncrypted([]byte(tt.data)); got != tt.want {
			t.Errorf("IsEncrypted(%q) = %v", tt.data, got)
		}
	}
}

func TestReadPassword(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte(" \n"), 0o600)
	tests := []struct {
		path, want, err string
	}{
		{"testdata/password", "atmosphere-test-vault-password", ""},
		{empty, "", "is empty"},
		{filepath.Join(dir, "absent"), "", "read the vault password file"},
	}
	for _, tt := range tests {
		got, err := ReadPassword(tt.path)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err %v, want %q", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %q, %v", tt.path, got, err)
		}
	}
}
