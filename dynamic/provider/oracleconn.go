// This file holds what the Oracle resources share: the connection inputs every SQL resource carries, and the
// env method that checks them, connects (through godror, or the test hook) and pings before any statement.
package provider

import (
	"context"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
)

// OracleConnection is how a SQL resource reaches its database, flattened into its inputs.
type OracleConnection struct {
	ConnectString   string `pulumi:"connectString"`
	WalletDirectory string `pulumi:"walletDirectory,optional"`
	User            string `pulumi:"user"`
	Password        string `pulumi:"password" provider:"secret"`
}

func describeConnection(an infer.Annotator, c *OracleConnection) {
	an.Describe(&c.ConnectString, "TNS alias defined in walletDirectory's tnsnames.ora, or a full one-way TLS "+
		"connect descriptor.")
	an.Describe(&c.WalletDirectory, "Directory of the unzipped wallet: tnsnames.ora, sqlnet.ora (whose "+
		"DIRECTORY must name this directory) and cwallet.sso. Optional with a full descriptor.")
	an.Describe(&c.User, "User to connect as: ADMIN on Autonomous Database.")
	an.Describe(&c.Password, "Password of user. Secret.")
}

func (c OracleConnection) conn() oracle.Conn {
	return oracle.Conn{ConnectString: c.ConnectString, WalletDirectory: c.WalletDirectory, User: c.User,
		Password: c.Password}
}

// checkConnection reports missing connection inputs, naming each; inputs unknown in a preview are not judged.
func checkConnection(req infer.CheckRequest, c OracleConnection) []p.CheckFailure {
	var failures []p.CheckFailure
	for _, f := range []struct{ property, value string }{{"connectString", c.ConnectString}, {"user", c.User},
		{"password", c.Password}} {
		if strings.TrimSpace(f.value) == "" && !req.NewInputs.Get(f.property).HasComputed() {
			failures = append(failures, p.CheckFailure{Property: f.property, Reason: "is required"})
		}
	}
	return failures
}

// connectionDiff marks changed connection inputs as in-place updates. Another user or password reaches the
// same database and changes only the state; another connect string or wallet may name another database (one
// replaced, say), which the resources' updates reconcile (see anotherDatabase).
func connectionDiff(diff map[string]p.PropertyDiff, old, in OracleConnection) {
	for name, pair := range map[string][2]string{
		"connectString":   {old.ConnectString, in.ConnectString},
		"walletDirectory": {old.WalletDirectory, in.WalletDirectory},
		"user":            {old.User, in.User},
		"password":        {old.Password, in.Password},
	} {
		if pair[0] != pair[1] {
			diff[name] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
		}
	}
}

// anotherDatabase reports whether in may name another database than old: its connect string or wallet differs.
// The database behind the old ones may have been replaced, so an update reads the new one and applies what
// it lacks instead of trusting the state.
func anotherDatabase(old, in OracleConnection) bool {
	return old.ConnectString != in.ConnectString || old.WalletDirectory != in.WalletDirectory
}

// sqlSession is the executor of one resource operation, with the database it names.
type sqlSession struct {
	oracle.Executor
	// Where names the database in logs and errors, as oracle.Conn.String does: never with the password.
	Where string
	// Scripted says the statements go to the script file (script mode) and reads return no rows.
	Scripted bool
}

// database returns the executor every statement of resource goes through on the database c names, and the
// function that ends the session. Normally it connects, pinging first so that a bad alias, wallet, password or
// network fails here with what to fix, and reports a status line per change. In script mode (Options.SQLScript)
// it connects to nothing and the executor appends each statement to the script under a header naming resource.
func (e *env) database(ctx context.Context, c OracleConnection, resource string) (*sqlSession, func(), error) {
	conn := c.conn()
	if e.script != nil {
		return &sqlSession{Executor: &oracle.Script{File: e.script, Resource: resource, Where: conn.String(),
			Progress: p.GetLogger(ctx).InfoStatus}, Where: conn.String(), Scripted: true}, func() {}, nil
	}
	open := oracle.Open
	if e.opts.openDB != nil {
		open = e.opts.openDB
	}
	db, err := oracle.Connect(ctx, conn, open)
	if err != nil {
		return nil, nil, err
	}
	return &sqlSession{Executor: oracle.NewDB(db, conn.String(), p.GetLogger(ctx).InfoStatus),
		Where: conn.String()}, func() { _ = db.Close() }, nil
}

// scripting reports whether the plugin runs in script mode.
func (e *env) scripting() bool { return e.script != nil }
