// This file holds the wrapping key pairs: generating self-signed development pairs and reading PEM keys.

package securitydomain

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// KeyPair is one security domain wrapping key: the certificate given at download and its private key.
// Cert may be nil; the key is then matched to a share by trial decryption instead of by thumbprint.
type KeyPair struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
}

// String names the pair by its certificate thumbprint and never shows the private key.
func (kp KeyPair) String() string {
	if kp.Cert == nil {
		return "key pair without certificate"
	}
	return "certificate " + Thumbprint(kp.Cert)
}

// GoString hides the private key from %#v as well.
func (kp KeyPair) GoString() string { return kp.String() }

// certificateValidity matches `openssl req -x509 -days 365`.
const certificateValidity = 365 * 24 * time.Hour

// GenerateKeyPair creates an RSA key of bits (at least MinRSABits) and a self-signed CA certificate for
// commonName valid for 365 days, like `openssl req -newkey rsa:2048 -nodes -x509 -days 365`. The key PEM is
// unencrypted PKCS#8 ("PRIVATE KEY"), as OpenSSL 3 writes it; it is meant for development stacks only.
func GenerateKeyPair(bits int, commonName string) (certPEM, keyPEM []byte, err error) {
	if bits < MinRSABits {
		return nil, nil, fmt.Errorf("RSA key size %d is below the minimum of %d bits", bits, MinRSABits)
	}
	if strings.TrimSpace(commonName) == "" {
		return nil, nil, errors.New("common name is empty")
	}
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, nil, fmt.Errorf("generating RSA key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generating serial number: %w", err)
	}
	now := time.Now().UTC()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(certificateValidity),
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("creating certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding private key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	clear(pkcs8)
	return certPEM, keyPEM, nil
}

// ParsePrivateKeyPEM returns the RSA key of the first private key block in data, PKCS#1 ("RSA PRIVATE KEY")
// or PKCS#8 ("PRIVATE KEY"). Encrypted keys are refused: decrypt them first (openssl pkey).
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("%w: no PEM private key block", ErrInvalidFormat)
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			if _, encrypted := block.Headers["Proc-Type"]; encrypted {
				return nil, errors.New("encrypted PEM private keys are not supported")
			}
			key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: parsing PKCS#1 private key: %w", ErrInvalidFormat, err)
			}
			return key, nil
		case "PRIVATE KEY":
			parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: parsing PKCS#8 private key: %w", ErrInvalidFormat, err)
			}
			key, ok := parsed.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("private key is %T, only RSA is supported", parsed)
			}
			return key, nil
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("encrypted PKCS#8 private keys are not supported")
		}
	}
}

// LoadKeyPair parses a PEM certificate and PEM private key and checks that they belong together.
func LoadKeyPair(certPEM, keyPEM []byte) (KeyPair, error) {
	cert, err := ParseCertificatePEM(certPEM)
	if err != nil {
		return KeyPair{}, err
	}
	key, err := ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return KeyPair{}, err
	}
	kp := KeyPair{Cert: cert, Key: key}
	if err := kp.check(); err != nil {
		return KeyPair{}, err
	}
	return kp, nil
}

// check verifies that the private key is present and matches the certificate, if there is one.
func (kp KeyPair) check() error {
	if kp.Key == nil {
		return errors.New("private key is nil")
	}
	if kp.Cert == nil {
		return nil
	}
	if !kp.Key.PublicKey.Equal(kp.Cert.PublicKey) {
		return fmt.Errorf("private key does not match certificate %s", Thumbprint(kp.Cert))
	}
	return nil
}
