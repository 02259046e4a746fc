package trust

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
)

// Key is a public key signatures are checked against, as `cosign
// generate-key-pair` writes it: a PEM "PUBLIC KEY" block (ECDSA, Ed25519
// or RSA).
type Key struct {
	Public crypto.PublicKey
	// Signer is how a lock names the key: "key:sha256:<hex>", the sha256
	// of its DER SubjectPublicKeyInfo.
	Signer string
}

// ParseKey reads a PEM public key. name is used in errors only.
func ParseKey(name string, data []byte) (*Key, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block: want a public key as 'cosign generate-key-pair' writes it (-----BEGIN PUBLIC KEY-----)", name)
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%s: a PEM %q block: want a PUBLIC KEY (give the .pub file, never the private key)", name, block.Type)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: parsing public key: %v", name, err)
	}
	switch pub.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey, *rsa.PublicKey:
	default:
		return nil, fmt.Errorf("%s: a %T: want an ECDSA, Ed25519 or RSA public key", name, pub)
	}
	return &Key{Public: pub, Signer: keySigner(block.Bytes)}, nil
}

// keySigner names the public key whose DER SubjectPublicKeyInfo is der.
func keySigner(der []byte) string {
	sum := sha256.Sum256(der)
	return "key:sha256:" + hex.EncodeToString(sum[:])
}
