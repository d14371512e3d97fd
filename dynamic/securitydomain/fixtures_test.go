// This file holds the test fixtures shared by the package tests: RSA key pairs generated once per test
// binary (key generation dominates the run time otherwise) and helpers to build CLI-style artifacts.

package securitydomain

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fixturePairs is how many wrapping key pairs the tests share; MaxCertificates would only slow them down.
const fixturePairs = 5

type fixtureSet struct {
	pairs    []KeyPair // wrapping keys, 2048-bit
	transfer KeyPair   // the recovering HSM's transfer key, 2048-bit
	stranger KeyPair   // a 2048-bit pair whose certificate is in no domain
	rsa1024  *x509.Certificate
	ecCert   *x509.Certificate
	pemPairs [][2][]byte // PEM certificate and key of pairs[0..], as GenerateKeyPair wrote them
}

var (
	fixturesOnce sync.Once
	fixturesVal  *fixtureSet
	fixturesErr  error
)

// fixtures returns the shared key material, generating it on first use.
func fixtures(t *testing.T) *fixtureSet {
	t.Helper()
	fixturesOnce.Do(func() { fixturesVal, fixturesErr = makeFixtures() })
	require.NoError(t, fixturesErr)
	return fixturesVal
}

func makeFixtures() (*fixtureSet, error) {
	fs := &fixtureSet{}
	load := func(cn string) (KeyPair, [2][]byte, error) {
		certPEM, keyPEM, err := GenerateKeyPair(2048, cn)
		if err != nil {
			return KeyPair{}, [2][]byte{}, err
		}
		kp, err := LoadKeyPair(certPEM, keyPEM)
		return kp, [2][]byte{certPEM, keyPEM}, err
	}
	for i := range fixturePairs {
		kp, pems, err := load(fmt.Sprintf("sd-wrapping-%d", i))
		if err != nil {
			return nil, err
		}
		fs.pairs = append(fs.pairs, kp)
		fs.pemPairs = append(fs.pemPairs, pems)
	}
	var err error
	if fs.transfer, _, err = load("sd-transfer"); err != nil {
		return nil, err
	}
	if fs.stranger, _, err = load("sd-stranger"); err != nil {
		return nil, err
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		return nil, err
	}
	if fs.rsa1024, err = selfSigned(small, &small.PublicKey); err != nil {
		return nil, err
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if fs.ecCert, err = selfSigned(ec, &ec.PublicKey); err != nil {
		return nil, err
	}
	return fs, nil
}

func selfSigned(signer any, pub any) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "other"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// certsOf returns the certificates of the first n fixture pairs.
func (fs *fixtureSet) certsOf(n int) []*x509.Certificate {
	out := make([]*x509.Certificate, n)
	for i := range out {
		out[i] = fs.pairs[i].Cert
	}
	return out
}

// pick returns the fixture pairs at the given positions.
func (fs *fixtureSet) pick(idx ...int) []KeyPair {
	out := make([]KeyPair, len(idx))
	for i, j := range idx {
		out[i] = fs.pairs[j]
	}
	return out
}

// flipCiphertextByte flips one bit in the ciphertext part (the fourth) of a compact JWE.
func flipCiphertextByte(t *testing.T, compact string) string {
	t.Helper()
	parts := strings.Split(compact, ".")
	require.Len(t, parts, 5)
	ct, err := base64.RawURLEncoding.DecodeString(parts[3])
	require.NoError(t, err)
	require.NotEmpty(t, ct)
	ct[len(ct)/2] ^= 0x01
	parts[3] = base64.RawURLEncoding.EncodeToString(ct)
	return strings.Join(parts, ".")
}
