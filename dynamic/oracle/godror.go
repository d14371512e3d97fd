// This file is the only one that imports the Oracle driver (godror, which needs cgo and, at run time, the
// Oracle client libraries): everything else in the plugin reaches the database through database/sql.
package oracle

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"

	"github.com/godror/godror"
)

// clientConfig is the configuration directory the Oracle client was given: the client reads it once per
// process, when its context is made, and ignores it afterwards.
var clientConfig struct {
	sync.Mutex
	dir    string
	pinned bool
}

// Open is the production Opener: a standalone godror connection (no pool: each step runs a few statements),
// with the wallet directory as the client's configuration directory so that its tnsnames.ora and sqlnet.ora
// are the ones read. It does not connect; Connect pings. Because the client takes one configuration directory
// per process, a second, different wallet directory is refused rather than silently ignored.
func Open(_ context.Context, c Conn) (*sql.DB, error) {
	configDir, err := pinConfigDir(c.WalletDirectory)
	if err != nil {
		return nil, err
	}
	// godror wants its defaults filled in, which parsing an empty DSN does.
	params, err := godror.ParseDSN("")
	if err != nil {
		return nil, fmt.Errorf("preparing godror parameters: %w", err)
	}
	params.Username = c.User
	params.Password = godror.NewPassword(c.Password)
	params.ConnectString = c.ConnectString
	params.ConfigDir = configDir
	params.LibDir = os.Getenv(LibDirEnv)
	params.StandaloneConnection = sql.NullBool{Bool: true, Valid: true}
	db := sql.OpenDB(godror.NewConnector(params))
	// One session is enough and keeps the plugin from opening several against a small database.
	db.SetMaxOpenConns(1)
	return db, nil
}

// pinConfigDir returns the configuration directory to give the client for wallet: the first one asked for in
// this process, which a connection without a wallet (a full descriptor) shares harmlessly.
func pinConfigDir(wallet string) (string, error) {
	clientConfig.Lock()
	defer clientConfig.Unlock()
	switch {
	case !clientConfig.pinned:
		clientConfig.dir, clientConfig.pinned = wallet, true
	case wallet != "" && wallet != clientConfig.dir:
		in := clientConfig.dir
		if in == "" {
			in = "none (a connection without a wallet came first)"
		}
		return "", fmt.Errorf("the Oracle client reads one configuration directory per process, and the one in "+
			"use is %s, not wallet %s: give this database a full one-way TLS connect descriptor instead of a TNS "+
			"alias and wallet, or give every database of the stack the same wallet directory", in, wallet)
	}
	return clientConfig.dir, nil
}

// Compile-time check that Open is an Opener.
var _ Opener = Open
