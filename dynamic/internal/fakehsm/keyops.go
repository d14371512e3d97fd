// This file holds the cryptographic key operations (encrypt, decrypt, wrapkey, unwrapkey with RSA-OAEP,
// RSA-OAEP-256 and RSA1_5, done with the key's real private key) and the key rotation policy.

package fakehsm

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // RSA-OAEP is defined with SHA-1; the fake must speak it.
	"crypto/sha256"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// Key encryption algorithms.
const (
	algRSAOAEP    = "RSA-OAEP"
	algRSAOAEP256 = "RSA-OAEP-256"
	algRSA15      = "RSA1_5"
)

// keyOpSpec ties a path operation to its data action, its key_ops name and whether it encrypts.
type keyOpSpec struct {
	action  string
	keyOp   string
	encrypt bool
}

var keyOpSpecs = map[string]keyOpSpec{
	"encrypt":   {actionKeysEncrypt, "encrypt", true},
	"decrypt":   {actionKeysDecrypt, "decrypt", false},
	"wrapkey":   {actionKeysWrap, "wrapKey", true},
	"unwrapkey": {actionKeysUnwrap, "unwrapKey", false},
}

// keyOperationRequest is KeyOperationsParameters.
type keyOperationRequest struct {
	Algorithm string `json:"alg"`
	Value     string `json:"value"`
}

// keyOperationResult is KeyOperationResult.
type keyOperationResult struct {
	KID   string `json:"kid"`
	Value string `json:"value"`
}

// keyOperation is POST /keys/{name}/{version}/{encrypt|decrypt|wrapkey|unwrapkey}.
func (s *Server) keyOperation(c *call) *apiError {
	spec := keyOpSpecs[c.op]
	if err := checkKeyName(c); err != nil {
		return err
	}
	if err := s.authorize(c, spec.action, keyScope(c.name)); err != nil {
		return err
	}
	var req keyOperationRequest
	if err := decodeJSON(c.r, &req); err != nil {
		return err
	}
	in, ok := decodeB64(req.Value)
	if !ok {
		return badParameter("The value is not base64url encoded.")
	}
	s.mu.Lock()
	k, v, err := s.activeKeyLocked(c.name, c.version)
	var priv *rsa.PrivateKey
	var kid string
	if err == nil {
		switch {
		case !v.enabled:
			err = newAPIError(http.StatusForbidden, CodeForbidden, fmt.Sprintf("Operation %s is not allowed on a "+
				"disabled key.", spec.keyOp))
		case !slices.Contains(v.ops, spec.keyOp):
			// The service's answer: 403 Forbidden with inner code KeyOperationForbidden.
			err = newAPIError(http.StatusForbidden, CodeForbidden, fmt.Sprintf("Operation %s is not permitted "+
				"on this key.", spec.keyOp))
			err.body.InnerError = &serviceError{Code: InnerCodeKeyOperationForbidden}
		default:
			priv, kid = v.priv, s.keyID(k.name, v.version)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	out, err := rsaOperation(priv, req.Algorithm, in, spec.encrypt)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, keyOperationResult{KID: kid, Value: b64(out)})
	return nil
}

// rsaOperation encrypts to or decrypts with priv under a Key Vault key encryption algorithm.
func rsaOperation(priv *rsa.PrivateKey, alg string, in []byte, encrypt bool) ([]byte, *apiError) {
	var hash crypto.Hash
	switch alg {
	case algRSAOAEP:
		hash = crypto.SHA1
	case algRSAOAEP256:
		hash = crypto.SHA256
	case algRSA15:
	default:
		return nil, badParameter("The algorithm %q is not supported for an RSA key: use RSA-OAEP, RSA-OAEP-256 "+
			"or RSA1_5.", alg)
	}
	var out []byte
	var err error
	switch {
	case encrypt && hash == 0:
		// RSA1_5 is deprecated in Go but still offered by the service, so the fake answers it too.
		out, err = rsa.EncryptPKCS1v15(rand.Reader, &priv.PublicKey, in) //nolint:staticcheck // see above
	case encrypt:
		out, err = rsa.EncryptOAEP(newHash(hash), rand.Reader, &priv.PublicKey, in, nil)
	case hash == 0:
		out, err = rsa.DecryptPKCS1v15(rand.Reader, priv, in) //nolint:staticcheck // RSA1_5, as above
	default:
		out, err = rsa.DecryptOAEP(newHash(hash), rand.Reader, priv, in, nil)
	}
	if err != nil {
		if encrypt {
			return nil, badParameter("The value cannot be encrypted with %s: it is too long for the key.", alg)
		}
		return nil, badParameter("The value cannot be decrypted with %s: wrong key or corrupted ciphertext.", alg)
	}
	return out, nil
}

func newHash(h crypto.Hash) interface {
	Write([]byte) (int, error)
	Sum([]byte) []byte
	Reset()
	Size() int
	BlockSize() int
} {
	if h == crypto.SHA1 {
		return sha1.New() //nolint:gosec // see the import
	}
	return sha256.New()
}

// rotationPolicyJSON is KeyRotationPolicy.
type rotationPolicyJSON struct {
	ID              string               `json:"id,omitempty"`
	LifetimeActions []lifetimeActionJSON `json:"lifetimeActions"`
	Attributes      rotationAttributes   `json:"attributes"`
}

type lifetimeActionJSON struct {
	Trigger struct {
		TimeAfterCreate  string `json:"timeAfterCreate,omitempty"`
		TimeBeforeExpiry string `json:"timeBeforeExpiry,omitempty"`
	} `json:"trigger"`
	Action struct {
		Type string `json:"type"`
	} `json:"action"`
}

type rotationAttributes struct {
	ExpiryTime string `json:"expiryTime,omitempty"`
	Created    int64  `json:"created,omitempty"`
	Updated    int64  `json:"updated,omitempty"`
}

// isoDuration matches the ISO 8601 durations rotation policies use (P90D, P1Y2M, PT12H, ...).
var isoDuration = regexp.MustCompile(`^P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$`)

func validDuration(d string) bool { return d != "P" && d != "PT" && isoDuration.MatchString(d) }

// getRotationPolicy is GET /keys/{name}/rotationpolicy; a key without a policy has an empty one.
func (s *Server) getRotationPolicy(c *call) *apiError {
	if err := s.authorizeKey(c, actionKeysRead); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, _, err := s.activeKeyLocked(c.name, "")
	if err != nil {
		return err
	}
	p := rotationPolicyJSON{LifetimeActions: []lifetimeActionJSON{}}
	if k.policy != nil {
		p = *k.policy
	}
	p.ID = s.keyID(k.name, "") + "/rotationpolicy"
	writeJSON(c.w, http.StatusOK, p)
	return nil
}

// updateRotationPolicy is PUT /keys/{name}/rotationpolicy.
func (s *Server) updateRotationPolicy(c *call) *apiError {
	if err := s.authorizeKey(c, actionKeysWrite); err != nil {
		return err
	}
	var p rotationPolicyJSON
	if err := decodeJSON(c.r, &p); err != nil {
		return err
	}
	if p.Attributes.ExpiryTime != "" && !validDuration(p.Attributes.ExpiryTime) {
		return badParameter("The expiryTime %q is not an ISO 8601 duration.", p.Attributes.ExpiryTime)
	}
	for i, a := range p.LifetimeActions {
		after, before := a.Trigger.TimeAfterCreate, a.Trigger.TimeBeforeExpiry
		if (after == "") == (before == "") || !validDuration(after+before) {
			return badParameter("Lifetime action %d needs exactly one trigger, an ISO 8601 duration.", i+1)
		}
		switch strings.ToLower(a.Action.Type) {
		case "rotate", "notify":
		default:
			return badParameter("Lifetime action %d has the unknown action type %q.", i+1, a.Action.Type)
		}
	}
	if p.LifetimeActions == nil {
		p.LifetimeActions = []lifetimeActionJSON{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, _, err := s.activeKeyLocked(c.name, "")
	if err != nil {
		return err
	}
	now := s.now().Unix()
	p.Attributes.Created, p.Attributes.Updated = now, now
	if k.policy != nil {
		p.Attributes.Created = k.policy.Attributes.Created
	}
	p.ID = s.keyID(k.name, "") + "/rotationpolicy"
	k.policy = &p
	writeJSON(c.w, http.StatusOK, p)
	return nil
}
