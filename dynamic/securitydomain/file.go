// This file holds the JSON shapes of a security domain file and of the restore blob, and the lenient
// unwrapping (service {"value": ...} envelope, base64) that every parser here shares.

package securitydomain

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Format constants of version 2 security domains, the only version the CLI can restore.
const (
	// FormatVersion is the "version" of a Shamir-shared security domain; version 1 used an XOR split.
	FormatVersion = 2
	// KeyAlgorithm is SharedKeys.key_algorithm for Shamir sharing over GF(257).
	KeyAlgorithm = "shamir_share"
	// MinCertificates and MaxCertificates bound N, the number of certificates in a download request.
	MinCertificates = 3
	MaxCertificates = 10
	// MinQuorum and MaxQuorum bound M, the number of keys needed to restore.
	MinQuorum = 2
	MaxQuorum = 10
)

// ErrInvalidFormat is wrapped by every parse error caused by the input rather than by the environment.
var ErrInvalidFormat = errors.New("invalid security domain format")

// File is a downloaded security domain: data items encrypted under keys derived from a master secret, and
// that master secret Shamir-shared to the download certificates.
type File struct {
	EncData    EncData    `json:"EncData"`
	SharedKeys SharedKeys `json:"SharedKeys"`
	Version    int        `json:"version"`
}

// EncData holds the encrypted data items and names the KDF that derives their keys.
type EncData struct {
	Data []Datum `json:"data"`
	KDF  string  `json:"kdf"`
}

// Datum is one encrypted data item. Tag is opaque to clients: it is the KDF label for the item key and,
// in restore blobs, the JWE "kid".
type Datum struct {
	CompactJWE string `json:"compact_jwe"`
	Tag        string `json:"tag"`
}

// SharedKeys holds one encrypted share per download certificate and the quorum M.
type SharedKeys struct {
	EncShares    []WrappedKey `json:"enc_shares"`
	KeyAlgorithm string       `json:"key_algorithm"`
	Required     int          `json:"required"`
}

// WrappedKey is a compact JWE encrypted to one certificate, named by the certificate's SHA-256 thumbprint
// (base64url of SHA-256 over the DER certificate, no padding).
type WrappedKey struct {
	EncKey  string `json:"enc_key"`
	X5tS256 string `json:"x5t_256"`
}

// RestoreData is the restore blob uploaded to a new HSM: the same items re-encrypted under a fresh master
// secret, which is wrapped to the HSM's transfer key.
type RestoreData struct {
	EncData    EncData    `json:"EncData"`
	WrappedKey WrappedKey `json:"WrappedKey"`
}

// Parse reads a security domain given as JSON text, as base64 of that text, or inside the service's
// {"value": ...} envelope (value being the JSON text as a string, base64 of it, or the object itself).
// It checks the structure (version 2, Shamir sharing, sp108_kdf, quorum within the share count) but does
// no cryptography. Errors wrap ErrInvalidFormat and quote no input strings.
func Parse(data []byte) (*File, error) {
	raw, err := unwrap(data)
	if err != nil {
		return nil, fmt.Errorf("parsing security domain: %w", err)
	}
	var probe struct {
		SplitKeys json.RawMessage `json:"SplitKeys"`
	}
	if err := json.Unmarshal(raw, &probe); err == nil && probe.SplitKeys != nil {
		return nil, fmt.Errorf("parsing security domain: %w: version 1 (SplitKeys) domains are not supported",
			ErrInvalidFormat)
	}
	var f File
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("parsing security domain: %w: %w", ErrInvalidFormat, err)
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("parsing security domain: %w: %w", ErrInvalidFormat, err)
	}
	return &f, nil
}

// Marshal returns the security domain as the compact JSON text the CLI saves to disk.
func (f *File) Marshal() ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("marshalling security domain: %w", err)
	}
	return marshalJSON(f)
}

// WrapValue puts JSON text in the service envelope {"value": "<text>"}, the body of a download answer and
// of an upload request.
func WrapValue(text []byte) ([]byte, error) {
	return marshalJSON(struct {
		Value string `json:"value"`
	}{Value: string(text)})
}

func (f *File) validate() error {
	if f.Version != FormatVersion {
		return fmt.Errorf("version %d is not supported, want %d", f.Version, FormatVersion)
	}
	if err := f.EncData.validate(); err != nil {
		return err
	}
	sk := f.SharedKeys
	if sk.KeyAlgorithm != KeyAlgorithm {
		return fmt.Errorf("SharedKeys.key_algorithm is not %q", KeyAlgorithm)
	}
	if sk.Required < MinQuorum || sk.Required > MaxQuorum {
		return fmt.Errorf("SharedKeys.required is %d, want %d..%d", sk.Required, MinQuorum, MaxQuorum)
	}
	if len(sk.EncShares) < sk.Required {
		return fmt.Errorf("SharedKeys has %d shares but requires %d", len(sk.EncShares), sk.Required)
	}
	for i, s := range sk.EncShares {
		if s.EncKey == "" || s.X5tS256 == "" {
			return fmt.Errorf("share %d of %d lacks enc_key or x5t_256", i+1, len(sk.EncShares))
		}
	}
	return nil
}

func (e *EncData) validate() error {
	if e.KDF != kdfName {
		return fmt.Errorf("EncData.kdf is not %q", kdfName)
	}
	if len(e.Data) == 0 {
		return errors.New("EncData holds no data items")
	}
	for i, d := range e.Data {
		if d.CompactJWE == "" || d.Tag == "" {
			return fmt.Errorf("data item %d of %d lacks compact_jwe or tag", i+1, len(e.Data))
		}
	}
	return nil
}

// maxUnwrapDepth bounds the envelope/base64 peeling so hostile input cannot recurse without end.
const maxUnwrapDepth = 4

// unwrap peels the service envelope and base64 layers until a JSON object without a "value" member is left.
func unwrap(data []byte) (json.RawMessage, error) {
	for range maxUnwrapDepth {
		data = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(data), []byte("\ufeff")))
		if len(data) == 0 {
			return nil, fmt.Errorf("%w: empty input", ErrInvalidFormat)
		}
		switch data[0] {
		case '{':
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(data, &obj); err != nil {
				return nil, fmt.Errorf("%w: not valid JSON: %w", ErrInvalidFormat, err)
			}
			value, wrapped := obj["value"]
			if _, isDomain := obj["EncData"]; !wrapped || isDomain {
				return data, nil
			}
			data = value
		case '"':
			var s string
			if err := json.Unmarshal(data, &s); err != nil {
				return nil, fmt.Errorf("%w: not valid JSON: %w", ErrInvalidFormat, err)
			}
			data = []byte(s)
		default:
			decoded, ok := decodeBase64(string(data))
			trimmed := bytes.TrimSpace(decoded)
			if !ok || len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '"') {
				return nil, fmt.Errorf("%w: neither JSON nor base64 of JSON", ErrInvalidFormat)
			}
			data = decoded
		}
	}
	return nil, fmt.Errorf("%w: too many nested envelopes", ErrInvalidFormat)
}

// decodeBase64 tries the standard and URL alphabets, padded or not, ignoring line breaks.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.Join(strings.Fields(s), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding,
		base64.RawURLEncoding} {
		if out, err := enc.DecodeString(s); err == nil && len(out) > 0 {
			return out, true
		}
	}
	return nil, false
}

// marshalJSON encodes without HTML escaping, so tags and JWEs appear exactly as the CLI would write them.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding JSON: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
