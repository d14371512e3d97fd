// This file tests the SP 800-108 KDF against the CLI's own known answer and an independent HMAC computation.

package securitydomain

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceKDF recomputes SP 800-108 counter mode block by block, written out independently of deriveKey.
func referenceKDF(key []byte, label, context string, bits int) []byte {
	var out []byte
	for i := uint32(1); len(out) < bits/8; i++ {
		var msg []byte
		msg = binary.BigEndian.AppendUint32(msg, i)
		msg = append(msg, label...)
		msg = append(msg, 0x00)
		msg = append(msg, context...)
		msg = binary.BigEndian.AppendUint32(msg, uint32(bits))
		mac := hmac.New(sha512.New, key)
		mac.Write(msg)
		out = append(out, mac.Sum(nil)...)
	}
	return out[:bits/8]
}

func TestDeriveKeyKnownAnswers(t *testing.T) {
	cases := []struct {
		name    string
		key     []byte
		label   string
		context string
		bits    int
		wantHex string // empty: compare with referenceKDF only
	}{
		{
			// The self-test vector in the CLI's sp800_108.py.
			name: "cli-self-test", key: bytes.Repeat([]byte{0x41}, 32), label: "label", context: "context",
			bits: 256, wantHex: "f0ca51f6308791404bf68b56024ee7c64d6c737716f81d47e1e68b5c4e399575",
		},
		{name: "item-key-512", key: bytes.Repeat([]byte{0x07}, 32), label: "0123456789abcdef", bits: 512},
		{name: "empty-label", key: bytes.Repeat([]byte{0x01}, 32), bits: 512},
		{name: "two-blocks", key: bytes.Repeat([]byte{0x41}, 32), label: "label", context: "context", bits: 1024},
		{name: "partial-block", key: []byte("k"), label: "l", context: "c", bits: 8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := deriveKey(tc.key, tc.label, tc.context, tc.bits)
			require.NoError(t, err)
			assert.Len(t, got, tc.bits/8)
			assert.Equal(t, referenceKDF(tc.key, tc.label, tc.context, tc.bits), got)
			if tc.wantHex != "" {
				assert.Equal(t, tc.wantHex, hex.EncodeToString(got))
			}
		})
	}
}

func TestItemKeyIsFirstBlockWithEmptyContext(t *testing.T) {
	master := bytes.Repeat([]byte{0x5a}, masterSize)
	got, err := itemKey(master, "tag-1")
	require.NoError(t, err)
	mac := hmac.New(sha512.New, master)
	mac.Write([]byte{0, 0, 0, 1})
	mac.Write([]byte("tag-1"))
	mac.Write([]byte{0x00})
	mac.Write([]byte{0, 0, 0x02, 0x00}) // L = 512 as a big-endian uint32
	assert.Equal(t, mac.Sum(nil), got)
}

func TestDeriveKeyRejects(t *testing.T) {
	cases := []struct {
		name string
		key  []byte
		bits int
	}{
		{name: "zero-bits", key: []byte{1}, bits: 0},
		{name: "not-byte-aligned", key: []byte{1}, bits: 12},
		{name: "negative-bits", key: []byte{1}, bits: -8},
		{name: "empty-key", key: nil, bits: 512},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := deriveKey(tc.key, "l", "", tc.bits)
			assert.Error(t, err)
		})
	}
}
