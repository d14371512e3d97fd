// This file holds what an HSM does when a security domain is downloaded: draw a master secret, encrypt the
// data items under keys derived from it, and Shamir-share it to the download certificates.

package securitydomain

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"fmt"
)

// masterSize is the length of the master secret; the CLI draws 32 bytes for restore blobs and the share
// words of real domains carry one value per master byte.
const masterSize = 32

// Sizes of the items Create invents when it is given none.
const (
	defaultItemCount = 3
	defaultItemSize  = 64
)

// tagBytes is the entropy of a generated item tag; tags only need to be distinct labels.
const tagBytes = 16

// Item is one decrypted data item. Its String and GoString hide the plaintext so it cannot be logged.
type Item struct {
	Tag       string
	Plaintext []byte
}

// String describes the item without its content.
func (i Item) String() string { return fmt.Sprintf("item %q (%d bytes)", i.Tag, len(i.Plaintext)) }

// GoString describes the item without its content, also for %#v.
func (i Item) GoString() string { return i.String() }

// Create builds a security domain the way an HSM answers a download: a random 32-byte master secret, one
// data item per plaintext (three random 64-byte items when plaintexts is empty) each with a random tag,
// and one share per certificate, quorum of which recover the master. certs must be 3..10 distinct RSA
// certificates of at least 2048 bits and 2 <= quorum <= len(certs).
func Create(certs []*x509.Certificate, quorum int, plaintexts [][]byte) (*File, error) {
	if err := checkSharing(certs, quorum); err != nil {
		return nil, fmt.Errorf("creating security domain: %w", err)
	}
	if len(plaintexts) == 0 {
		plaintexts = make([][]byte, defaultItemCount)
		for i := range plaintexts {
			plaintexts[i] = make([]byte, defaultItemSize)
			if _, err := rand.Read(plaintexts[i]); err != nil {
				return nil, fmt.Errorf("creating security domain: drawing item: %w", err)
			}
		}
	}
	master := make([]byte, masterSize)
	defer clear(master)
	if _, err := rand.Read(master); err != nil {
		return nil, fmt.Errorf("creating security domain: drawing master secret: %w", err)
	}
	enc, err := encryptItems(master, plaintexts, nil)
	if err != nil {
		return nil, fmt.Errorf("creating security domain: %w", err)
	}
	shares, err := splitSecret(master, len(certs), quorum, rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("creating security domain: %w", err)
	}
	f := &File{
		EncData:    enc,
		SharedKeys: SharedKeys{KeyAlgorithm: KeyAlgorithm, Required: quorum},
		Version:    FormatVersion,
	}
	for i, cert := range certs {
		encoded, err := encodeShare(shares[i])
		clear(shares[i].values)
		if err != nil {
			return nil, fmt.Errorf("creating security domain: share %d: %w", i+1, err)
		}
		jwe, err := encryptToRSA(cert.PublicKey.(*rsa.PublicKey), encoded, wrappedKeyID)
		clear(encoded)
		if err != nil {
			return nil, fmt.Errorf("creating security domain: wrapping share %d: %w", i+1, err)
		}
		f.SharedKeys.EncShares = append(f.SharedKeys.EncShares, WrappedKey{EncKey: jwe, X5tS256: Thumbprint(cert)})
	}
	return f, nil
}

// encryptItems encrypts each plaintext under the key derived from master and its tag. tags may be nil, in
// which case fresh random tags are drawn; otherwise it must have one tag per plaintext.
func encryptItems(master []byte, plaintexts [][]byte, tags []string) (EncData, error) {
	enc := EncData{KDF: kdfName}
	for i, pt := range plaintexts {
		var tag string
		if tags != nil {
			tag = tags[i]
		} else {
			raw := make([]byte, tagBytes)
			if _, err := rand.Read(raw); err != nil {
				return EncData{}, fmt.Errorf("drawing tag: %w", err)
			}
			tag = hex.EncodeToString(raw)
		}
		key, err := itemKey(master, tag)
		if err != nil {
			return EncData{}, fmt.Errorf("deriving key of data item %d of %d: %w", i+1, len(plaintexts), err)
		}
		jwe, err := encryptDirect(key, pt, tag)
		clear(key)
		if err != nil {
			return EncData{}, fmt.Errorf("encrypting data item %d of %d: %w", i+1, len(plaintexts), err)
		}
		enc.Data = append(enc.Data, Datum{CompactJWE: jwe, Tag: tag})
	}
	return enc, nil
}
