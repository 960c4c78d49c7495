package queue

import (
	"testing"

	rabbithole "github.com/michaelklishin/rabbit-hole/v3"
)

func TestSamePassword(t *testing.T) {
	tests := []struct {
		name     string
		user     rabbithole.UserInfo
		password string
		want     bool
	}{
		{"sha256, same", rabbithole.UserInfo{PasswordHash: rabbithole.Base64EncodedSaltedPasswordHashSHA256("s3cret"),
			HashingAlgorithm: rabbithole.HashingAlgorithmSHA256}, "s3cret", true},
		{"sha256, other", rabbithole.UserInfo{PasswordHash: rabbithole.Base64EncodedSaltedPasswordHashSHA256("s3cret"),
			HashingAlgorithm: rabbithole.HashingAlgorithmSHA256}, "s3cret!", false},
		{"sha512, same", rabbithole.UserInfo{PasswordHash: rabbithole.Base64EncodedSaltedPasswordHashSHA512("s3cret"),
			HashingAlgorithm: rabbithole.HashingAlgorithmSHA512}, "s3cret", true},
		{"sha512 read as sha256", rabbithole.UserInfo{PasswordHash: rabbithole.Base64EncodedSaltedPasswordHashSHA512("s3cret"),
			HashingAlgorithm: rabbithole.HashingAlgorithmSHA256}, "s3cret", false},
		{"no password (a user made without one)", rabbithole.UserInfo{PasswordHash: ""}, "s3cret", false},
		{"unknown algorithm", rabbithole.UserInfo{PasswordHash: rabbithole.Base64EncodedSaltedPasswordHashSHA256("s3cret"),
			HashingAlgorithm: "rabbit_password_hashing_other"}, "s3cret", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := samePassword(&tt.user, tt.password); got != tt.want {
				t.Errorf("samePassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSamePolicy(t *testing.T) {
	want := rabbithole.Policy{Vhost: "nova", Name: "ha_ttl_nova", Pattern: `^(?!(amq\.|reply_)).*`, ApplyTo: "all",
		Definition: rabbithole.PolicyDefinition{"message-ttl": 70000}}
	read := want
	read.Definition = rabbithole.PolicyDefinition{"message-ttl": float64(70000)}
	if !samePolicy(read, want) {
		t.Error("a policy read back (numbers as float64) differs from the rendered one")
	}
	other := read
	other.Definition = rabbithole.PolicyDefinition{"message-ttl": float64(1000)}
	if samePolicy(other, want) {
		t.Error("a policy with another TTL is the same")
	}
	other = read
	other.Priority = 1
	if samePolicy(other, want) {
		t.Error("a policy with another priority is the same")
	}
}
