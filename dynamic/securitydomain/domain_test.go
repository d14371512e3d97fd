// This file tests whole security domains: Create, Parse, Marshal, RecoverMaster, Prove (quorum, wrong keys,
// tampering, threshold) and the restore blob round trip.

package securitydomain

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var itemPlaintexts = [][]byte{
	[]byte("first item"),
	make([]byte, 300),
	[]byte("third item, a little longer than one AES block"),
}

var (
	domainOnce sync.Once
	domainFile *File
	domainErr  error
)

// sharedDomain is a 2-of-3 domain over fixture pairs 0..2, created once and never mutated by tests.
func sharedDomain(t *testing.T) *File {
	t.Helper()
	fs := fixtures(t)
	domainOnce.Do(func() { domainFile, domainErr = Create(fs.certsOf(3), 2, itemPlaintexts) })
	require.NoError(t, domainErr)
	return domainFile
}

// cloneDomain deep-copies a domain through its JSON form so a test can tamper with it.
func cloneDomain(t *testing.T, f *File) *File {
	t.Helper()
	data, err := f.Marshal()
	require.NoError(t, err)
	out, err := Parse(data)
	require.NoError(t, err)
	return out
}

func TestCreateParseProve(t *testing.T) {
	fs := fixtures(t)
	f := sharedDomain(t)
	data, err := f.Marshal()
	require.NoError(t, err)
	parsed, err := Parse(data)
	require.NoError(t, err)
	assert.Equal(t, f, parsed)

	assert.Equal(t, FormatVersion, parsed.Version)
	assert.Equal(t, "sp108_kdf", parsed.EncData.KDF)
	assert.Equal(t, "shamir_share", parsed.SharedKeys.KeyAlgorithm)
	require.Len(t, parsed.SharedKeys.EncShares, 3)
	for i, s := range parsed.SharedKeys.EncShares {
		assert.Equal(t, Thumbprint(fs.pairs[i].Cert), s.X5tS256, "share %d is named by its certificate", i+1)
	}

	cases := []struct {
		name string
		keys []int
	}{
		{name: "keys-1-and-2", keys: []int{0, 1}},
		{name: "keys-1-and-3", keys: []int{0, 2}},
		{name: "keys-3-and-2", keys: []int{2, 1}},
		{name: "all-three-keys", keys: []int{0, 1, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proof, err := Prove(parsed, fs.pick(tc.keys...))
			require.NoError(t, err)
			assert.Equal(t, 3, proof.Shares)
			assert.Equal(t, 2, proof.Required)
			assert.Equal(t, len(tc.keys), proof.SharesOpened)
			assert.Equal(t, len(itemPlaintexts), proof.ItemsDecrypted)
			assert.Equal(t, binomial(len(tc.keys), 2), proof.QuorumSubsets)
			assert.Equal(t, len(tc.keys), proof.BelowQuorumSubsets, "every single share fails alone")
			assert.Contains(t, proof.String(), fmt.Sprintf("%d of 3 shares opened", len(tc.keys)))
		})
	}

	t.Run("items-decrypt", func(t *testing.T) {
		items, err := DecryptItems(parsed, fs.pick(1, 2))
		require.NoError(t, err)
		require.Len(t, items, len(itemPlaintexts))
		for i, it := range items {
			assert.Equal(t, itemPlaintexts[i], it.Plaintext)
			assert.Equal(t, parsed.EncData.Data[i].Tag, it.Tag)
			assert.NotContains(t, fmt.Sprintf("%v %+v %#v", it, it, it), string(itemPlaintexts[0]))
		}
	})
}

func TestCreateQuorumMatrix(t *testing.T) {
	fs := fixtures(t)
	for n := MinCertificates; n <= fixturePairs; n++ {
		for m := MinQuorum; m <= n; m++ {
			t.Run(fmt.Sprintf("%d-of-%d", m, n), func(t *testing.T) {
				f, err := Create(fs.certsOf(n), m, nil)
				require.NoError(t, err)
				assert.Len(t, f.EncData.Data, defaultItemCount)
				proof, err := Prove(f, fs.pick(firstN(m)...))
				require.NoError(t, err)
				assert.Equal(t, m, proof.SharesOpened)
				assert.Equal(t, m, proof.BelowQuorumSubsets, "C(m, m-1) = m")

				_, err = Prove(f, fs.pick(firstN(m-1)...))
				assert.ErrorIs(t, err, ErrInsufficientShares)
				_, err = RecoverMaster(f, fs.pick(firstN(m-1)...))
				assert.ErrorIs(t, err, ErrInsufficientShares)
			})
		}
	}
}

func TestProveFailures(t *testing.T) {
	fs := fixtures(t)
	f := sharedDomain(t)

	t.Run("one-of-three", func(t *testing.T) {
		_, err := Prove(f, fs.pick(0))
		require.ErrorIs(t, err, ErrInsufficientShares)
		assert.Contains(t, err.Error(), "1 keys given, 2 required")
	})
	t.Run("wrong-key", func(t *testing.T) {
		_, err := Prove(f, []KeyPair{fs.pairs[0], fs.stranger})
		require.ErrorIs(t, err, ErrNoMatchingShare)
		assert.Contains(t, err.Error(), "key 2 of 2")
		assert.Contains(t, err.Error(), Thumbprint(fs.stranger.Cert))
	})
	t.Run("certificate-not-in-domain", func(t *testing.T) {
		// Pair 3 is a valid fixture, but this domain was made for pairs 0..2 only.
		_, err := Prove(f, fs.pick(0, 3))
		assert.ErrorIs(t, err, ErrNoMatchingShare)
	})
	t.Run("key-does-not-match-certificate", func(t *testing.T) {
		mixed := KeyPair{Cert: fs.pairs[1].Cert, Key: fs.pairs[2].Key}
		_, err := Prove(f, []KeyPair{fs.pairs[0], mixed})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "does not match certificate")
	})
	t.Run("same-key-twice", func(t *testing.T) {
		_, err := Prove(f, fs.pick(0, 0))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "already opened")
	})
	t.Run("tampered-data-item", func(t *testing.T) {
		tampered := cloneDomain(t, f)
		tampered.EncData.Data[1].CompactJWE = flipCiphertextByte(t, tampered.EncData.Data[1].CompactJWE)
		_, err := Prove(tampered, fs.pick(0, 1))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "decrypting data item 2 of 3")
	})
	t.Run("tampered-tag", func(t *testing.T) {
		tampered := cloneDomain(t, f)
		tampered.EncData.Data[0].Tag += "x"
		_, err := Prove(tampered, fs.pick(0, 1))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "decrypting data item 1 of 3")
	})
	t.Run("tampered-share", func(t *testing.T) {
		tampered := cloneDomain(t, f)
		tampered.SharedKeys.EncShares[1].EncKey = flipCiphertextByte(t, tampered.SharedKeys.EncShares[1].EncKey)
		_, err := Prove(tampered, fs.pick(0, 1))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "key 2 of 2")
		assert.Contains(t, err.Error(), "opening share 2")
	})
	t.Run("swapped-share-thumbprints", func(t *testing.T) {
		tampered := cloneDomain(t, f)
		s := tampered.SharedKeys.EncShares
		s[0].EncKey, s[1].EncKey = s[1].EncKey, s[0].EncKey
		_, err := Prove(tampered, fs.pick(0, 1))
		assert.Error(t, err)
	})
	t.Run("errors-carry-no-secrets", func(t *testing.T) {
		tampered := cloneDomain(t, f)
		tampered.EncData.Data[0].CompactJWE = flipCiphertextByte(t, tampered.EncData.Data[0].CompactJWE)
		_, err := Prove(tampered, fs.pick(0, 1))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), string(itemPlaintexts[0]))
		assert.NotContains(t, err.Error(), "BEGIN")
	})
}

// cliStyleDomain builds a 2-of-3 domain whose shares follow the CLI's byte_shares.py: one polynomial for all
// bytes (only the constant term changes) with the given highest-degree coefficient.
func cliStyleDomain(t *testing.T, fs *fixtureSet, master []byte, leading uint32) *File {
	t.Helper()
	enc, err := encryptItems(master, itemPlaintexts, []string{"a", "b", "c"})
	require.NoError(t, err)
	f := &File{EncData: enc, SharedKeys: SharedKeys{KeyAlgorithm: KeyAlgorithm, Required: 2}, Version: FormatVersion}
	for i, cert := range fs.certsOf(3) {
		x := uint32(i + 1)
		s := share{x: x, values: make([]uint32, len(master))}
		for b, secretByte := range master {
			s.values[b] = gfAdd(gfMul(leading, x), uint32(secretByte))
		}
		encoded, err := encodeShare(s)
		require.NoError(t, err)
		jwe, err := encryptToRSA(cert.PublicKey.(*rsa.PublicKey), encoded, wrappedKeyID)
		require.NoError(t, err)
		f.SharedKeys.EncShares = append(f.SharedKeys.EncShares, WrappedKey{EncKey: jwe, X5tS256: Thumbprint(cert)})
	}
	return f
}

func TestProveCLIStyleShares(t *testing.T) {
	fs := fixtures(t)
	master := randomBytes(t, masterSize)
	t.Run("random-coefficient", func(t *testing.T) {
		proof, err := Prove(cliStyleDomain(t, fs, master, 200), fs.pick(0, 2))
		require.NoError(t, err)
		assert.Equal(t, 3, proof.ItemsDecrypted)
		recovered, err := RecoverMaster(cliStyleDomain(t, fs, master, 200), fs.pick(1, 2))
		require.NoError(t, err)
		assert.Equal(t, master, recovered)
	})
	t.Run("zero-leading-coefficient", func(t *testing.T) {
		// With the shared polynomial's top coefficient 0 every single share holds the master: Prove must say so.
		_, err := Prove(cliStyleDomain(t, fs, master, 0), fs.pick(0, 1))
		require.ErrorIs(t, err, ErrThresholdViolated)
		assert.Contains(t, err.Error(), "below the quorum of 2")
	})
}

func TestRecoverMaster(t *testing.T) {
	fs := fixtures(t)
	f := sharedDomain(t)
	want, err := RecoverMaster(f, fs.pick(0, 1))
	require.NoError(t, err)
	require.Len(t, want, masterSize)

	cases := []struct {
		name string
		keys []KeyPair
	}{
		{name: "other-pair", keys: fs.pick(2, 0)},
		{name: "extra-strangers-skipped", keys: []KeyPair{fs.stranger, fs.pairs[2], fs.pairs[3], fs.pairs[1]}},
		{name: "no-certificates", keys: []KeyPair{{Key: fs.pairs[2].Key}, {Key: fs.pairs[0].Key}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RecoverMaster(f, tc.keys)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	t.Run("insufficient", func(t *testing.T) {
		_, err := RecoverMaster(f, []KeyPair{fs.stranger, fs.pairs[1]})
		require.ErrorIs(t, err, ErrInsufficientShares)
		assert.Contains(t, err.Error(), "opened 1 of 2 required shares")
		assert.Contains(t, err.Error(), "1 matched no share")
	})
	t.Run("failed-decryption-counted", func(t *testing.T) {
		tampered := cloneDomain(t, f)
		tampered.SharedKeys.EncShares[0].EncKey = flipCiphertextByte(t, tampered.SharedKeys.EncShares[0].EncKey)
		_, err := RecoverMaster(tampered, fs.pick(0, 1))
		require.ErrorIs(t, err, ErrInsufficientShares)
		assert.Contains(t, err.Error(), "1 failed to decrypt")
	})
}

func TestCreateRejects(t *testing.T) {
	fs := fixtures(t)
	cases := []struct {
		name   string
		certs  []*x509.Certificate
		quorum int
	}{
		{name: "two-certificates", certs: fs.certsOf(2), quorum: 2},
		{name: "quorum-one", certs: fs.certsOf(3), quorum: 1},
		{name: "quorum-above-n", certs: fs.certsOf(3), quorum: 4},
		{name: "duplicate-certificate", certs: append(fs.certsOf(2), fs.pairs[0].Cert), quorum: 2},
		{name: "rsa-1024", certs: append(fs.certsOf(2), fs.rsa1024), quorum: 2},
		{name: "ec-key", certs: append(fs.certsOf(2), fs.ecCert), quorum: 2},
		{name: "eleven-certificates", certs: repeatCerts(fs, 11), quorum: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Create(tc.certs, tc.quorum, nil)
			assert.Error(t, err)
			_, err = NewDownloadRequest(tc.certs, tc.quorum)
			assert.Error(t, err)
		})
	}
}

func repeatCerts(fs *fixtureSet, n int) []*x509.Certificate {
	out := make([]*x509.Certificate, n)
	for i := range out {
		out[i] = fs.pairs[i%fixturePairs].Cert
	}
	return out
}

func TestParseForms(t *testing.T) {
	f := sharedDomain(t)
	text, err := f.Marshal()
	require.NoError(t, err)
	wrapped, err := WrapValue(text)
	require.NoError(t, err)
	b64Text := base64.StdEncoding.EncodeToString(text)
	wrappedB64, err := json.Marshal(map[string]string{"value": b64Text})
	require.NoError(t, err)
	wrappedObject := []byte(`{"value":` + string(text) + `}`)

	cases := []struct {
		name string
		data []byte
	}{
		{name: "json", data: text},
		{name: "json-with-whitespace-and-bom", data: append([]byte("\ufeff\n  "), append(text, '\n')...)},
		{name: "base64-of-json", data: []byte(b64Text)},
		{name: "base64url-of-json", data: []byte(base64.RawURLEncoding.EncodeToString(text))},
		{name: "value-wrapper", data: wrapped},
		{name: "value-wrapper-base64", data: wrappedB64},
		{name: "value-wrapper-object", data: wrappedObject},
		{name: "base64-of-value-wrapper", data: []byte(base64.StdEncoding.EncodeToString(wrapped))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.data)
			require.NoError(t, err)
			assert.Equal(t, f, got)
		})
	}
	assert.True(t, strings.HasPrefix(string(text), `{"EncData":{"data":[{"compact_jwe":"`), "field order as the CLI")
	assert.Contains(t, string(text), `"SharedKeys":{"enc_shares":[{"enc_key":"`)
	assert.True(t, strings.HasSuffix(string(text), `"key_algorithm":"shamir_share","required":2},"version":2}`))
}

func TestParseRejects(t *testing.T) {
	f := sharedDomain(t)
	mutate := func(change func(m map[string]any)) []byte {
		text, err := f.Marshal()
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(text, &m))
		change(m)
		out, err := json.Marshal(m)
		require.NoError(t, err)
		return out
	}
	sharedKeys := func(m map[string]any) map[string]any { return m["SharedKeys"].(map[string]any) }
	encData := func(m map[string]any) map[string]any { return m["EncData"].(map[string]any) }

	cases := []struct {
		name    string
		data    []byte
		wantMsg string
	}{
		{name: "empty", data: nil, wantMsg: "empty input"},
		{name: "garbage", data: []byte("this is not a security domain"), wantMsg: "neither JSON nor base64"},
		{name: "truncated-json", data: []byte(`{"EncData":`), wantMsg: "not valid JSON"},
		{name: "base64-of-garbage", data: []byte(base64.StdEncoding.EncodeToString([]byte("garbage"))),
			wantMsg: "neither JSON nor base64"},
		{name: "json-array", data: []byte(`[1,2]`), wantMsg: "neither JSON nor base64"},
		{name: "empty-object", data: []byte(`{}`), wantMsg: "version 0"},
		{name: "version-1", data: []byte(`{"EncData":{},"SplitKeys":{},"version":1}`), wantMsg: "version 1"},
		{name: "wrong-version", data: mutate(func(m map[string]any) { m["version"] = 3 }), wantMsg: "version 3"},
		{name: "wrong-kdf", data: mutate(func(m map[string]any) { encData(m)["kdf"] = "hkdf" }),
			wantMsg: "EncData.kdf"},
		{name: "no-items", data: mutate(func(m map[string]any) { encData(m)["data"] = []any{} }),
			wantMsg: "no data items"},
		{name: "wrong-algorithm", data: mutate(func(m map[string]any) { sharedKeys(m)["key_algorithm"] = "xor" }),
			wantMsg: "key_algorithm"},
		{name: "required-above-shares", data: mutate(func(m map[string]any) { sharedKeys(m)["required"] = 4 }),
			wantMsg: "3 shares but requires 4"},
		{name: "required-one", data: mutate(func(m map[string]any) { sharedKeys(m)["required"] = 1 }),
			wantMsg: "required is 1"},
		{name: "nested-too-deep", data: []byte(strings.Repeat(`{"value":`, 6) + "{}" + strings.Repeat("}", 6)),
			wantMsg: "too many nested"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data)
			require.ErrorIs(t, err, ErrInvalidFormat)
			assert.Contains(t, err.Error(), tc.wantMsg)
			assert.True(t, strings.HasPrefix(err.Error(), "parsing security domain: "))
		})
	}
}

func TestRestoreBlobRoundTrip(t *testing.T) {
	fs := fixtures(t)
	f := sharedDomain(t)
	body, err := TransferKeyResponse(fs.transfer.Cert)
	require.NoError(t, err)
	tk, err := ParseTransferKey(body)
	require.NoError(t, err)

	blob, err := RestoreBlob(f, fs.pick(2, 0), tk)
	require.NoError(t, err)

	var rd RestoreData
	require.NoError(t, json.Unmarshal(blob, &rd))
	assert.Equal(t, Thumbprint(fs.transfer.Cert), rd.WrappedKey.X5tS256)
	assert.Equal(t, "sp108_kdf", rd.EncData.KDF)
	require.Len(t, rd.EncData.Data, len(f.EncData.Data))
	for i, d := range rd.EncData.Data {
		assert.Equal(t, f.EncData.Data[i].Tag, d.Tag, "tags survive the re-encryption")
		assert.NotEqual(t, f.EncData.Data[i].CompactJWE, d.CompactJWE, "items are re-encrypted")
		assert.Equal(t, d.Tag, decodeHeader(t, d.CompactJWE)["kid"], "the CLI puts the tag in kid")
	}
	assert.Equal(t, "not used", decodeHeader(t, rd.WrappedKey.EncKey)["kid"])
	assert.True(t, strings.HasPrefix(string(blob), `{"EncData":{"data":[`))

	upload, err := WrapValue(blob)
	require.NoError(t, err)
	for name, input := range map[string][]byte{"blob": blob, "upload-body": upload} {
		t.Run(name, func(t *testing.T) {
			items, err := OpenRestoreBlob(input, fs.transfer)
			require.NoError(t, err)
			require.Len(t, items, len(itemPlaintexts))
			for i, it := range items {
				assert.Equal(t, itemPlaintexts[i], it.Plaintext)
			}
		})
	}
	t.Run("base64url-wrapped-jwes", func(t *testing.T) {
		// One CLI revision base64url-encoded compact_jwe and enc_key once more in the restore data.
		alt := rd
		alt.EncData.Data = append([]Datum(nil), rd.EncData.Data...)
		for i := range alt.EncData.Data {
			alt.EncData.Data[i].CompactJWE = b64.EncodeToString([]byte(alt.EncData.Data[i].CompactJWE))
		}
		alt.WrappedKey.EncKey = b64.EncodeToString([]byte(alt.WrappedKey.EncKey))
		data, err := json.Marshal(alt)
		require.NoError(t, err)
		items, err := OpenRestoreBlob(data, fs.transfer)
		require.NoError(t, err)
		assert.Len(t, items, len(itemPlaintexts))
	})
	t.Run("other-transfer-key", func(t *testing.T) {
		_, err := OpenRestoreBlob(blob, fs.stranger)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "wrapped to another key")
		_, err = OpenRestoreBlob(blob, KeyPair{Key: fs.stranger.Key})
		assert.Error(t, err)
	})
	t.Run("tampered-item", func(t *testing.T) {
		alt := rd
		alt.EncData.Data = append([]Datum(nil), rd.EncData.Data...)
		alt.EncData.Data[2].CompactJWE = flipCiphertextByte(t, alt.EncData.Data[2].CompactJWE)
		data, err := json.Marshal(alt)
		require.NoError(t, err)
		_, err = OpenRestoreBlob(data, fs.transfer)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "decrypting data item 3 of 3")
	})
	t.Run("insufficient-keys", func(t *testing.T) {
		_, err := RestoreBlob(f, fs.pick(1), tk)
		assert.ErrorIs(t, err, ErrInsufficientShares)
	})
	t.Run("missing-transfer-key", func(t *testing.T) {
		_, err := RestoreBlob(f, fs.pick(0, 1), nil)
		assert.Error(t, err)
	})
	t.Run("from-recovered-master", func(t *testing.T) {
		master, err := RecoverMaster(f, fs.pick(1, 2))
		require.NoError(t, err)
		kept := append([]byte(nil), master...)
		blob, err := RestoreBlobFromMaster(f, master, tk)
		require.NoError(t, err)
		assert.Equal(t, kept, master, "the caller's master is the caller's to clear")
		items, err := OpenRestoreBlob(blob, fs.transfer)
		require.NoError(t, err)
		require.Len(t, items, len(itemPlaintexts))
		for i, it := range items {
			assert.Equal(t, itemPlaintexts[i], it.Plaintext)
		}
	})
	t.Run("from-a-wrong-master", func(t *testing.T) {
		wrong := make([]byte, 32)
		_, err := RestoreBlobFromMaster(f, wrong, tk)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "decrypting data item 1 of 3")
		err = CheckMaster(f, wrong)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "decrypting data item 1 of 3")
		master, err := RecoverMaster(f, fs.pick(0, 2))
		require.NoError(t, err)
		assert.NoError(t, CheckMaster(f, master))
	})
}

func TestProveWithoutCertificates(t *testing.T) {
	fs := fixtures(t)
	f := sharedDomain(t)
	proof, err := Prove(f, []KeyPair{{Key: fs.pairs[2].Key}, {Key: fs.pairs[1].Key}})
	require.NoError(t, err)
	assert.Equal(t, 2, proof.SharesOpened)

	_, err = Prove(f, []KeyPair{{Key: fs.pairs[2].Key}, {Key: fs.stranger.Key}})
	require.ErrorIs(t, err, ErrNoMatchingShare)
	assert.Contains(t, err.Error(), "key 2 of 2")
}
