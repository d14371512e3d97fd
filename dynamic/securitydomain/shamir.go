// This file holds the Shamir secret sharing over GF(257) that a security domain uses to split its master
// secret, and the 16-bit word encoding of each share.

package securitydomain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// fieldPrime is the field modulus. 257 is the smallest prime above 255, so every secret byte is a field
// element, but a share value can be 256 and therefore needs 9 bits.
const fieldPrime = 257

// maxShareX is the largest share index the word encoding can hold: the index lives in the top 7 bits.
const maxShareX = 0xffff >> 9

// shareValueBits is the width of the value part of a share word; the index sits above it.
const shareValueBits = 9

// errOutOfRange reports that interpolation produced 256, which cannot be a secret byte: the shares are
// inconsistent (wrong key, tampering, or too few shares).
var errOutOfRange = errors.New("interpolated value 256 is not a byte")

func gfAdd(a, b uint32) uint32 { return (a + b) % fieldPrime }

func gfSub(a, b uint32) uint32 { return (a + fieldPrime - b%fieldPrime) % fieldPrime }

func gfMul(a, b uint32) uint32 { return (a * b) % fieldPrime }

// gfInv returns the multiplicative inverse by Fermat's little theorem (a^(p-2)); 0 has no inverse and maps
// to 0, so callers must keep denominators non-zero (distinct share indexes guarantee it).
func gfInv(a uint32) uint32 {
	result, base := uint32(1), a%fieldPrime
	for e := uint32(fieldPrime - 2); e > 0; e >>= 1 {
		if e&1 == 1 {
			result = gfMul(result, base)
		}
		base = gfMul(base, base)
	}
	return result
}

// share is one party's share of a multi-byte secret: the same index x for every byte, one value per byte.
type share struct {
	x      uint32
	values []uint32
}

// randomFieldElement draws a uniform element of GF(257) by rejection sampling: 65535 = 255*257 values of a
// uint16 map evenly, only 0xffff is rejected.
func randomFieldElement(rnd io.Reader) (uint32, error) {
	var buf [2]byte
	for {
		if _, err := io.ReadFull(rnd, buf[:]); err != nil {
			return 0, fmt.Errorf("reading randomness: %w", err)
		}
		if v := binary.LittleEndian.Uint16(buf[:]); v != 0xffff {
			return uint32(v) % fieldPrime, nil
		}
	}
}

// splitSecret splits secret into n shares with indexes 1..n, any m of which recover it. Every byte gets its
// own random polynomial of degree m-1: the Azure CLI's reference splitter reuses one set of coefficients
// for all bytes, which leaks byte differences from a single share, so this one does not copy that.
func splitSecret(secret []byte, n, m int, rnd io.Reader) ([]share, error) {
	if m < 2 || m > n || n > maxShareX {
		return nil, fmt.Errorf("invalid sharing %d of %d", m, n)
	}
	if len(secret) == 0 {
		return nil, errors.New("empty secret")
	}
	shares := make([]share, n)
	for i := range shares {
		shares[i] = share{x: uint32(i + 1), values: make([]uint32, len(secret))}
	}
	coeffs := make([]uint32, m)
	for b, s := range secret {
		coeffs[0] = uint32(s)
		for k := 1; k < m; k++ {
			c, err := randomFieldElement(rnd)
			if err != nil {
				return nil, err
			}
			coeffs[k] = c
		}
		for i := range shares {
			shares[i].values[b] = evalPoly(coeffs, shares[i].x)
		}
		clear(coeffs)
	}
	return shares, nil
}

// evalPoly evaluates the polynomial with coefficients c (constant term first) at x by Horner's rule.
func evalPoly(c []uint32, x uint32) uint32 {
	var v uint32
	for k := len(c) - 1; k >= 0; k-- {
		v = gfAdd(gfMul(v, x), c[k])
	}
	return v
}

// interpolateAtZero returns p(0) for the lowest-degree polynomial through the given shares, byte by byte.
// The values may be 256; combineShares turns them into bytes.
func interpolateAtZero(shares []share) ([]uint32, error) {
	if len(shares) == 0 {
		return nil, errors.New("no shares")
	}
	size := len(shares[0].values)
	seen := make(map[uint32]bool, len(shares))
	for i, s := range shares {
		if s.x == 0 || s.x > maxShareX {
			return nil, fmt.Errorf("share %d has invalid index %d", i+1, s.x)
		}
		if seen[s.x] {
			return nil, fmt.Errorf("two shares have index %d", s.x)
		}
		seen[s.x] = true
		if len(s.values) != size {
			return nil, fmt.Errorf("share %d has %d values, share 1 has %d", i+1, len(s.values), size)
		}
	}
	// The Lagrange basis weights at 0 depend only on the indexes, so compute them once for all bytes.
	weights := make([]uint32, len(shares))
	for i, si := range shares {
		num, den := uint32(1), uint32(1)
		for j, sj := range shares {
			if i == j {
				continue
			}
			num = gfMul(num, sj.x)
			den = gfMul(den, gfSub(sj.x, si.x))
		}
		weights[i] = gfMul(num, gfInv(den))
	}
	out := make([]uint32, size)
	for b := range out {
		var acc uint32
		for i, s := range shares {
			acc = gfAdd(acc, gfMul(weights[i], s.values[b]))
		}
		out[b] = acc
	}
	return out, nil
}

// combineShares recovers the secret bytes from the shares; it fails when any byte interpolates to 256.
func combineShares(shares []share) ([]byte, error) {
	values, err := interpolateAtZero(shares)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(values))
	for i, v := range values {
		if v > 0xff {
			clear(out)
			return nil, errOutOfRange
		}
		out[i] = byte(v)
	}
	return out, nil
}

// encodeShare serializes a share as the HSM does: one little-endian uint16 per secret byte, holding
// (x << 9) | value.
func encodeShare(s share) ([]byte, error) {
	if s.x == 0 || s.x > maxShareX {
		return nil, fmt.Errorf("share index %d out of range 1..%d", s.x, maxShareX)
	}
	out := make([]byte, 2*len(s.values))
	for i, v := range s.values {
		if v >= fieldPrime {
			return nil, fmt.Errorf("share value at position %d is not a field element", i)
		}
		binary.LittleEndian.PutUint16(out[2*i:], uint16(s.x<<shareValueBits|v))
	}
	return out, nil
}

// decodeShare parses an encoded share. Unlike the CLI, it insists on one index for all words and on values
// inside the field, because anything else means the share plaintext is not what the HSM wrote.
func decodeShare(b []byte) (share, error) {
	if len(b) == 0 || len(b)%2 != 0 {
		return share{}, fmt.Errorf("share has %d bytes, want a non-zero even length", len(b))
	}
	s := share{values: make([]uint32, len(b)/2)}
	for i := range s.values {
		w := uint32(binary.LittleEndian.Uint16(b[2*i:]))
		x, v := w>>shareValueBits, w&(1<<shareValueBits-1)
		if i == 0 {
			s.x = x
		} else if x != s.x {
			return share{}, fmt.Errorf("share word %d has index %d, word 0 has %d", i, x, s.x)
		}
		if v >= fieldPrime {
			return share{}, fmt.Errorf("share word %d holds a value outside GF(257)", i)
		}
		s.values[i] = v
	}
	if s.x == 0 {
		return share{}, errors.New("share index is 0")
	}
	return s, nil
}
