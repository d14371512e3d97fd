// This file holds the NIST SP 800-108 counter-mode KDF (HMAC-SHA512 PRF) that turns the master secret and
// an item tag into the key of one data item.

package securitydomain

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// kdfName is the value of EncData.kdf for the only KDF the format defines.
const kdfName = "sp108_kdf"

// itemKeyBits is the derived key length for a data item: A256CBC-HS512 takes a 64-byte key.
const itemKeyBits = 512

// deriveKey implements SP 800-108 section 5.1 (counter mode) with HMAC-SHA512:
// K(i) = HMAC(key, [i]_32 || label || 0x00 || context || [bits]_32), output = leftmost bits of K(1)||K(2)...
// The CLI's own implementation only gives this result for bits <= 512 (it reuses one HMAC state across
// blocks), which is all the format needs; this one follows the standard for every length.
func deriveKey(key []byte, label, context string, bits int) ([]byte, error) {
	if bits <= 0 || bits%8 != 0 {
		return nil, fmt.Errorf("derived key length %d bits is not a positive multiple of 8", bits)
	}
	if len(key) == 0 {
		return nil, errors.New("empty key derivation key")
	}
	size := bits / 8
	blocks := (size + sha512.Size - 1) / sha512.Size
	if uint64(blocks) > math.MaxUint32 {
		return nil, fmt.Errorf("derived key length %d bits is too long", bits)
	}
	suffix := make([]byte, 0, len(label)+1+len(context)+4)
	suffix = append(suffix, label...)
	suffix = append(suffix, 0)
	suffix = append(suffix, context...)
	suffix = binary.BigEndian.AppendUint32(suffix, uint32(bits))

	out := make([]byte, 0, blocks*sha512.Size)
	var counter [4]byte
	for i := 1; i <= blocks; i++ {
		mac := hmac.New(sha512.New, key)
		binary.BigEndian.PutUint32(counter[:], uint32(i))
		mac.Write(counter[:])
		mac.Write(suffix)
		out = mac.Sum(out)
	}
	return out[:size], nil
}

// itemKey derives the A256CBC-HS512 key of the data item with the given tag: the tag is the label and the
// context is empty, as in the CLI.
func itemKey(master []byte, tag string) ([]byte, error) {
	return deriveKey(master, tag, "", itemKeyBits)
}
