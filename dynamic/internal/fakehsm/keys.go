// This file holds the key endpoints: create (real RSA keys), get, list, update, soft delete, deleted keys
// (get, list, purge, recover), rotation and rotation policy, each behind the data action the service checks.

package fakehsm

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// Key types and sizes the fake creates.
const (
	ktyRSAHSM         = "RSA-HSM"
	defaultKeySize    = 2048
	rsaPublicExponent = 65537
	recoveryLevel     = "Recoverable+Purgeable"
)

// allowedKeySizes are the RSA sizes Managed HSM creates.
var allowedKeySizes = []int{2048, 3072, 4096}

// defaultKeyOps are the operations of an RSA key created without key_ops.
var defaultKeyOps = []string{"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"}

// keyVersion is one version of a key.
type keyVersion struct {
	version string
	priv    *rsa.PrivateKey
	ops     []string
	enabled bool
	nbf     *int64
	exp     *int64
	created int64
	updated int64
	tags    map[string]string
}

// keyEntry is a key: its versions (oldest first), soft-delete state and rotation policy.
type keyEntry struct {
	name               string
	versions           []*keyVersion
	deleted            bool
	deletedDate        int64
	scheduledPurgeDate int64
	policy             *rotationPolicyJSON
}

func (k *keyEntry) latest() *keyVersion { return k.versions[len(k.versions)-1] }

// keyState holds the keys by lower-cased name; Key Vault names are case-insensitive.
type keyState struct {
	keys map[string]*keyEntry
	seq  uint64
}

func (st *keyState) init() { st.keys = map[string]*keyEntry{} }

// attributesJSON is the KeyAttributes object, in requests and answers.
type attributesJSON struct {
	Enabled         *bool  `json:"enabled,omitempty"`
	NotBefore       *int64 `json:"nbf,omitempty"`
	Expires         *int64 `json:"exp,omitempty"`
	Created         int64  `json:"created,omitempty"`
	Updated         int64  `json:"updated,omitempty"`
	RecoverableDays int    `json:"recoverableDays,omitempty"`
	RecoveryLevel   string `json:"recoveryLevel,omitempty"`
	Exportable      *bool  `json:"exportable,omitempty"`
}

// jsonWebKey is the public part of a key as the service returns it.
type jsonWebKey struct {
	KID    string   `json:"kid"`
	Kty    string   `json:"kty"`
	KeyOps []string `json:"key_ops"`
	N      string   `json:"n"`
	E      string   `json:"e"`
}

// keyBundleJSON is KeyBundle, and DeletedKeyBundle when the recovery members are set.
type keyBundleJSON struct {
	Key                jsonWebKey        `json:"key"`
	Attributes         attributesJSON    `json:"attributes"`
	Tags               map[string]string `json:"tags,omitempty"`
	RecoveryID         string            `json:"recoveryId,omitempty"`
	DeletedDate        int64             `json:"deletedDate,omitempty"`
	ScheduledPurgeDate int64             `json:"scheduledPurgeDate,omitempty"`
}

// keyItemJSON is KeyItem / DeletedKeyItem of the list answers.
type keyItemJSON struct {
	KID                string            `json:"kid"`
	Attributes         attributesJSON    `json:"attributes"`
	Tags               map[string]string `json:"tags,omitempty"`
	RecoveryID         string            `json:"recoveryId,omitempty"`
	DeletedDate        int64             `json:"deletedDate,omitempty"`
	ScheduledPurgeDate int64             `json:"scheduledPurgeDate,omitempty"`
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// decodeB64 accepts base64url with or without padding, and standard base64, as lenient services do.
func decodeB64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding,
		base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

func (s *Server) keyID(name, version string) string {
	id := s.base + "keys/" + name
	if version != "" {
		id += "/" + version
	}
	return id
}

func (s *Server) attributes(v *keyVersion) attributesJSON {
	enabled, exportable := v.enabled, false
	return attributesJSON{Enabled: &enabled, NotBefore: v.nbf, Expires: v.exp, Created: v.created,
		Updated: v.updated, RecoverableDays: s.cfg.retentionDays, RecoveryLevel: recoveryLevel,
		Exportable: &exportable}
}

func (s *Server) bundle(k *keyEntry, v *keyVersion) keyBundleJSON {
	b := keyBundleJSON{
		Key: jsonWebKey{KID: s.keyID(k.name, v.version), Kty: ktyRSAHSM, KeyOps: slices.Clone(v.ops),
			N: b64(v.priv.N.Bytes()), E: b64(big.NewInt(int64(v.priv.E)).Bytes())},
		Attributes: s.attributes(v),
		Tags:       cloneTags(v.tags),
	}
	if k.deleted {
		b.RecoveryID = s.base + "deletedkeys/" + k.name
		b.DeletedDate, b.ScheduledPurgeDate = k.deletedDate, k.scheduledPurgeDate
	}
	return b
}

func cloneTags(t map[string]string) map[string]string {
	if t == nil {
		return nil
	}
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

var keyNameRE = regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)

// keyScope is the RBAC scope of a key.
func keyScope(name string) string { return "/keys/" + name }

func keyNotFound(name string) *apiError {
	return newAPIError(http.StatusNotFound, CodeKeyNotFound, fmt.Sprintf("A key with (name/id) %s was not found "+
		"in this key vault. If you recently deleted this key you may be able to recover it using the correct "+
		"recovery command.", name))
}

func deletedKeyNotFound() *apiError {
	return newAPIError(http.StatusNotFound, CodeKeyNotFound, "Deleted Key not found")
}

// checkKeyName validates the key name of the call.
func checkKeyName(c *call) *apiError {
	if !keyNameRE.MatchString(c.name) {
		return badParameter("The key name %q is not valid: use 1 to 127 letters, digits and dashes.", c.name)
	}
	return nil
}

// authorizeKey checks the key name of the call, then that its caller may do action on that key.
func (s *Server) authorizeKey(c *call, action string) *apiError {
	if err := checkKeyName(c); err != nil {
		return err
	}
	return s.authorize(c, action, keyScope(c.name))
}

// activeKeyLocked returns the key and the version of the call, or a 404.
func (s *Server) activeKeyLocked(name, version string) (*keyEntry, *keyVersion, *apiError) {
	k := s.keys.keys[strings.ToLower(name)]
	if k == nil || k.deleted {
		return nil, nil, keyNotFound(name)
	}
	if version == "" {
		return k, k.latest(), nil
	}
	for _, v := range k.versions {
		if v.version == version {
			return k, v, nil
		}
	}
	return nil, nil, keyNotFound(name + "/" + version)
}

// newVersionIDLocked returns a deterministic 32-hex-digit version ID.
func (s *Server) newVersionIDLocked(name string) string {
	s.keys.seq++
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%s/%d", s.instance, strings.ToLower(name), s.keys.seq)))
	return fmt.Sprintf("%x", sum[:16])
}

// createKeyRequest is KeyCreateParameters.
type createKeyRequest struct {
	Kty            string            `json:"kty"`
	KeySize        *int              `json:"key_size"`
	PublicExponent *int              `json:"public_exponent"`
	KeyOps         []string          `json:"key_ops"`
	Attributes     *attributesJSON   `json:"attributes"`
	Tags           map[string]string `json:"tags"`
	Curve          string            `json:"crv"`
}

// createKey is POST /keys/{name}/create: a new key, or a new version of an existing one.
func (s *Server) createKey(c *call) *apiError {
	if err := checkKeyName(c); err != nil {
		return err
	}
	if err := s.authorize(c, actionKeysCreate, "/keys"); err != nil {
		return err
	}
	var req createKeyRequest
	if err := decodeJSON(c.r, &req); err != nil {
		return err
	}
	size := defaultKeySize
	switch {
	case req.Kty != "RSA" && req.Kty != ktyRSAHSM:
		return badParameter("The key type %q is not supported by the fake managed HSM: use RSA-HSM.", req.Kty)
	case req.KeySize != nil && !slices.Contains(allowedKeySizes, *req.KeySize):
		return badParameter("The RSA key size %d is not supported: use 2048, 3072 or 4096.", *req.KeySize)
	case req.PublicExponent != nil && *req.PublicExponent != rsaPublicExponent:
		return badParameter("The RSA public exponent %d is not supported: use 65537.", *req.PublicExponent)
	case req.KeySize != nil:
		size = *req.KeySize
	}
	ops := defaultKeyOps
	if req.KeyOps != nil {
		ops = req.KeyOps
	}
	s.mu.Lock()
	existing := s.keys.keys[strings.ToLower(c.name)]
	conflict := existing != nil && existing.deleted
	s.mu.Unlock()
	if conflict {
		return deletedNameConflict(c.name)
	}
	priv, err := rsa.GenerateKey(rand.Reader, size)
	if err != nil {
		return newAPIError(http.StatusInternalServerError, CodeInternalServerError, "generating the RSA key")
	}
	now := s.now().Unix()
	v := &keyVersion{priv: priv, ops: slices.Clone(ops), enabled: true, created: now, updated: now,
		tags: cloneTags(req.Tags)}
	if a := req.Attributes; a != nil {
		if a.Enabled != nil {
			v.enabled = *a.Enabled
		}
		v.nbf, v.exp = a.NotBefore, a.Expires
	}

	s.mu.Lock()
	k := s.keys.keys[strings.ToLower(c.name)]
	if k != nil && k.deleted {
		s.mu.Unlock()
		return deletedNameConflict(c.name)
	}
	if k == nil {
		k = &keyEntry{name: c.name}
		s.keys.keys[strings.ToLower(c.name)] = k
	}
	v.version = s.newVersionIDLocked(c.name)
	k.versions = append(k.versions, v)
	out := s.bundle(k, v)
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func deletedNameConflict(name string) *apiError {
	return newAPIError(http.StatusConflict, CodeConflict, fmt.Sprintf("Key %s is currently in a deleted but "+
		"recoverable state, and its name cannot be reused; in this state, the key can only be recovered or purged.",
		name))
}

// getKey is GET /keys/{name}/{version}; without a version it answers the latest.
func (s *Server) getKey(c *call) *apiError {
	if err := s.authorizeKey(c, actionKeysRead); err != nil {
		return err
	}
	s.mu.Lock()
	k, v, err := s.activeKeyLocked(c.name, c.version)
	var out keyBundleJSON
	if err == nil {
		out = s.bundle(k, v)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

// updateKeyRequest is KeyUpdateParameters.
type updateKeyRequest struct {
	KeyOps     []string          `json:"key_ops"`
	Attributes *attributesJSON   `json:"attributes"`
	Tags       map[string]string `json:"tags"`
}

// updateKey is PATCH /keys/{name}/{version}: attributes, key_ops and tags of a version.
func (s *Server) updateKey(c *call) *apiError {
	if err := s.authorizeKey(c, actionKeysWrite); err != nil {
		return err
	}
	var req updateKeyRequest
	if err := decodeJSON(c.r, &req); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, v, err := s.activeKeyLocked(c.name, c.version)
	if err != nil {
		return err
	}
	if req.KeyOps != nil {
		v.ops = slices.Clone(req.KeyOps)
	}
	if a := req.Attributes; a != nil {
		if a.Enabled != nil {
			v.enabled = *a.Enabled
		}
		if a.NotBefore != nil {
			v.nbf = a.NotBefore
		}
		if a.Expires != nil {
			v.exp = a.Expires
		}
	}
	if req.Tags != nil {
		v.tags = cloneTags(req.Tags)
	}
	v.updated = s.now().Unix()
	writeJSON(c.w, http.StatusOK, s.bundle(k, v))
	return nil
}

// listKeys is GET /keys: the active keys, without versions in their IDs.
func (s *Server) listKeys(c *call) *apiError {
	if err := s.authorize(c, actionKeysRead, "/keys"); err != nil {
		return err
	}
	s.mu.Lock()
	out := []keyItemJSON{}
	for _, k := range s.sortedKeysLocked() {
		if !k.deleted {
			v := k.latest()
			out = append(out, keyItemJSON{KID: s.keyID(k.name, ""), Attributes: s.attributes(v),
				Tags: cloneTags(v.tags)})
		}
	}
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, map[string]any{"value": out})
	return nil
}

func (s *Server) sortedKeysLocked() []*keyEntry {
	out := make([]*keyEntry, 0, len(s.keys.keys))
	for _, k := range s.keys.keys {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *keyEntry) int {
		return strings.Compare(strings.ToLower(a.name),
			strings.ToLower(b.name))
	})
	return out
}

// listKeyVersions is GET /keys/{name}/versions.
func (s *Server) listKeyVersions(c *call) *apiError {
	if err := s.authorizeKey(c, actionKeysRead); err != nil {
		return err
	}
	s.mu.Lock()
	k, _, err := s.activeKeyLocked(c.name, "")
	out := []keyItemJSON{}
	if err == nil {
		for _, v := range k.versions {
			out = append(out, keyItemJSON{KID: s.keyID(k.name, v.version), Attributes: s.attributes(v),
				Tags: cloneTags(v.tags)})
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"value": out})
	return nil
}

// deleteKey is DELETE /keys/{name}: a soft delete answering the DeletedKeyBundle.
func (s *Server) deleteKey(c *call) *apiError {
	if err := s.authorizeKey(c, actionKeysDelete); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, _, err := s.activeKeyLocked(c.name, "")
	if err != nil {
		return err
	}
	now := s.now()
	k.deleted = true
	k.deletedDate = now.Unix()
	k.scheduledPurgeDate = now.AddDate(0, 0, s.cfg.retentionDays).Unix()
	writeJSON(c.w, http.StatusOK, s.bundle(k, k.latest()))
	return nil
}

// deletedKeyLocked returns a soft-deleted key or a 404.
func (s *Server) deletedKeyLocked(name string) (*keyEntry, *apiError) {
	k := s.keys.keys[strings.ToLower(name)]
	if k == nil || !k.deleted {
		return nil, deletedKeyNotFound()
	}
	return k, nil
}

// getDeletedKey is GET /deletedkeys/{name}.
func (s *Server) getDeletedKey(c *call) *apiError {
	if err := s.authorizeKey(c, actionDeletedKeysRead); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.deletedKeyLocked(c.name)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, s.bundle(k, k.latest()))
	return nil
}

// listDeletedKeys is GET /deletedkeys.
func (s *Server) listDeletedKeys(c *call) *apiError {
	if err := s.authorize(c, actionDeletedKeysRead, "/keys"); err != nil {
		return err
	}
	s.mu.Lock()
	out := []keyItemJSON{}
	for _, k := range s.sortedKeysLocked() {
		if k.deleted {
			v := k.latest()
			out = append(out, keyItemJSON{KID: s.keyID(k.name, ""), Attributes: s.attributes(v),
				Tags: cloneTags(v.tags), RecoveryID: s.base + "deletedkeys/" + k.name, DeletedDate: k.deletedDate,
				ScheduledPurgeDate: k.scheduledPurgeDate})
		}
	}
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, map[string]any{"value": out})
	return nil
}

// purgeDeletedKey is DELETE /deletedkeys/{name}: the key is gone for good; 204.
func (s *Server) purgeDeletedKey(c *call) *apiError {
	if err := s.authorizeKey(c, actionDeletedKeysDelete); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.deletedKeyLocked(c.name); err != nil {
		return err
	}
	delete(s.keys.keys, strings.ToLower(c.name))
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// recoverDeletedKey is POST /deletedkeys/{name}/recover: the key is active again; the KeyBundle answers.
func (s *Server) recoverDeletedKey(c *call) *apiError {
	if err := s.authorizeKey(c, actionDeletedKeysRecover); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.deletedKeyLocked(c.name)
	if err != nil {
		return err
	}
	k.deleted, k.deletedDate, k.scheduledPurgeDate = false, 0, 0
	writeJSON(c.w, http.StatusOK, s.bundle(k, k.latest()))
	return nil
}

// rotateKey is POST /keys/{name}/rotate: a new version with the latest version's type, size, operations
// and tags.
func (s *Server) rotateKey(c *call) *apiError {
	if err := s.authorizeKey(c, actionKeysRotate); err != nil {
		return err
	}
	s.mu.Lock()
	_, latest, err := s.activeKeyLocked(c.name, "")
	var size int
	var ops []string
	var tags map[string]string
	if err == nil {
		size, ops, tags = latest.priv.N.BitLen(), slices.Clone(latest.ops), cloneTags(latest.tags)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	priv, gerr := rsa.GenerateKey(rand.Reader, size)
	if gerr != nil {
		return newAPIError(http.StatusInternalServerError, CodeInternalServerError, "generating the RSA key")
	}
	now := s.now().Unix()
	v := &keyVersion{priv: priv, ops: ops, enabled: true, created: now, updated: now, tags: tags}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, _, err := s.activeKeyLocked(c.name, "")
	if err != nil {
		return err
	}
	v.version = s.newVersionIDLocked(c.name)
	k.versions = append(k.versions, v)
	writeJSON(c.w, http.StatusOK, s.bundle(k, v))
	return nil
}

// unsupported answers real operations the fake does not implement.
func (s *Server) unsupported(c *call) *apiError {
	return newAPIError(http.StatusNotImplemented, CodeNotImplemented,
		fmt.Sprintf("%s %s is not implemented by the fake managed HSM.", c.r.Method, c.r.URL.Path))
}

// KeyNames returns the names of the active (not deleted) keys, sorted.
func (s *Server) KeyNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, k := range s.sortedKeysLocked() {
		if !k.deleted {
			out = append(out, k.name)
		}
	}
	return out
}

// DeletedKeyNames returns the names of the soft-deleted keys, sorted.
func (s *Server) DeletedKeyNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, k := range s.sortedKeysLocked() {
		if k.deleted {
			out = append(out, k.name)
		}
	}
	return out
}
