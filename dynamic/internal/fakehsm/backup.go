// This file holds key backup and restore (POST /keys/{name}/backup, POST /keys/restore). As in Managed HSM, a
// backup blob is encrypted under a key that only the HSM's security domain yields, so it restores into this HSM
// or into any HSM the same security domain was restored into, and nowhere else.

package fakehsm

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

// Data actions of backup and restore; Crypto User, Backup User and Restore User hold them.
const (
	actionKeysBackup  = dataActionPrefix + "keys/backup/action"
	actionKeysRestore = dataActionPrefix + "keys/restore/action"
)

// backupFormat names the blob layout, so that a blob from another producer is refused plainly.
const backupFormat = "fakehsm-key-backup/1"

// backupKeyInfo separates the backup key from anything else derived from the domain.
const backupKeyInfo = "fakehsm key backup encryption key"

// DomainMismatchMessage is the fake's answer to a backup blob made under another security domain.
const DomainMismatchMessage = "The key backup was made by a managed HSM with another security domain and " +
	"cannot be restored here: restore that HSM's security domain first."

// backupBlob is what a backup answers as its value: the domain's fingerprint in the clear, so that a
// mismatch is told apart from corruption, and the key sealed with AES-256-GCM (the header is authenticated).
type backupBlob struct {
	Format     string `json:"format"`
	Domain     []byte `json:"domain"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// backedUpKey is the sealed content: every version of the key with its private key, and its policy.
type backedUpKey struct {
	Name     string              `json:"name"`
	Versions []backedUpVersion   `json:"versions"`
	Policy   *rotationPolicyJSON `json:"policy,omitempty"`
}

type backedUpVersion struct {
	Version string            `json:"version"`
	PKCS8   []byte            `json:"pkcs8"`
	Ops     []string          `json:"ops"`
	Enabled bool              `json:"enabled"`
	NBF     *int64            `json:"nbf,omitempty"`
	Exp     *int64            `json:"exp,omitempty"`
	Created int64             `json:"created"`
	Updated int64             `json:"updated"`
	Tags    map[string]string `json:"tags,omitempty"`
}

// backupKeyLocked derives the blob key and the domain fingerprint from the security domain's items: the
// items are what a restore carries into another HSM, so both HSMs derive the same key.
func (s *Server) backupKeyLocked() (key, fingerprint []byte, err error) {
	if len(s.sd.items) == 0 {
		return nil, nil, fmt.Errorf("the managed HSM holds no security domain")
	}
	items := slices.Clone(s.sd.items)
	slices.SortFunc(items, func(a, b securitydomain.Item) int { return strings.Compare(a.Tag, b.Tag) })
	var secret []byte
	for _, it := range items {
		secret = binary.BigEndian.AppendUint32(secret, uint32(len(it.Tag)))
		secret = append(secret, it.Tag...)
		secret = binary.BigEndian.AppendUint32(secret, uint32(len(it.Plaintext)))
		secret = append(secret, it.Plaintext...)
	}
	defer clear(secret)
	key, err = hkdf.Key(sha256.New, secret, nil, backupKeyInfo, 32)
	if err != nil {
		return nil, nil, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("security domain fingerprint"))
	return key, mac.Sum(nil)[:16], nil
}

// backupKey is POST /keys/{name}/backup: the key with all its versions, sealed to the security domain.
func (s *Server) backupKey(c *call) *apiError {
	if err := s.authorizeKey(c, actionKeysBackup); err != nil {
		return err
	}
	s.mu.Lock()
	k, _, aerr := s.activeKeyLocked(c.name, "")
	var content backedUpKey
	var key, fingerprint []byte
	var err error
	if aerr == nil {
		content = backedUpKey{Name: k.name, Policy: k.policy}
		for _, v := range k.versions {
			der, merr := x509.MarshalPKCS8PrivateKey(v.priv)
			if merr != nil {
				err = merr
				break
			}
			content.Versions = append(content.Versions, backedUpVersion{Version: v.version, PKCS8: der,
				Ops: slices.Clone(v.ops), Enabled: v.enabled, NBF: v.nbf, Exp: v.exp, Created: v.created,
				Updated: v.updated, Tags: cloneTags(v.tags)})
		}
		if err == nil {
			key, fingerprint, err = s.backupKeyLocked()
		}
	}
	s.mu.Unlock()
	if aerr != nil {
		return aerr
	}
	defer clear(key)
	defer func() {
		for _, v := range content.Versions {
			clear(v.PKCS8)
		}
	}()
	if err != nil {
		return newAPIError(http.StatusInternalServerError, CodeInternalServerError, "backing up the key: "+
			err.Error())
	}
	plain, err := json.Marshal(content)
	if err != nil {
		return newAPIError(http.StatusInternalServerError, CodeInternalServerError, "encoding the backup")
	}
	defer clear(plain)
	blob := backupBlob{Format: backupFormat, Domain: fingerprint, Nonce: make([]byte, 12)}
	if _, err := rand.Read(blob.Nonce); err != nil {
		return newAPIError(http.StatusInternalServerError, CodeInternalServerError, "drawing a nonce")
	}
	aead, err := newGCM(key)
	if err != nil {
		return newAPIError(http.StatusInternalServerError, CodeInternalServerError, err.Error())
	}
	blob.Ciphertext = aead.Seal(nil, blob.Nonce, plain, blob.header())
	out, err := json.Marshal(blob)
	if err != nil {
		return newAPIError(http.StatusInternalServerError, CodeInternalServerError, "encoding the backup")
	}
	writeJSON(c.w, http.StatusOK, map[string]string{"value": b64(out)})
	return nil
}

// header is the authenticated data of the seal: the format and the domain fingerprint.
func (b backupBlob) header() []byte {
	return append([]byte(b.Format+"\x00"), b.Domain...)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating the backup cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// restoreKeyRequest is KeyRestoreParameters.
type restoreKeyRequest struct {
	Value string `json:"value"`
}

// restoreKey is POST /keys/restore: the key of a backup blob, with its versions and their IDs, under its own
// name, which must be free (neither active nor soft-deleted).
func (s *Server) restoreKey(c *call) *apiError {
	if err := s.authorize(c, actionKeysRestore, "/keys"); err != nil {
		return err
	}
	var req restoreKeyRequest
	if err := decodeJSON(c.r, &req); err != nil {
		return err
	}
	raw, ok := decodeB64(req.Value)
	if !ok || len(raw) == 0 {
		return badParameter("The key backup is not base64url encoded.")
	}
	var blob backupBlob
	if err := json.Unmarshal(raw, &blob); err != nil || blob.Format != backupFormat {
		return badParameter("The key backup is not a backup this managed HSM made.")
	}
	s.mu.Lock()
	key, fingerprint, err := s.backupKeyLocked()
	s.mu.Unlock()
	if err != nil {
		return badParameter("The key backup cannot be restored: %v.", err)
	}
	defer clear(key)
	if !hmac.Equal(fingerprint, blob.Domain) {
		return badParameter("%s", DomainMismatchMessage)
	}
	aead, err := newGCM(key)
	if err != nil {
		return newAPIError(http.StatusInternalServerError, CodeInternalServerError, err.Error())
	}
	if len(blob.Nonce) != aead.NonceSize() {
		return badParameter("The key backup is corrupted.")
	}
	plain, err := aead.Open(nil, blob.Nonce, blob.Ciphertext, blob.header())
	if err != nil {
		return badParameter("The key backup is corrupted.")
	}
	defer clear(plain)
	var content backedUpKey
	dec := json.NewDecoder(bytes.NewReader(plain))
	if err := dec.Decode(&content); err != nil || len(content.Versions) == 0 || !keyNameRE.MatchString(content.Name) {
		return badParameter("The key backup is corrupted.")
	}
	entry := &keyEntry{name: content.Name, policy: content.Policy}
	for _, v := range content.Versions {
		parsed, err := x509.ParsePKCS8PrivateKey(v.PKCS8)
		clear(v.PKCS8)
		priv, ok := parsed.(*rsa.PrivateKey)
		if err != nil || !ok {
			return badParameter("The key backup is corrupted.")
		}
		entry.versions = append(entry.versions, &keyVersion{version: v.Version, priv: priv, ops: v.Ops,
			enabled: v.Enabled, nbf: v.NBF, exp: v.Exp, created: v.Created, updated: v.Updated, tags: v.Tags})
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if existing := s.keys.keys[strings.ToLower(entry.name)]; existing != nil {
		return newAPIError(http.StatusConflict, CodeConflict, fmt.Sprintf("Key %s already exists in this managed "+
			"HSM (active or deleted): delete and purge it, or restore elsewhere.", existing.name))
	}
	s.keys.keys[strings.ToLower(entry.name)] = entry
	writeJSON(c.w, http.StatusOK, s.bundle(entry, entry.latest()))
	return nil
}
