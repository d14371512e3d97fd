// This file holds the database checks (the guide's Test 2): user tablespaces encrypted, and the keystore in
// Azure and open. They run through the plugin's oracle.Executor, so sqlmock drives them in tests.
package verify

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
)

// SelectUserTablespaces reads the encryption flag of the permanent tablespaces other than SYSTEM and SYSAUX,
// which is where user data lives.
func SelectUserTablespaces() oracle.Statement {
	return oracle.Statement{
		Label: "reading DBA_TABLESPACES",
		SQL: "SELECT TABLESPACE_NAME, ENCRYPTED FROM DBA_TABLESPACES WHERE CONTENTS = 'PERMANENT' " +
			"AND TABLESPACE_NAME NOT IN ('SYSTEM', 'SYSAUX') ORDER BY TABLESPACE_NAME",
	}
}

// CheckTablespaces passes when there is at least one user tablespace and every one says ENCRYPTED = 'YES'.
func CheckTablespaces(ctx context.Context, ex oracle.Executor, database string) Result {
	const guide = "Test 2"
	check := "tablespaces " + database
	var plain, encrypted []string
	err := ex.Query(ctx, SelectUserTablespaces(), func(scan func(...any) error) error {
		var name, flag sql.NullString
		if err := scan(&name, &flag); err != nil {
			return err
		}
		if strings.EqualFold(strings.TrimSpace(flag.String), "YES") {
			encrypted = append(encrypted, name.String)
		} else {
			plain = append(plain, fmt.Sprintf("%s (ENCRYPTED=%s)", name.String, flag.String))
		}
		return nil
	})
	switch {
	case err != nil:
		return failed(check, guide, "%v", err)
	case len(plain) > 0:
		return failed(check, guide, "not encrypted: %s", strings.Join(plain, ", "))
	case len(encrypted) == 0:
		return failed(check, guide, "DBA_TABLESPACES lists no user tablespace: nothing shows encryption")
	}
	return passed(check, guide, "all %d user tablespaces encrypted: %s", len(encrypted),
		strings.Join(encrypted, ", "))
}

// CheckKeystore passes when V$ENCRYPTION_WALLET shows an open keystore in Azure (oracle.PickKeystore decides).
func CheckKeystore(ctx context.Context, ex oracle.Executor, database string) Result {
	const guide = "Test 2"
	check := "keystore " + database
	rows, err := oracle.ReadKeystores(ctx, ex)
	if err != nil {
		return failed(check, guide, "%v", err)
	}
	k, err := oracle.PickKeystore(rows)
	if err != nil {
		return failed(check, guide, "%v", err)
	}
	return passed(check, guide, "%s", k)
}
