// This file holds the keystore check: after the TDE key moves to Azure, V$ENCRYPTION_WALLET must report an
// open cloud keystore.
package oracle

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// CloudWrlTypes are the WRL_TYPE values of a keystore in Azure: the field reports AZURE_KEY_VAULT for a key in
// a Managed HSM, the scenario expects AZURE_MANAGEDHSM; both are accepted.
var CloudWrlTypes = []string{"AZURE_KEY_VAULT", "AZURE_MANAGEDHSM"}

// Keystore is one row of V$ENCRYPTION_WALLET.
type Keystore struct {
	WrlType    string
	WalletType string
	Status     string
}

func (k Keystore) String() string {
	return fmt.Sprintf("WRL_TYPE=%s WALLET_TYPE=%s STATUS=%s", k.WrlType, k.WalletType, k.Status)
}

// Open reports whether k is an open keystore in Azure.
func (k Keystore) Open() bool {
	return slices.Contains(CloudWrlTypes, strings.ToUpper(k.WrlType)) && strings.EqualFold(k.Status, "OPEN")
}

// SelectKeystores reads V$ENCRYPTION_WALLET.
func SelectKeystores() Statement {
	return Statement{
		Label: "reading V$ENCRYPTION_WALLET",
		SQL:   "SELECT WRL_TYPE, WALLET_TYPE, STATUS FROM V$ENCRYPTION_WALLET",
	}
}

// ReadKeystores returns the rows of V$ENCRYPTION_WALLET.
func ReadKeystores(ctx context.Context, ex Executor) ([]Keystore, error) {
	var out []Keystore
	err := ex.Query(ctx, SelectKeystores(), func(scan func(...any) error) error {
		var wrl, wallet, status sql.NullString
		if err := scan(&wrl, &wallet, &status); err != nil {
			return err
		}
		out = append(out, Keystore{WrlType: strings.TrimSpace(wrl.String),
			WalletType: strings.TrimSpace(wallet.String), Status: strings.TrimSpace(status.String)})
		return nil
	})
	return out, err
}

// PickKeystore returns the open cloud keystore among rows, or the first row (or a zero Keystore) and an error
// saying what was seen.
func PickKeystore(rows []Keystore) (Keystore, error) {
	for _, k := range rows {
		if k.Open() {
			return k, nil
		}
	}
	if len(rows) == 0 {
		return Keystore{}, fmt.Errorf("V$ENCRYPTION_WALLET returned no rows: expected an open keystore with "+
			"WRL_TYPE %s", strings.Join(CloudWrlTypes, " or "))
	}
	seen := make([]string, len(rows))
	for i, k := range rows {
		seen[i] = k.String()
	}
	return rows[0], fmt.Errorf("V$ENCRYPTION_WALLET shows %s: expected WRL_TYPE %s with STATUS=OPEN; the key "+
		"switch has not taken effect or the database cannot reach its key in Azure", strings.Join(seen, "; "),
		strings.Join(CloudWrlTypes, " or "))
}
