// This file tests key pair generation and PEM parsing.

package securitydomain

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGenerateKeyPair(t *testing.T) {
	fs := fixtures(t)
	certPEM, keyPEM := fs.pemPairs[0][0], fs.pemPairs[0][1]
	cert, err := ParseCertificatePEM(certPEM)
	require.NoError(t, err)
	assert.Equal(t, "sd-wrapping-0", cert.Subject.CommonName)
	assert.True(t, cert.IsCA, "self-signed like openssl req -x509")
	assert.NoError(t, cert.CheckSignatureFrom(cert))
	assert.InDelta(t, 365*24*time.Hour, cert.NotAfter.Sub(cert.NotBefore), float64(2*time.Minute))
	assert.Equal(t, 2048, cert.PublicKey.(*rsa.PublicKey).N.BitLen())

	block, _ := pem.Decode(keyPEM)
	require.NotNil(t, block)
	assert.Equal(t, "PRIVATE KEY", block.Type, "PKCS#8 as OpenSSL 3 writes it")

	t.Run("too-small", func(t *testing.T) {
		_, _, err := GenerateKeyPair(1024, "x")
		assert.Error(t, err)
	})
	t.Run("empty-name", func(t *testing.T) {
		_, _, err := GenerateKeyPair(2048, " ")
		assert.Error(t, err)
	})
}

func TestParsePrivateKeyPEM(t *testing.T) {
	fs := fixtures(t)
	key := fs.pairs[1].Key
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	pkcs1 := x509.MarshalPKCS1PrivateKey(key)
	ecDER, err := x509.MarshalPKCS8PrivateKey(mustECKey(t))
	require.NoError(t, err)

	cases := []struct {
		name    string
		data    []byte
		wantErr bool
	}{
		{name: "pkcs8", data: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})},
		{name: "pkcs1", data: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1})},
		{name: "after-certificate", data: append(append([]byte{}, fs.pemPairs[1][0]...),
			pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1})...)},
		{name: "encrypted-pkcs8", data: pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}),
			wantErr: true},
		{name: "encrypted-pkcs1", data: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
			Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}), wantErr: true},
		{name: "ec-key", data: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), wantErr: true},
		{name: "no-pem", data: []byte("nothing here"), wantErr: true},
		{name: "corrupt", data: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}}),
			wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrivateKeyPEM(tc.data)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, got.Equal(key))
		})
	}
}

func TestLoadKeyPair(t *testing.T) {
	fs := fixtures(t)
	_, err := LoadKeyPair(fs.pemPairs[0][0], fs.pemPairs[1][1])
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not match certificate")

	kp, err := LoadKeyPair(fs.pemPairs[2][0], fs.pemPairs[2][1])
	require.NoError(t, err)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, kp)
		assert.Equal(t, "certificate "+Thumbprint(kp.Cert), out, "format %s hides the key", format)
	}

	_, err = ParseCertificatePEM(fs.pemPairs[0][1])
	assert.ErrorIs(t, err, ErrInvalidFormat, "a key file holds no certificate")
}

func mustECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return key
}
