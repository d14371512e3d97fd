// This file holds the JSON Web Keys of the security domain API: the certificates of a download request and
// the transfer (exchange) key a recovering HSM hands out for the restore blob.

package securitydomain

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

// MinRSABits is the smallest RSA modulus the CLI accepts for a download certificate.
const MinRSABits = 2048

// jwkAlgorithm is the "alg" the CLI announces for every download certificate.
const jwkAlgorithm = "RSA-OAEP-256"

// jwkKeyOps are the key operations the CLI lists for every download certificate.
var jwkKeyOps = []string{"verify", "encrypt", "wrapKey"}

// JWK is a security domain JSON Web Key: an RSA public key with its certificate. Field order follows the
// service model; empty optional fields are omitted.
type JWK struct {
	Kid     string   `json:"kid,omitempty"`
	Kty     string   `json:"kty"`
	KeyOps  []string `json:"key_ops,omitempty"`
	N       string   `json:"n"`
	E       string   `json:"e"`
	X5c     []string `json:"x5c,omitempty"`
	Use     string   `json:"use,omitempty"`
	X5t     string   `json:"x5t,omitempty"`
	X5tS256 string   `json:"x5t#S256,omitempty"`
	Alg     string   `json:"alg,omitempty"`
}

// DownloadRequest is the body of POST /securitydomain/download.
type DownloadRequest struct {
	Certificates []JWK `json:"certificates"`
	Required     int   `json:"required"`
}

// Thumbprint returns the certificate's SHA-256 thumbprint as the format writes it (x5t#S256 in JWKs,
// x5t_256 in the file): unpadded base64url of SHA-256 over the DER certificate.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CertificateJWK describes cert the way the CLI does for a download request: kty RSA, alg RSA-OAEP-256,
// key_ops, n and e (unpadded base64url, no leading zeros), x5c (standard base64 DER, the certificate alone),
// x5t (SHA-1) and x5t#S256. It fails unless the key is RSA with at least MinRSABits bits. Like the CLI it
// sets no kid.
func CertificateJWK(cert *x509.Certificate) (*JWK, error) {
	if cert == nil {
		return nil, errors.New("certificate is nil")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("certificate key is %T, only RSA is supported", cert.PublicKey)
	}
	if pub.N.BitLen() < MinRSABits {
		return nil, fmt.Errorf("certificate RSA key has %d bits, at least %d are required", pub.N.BitLen(), MinRSABits)
	}
	// x5t is SHA-1 by definition (RFC 7517); the CLI sends it, matching relies on x5t#S256 only.
	sha1Sum := sha1.Sum(cert.Raw)
	return &JWK{
		Kty:     "RSA",
		KeyOps:  append([]string(nil), jwkKeyOps...),
		N:       base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:       base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		X5c:     []string{base64.StdEncoding.EncodeToString(cert.Raw)},
		X5t:     base64.RawURLEncoding.EncodeToString(sha1Sum[:]),
		X5tS256: Thumbprint(cert),
		Alg:     jwkAlgorithm,
	}, nil
}

// NewDownloadRequest builds the download body for certs and quorum, enforcing MinCertificates..MaxCertificates
// certificates, RSA >= MinRSABits, distinct certificates and MinQuorum <= quorum <= len(certs).
func NewDownloadRequest(certs []*x509.Certificate, quorum int) ([]byte, error) {
	if err := checkSharing(certs, quorum); err != nil {
		return nil, err
	}
	req := DownloadRequest{Required: quorum}
	for i, c := range certs {
		jwk, err := CertificateJWK(c)
		if err != nil {
			return nil, fmt.Errorf("certificate %d of %d: %w", i+1, len(certs), err)
		}
		req.Certificates = append(req.Certificates, *jwk)
	}
	return marshalJSON(req)
}

// ParseDownloadRequest is the HSM side of NewDownloadRequest: it returns the certificates (from x5c) and the
// quorum, checking that n, e and any x5t#S256 agree with each certificate and that the sharing is valid.
func ParseDownloadRequest(body []byte) ([]*x509.Certificate, int, error) {
	var req DownloadRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, 0, fmt.Errorf("parsing download request: %w: %w", ErrInvalidFormat, err)
	}
	certs := make([]*x509.Certificate, 0, len(req.Certificates))
	for i, jwk := range req.Certificates {
		cert, _, err := jwk.certificate()
		if err != nil {
			return nil, 0, fmt.Errorf("parsing download request: certificate %d of %d: %w",
				i+1, len(req.Certificates), err)
		}
		if cert == nil {
			return nil, 0, fmt.Errorf("parsing download request: certificate %d of %d: %w: no x5c",
				i+1, len(req.Certificates), ErrInvalidFormat)
		}
		certs = append(certs, cert)
	}
	if err := checkSharing(certs, req.Required); err != nil {
		return nil, 0, fmt.Errorf("parsing download request: %w", err)
	}
	return certs, req.Required, nil
}

// checkSharing applies the CLI's N and M bounds plus M <= N, RSA size and distinct certificates.
func checkSharing(certs []*x509.Certificate, quorum int) error {
	n := len(certs)
	if n < MinCertificates || n > MaxCertificates {
		return fmt.Errorf("%d certificates given, want %d..%d", n, MinCertificates, MaxCertificates)
	}
	if quorum < MinQuorum || quorum > MaxQuorum || quorum > n {
		return fmt.Errorf("quorum %d is invalid for %d certificates, want %d..%d", quorum, n, MinQuorum,
			min(n, MaxQuorum))
	}
	seen := make(map[string]int, n)
	for i, c := range certs {
		if _, err := CertificateJWK(c); err != nil {
			return fmt.Errorf("certificate %d of %d: %w", i+1, n, err)
		}
		tp := Thumbprint(c)
		if j, dup := seen[tp]; dup {
			return fmt.Errorf("certificates %d and %d are the same", j+1, i+1)
		}
		seen[tp] = i
	}
	return nil
}

// certificate returns the JWK's first x5c certificate (nil when there is none) and its RSA public key
// (from n/e, or from the certificate), checking that every present field agrees.
func (j *JWK) certificate() (*x509.Certificate, *rsa.PublicKey, error) {
	if j.Kty != "RSA" && j.Kty != "RSA-HSM" {
		return nil, nil, fmt.Errorf("%w: kty is not RSA", ErrInvalidFormat)
	}
	var pub *rsa.PublicKey
	if j.N != "" || j.E != "" {
		n, errN := decodeBigInt(j.N)
		e, errE := decodeBigInt(j.E)
		if errN != nil || errE != nil || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return nil, nil, fmt.Errorf("%w: bad n or e", ErrInvalidFormat)
		}
		pub = &rsa.PublicKey{N: n, E: int(e.Int64())}
	}
	var cert *x509.Certificate
	if len(j.X5c) > 0 {
		der, err := base64.StdEncoding.DecodeString(j.X5c[0])
		if err != nil {
			return nil, nil, fmt.Errorf("%w: x5c is not standard base64: %w", ErrInvalidFormat, err)
		}
		if cert, err = x509.ParseCertificate(der); err != nil {
			return nil, nil, fmt.Errorf("%w: x5c: %w", ErrInvalidFormat, err)
		}
		certPub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, nil, fmt.Errorf("%w: x5c certificate key is not RSA", ErrInvalidFormat)
		}
		if pub != nil && !pub.Equal(certPub) {
			return nil, nil, fmt.Errorf("%w: n and e do not match the x5c certificate", ErrInvalidFormat)
		}
		pub = certPub
		if j.X5tS256 != "" && j.X5tS256 != Thumbprint(cert) {
			return nil, nil, fmt.Errorf("%w: x5t#S256 does not match the x5c certificate", ErrInvalidFormat)
		}
	}
	if pub == nil {
		return nil, nil, fmt.Errorf("%w: JWK has neither n/e nor x5c", ErrInvalidFormat)
	}
	return cert, pub, nil
}

func decodeBigInt(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, errors.New("empty integer")
	}
	return new(big.Int).SetBytes(b), nil
}

// TransferKey is the public key a recovering HSM publishes for the restore blob.
type TransferKey struct {
	// PublicKey receives the wrapped master secret.
	PublicKey *rsa.PublicKey
	// Certificate is the x5c certificate, nil when the service sent none.
	Certificate *x509.Certificate
	// Thumbprint goes into WrappedKey.x5t_256: the certificate's SHA-256 thumbprint, or the JWK's
	// x5t#S256 when no certificate came with it.
	Thumbprint string
}

// ParseTransferKey reads the answer of GET /securitydomain/upload. It accepts transfer_key as a JWK object,
// as a JSON string holding the JWK (what the CLI and PowerShell parse today), and, with key_format "pem", a
// PEM certificate (a transitional format PowerShell still handles). The key must be RSA >= MinRSABits.
func ParseTransferKey(body []byte) (*TransferKey, error) {
	var env struct {
		KeyFormat   string          `json:"key_format"`
		TransferKey json.RawMessage `json:"transfer_key"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(body), &env); err != nil {
		return nil, fmt.Errorf("parsing transfer key: %w: %w", ErrInvalidFormat, err)
	}
	raw := bytes.TrimSpace(env.TransferKey)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, fmt.Errorf("parsing transfer key: %w: no transfer_key", ErrInvalidFormat)
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("parsing transfer key: %w: %w", ErrInvalidFormat, err)
		}
		raw = []byte(s)
	}
	var tk TransferKey
	switch env.KeyFormat {
	case "pem":
		cert, err := ParseCertificatePEM(raw)
		if err != nil {
			return nil, fmt.Errorf("parsing transfer key: %w", err)
		}
		tk.Certificate = cert
	case "", "jwk":
		var jwk JWK
		if err := json.Unmarshal(raw, &jwk); err != nil {
			return nil, fmt.Errorf("parsing transfer key: %w: %w", ErrInvalidFormat, err)
		}
		cert, pub, err := jwk.certificate()
		if err != nil {
			return nil, fmt.Errorf("parsing transfer key: %w", err)
		}
		tk.Certificate, tk.PublicKey, tk.Thumbprint = cert, pub, jwk.X5tS256
	default:
		return nil, fmt.Errorf("parsing transfer key: %w: key_format is neither jwk nor pem", ErrInvalidFormat)
	}
	if tk.Certificate != nil {
		tk.PublicKey, _ = tk.Certificate.PublicKey.(*rsa.PublicKey)
		tk.Thumbprint = Thumbprint(tk.Certificate)
	}
	if tk.PublicKey == nil {
		return nil, fmt.Errorf("parsing transfer key: %w: key is not RSA", ErrInvalidFormat)
	}
	if tk.PublicKey.N.BitLen() < MinRSABits {
		return nil, fmt.Errorf("parsing transfer key: RSA key has %d bits, at least %d are required",
			tk.PublicKey.N.BitLen(), MinRSABits)
	}
	if tk.Thumbprint == "" {
		return nil, fmt.Errorf("parsing transfer key: %w: neither x5c nor x5t#S256 names the key", ErrInvalidFormat)
	}
	return &tk, nil
}

// TransferKeyResponse builds the GET /securitydomain/upload answer a fake HSM serves for cert, in the form
// the CLI parses: {"key_format":"jwk","transfer_key":"<JWK as a JSON string>"}.
func TransferKeyResponse(cert *x509.Certificate) ([]byte, error) {
	jwk, err := CertificateJWK(cert)
	if err != nil {
		return nil, fmt.Errorf("building transfer key: %w", err)
	}
	inner, err := marshalJSON(jwk)
	if err != nil {
		return nil, err
	}
	return marshalJSON(struct {
		KeyFormat   string `json:"key_format"`
		TransferKey string `json:"transfer_key"`
	}{KeyFormat: "jwk", TransferKey: string(inner)})
}

// CertificatePEM encodes cert as a PEM CERTIFICATE block.
func CertificatePEM(cert *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
}

// ParseCertificatePEM returns the first CERTIFICATE block of data.
func ParseCertificatePEM(data []byte) (*x509.Certificate, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("%w: no PEM CERTIFICATE block", ErrInvalidFormat)
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: parsing certificate: %w", ErrInvalidFormat, err)
		}
		return cert, nil
	}
}
