// This file holds request signing: the Identity a test generates (tenancy, user, RSA key and its fingerprint),
// and the server's check of OCI's HTTP signature on every request.
package fakeoci

import (
	"crypto"
	"crypto/md5" //nolint:gosec // OCI's key fingerprint is the MD5 of the public key, as OCI defines it.
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"
)

// Identity is an OCI API signing identity: the OCIDs of a tenancy and a user, and an RSA key whose public part
// the fake holds.
type Identity struct {
	Tenancy     string
	User        string
	Fingerprint string
	Key         *rsa.PrivateKey
}

// NewIdentity generates an identity with a fresh 2048-bit key, as `oci setup keys` would.
func NewIdentity() (Identity, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Identity{}, fmt.Errorf("generating test signing key: %w", err)
	}
	fp, err := Fingerprint(&key.PublicKey)
	if err != nil {
		return Identity{}, err
	}
	return Identity{
		Tenancy:     "ocid1.tenancy.oc1..aaaaaaaafakeocitenancy000000000000000000000000000000000000",
		User:        "ocid1.user.oc1..aaaaaaaafakeociuser000000000000000000000000000000000000000000",
		Fingerprint: fp,
		Key:         key,
	}, nil
}

// Fingerprint is OCI's fingerprint of a public key: the MD5 of its DER (SubjectPublicKeyInfo) encoding, as
// colon-separated hex pairs.
func Fingerprint(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	sum := md5.Sum(der) //nolint:gosec // see the import
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":"), nil
}

// KeyID is the keyId of the identity's signatures, "<tenancy>/<user>/<fingerprint>".
func (id Identity) KeyID() string { return id.Tenancy + "/" + id.User + "/" + id.Fingerprint }

// PrivateKeyPEM is the private key as a PKCS #1 PEM block, the form ~/.oci/config's key_file holds.
func (id Identity) PrivateKeyPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(id.Key)}))
}

// ConfigProvider returns an SDK configuration provider for the identity in region.
func (id Identity) ConfigProvider(region string) common.ConfigurationProvider {
	return common.NewRawConfigurationProvider(id.Tenancy, id.User, region, id.Fingerprint, id.PrivateKeyPEM(), nil)
}

// maxClockSkew is how far a request's date may be from the server's clock; OCI refuses requests more than five
// minutes off.
const maxClockSkew = 5 * time.Minute

var (
	genericHeaders = []string{"date", "(request-target)", "host"}
	bodyHeaders    = []string{"content-length", "content-type", "x-content-sha256"}
)

// verify checks the request's signature and returns its keyId, or why it is refused.
func (s *Server) verify(r *http.Request, body []byte) (string, error) {
	auth := r.Header.Get("Authorization")
	params, ok := parseSignature(auth)
	if !ok {
		return "", errors.New("no Signature in the Authorization header")
	}
	keyID := params["keyId"]
	if keyID != s.cfg.keyID {
		return keyID, fmt.Errorf("unknown keyId %q", keyID)
	}
	if params["algorithm"] != "rsa-sha256" || params["version"] != "1" {
		return keyID, fmt.Errorf("algorithm %q version %q, want rsa-sha256 version 1", params["algorithm"],
			params["version"])
	}
	signed := strings.Fields(strings.ToLower(params["headers"]))
	required := genericHeaders
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		required = append(slices.Clone(genericHeaders), bodyHeaders...)
		if err := checkBody(r, body); err != nil {
			return keyID, err
		}
	}
	for _, h := range required {
		if !slices.Contains(signed, h) {
			return keyID, fmt.Errorf("header %q is not signed", h)
		}
	}
	date, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil {
		return keyID, fmt.Errorf("date header %q: %w", r.Header.Get("Date"), err)
	}
	if skew := s.now().Sub(date); skew > maxClockSkew || skew < -maxClockSkew {
		return keyID, fmt.Errorf("date %s is %s off the server's clock", date.Format(time.RFC3339), skew)
	}

	lines := make([]string, len(signed))
	for i, h := range signed {
		lines[i] = h + ": " + headerValue(r, h)
	}
	digest := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	sig, err := base64.StdEncoding.DecodeString(params["signature"])
	if err != nil {
		return keyID, fmt.Errorf("signature is not base64: %w", err)
	}
	if err := rsa.VerifyPKCS1v15(s.cfg.publicKey, crypto.SHA256, digest[:], sig); err != nil {
		return keyID, fmt.Errorf("signature does not verify with the public key of %s: %w", keyID, err)
	}
	return keyID, nil
}

// checkBody checks the body headers a signature covers against the body received.
func checkBody(r *http.Request, body []byte) error {
	sum := sha256.Sum256(body)
	if got, want := r.Header.Get("X-Content-Sha256"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("x-content-sha256 %q does not match the body (%q)", got, want)
	}
	if got := headerValue(r, "content-length"); got != strconv.Itoa(len(body)) {
		return fmt.Errorf("content-length %q does not match the body's %d bytes", got, len(body))
	}
	return nil
}

// headerValue is a signed header's value as the server received it.
func headerValue(r *http.Request, h string) string {
	switch h {
	case "(request-target)":
		return strings.ToLower(r.Method) + " " + r.URL.RequestURI()
	case "host":
		return r.Host
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			return v
		}
		return strconv.FormatInt(r.ContentLength, 10)
	}
	return r.Header.Get(h)
}

// parseSignature reads `Signature version="1",headers="...",keyId="...",algorithm="...",signature="..."`.
func parseSignature(auth string) (map[string]string, bool) {
	rest, ok := strings.CutPrefix(auth, "Signature ")
	if !ok {
		return nil, false
	}
	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, false
		}
		params[k] = strings.Trim(v, `"`)
	}
	for _, k := range []string{"keyId", "headers", "signature"} {
		if params[k] == "" {
			return nil, false
		}
	}
	return params, true
}
