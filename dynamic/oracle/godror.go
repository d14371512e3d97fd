// This file is the only one that imports the Oracle driver (godror, which needs cgo and, at run time, the
// Oracle client libraries): everything else in the plugin reaches the database through database/sql.
package oracle

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	"github.com/godror/godror"
)

// Open is the production Opener: a standalone godror connection (no pool: each step runs a few statements),
// with the wallet directory as the client's configuration directory so that its tnsnames.ora and sqlnet.ora
// are the ones read. It does not connect; Connect pings.
func Open(_ context.Context, c Conn) (*sql.DB, error) {
	// godror wants its defaults filled in, which parsing an empty DSN does.
	params, err := godror.ParseDSN("")
	if err != nil {
		return nil, fmt.Errorf("preparing godror parameters: %w", err)
	}
	params.Username = c.User
	params.Password = godror.NewPassword(c.Password)
	params.ConnectString = c.ConnectString
	params.ConfigDir = c.WalletDirectory
	params.LibDir = os.Getenv(LibDirEnv)
	params.StandaloneConnection = sql.NullBool{Bool: true, Valid: true}
	db := sql.OpenDB(godror.NewConnector(params))
	// One session is enough and keeps the plugin from opening several against a small database.
	db.SetMaxOpenConns(1)
	return db, nil
}

// Compile-time check that Open is an Opener.
var _ Opener = Open
