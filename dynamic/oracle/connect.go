// Package oracle runs the plugin's SQL steps on an Oracle Autonomous Database: it connects as ADMIN (checking
// the wallet before the client sees it and pinging before any statement), builds each statement as a value
// with binds, runs them through one Executor, and explains the Oracle errors met in the field. Only godror.go
// imports the Oracle driver, so that everything else is tested against sqlmock.
package oracle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// LibDirEnv names the variable that points godror at the Oracle client libraries when they are not on
// LD_LIBRARY_PATH.
const LibDirEnv = "ODAA_ORACLE_LIB_DIR"

// PingTimeout bounds the first round trip, which is where an unreachable endpoint shows; the client's own TCP
// timeout can be longer.
const PingTimeout = 2 * time.Minute

// Conn says how to reach a database as its administrator.
type Conn struct {
	// ConnectString is a TNS alias defined in WalletDirectory's tnsnames.ora, or a full connect descriptor
	// (one-way TLS needs no wallet).
	ConnectString string
	// WalletDirectory holds tnsnames.ora, sqlnet.ora and the wallet. Optional with a full descriptor.
	WalletDirectory string
	// User and Password log in; Password is never printed.
	User     string
	Password string
}

// Opener returns a database handle for c without connecting; Connect pings it. Production opens through
// godror (Open), tests hand in sqlmock.
type Opener func(ctx context.Context, c Conn) (*sql.DB, error)

// IsAlias reports whether the connect string is a TNS alias rather than a descriptor or an easy-connect string.
func (c Conn) IsAlias() bool {
	s := strings.TrimSpace(c.ConnectString)
	return s != "" && !strings.ContainsAny(s, "()/:@ \t\n")
}

// String names the database for messages: the alias, or the host and service of a descriptor. It never
// contains the password.
func (c Conn) String() string {
	if c.IsAlias() {
		return fmt.Sprintf("database %s as %s", c.ConnectString, c.User)
	}
	host := descriptorField(c.ConnectString, "host")
	service := descriptorField(c.ConnectString, "service_name")
	if host == "" && service == "" {
		return fmt.Sprintf("database %s as %s", c.ConnectString, c.User)
	}
	return fmt.Sprintf("database %s on %s as %s", service, host, c.User)
}

var descriptorFields = map[string]*regexp.Regexp{
	"host":         regexp.MustCompile(`(?i)\(\s*host\s*=\s*([^)\s]+)`),
	"service_name": regexp.MustCompile(`(?i)\(\s*service_name\s*=\s*([^)\s]+)`),
}

func descriptorField(descriptor, field string) string {
	if m := descriptorFields[field].FindStringSubmatch(descriptor); m != nil {
		return m[1]
	}
	return ""
}

// serviceSuffix is the consumer-group suffix Autonomous Database puts on its aliases and service names.
var serviceSuffix = regexp.MustCompile(`(?i)_(high|medium|low|tp|tpurgent)$`)

// databaseName guesses the database's name from the alias (<db>_high) or the service name
// (<prefix>_<db>_high.adb.oraclecloud.com), for messages that name its config key; "<database>" when neither
// has the usual shape.
func (c Conn) databaseName() string {
	name := c.ConnectString
	if !c.IsAlias() {
		service := descriptorField(c.ConnectString, "service_name")
		name, _, _ = strings.Cut(service, ".")
		if _, rest, ok := strings.Cut(name, "_"); ok {
			name = rest
		}
	}
	if !serviceSuffix.MatchString(name) {
		return "<database>"
	}
	return strings.ToLower(serviceSuffix.ReplaceAllString(name, ""))
}

func (c Conn) tnsnamesPath() string { return filepath.Join(c.WalletDirectory, "tnsnames.ora") }
func (c Conn) sqlnetPath() string   { return filepath.Join(c.WalletDirectory, "sqlnet.ora") }

// Validate checks that the fields a connection needs are there.
func (c Conn) Validate() error {
	var missing []string
	if strings.TrimSpace(c.ConnectString) == "" {
		missing = append(missing, "connectString")
	}
	if strings.TrimSpace(c.User) == "" {
		missing = append(missing, "user")
	}
	if c.Password == "" {
		missing = append(missing, "password")
	}
	if len(missing) > 0 {
		return fmt.Errorf("connecting to an Oracle database: %s required", strings.Join(missing, ", "))
	}
	if c.IsAlias() && c.WalletDirectory == "" {
		return fmt.Errorf("connecting to %s: %q is a TNS alias, which needs walletDirectory (the unzipped "+
			"wallet holding tnsnames.ora); or give a full connect descriptor", c, c.ConnectString)
	}
	return nil
}

// walletDirectory matches the DIRECTORY of WALLET_LOCATION in sqlnet.ora, quoted or not.
var walletDirectory = regexp.MustCompile(`(?i)\bDIRECTORY\s*=\s*"?([^")\s]+)"?`)

// CheckWallet reads the wallet directory before the client does, so that the failures the client reports
// obscurely are refused with the fix: a wallet whose sqlnet.ora still says DIRECTORY="?/network/admin" (the
// client looks under its own ORACLE_HOME and fails with ORA-28759), a wallet location that does not exist or
// holds no wallet, and an alias missing from tnsnames.ora (ORA-12154). No wallet directory is fine for a full
// descriptor.
func (c Conn) CheckWallet() error {
	if c.WalletDirectory == "" {
		return nil
	}
	where := "checking the wallet of " + c.String()
	info, err := os.Stat(c.WalletDirectory)
	if err != nil {
		return fmt.Errorf("%s: walletDirectory: %w", where, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("%s: walletDirectory %s is not a directory: give the directory of the unzipped wallet",
			where, c.WalletDirectory)
	}

	sqlnet, err := os.ReadFile(c.sqlnetPath())
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("%s: %w", where, err)
	default:
		if err := c.checkSqlnet(string(sqlnet)); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}

	if !c.IsAlias() {
		return nil
	}
	tns, err := os.ReadFile(c.tnsnamesPath())
	if err != nil {
		return fmt.Errorf("%s: the TNS alias %q needs %s: %w", where, c.ConnectString, c.tnsnamesPath(), err)
	}
	aliases := tnsAliases(string(tns))
	for _, a := range aliases {
		if strings.EqualFold(a, c.ConnectString) {
			return nil
		}
	}
	return fmt.Errorf("%s: the TNS alias %q is not defined in %s (it defines %s); the client would fail with "+
		"ORA-12154", where, c.ConnectString, c.tnsnamesPath(), strings.Join(aliases, ", "))
}

func (c Conn) checkSqlnet(sqlnet string) error {
	for _, m := range walletDirectory.FindAllStringSubmatch(sqlnet, -1) {
		dir := m[1]
		fix := fmt.Sprintf(`edit %s to say DIRECTORY="%s" (the directory of this wallet)`, c.sqlnetPath(),
			absolute(c.WalletDirectory))
		switch {
		case strings.HasPrefix(dir, "?"):
			return fmt.Errorf(`sqlnet.ora says DIRECTORY="%s", which the Oracle client resolves under its own `+
				"ORACLE_HOME rather than this wallet, and fails with ORA-28759: %s", dir, fix)
		case !filepath.IsAbs(dir):
			return fmt.Errorf(`sqlnet.ora says DIRECTORY="%s", a relative path that depends on where the plugin `+
				"runs: %s", dir, fix)
		}
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf(`sqlnet.ora says DIRECTORY="%s", which does not exist here: %s`, dir, fix)
		}
		if !hasWallet(dir) {
			return fmt.Errorf(`sqlnet.ora says DIRECTORY="%s", which holds no cwallet.sso or ewallet.p12: %s`,
				dir, fix)
		}
	}
	return nil
}

func hasWallet(dir string) bool {
	for _, f := range []string{"cwallet.sso", "ewallet.p12", "ewallet.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

func absolute(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// tnsEntry matches the start of an entry in tnsnames.ora: one or more names at the start of a line, then "=".
var tnsEntry = regexp.MustCompile(`(?m)^([A-Za-z][\w.\-]*(?:\s*,\s*[A-Za-z][\w.\-]*)*)\s*=`)

func tnsAliases(tns string) []string {
	var out []string
	for _, m := range tnsEntry.FindAllStringSubmatch(tns, -1) {
		for name := range strings.SplitSeq(m[1], ",") {
			out = append(out, strings.TrimSpace(name))
		}
	}
	return out
}

// Connect checks c and its wallet, opens the database with open and pings it, because sql.Open connects
// lazily and the first statement would otherwise be where a bad alias, wallet or network shows. Every failure
// says what to fix and never contains the password.
func Connect(ctx context.Context, c Conn, open Opener) (*sql.DB, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := c.CheckWallet(); err != nil {
		return nil, err
	}
	db, err := open(ctx, c)
	if err != nil {
		return nil, explainConnect(err, c)
	}
	pingCtx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		if pingCtx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("no answer within %s (connect timeout): %w", PingTimeout, err)
		}
		return nil, explainConnect(err, c)
	}
	return db, nil
}
