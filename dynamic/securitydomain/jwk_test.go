// This file tests the JWK side of the API: download request certificates and the transfer key forms.

package securitydomain

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCertificateJWK(t *testing.T) {
	fs := fixtures(t)
	cert := fs.pairs[0].Cert
	jwk, err := CertificateJWK(cert)
	require.NoError(t, err)

	sum := sha256.Sum256(cert.Raw)
	sha1Sum := sha1.Sum(cert.Raw)
	pub := cert.PublicKey.(*rsa.PublicKey)
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:]), jwk.X5tS256)
	assert.Equal(t, jwk.X5tS256, Thumbprint(cert))
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(sha1Sum[:]), jwk.X5t)
	assert.Equal(t, []string{base64.StdEncoding.EncodeToString(cert.Raw)}, jwk.X5c, "x5c is standard base64")
	assert.Equal(t, "RSA", jwk.Kty)
	assert.Equal(t, "RSA-OAEP-256", jwk.Alg)
	assert.Equal(t, "AQAB", jwk.E)
	assert.Equal(t, []string{"verify", "encrypt", "wrapKey"}, jwk.KeyOps)
	n, err := base64.RawURLEncoding.DecodeString(jwk.N)
	require.NoError(t, err)
	assert.Equal(t, 0, new(big.Int).SetBytes(n).Cmp(pub.N))
	assert.NotZero(t, n[0], "no leading zero byte")

	data, err := json.Marshal(jwk)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	assert.Contains(t, m, "x5t#S256")
	assert.NotContains(t, m, "kid", "the CLI sends no kid")

	rejects := map[string]*x509.Certificate{"rsa-1024": fs.rsa1024, "ec-key": fs.ecCert}
	for name, c := range rejects {
		t.Run(name, func(t *testing.T) {
			_, err := CertificateJWK(c)
			assert.Error(t, err)
		})
	}
	t.Run("nil", func(t *testing.T) {
		_, err := CertificateJWK(nil)
		assert.Error(t, err)
	})
}

func TestDownloadRequestRoundTrip(t *testing.T) {
	fs := fixtures(t)
	body, err := NewDownloadRequest(fs.certsOf(4), 3)
	require.NoError(t, err)

	var raw struct {
		Certificates []map[string]any `json:"certificates"`
		Required     int              `json:"required"`
	}
	require.NoError(t, json.Unmarshal(body, &raw))
	assert.Equal(t, 3, raw.Required)
	require.Len(t, raw.Certificates, 4)
	for _, c := range raw.Certificates {
		for _, field := range []string{"kty", "n", "e", "x5c", "x5t", "x5t#S256", "alg", "key_ops"} {
			assert.Contains(t, c, field)
		}
	}

	certs, quorum, err := ParseDownloadRequest(body)
	require.NoError(t, err)
	assert.Equal(t, 3, quorum)
	for i, c := range certs {
		assert.True(t, c.Equal(fs.pairs[i].Cert))
	}

	t.Run("mismatched-thumbprint", func(t *testing.T) {
		var req DownloadRequest
		require.NoError(t, json.Unmarshal(body, &req))
		req.Certificates[1].X5tS256 = req.Certificates[0].X5tS256
		data, err := json.Marshal(req)
		require.NoError(t, err)
		_, _, err = ParseDownloadRequest(data)
		assert.ErrorIs(t, err, ErrInvalidFormat)
	})
	t.Run("mismatched-modulus", func(t *testing.T) {
		var req DownloadRequest
		require.NoError(t, json.Unmarshal(body, &req))
		req.Certificates[1].N = req.Certificates[0].N
		data, err := json.Marshal(req)
		require.NoError(t, err)
		_, _, err = ParseDownloadRequest(data)
		assert.ErrorIs(t, err, ErrInvalidFormat)
	})
	t.Run("quorum-above-n", func(t *testing.T) {
		var req DownloadRequest
		require.NoError(t, json.Unmarshal(body, &req))
		req.Required = 5
		data, err := json.Marshal(req)
		require.NoError(t, err)
		_, _, err = ParseDownloadRequest(data)
		assert.Error(t, err)
	})
}

func TestParseTransferKey(t *testing.T) {
	fs := fixtures(t)
	cert := fs.transfer.Cert
	jwk, err := CertificateJWK(cert)
	require.NoError(t, err)
	jwkJSON, err := json.Marshal(jwk)
	require.NoError(t, err)
	stringForm, err := TransferKeyResponse(cert)
	require.NoError(t, err)
	objectForm := []byte(`{"key_format":"jwk","transfer_key":` + string(jwkJSON) + `}`)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	pemForm, err := json.Marshal(map[string]string{"key_format": "pem", "transfer_key": string(certPEM)})
	require.NoError(t, err)
	noFormat, err := json.Marshal(map[string]string{"transfer_key": string(jwkJSON)})
	require.NoError(t, err)
	pub := cert.PublicKey.(*rsa.PublicKey)
	bareJWK, err := json.Marshal(JWK{Kty: "RSA", N: jwk.N, E: jwk.E, X5tS256: jwk.X5tS256})
	require.NoError(t, err)
	bare := []byte(`{"key_format":"jwk","transfer_key":` + string(bareJWK) + `}`)

	cases := []struct {
		name     string
		body     []byte
		wantCert bool
	}{
		{name: "json-string", body: stringForm, wantCert: true},
		{name: "json-object", body: objectForm, wantCert: true},
		{name: "no-key-format", body: noFormat, wantCert: true},
		{name: "pem", body: pemForm, wantCert: true},
		{name: "jwk-without-x5c", body: bare},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tk, err := ParseTransferKey(tc.body)
			require.NoError(t, err)
			assert.True(t, tk.PublicKey.Equal(pub))
			assert.Equal(t, Thumbprint(cert), tk.Thumbprint)
			if tc.wantCert {
				require.NotNil(t, tk.Certificate)
				assert.True(t, tk.Certificate.Equal(cert))
			} else {
				assert.Nil(t, tk.Certificate)
			}
		})
	}

	small, err := json.Marshal(map[string]any{"key_format": "jwk", "transfer_key": map[string]any{
		"kty": "RSA", "x5c": []string{base64.StdEncoding.EncodeToString(fs.rsa1024.Raw)},
	}})
	require.NoError(t, err)
	rejects := []struct {
		name string
		body []byte
	}{
		{name: "garbage", body: []byte("nope")},
		{name: "missing-key", body: []byte(`{"key_format":"jwk"}`)},
		{name: "unknown-format", body: []byte(`{"key_format":"der","transfer_key":"AAAA"}`)},
		{name: "ec-kty", body: []byte(`{"transfer_key":{"kty":"EC","crv":"P-256"}}`)},
		{name: "rsa-1024", body: small},
		{name: "no-thumbprint", body: []byte(`{"transfer_key":{"kty":"RSA","n":"` + jwk.N + `","e":"AQAB"}}`)},
		{name: "bad-x5c", body: []byte(`{"transfer_key":{"kty":"RSA","x5c":["!!"]}}`)},
	}
	for _, tc := range rejects {
		t.Run("rejects-"+tc.name, func(t *testing.T) {
			_, err := ParseTransferKey(tc.body)
			assert.Error(t, err)
		})
	}
}
