// This file tests the GF(257) arithmetic, Shamir split/combine over every subset, and the share encoding.

package securitydomain

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFieldArithmeticMatchesBigInt(t *testing.T) {
	p := big.NewInt(fieldPrime)
	for a := uint32(0); a < fieldPrime; a++ {
		for b := uint32(0); b < fieldPrime; b++ {
			want := new(big.Int).Mod(new(big.Int).Mul(big.NewInt(int64(a)), big.NewInt(int64(b))), p)
			if got := gfMul(a, b); uint64(got) != want.Uint64() {
				t.Fatalf("gfMul(%d, %d) = %d, want %d", a, b, got, want)
			}
			if got := gfSub(gfAdd(a, b), b); got != a {
				t.Fatalf("(%d + %d) - %d = %d", a, b, b, got)
			}
		}
		if a != 0 {
			assert.Equal(t, uint32(1), gfMul(a, gfInv(a)), "inverse of %d", a)
		}
	}
}

func TestSplitCombineEverySubset(t *testing.T) {
	for n := 3; n <= 5; n++ {
		for m := 2; m <= n; m++ {
			t.Run(fmt.Sprintf("%d-of-%d", m, n), func(t *testing.T) {
				secret := make([]byte, masterSize)
				_, err := rand.Read(secret)
				require.NoError(t, err)
				shares, err := splitSecret(secret, n, m, rand.Reader)
				require.NoError(t, err)
				require.Len(t, shares, n)
				for i, s := range shares {
					assert.Equal(t, uint32(i+1), s.x, "share indexes run 1..N")
				}
				for k := 1; k <= n; k++ {
					subsets := 0
					require.NoError(t, forEachSubset(n, k, func(idx []int) error {
						subsets++
						subset := make([]share, len(idx))
						for i, j := range idx {
							subset[i] = shares[j]
						}
						values, err := interpolateAtZero(subset)
						require.NoError(t, err)
						recovered := valuesEqualSecret(values, secret)
						if k >= m {
							assert.True(t, recovered, "subset %v of size %d must recover", idx, k)
						} else {
							assert.False(t, recovered, "subset %v of size %d must not recover", idx, k)
						}
						return nil
					}))
					assert.Equal(t, binomial(n, k), subsets, "subsets of size %d", k)
				}
			})
		}
	}
}

func binomial(n, k int) int {
	return int(new(big.Int).Binomial(int64(n), int64(k)).Int64())
}

func TestSplitSecretKnownPolynomial(t *testing.T) {
	// Coefficients 5 and 7 come from the reader as little-endian uint16s; 0xffff must be skipped.
	rnd := bytes.NewReader([]byte{0xff, 0xff, 5, 0, 7, 0})
	shares, err := splitSecret([]byte{42}, 3, 3, rnd)
	require.NoError(t, err)
	// p(x) = 42 + 5x + 7x^2 mod 257.
	for _, s := range shares {
		want := (42 + 5*s.x + 7*s.x*s.x) % fieldPrime
		assert.Equal(t, []uint32{want}, s.values, "p(%d)", s.x)
	}
}

func TestSplitSecretRejectsBadSharing(t *testing.T) {
	cases := []struct {
		name   string
		secret []byte
		n, m   int
	}{
		{name: "quorum-one", secret: []byte{1}, n: 3, m: 1},
		{name: "quorum-above-n", secret: []byte{1}, n: 3, m: 4},
		{name: "too-many-shares", secret: []byte{1}, n: maxShareX + 1, m: 2},
		{name: "empty-secret", secret: nil, n: 3, m: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := splitSecret(tc.secret, tc.n, tc.m, rand.Reader)
			assert.Error(t, err)
		})
	}
}

func TestCombineRejectsOutOfRange(t *testing.T) {
	// A constant polynomial p(x) = 256: both shares hold 256, which interpolates to 256 at zero.
	shares := []share{{x: 1, values: []uint32{256}}, {x: 2, values: []uint32{256}}}
	_, err := combineShares(shares)
	assert.ErrorIs(t, err, errOutOfRange)
}

func TestInterpolateRejectsBadShares(t *testing.T) {
	cases := []struct {
		name   string
		shares []share
	}{
		{name: "no-shares", shares: nil},
		{name: "duplicate-index", shares: []share{{x: 1, values: []uint32{1}}, {x: 1, values: []uint32{2}}}},
		{name: "index-zero", shares: []share{{x: 0, values: []uint32{1}}, {x: 1, values: []uint32{2}}}},
		{name: "length-mismatch", shares: []share{{x: 1, values: []uint32{1}}, {x: 2, values: []uint32{2, 3}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := interpolateAtZero(tc.shares)
			assert.Error(t, err)
		})
	}
}

func TestShareEncoding(t *testing.T) {
	cases := []struct {
		name   string
		share  share
		wantLE []uint16
	}{
		{name: "zero-value", share: share{x: 1, values: []uint32{0}}, wantLE: []uint16{1 << 9}},
		{
			name:   "byte-values",
			share:  share{x: 3, values: []uint32{0xab, 0xff}},
			wantLE: []uint16{3<<9 | 0xab, 3<<9 | 0xff},
		},
		{name: "value-256", share: share{x: 3, values: []uint32{256}}, wantLE: []uint16{0x0700}},
		{name: "largest-index", share: share{x: maxShareX, values: []uint32{256}}, wantLE: []uint16{0xff00}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			encoded, err := encodeShare(tc.share)
			require.NoError(t, err)
			want := make([]byte, 2*len(tc.wantLE))
			for i, w := range tc.wantLE {
				binary.LittleEndian.PutUint16(want[2*i:], w)
			}
			assert.Equal(t, want, encoded)
			decoded, err := decodeShare(encoded)
			require.NoError(t, err)
			assert.Equal(t, tc.share, decoded)
		})
	}
	t.Run("value-256-bytes", func(t *testing.T) {
		encoded, err := encodeShare(share{x: 3, values: []uint32{256}})
		require.NoError(t, err)
		assert.Equal(t, []byte{0x00, 0x07}, encoded, "little-endian (3<<9)|256")
	})
}

func TestShareEncodingRejects(t *testing.T) {
	encodeCases := []struct {
		name  string
		share share
	}{
		{name: "index-zero", share: share{x: 0, values: []uint32{1}}},
		{name: "index-too-large", share: share{x: maxShareX + 1, values: []uint32{1}}},
		{name: "value-257", share: share{x: 1, values: []uint32{257}}},
	}
	for _, tc := range encodeCases {
		t.Run("encode-"+tc.name, func(t *testing.T) {
			_, err := encodeShare(tc.share)
			assert.Error(t, err)
		})
	}
	decodeCases := []struct {
		name string
		data []byte
	}{
		{name: "empty", data: nil},
		{name: "odd-length", data: []byte{1, 2, 3}},
		{name: "index-zero", data: []byte{5, 0}},
		{name: "mixed-indexes", data: []byte{0, 2, 0, 4}},
		{name: "value-above-256", data: []byte{0x01, 0x03}},
	}
	for _, tc := range decodeCases {
		t.Run("decode-"+tc.name, func(t *testing.T) {
			_, err := decodeShare(tc.data)
			assert.Error(t, err)
		})
	}
}

func TestForEachSubset(t *testing.T) {
	var got [][]int
	require.NoError(t, forEachSubset(4, 2, func(idx []int) error {
		got = append(got, idx)
		return nil
	}))
	assert.Equal(t, [][]int{{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}}, got)
	calls := 0
	require.NoError(t, forEachSubset(3, 0, func([]int) error { calls++; return nil }))
	assert.Zero(t, calls, "the empty subset is never visited")
}
