// This file tests the JWE helpers: go-jose round trips, and interoperability with JWEs built and opened the
// way the CLI's jwe.py does it (AES-256-CBC, HMAC-SHA512 over header || IV || ciphertext || AL).

package securitydomain

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var b64 = base64.RawURLEncoding

// cliSeal builds a compact JWE the way jwe.py does: the header JSON without spaces, PKCS#7 padding,
// AES-256-CBC under cek[32:], and the first 32 bytes of HMAC-SHA512 under cek[:32] as the tag.
func cliSeal(t *testing.T, header string, encryptedKey, cek, plaintext []byte) string {
	t.Helper()
	encodedHeader := b64.EncodeToString([]byte(header))
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	padded := append(append([]byte(nil), plaintext...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	iv := make([]byte, aes.BlockSize)
	_, err := rand.Read(iv)
	require.NoError(t, err)
	block, err := aes.NewCipher(cek[32:])
	require.NoError(t, err)
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	tag := cliMAC(cek[:32], encodedHeader, iv, ct)[:32]
	return strings.Join([]string{encodedHeader, b64.EncodeToString(encryptedKey), b64.EncodeToString(iv),
		b64.EncodeToString(ct), b64.EncodeToString(tag)}, ".")
}

func cliMAC(macKey []byte, encodedHeader string, iv, ct []byte) []byte {
	mac := hmac.New(sha512.New, macKey)
	mac.Write([]byte(encodedHeader))
	mac.Write(iv)
	mac.Write(ct)
	mac.Write(binary.BigEndian.AppendUint64(nil, uint64(len(encodedHeader))*8))
	return mac.Sum(nil)
}

// cliOpen opens a compact JWE the way jwe.py does, but, unlike jwe.py, insists on a 32-byte tag.
func cliOpen(t *testing.T, compact string, cek []byte) []byte {
	t.Helper()
	parts := strings.Split(compact, ".")
	require.Len(t, parts, 5)
	iv, err := b64.DecodeString(parts[2])
	require.NoError(t, err)
	ct, err := b64.DecodeString(parts[3])
	require.NoError(t, err)
	tag, err := b64.DecodeString(parts[4])
	require.NoError(t, err)
	require.Len(t, tag, 32)
	require.True(t, hmac.Equal(tag, cliMAC(cek[:32], parts[0], iv, ct)[:32]), "CLI-style MAC check")
	block, err := aes.NewCipher(cek[32:])
	require.NoError(t, err)
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	require.True(t, pad >= 1 && pad <= aes.BlockSize)
	return pt[:len(pt)-pad]
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func TestDirectJWERoundTrip(t *testing.T) {
	key := randomBytes(t, 64)
	for _, size := range []int{0, 1, 15, 16, 17, 64, 1000} {
		plain := randomBytes(t, size)
		compact, err := encryptDirect(key, plain, "tag-a")
		require.NoError(t, err)
		header := decodeHeader(t, compact)
		assert.Equal(t, map[string]any{"alg": "dir", "enc": "A256CBC-HS512", "kid": "tag-a"}, header)
		assert.Empty(t, strings.Split(compact, ".")[1], "dir has no encrypted key")
		got, err := decryptDirect(compact, key)
		require.NoError(t, err)
		assert.Equal(t, plain, append([]byte{}, got...))
		assert.Equal(t, plain, append([]byte{}, cliOpen(t, compact, key)...), "the CLI algorithm opens it")
	}
}

func decodeHeader(t *testing.T, compact string) map[string]any {
	t.Helper()
	raw, err := b64.DecodeString(strings.Split(compact, ".")[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(raw, &h))
	return h
}

func TestDirectJWEFromCLI(t *testing.T) {
	key := randomBytes(t, 64)
	plain := []byte("security domain item")
	// jwe.py writes the header fields in this order, with the spaces after ':' and ',' removed.
	compact := cliSeal(t, `{"alg":"dir","enc":"A256CBC-HS512","kid":"7f3a"}`, nil, key, plain)
	got, err := decryptDirect(compact, key)
	require.NoError(t, err)
	assert.Equal(t, plain, got)

	t.Run("spaced-header", func(t *testing.T) {
		// The MAC covers the header as transmitted, so json.dumps spacing must not matter either.
		spaced := cliSeal(t, `{"alg": "dir", "enc": "A256CBC-HS512", "kid": "7f3a"}`, nil, key, plain)
		got, err := decryptDirect(spaced, key)
		require.NoError(t, err)
		assert.Equal(t, plain, got)
	})
	t.Run("wrong-key", func(t *testing.T) {
		_, err := decryptDirect(compact, randomBytes(t, 64))
		assert.Error(t, err)
	})
	t.Run("truncated-tag", func(t *testing.T) {
		// jwe.py skips its MAC comparison when the tag is not 32 bytes long; go-jose must not.
		parts := strings.Split(compact, ".")
		parts[4] = ""
		_, err := decryptDirect(strings.Join(parts, "."), key)
		assert.Error(t, err)
	})
	t.Run("tampered-ciphertext", func(t *testing.T) {
		_, err := decryptDirect(flipCiphertextByte(t, compact), key)
		assert.Error(t, err)
	})
	t.Run("base64url-wrapped", func(t *testing.T) {
		got, err := decryptDirect(b64.EncodeToString([]byte(compact)), key)
		require.NoError(t, err)
		assert.Equal(t, plain, got)
	})
	t.Run("rsa-alg-refused", func(t *testing.T) {
		other := cliSeal(t, `{"alg":"RSA-OAEP-256","enc":"A256CBC-HS512"}`, []byte{1}, key, plain)
		_, err := decryptDirect(other, key)
		assert.Error(t, err)
	})
	t.Run("other-enc-refused", func(t *testing.T) {
		other := cliSeal(t, `{"alg":"dir","enc":"A128CBC-HS256"}`, nil, key, plain)
		_, err := decryptDirect(other, key)
		assert.Error(t, err)
	})
}

func TestRSAJWERoundTrip(t *testing.T) {
	fs := fixtures(t)
	kp := fs.pairs[0]
	plain := randomBytes(t, 64)
	compact, err := encryptToRSA(kp.Cert.PublicKey.(*rsa.PublicKey), plain, wrappedKeyID)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"alg": "RSA-OAEP-256", "enc": "A256CBC-HS512", "kid": "not used"},
		decodeHeader(t, compact))
	got, err := decryptWithRSA(compact, kp.Key)
	require.NoError(t, err)
	assert.Equal(t, plain, got)

	t.Run("cli-opens-it", func(t *testing.T) {
		// Unwrap the CEK with plain RSA-OAEP (SHA-256, MGF1-SHA-256, no label), as jwe.py does.
		ek, err := b64.DecodeString(strings.Split(compact, ".")[1])
		require.NoError(t, err)
		cek, err := rsa.DecryptOAEP(sha256.New(), nil, kp.Key, ek, nil)
		require.NoError(t, err)
		require.Len(t, cek, 64)
		assert.Equal(t, plain, cliOpen(t, compact, cek))
	})
	t.Run("from-cli", func(t *testing.T) {
		cek := randomBytes(t, 64)
		ek, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &kp.Key.PublicKey, cek, nil)
		require.NoError(t, err)
		cliCompact := cliSeal(t, `{"alg":"RSA-OAEP-256","enc":"A256CBC-HS512","kid":"not used"}`, ek, cek, plain)
		got, err := decryptWithRSA(cliCompact, kp.Key)
		require.NoError(t, err)
		assert.Equal(t, plain, got)
	})
	t.Run("wrong-key", func(t *testing.T) {
		_, err := decryptWithRSA(compact, fs.pairs[1].Key)
		assert.Error(t, err)
	})
	t.Run("tampered-ciphertext", func(t *testing.T) {
		_, err := decryptWithRSA(flipCiphertextByte(t, compact), kp.Key)
		assert.Error(t, err)
	})
}

func TestNormalizeCompact(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "plain", in: "a.b.c.d.e", want: "a.b.c.d.e"},
		{name: "surrounding-space", in: " a..c.d.e\n", want: "a..c.d.e"},
		{name: "base64url-wrapped", in: b64.EncodeToString([]byte("a.b.c.d.e")), want: "a.b.c.d.e"},
		{name: "empty", in: "", wantErr: true},
		{name: "three-parts", in: "a.b.c", wantErr: true},
		{name: "garbage", in: "!!!", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := normalizeCompact(tc.in)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestJWEErrorsCarryNoPlaintext(t *testing.T) {
	key := randomBytes(t, 64)
	secret := "do-not-leak-this-plaintext"
	compact, err := encryptDirect(key, []byte(secret), "t")
	require.NoError(t, err)
	_, err = decryptDirect(flipCiphertextByte(t, compact), key)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
	assert.False(t, errors.Is(err, ErrInvalidFormat), "a failed MAC is not a format error")
}
