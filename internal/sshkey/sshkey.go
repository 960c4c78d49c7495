// Package sshkey reads SSH keys. It imports nothing of atmosphere's, so
// that any package may use it (package components does, and the secrets
// package, whose tests reach components through the test environment).
package sshkey

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// PublicKey is the public key of an SSH private key in OpenSSH's PEM form,
// in authorized_keys form without a comment.
func PublicKey(private string) (string, error) {
	signer, err := ssh.ParsePrivateKey([]byte(private))
	if err != nil {
		return "", fmt.Errorf("parse the SSH key: %w", err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))), nil
}
