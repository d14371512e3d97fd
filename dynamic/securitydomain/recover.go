// This file holds the client side of a security domain: opening shares with wrapping keys, recovering the
// master secret, decrypting the data items, and Prove, which shows that exactly a quorum of keys suffices.

package securitydomain

import (
	"crypto/subtle"
	"errors"
	"fmt"
)

// Sentinel errors for the outcomes callers act on.
var (
	// ErrInsufficientShares means fewer shares than the quorum could be opened with the keys given.
	ErrInsufficientShares = errors.New("insufficient shares")
	// ErrNoMatchingShare means a key's certificate names no share of the security domain.
	ErrNoMatchingShare = errors.New("key matches no share")
	// ErrInconsistentShares means opened shares do not lie on one polynomial.
	ErrInconsistentShares = errors.New("shares are inconsistent")
	// ErrThresholdViolated means fewer than quorum shares recover the master secret.
	ErrThresholdViolated = errors.New("threshold property violated")
)

// openedShare is a decrypted share with where it came from.
type openedShare struct {
	shareIndex int // position in SharedKeys.enc_shares
	keyIndex   int // position in the keys argument
	share      share
}

// openStats counts why keys did not yield shares, for error messages.
type openStats struct {
	unmatched int
	failed    int
}

// openShares decrypts the share of every key. In strict mode any key that matches no share, fails to
// decrypt, or repeats another key is an error; otherwise such keys are only counted, as the CLI skips them.
func openShares(f *File, keys []KeyPair, strict bool) ([]openedShare, openStats, error) {
	var stats openStats
	var opened []openedShare
	owner := make(map[int]int) // share index -> key index that opened it
	n := len(keys)
	for k, kp := range keys {
		if err := kp.check(); err != nil {
			return nil, stats, fmt.Errorf("key %d of %d: %w", k+1, n, err)
		}
		candidates := matchingShares(f, kp)
		if len(candidates) == 0 {
			if strict {
				return nil, stats, fmt.Errorf("key %d of %d (%s): %w in the security domain",
					k+1, n, kp, ErrNoMatchingShare)
			}
			stats.unmatched++
			continue
		}
		var lastErr error
		got := false
		for _, idx := range candidates {
			if prev, taken := owner[idx]; taken {
				lastErr = fmt.Errorf("share %d was already opened by key %d", idx+1, prev+1)
				continue
			}
			plain, err := decryptWithRSA(f.SharedKeys.EncShares[idx].EncKey, kp.Key)
			if err != nil {
				lastErr = fmt.Errorf("opening share %d: %w", idx+1, err)
				continue
			}
			s, err := decodeShare(plain)
			clear(plain)
			if err != nil {
				lastErr = fmt.Errorf("decoding share %d: %w", idx+1, err)
				continue
			}
			owner[idx] = k
			opened = append(opened, openedShare{shareIndex: idx, keyIndex: k, share: s})
			got = true
			break
		}
		if !got {
			if kp.Cert == nil || lastErr == nil {
				// Without a certificate every share was a candidate, so a failure means none belongs to it.
				lastErr = fmt.Errorf("%w: no share decrypts with this key", ErrNoMatchingShare)
			}
			if strict {
				clearShares(opened)
				return nil, stats, fmt.Errorf("key %d of %d: %w", k+1, n, lastErr)
			}
			stats.failed++
		}
	}
	return opened, stats, nil
}

// matchingShares lists the shares a key may open: those named by its certificate's thumbprint, or every
// share when the certificate is unknown (trial decryption then finds the right one).
func matchingShares(f *File, kp KeyPair) []int {
	var out []int
	if kp.Cert == nil {
		for i := range f.SharedKeys.EncShares {
			out = append(out, i)
		}
		return out
	}
	tp := Thumbprint(kp.Cert)
	for i, s := range f.SharedKeys.EncShares {
		if s.X5tS256 == tp {
			out = append(out, i)
		}
	}
	return out
}

func clearShares(opened []openedShare) {
	for _, o := range opened {
		clear(o.share.values)
	}
}

func sharesOf(opened []openedShare, idx []int) []share {
	out := make([]share, len(idx))
	for i, j := range idx {
		out[i] = opened[j].share
	}
	return out
}

// RecoverMaster opens the shares the keys match (by certificate thumbprint, or by trial decryption for
// pairs without a certificate) and combines the first SharedKeys.required of them, as the CLI does. Keys
// that match nothing or fail to decrypt are skipped; if fewer than the quorum remain the error wraps
// ErrInsufficientShares and says how many were found. The caller owns the returned secret and should clear
// it after use.
func RecoverMaster(f *File, keys []KeyPair) ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("recovering master secret: %w: %w", ErrInvalidFormat, err)
	}
	opened, stats, err := openShares(f, keys, false)
	if err != nil {
		return nil, fmt.Errorf("recovering master secret: %w", err)
	}
	defer clearShares(opened)
	required := f.SharedKeys.Required
	if len(opened) < required {
		return nil, fmt.Errorf("recovering master secret: %w: opened %d of %d required shares "+
			"(%d keys given, %d matched no share, %d failed to decrypt)",
			ErrInsufficientShares, len(opened), required, len(keys), stats.unmatched, stats.failed)
	}
	master, err := combineShares(sharesOf(opened, firstN(required)))
	if err != nil {
		return nil, fmt.Errorf("recovering master secret: %w: %w", ErrInconsistentShares, err)
	}
	return master, nil
}

// DecryptItems recovers the master secret with keys (see RecoverMaster) and decrypts every data item.
func DecryptItems(f *File, keys []KeyPair) ([]Item, error) {
	master, err := RecoverMaster(f, keys)
	if err != nil {
		return nil, err
	}
	defer clear(master)
	return decryptItems(f.EncData, master)
}

// CheckMaster reports whether master opens and authenticates every data item of f, without keeping them: a
// recovered master that passes restores the whole domain.
func CheckMaster(f *File, master []byte) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("checking master secret: %w: %w", ErrInvalidFormat, err)
	}
	items, err := decryptItems(f.EncData, master)
	if err != nil {
		return fmt.Errorf("checking master secret: %w", err)
	}
	clearItems(items)
	return nil
}

// decryptItems opens every data item with the key derived from master and the item's tag.
func decryptItems(enc EncData, master []byte) ([]Item, error) {
	items := make([]Item, 0, len(enc.Data))
	for i, d := range enc.Data {
		key, err := itemKey(master, d.Tag)
		if err != nil {
			return nil, fmt.Errorf("deriving key of data item %d of %d: %w", i+1, len(enc.Data), err)
		}
		plain, err := decryptDirect(d.CompactJWE, key)
		clear(key)
		if err != nil {
			clearItems(items)
			return nil, fmt.Errorf("decrypting data item %d of %d: %w", i+1, len(enc.Data), err)
		}
		items = append(items, Item{Tag: d.Tag, Plaintext: plain})
	}
	return items, nil
}

func clearItems(items []Item) {
	for _, it := range items {
		clear(it.Plaintext)
	}
}

// Proof reports what Prove verified. It holds counts only, never secrets.
type Proof struct {
	// Shares is the number of shares in the security domain (N).
	Shares int
	// Required is the quorum (M).
	Required int
	// SharesOpened is the number of shares decrypted, one per key given.
	SharesOpened int
	// ItemsDecrypted is the number of data items that decrypted and authenticated.
	ItemsDecrypted int
	// QuorumSubsets is the number of M-share subsets of the opened shares, all recovering the same secret.
	QuorumSubsets int
	// BelowQuorumSubsets is the number of (M-1)-share subsets of the opened shares, none recovering it.
	BelowQuorumSubsets int
}

// String summarizes the proof for logs and diagnostics.
func (p Proof) String() string {
	return fmt.Sprintf("%d of %d shares opened (quorum %d); %d data items decrypted; %d quorum subsets agree; "+
		"%d subsets of %d shares do not recover the master secret", p.SharesOpened, p.Shares, p.Required,
		p.ItemsDecrypted, p.QuorumSubsets, p.BelowQuorumSubsets, p.Required-1)
}

// Prove shows that keys recover f and that fewer would not. Every key must open its own share (a key
// whose certificate is not in the domain, a wrong private key, a tampered share or a repeated key is an
// error) and at least SharedKeys.required keys must be given. Every quorum-sized subset of the opened
// shares must yield the same master secret, every data item must decrypt and authenticate under it, and
// no subset of required-1 opened shares may interpolate to it (ErrThresholdViolated otherwise, which
// would mean the domain is recoverable below its quorum).
func Prove(f *File, keys []KeyPair) (*Proof, error) {
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("proving security domain: %w: %w", ErrInvalidFormat, err)
	}
	required := f.SharedKeys.Required
	if len(keys) < required {
		return nil, fmt.Errorf("proving security domain: %w: %d keys given, %d required",
			ErrInsufficientShares, len(keys), required)
	}
	opened, _, err := openShares(f, keys, true)
	if err != nil {
		return nil, fmt.Errorf("proving security domain: %w", err)
	}
	defer clearShares(opened)
	proof := &Proof{Shares: len(f.SharedKeys.EncShares), Required: required, SharesOpened: len(opened)}

	master, err := combineShares(sharesOf(opened, firstN(required)))
	if err != nil {
		return nil, fmt.Errorf("proving security domain: %w: %w", ErrInconsistentShares, err)
	}
	defer clear(master)
	err = forEachSubset(len(opened), required, func(idx []int) error {
		values, err := interpolateAtZero(sharesOf(opened, idx))
		if err != nil {
			return err
		}
		defer clear(values)
		if !valuesEqualSecret(values, master) {
			return fmt.Errorf("%w: shares %v disagree with shares %v", ErrInconsistentShares,
				shareNumbers(opened, idx), shareNumbers(opened, firstN(required)))
		}
		proof.QuorumSubsets++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("proving security domain: %w", err)
	}

	items, err := decryptItems(f.EncData, master)
	if err != nil {
		return nil, fmt.Errorf("proving security domain: %w", err)
	}
	proof.ItemsDecrypted = len(items)
	clearItems(items)

	err = forEachSubset(len(opened), required-1, func(idx []int) error {
		values, err := interpolateAtZero(sharesOf(opened, idx))
		if err != nil {
			return err
		}
		defer clear(values)
		if valuesEqualSecret(values, master) {
			return fmt.Errorf("%w: shares %v (%d, below the quorum of %d) recover the master secret",
				ErrThresholdViolated, shareNumbers(opened, idx), len(idx), required)
		}
		proof.BelowQuorumSubsets++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("proving security domain: %w", err)
	}
	return proof, nil
}

// valuesEqualSecret compares interpolated field values with secret bytes in constant time.
func valuesEqualSecret(values []uint32, secret []byte) bool {
	if len(values) != len(secret) {
		return false
	}
	diff := 0
	for i, v := range values {
		diff |= subtle.ConstantTimeEq(int32(v), int32(secret[i])) ^ 1
	}
	return diff == 0
}

// shareNumbers names shares 1-based by their position in the file, for error messages.
func shareNumbers(opened []openedShare, idx []int) []int {
	out := make([]int, len(idx))
	for i, j := range idx {
		out[i] = opened[j].shareIndex + 1
	}
	return out
}

func firstN(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// forEachSubset calls fn with every k-element subset of 0..n-1 in lexicographic order, stopping at the
// first error. k == 0 yields nothing: an empty set of shares proves nothing.
func forEachSubset(n, k int, fn func(idx []int) error) error {
	if k <= 0 || k > n {
		return nil
	}
	idx := firstN(k)
	for {
		if err := fn(append([]int(nil), idx...)); err != nil {
			return err
		}
		i := k - 1
		for i >= 0 && idx[i] == n-k+i {
			i--
		}
		if i < 0 {
			return nil
		}
		idx[i]++
		for j := i + 1; j < k; j++ {
			idx[j] = idx[j-1] + 1
		}
	}
}
