// Package vault decrypts ansible-vault's format (1.1 and 1.2, AES256), as
// ansible-vault writes it: a whole file, or the text of a `!vault |` value.
//
// The format: a header line "$ANSIBLE_VAULT;1.1;AES256" (1.2 adds
// ";<vault id>"), then lines of hex whose bytes are, once decoded, three
// hex lines: the salt, the HMAC-SHA256 of the ciphertext, the ciphertext.
// PBKDF2-HMAC-SHA256 of the password and salt (10000 iterations) gives 80
// bytes: the AES-256 key, the HMAC key and the CTR counter block. The
// plaintext is PKCS#7 padded to AES's block size.
//
// No maintained Go implementation of the format is served by the module
// proxy this project uses; the format is small, and the tests decrypt
// files made by the real ansible-vault.
package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Header starts every ansible-vault text.
const Header = "$ANSIBLE_VAULT;"

// iterations, keyLen and ivLen are ansible-vault's VaultAES256 constants.
const (
	iterations = 10000
	keyLen     = 32
	ivLen      = 16
)

// ErrWrongPassword is returned when the password does not decrypt the text
// (its HMAC does not match).
var ErrWrongPassword = errors.New("the vault password does not decrypt it")

// IsEncrypted reports whether data is an ansible-vault text (leading
// white space aside).
func IsEncrypted(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(Header))
}

// ReadPassword reads a vault password file as ansible-vault does: the
// file's content without trailing white space. An empty password is an
// error. (ansible runs a password file that is executable as a script;
// atmosphere reads it as text.)
func ReadPassword(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the vault password file: %w", err)
	}
	pw := bytes.TrimRight(raw, " \t\r\n")
	if len(pw) == 0 {
		return nil, fmt.Errorf("the vault password file %s is empty", path)
	}
	return pw, nil
}

// Decrypt decrypts an ansible-vault text with password. A text that is not
// in the format is an error saying what is wrong with it; a password that
// does not decrypt it is ErrWrongPassword.
func Decrypt(data, password []byte) ([]byte, error) {
	text := strings.TrimSpace(string(data))
	header, body, _ := strings.Cut(text, "\n")
	fields := strings.Split(strings.TrimSpace(header), ";")
	if len(fields) < 3 || fields[0] != strings.TrimSuffix(Header, ";") {
		return nil, errors.New("not an ansible-vault text (no $ANSIBLE_VAULT header)")
	}
	switch {
	case fields[1] != "1.1" && fields[1] != "1.2":
		return nil, fmt.Errorf("ansible-vault format %s: only 1.1 and 1.2 are known", fields[1])
	case fields[2] != "AES256":
		return nil, fmt.Errorf("ansible-vault cipher %s: only AES256 is known", fields[2])
	}
	var hexBody strings.Builder
	for _, line := range strings.Split(body, "\n") {
		hexBody.WriteString(strings.TrimSpace(line))
	}
	inner, err := hex.DecodeString(hexBody.String())
	if err != nil {
		return nil, fmt.Errorf("ansible-vault body: %w", err)
	}
	parts := strings.Split(string(inner), "\n")
	if len(parts) != 3 {
		return nil, fmt.Errorf("ansible-vault body: want salt, HMAC and ciphertext, got %d parts", len(parts))
	}
	var salt, mac, ciphertext []byte
	for i, dst := range []*[]byte{&salt, &mac, &ciphertext} {
		if *dst, err = hex.DecodeString(strings.TrimSpace(parts[i])); err != nil {
			return nil, fmt.Errorf("ansible-vault body: %w", err)
		}
	}
	derived, err := pbkdf2.Key(sha256.New, string(password), salt, iterations, 2*keyLen+ivLen)
	if err != nil {
		return nil, fmt.Errorf("derive the vault key: %w", err)
	}
	aesKey, macKey, iv := derived[:keyLen], derived[keyLen:2*keyLen], derived[2*keyLen:]
	h := hmac.New(sha256.New, macKey)
	h.Write(ciphertext)
	if !hmac.Equal(h.Sum(nil), mac) {
		return nil, ErrWrongPassword
	}
	block, err := aes.NewCipher(aesKey)
	if err != nil {
		return nil, fmt.Errorf("vault cipher: %w", err)
	}
	plain := make([]byte, len(ciphertext))
	cipher.NewCTR(block, iv).XORKeyStream(plain, ciphertext)
	return unpad(plain)
}

// unpad removes PKCS#7 padding of AES's block size.
func unpad(b []byte) ([]byte, error) {
	if len(b) == 0 || len(b)%aes.BlockSize != 0 {
		return nil, errors.New("ansible-vault plaintext: not a whole number of blocks")
	}
	n := int(b[len(b)-1])
	if n == 0 || n > aes.BlockSize || !bytes.Equal(b[len(b)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, errors.New("ansible-vault plaintext: bad padding")
	}
	return b[:len(b)-n], nil
}
