// This file holds disaster recovery: building the restore blob uploaded to a new HSM (what
// `az keyvault security-domain restore-blob` writes) and opening it again, as the fake HSM must.

package securitydomain

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
)

// RestoreBlob decrypts f with keys (see RecoverMaster: keys beyond the quorum or matching nothing are
// tolerated) and builds the restore blob with RestoreBlobFromMaster. It returns the restore blob JSON text;
// the upload body is WrapValue of it.
func RestoreBlob(f *File, keys []KeyPair, transfer *TransferKey) ([]byte, error) {
	if err := checkTransferKey(transfer); err != nil {
		return nil, err
	}
	master, err := RecoverMaster(f, keys)
	if err != nil {
		return nil, fmt.Errorf("building restore blob: %w", err)
	}
	defer clear(master)
	return RestoreBlobFromMaster(f, master, transfer)
}

// RestoreBlobFromMaster decrypts every item of f with its recovered master secret, draws a fresh 32-byte
// master, re-encrypts the items under it with the same tags ("dir" JWEs whose kid is the tag) and wraps the
// new master to the transfer key with RSA-OAEP-256. It returns the restore blob JSON text. master is left
// as it was (the caller clears it); the fresh master and the plaintexts are cleared before it returns.
func RestoreBlobFromMaster(f *File, master []byte, transfer *TransferKey) ([]byte, error) {
	if err := checkTransferKey(transfer); err != nil {
		return nil, err
	}
	if f == nil {
		return nil, errors.New("building restore blob: security domain is missing")
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("building restore blob: %w: %w", ErrInvalidFormat, err)
	}
	items, err := decryptItems(f.EncData, master)
	if err != nil {
		return nil, fmt.Errorf("building restore blob: %w", err)
	}
	defer clearItems(items)

	fresh := make([]byte, masterSize)
	defer clear(fresh)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("building restore blob: drawing master secret: %w", err)
	}
	plaintexts := make([][]byte, len(items))
	tags := make([]string, len(items))
	for i, it := range items {
		plaintexts[i], tags[i] = it.Plaintext, it.Tag
	}
	enc, err := encryptItems(fresh, plaintexts, tags)
	if err != nil {
		return nil, fmt.Errorf("building restore blob: %w", err)
	}
	wrapped, err := encryptToRSA(transfer.PublicKey, fresh, wrappedKeyID)
	if err != nil {
		return nil, fmt.Errorf("building restore blob: wrapping master secret: %w", err)
	}
	return marshalJSON(RestoreData{EncData: enc, WrappedKey: WrappedKey{EncKey: wrapped, X5tS256: transfer.Thumbprint}})
}

// checkTransferKey refuses a transfer key the blob cannot be wrapped to.
func checkTransferKey(transfer *TransferKey) error {
	if transfer == nil || transfer.PublicKey == nil {
		return errors.New("building restore blob: transfer key is missing")
	}
	if transfer.PublicKey.N.BitLen() < MinRSABits {
		return fmt.Errorf("building restore blob: transfer key has %d bits, at least %d are required",
			transfer.PublicKey.N.BitLen(), MinRSABits)
	}
	if transfer.Thumbprint == "" {
		return errors.New("building restore blob: transfer key has no thumbprint")
	}
	return nil
}

// OpenRestoreBlob is the HSM side of RestoreBlob: it unwraps the master secret with the transfer key pair
// and decrypts every item. blob may be the JSON text, base64 of it, or the {"value": ...} upload body.
// When transfer.Cert is set, the blob's x5t_256 must name it. Compact JWEs that are base64url-encoded
// once more (one CLI revision wrote them so) are accepted.
func OpenRestoreBlob(blob []byte, transfer KeyPair) ([]Item, error) {
	if err := transfer.check(); err != nil {
		return nil, fmt.Errorf("opening restore blob: transfer key: %w", err)
	}
	raw, err := unwrap(blob)
	if err != nil {
		return nil, fmt.Errorf("opening restore blob: %w", err)
	}
	var rd RestoreData
	if err := json.Unmarshal(raw, &rd); err != nil {
		return nil, fmt.Errorf("opening restore blob: %w: %w", ErrInvalidFormat, err)
	}
	if err := rd.EncData.validate(); err != nil {
		return nil, fmt.Errorf("opening restore blob: %w: %w", ErrInvalidFormat, err)
	}
	if rd.WrappedKey.EncKey == "" {
		return nil, fmt.Errorf("opening restore blob: %w: WrappedKey.enc_key is empty", ErrInvalidFormat)
	}
	if transfer.Cert != nil && rd.WrappedKey.X5tS256 != Thumbprint(transfer.Cert) {
		return nil, fmt.Errorf("opening restore blob: wrapped to another key than %s", transfer)
	}
	master, err := decryptWithRSA(rd.WrappedKey.EncKey, transfer.Key)
	if err != nil {
		return nil, fmt.Errorf("opening restore blob: unwrapping master secret: %w", err)
	}
	defer clear(master)
	items, err := decryptItems(rd.EncData, master)
	if err != nil {
		return nil, fmt.Errorf("opening restore blob: %w", err)
	}
	return items, nil
}
