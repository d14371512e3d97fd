// This file holds the compact JWE helpers the format uses, built on go-jose: "dir" + A256CBC-HS512 for
// data items and RSA-OAEP-256 + A256CBC-HS512 for shares and the restore blob's wrapped key.

package securitydomain

import (
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// contentEncryption is the only "enc" the CLI understands; it drops anything else.
const contentEncryption = jose.A256CBC_HS512

// wrappedKeyID is the "kid" the CLI puts on every RSA-wrapped JWE it writes. The HSM finds the recipient
// by the separate x5t_256 field, so the value carries no meaning; it is kept for byte-level familiarity.
const wrappedKeyID = "not used"

// rsaKeyAlgorithms are the key management algorithms accepted when opening RSA-wrapped JWEs. The CLI also
// understands RSA-OAEP (SHA-1); RSA1_5 is left out on purpose because nothing in the format announces it
// and PKCS#1 v1.5 decryption cannot report failure reliably.
var rsaKeyAlgorithms = []jose.KeyAlgorithm{jose.RSA_OAEP_256, jose.RSA_OAEP}

// encryptDirect encrypts plaintext under a 64-byte key with "alg":"dir" and puts kid in the protected
// header, as the CLI does with the item tag for restore blobs.
func encryptDirect(key, plaintext []byte, kid string) (string, error) {
	enc, err := jose.NewEncrypter(contentEncryption, jose.Recipient{Algorithm: jose.DIRECT, Key: key, KeyID: kid}, nil)
	if err != nil {
		return "", fmt.Errorf("creating direct encrypter: %w", err)
	}
	return serialize(enc, plaintext)
}

// encryptToRSA encrypts plaintext to pub with RSA-OAEP-256 (SHA-256 and MGF1-SHA-256) wrapping a random
// A256CBC-HS512 key.
func encryptToRSA(pub *rsa.PublicKey, plaintext []byte, kid string) (string, error) {
	enc, err := jose.NewEncrypter(contentEncryption,
		jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: pub, KeyID: kid}, nil)
	if err != nil {
		return "", fmt.Errorf("creating RSA-OAEP-256 encrypter: %w", err)
	}
	return serialize(enc, plaintext)
}

func serialize(enc jose.Encrypter, plaintext []byte) (string, error) {
	obj, err := enc.Encrypt(plaintext)
	if err != nil {
		return "", fmt.Errorf("encrypting: %w", err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("serializing JWE: %w", err)
	}
	return out, nil
}

// decryptDirect opens a "dir" JWE with the derived item key. go-jose authenticates the protected header
// exactly as transmitted, which is what the CLI's own HMAC does, so headers written by any producer verify.
func decryptDirect(compact string, key []byte) ([]byte, error) {
	obj, err := parseCompact(compact, []jose.KeyAlgorithm{jose.DIRECT})
	if err != nil {
		return nil, err
	}
	out, err := obj.Decrypt(key)
	if err != nil {
		return nil, fmt.Errorf("authentication failed: %w", err)
	}
	return out, nil
}

// decryptWithRSA opens an RSA-wrapped JWE with priv.
func decryptWithRSA(compact string, priv *rsa.PrivateKey) ([]byte, error) {
	obj, err := parseCompact(compact, rsaKeyAlgorithms)
	if err != nil {
		return nil, err
	}
	out, err := obj.Decrypt(priv)
	if err != nil {
		return nil, fmt.Errorf("decryption failed (wrong key or tampered JWE): %w", err)
	}
	return out, nil
}

func parseCompact(compact string, algs []jose.KeyAlgorithm) (*jose.JSONWebEncryption, error) {
	normalized, err := normalizeCompact(compact)
	if err != nil {
		return nil, err
	}
	obj, err := jose.ParseEncryptedCompact(normalized, algs, []jose.ContentEncryption{contentEncryption})
	if err != nil {
		return nil, fmt.Errorf("parsing compact JWE: %w", err)
	}
	return obj, nil
}

// normalizeCompact accepts a compact JWE either as is or base64url-encoded once more: one published
// revision of the CLI's restore-data serializer wrapped compact_jwe and enc_key that way.
func normalizeCompact(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty compact JWE")
	}
	if strings.Count(s, ".") == 4 {
		return s, nil
	}
	decoded, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err == nil && strings.Count(string(decoded), ".") == 4 {
		return string(decoded), nil
	}
	return "", fmt.Errorf("compact JWE has %d parts, want 5", strings.Count(s, ".")+1)
}
