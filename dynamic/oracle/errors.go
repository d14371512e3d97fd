// This file holds the error classes of the Oracle client and database: each ORA-, DPI- or TNS- code the plugin
// meets in the field is sorted into a class and explained with what to fix. Classification reads the error's
// text, so that it works the same for godror's errors and for the errors tests hand in through sqlmock.
package oracle

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Class sorts a failed connection or statement by what can be done about it.
type Class int

const (
	// Other failures are reported as they are, with where they happened.
	Other Class = iota
	// ClientMissing is DPI-1047: the Oracle client libraries (libclntsh) cannot be loaded.
	ClientMissing
	// UnknownAlias is ORA-12154: the connect identifier is not in the wallet directory's tnsnames.ora.
	UnknownAlias
	// WalletUnusable is ORA-28759 and its kin: the wallet cannot be opened, usually because sqlnet.ora points
	// elsewhere.
	WalletUnusable
	// BadCredentials is ORA-01017: wrong user name or password.
	BadCredentials
	// Unreachable is ORA-12170, ORA-12541, ORA-12545, ORA-12535 and TNS timeouts: the private endpoint cannot be
	// reached from where the plugin runs.
	Unreachable
	// UnknownUser is ORA-01435 or ORA-01918: a principal named in a statement does not exist.
	UnknownUser
	// NetworkAccessDenied is ORA-24247: the database refused an outbound call for lack of a host ACE.
	NetworkAccessDenied
	// InsufficientPrivileges is ORA-01031 and ORA-00942 on a system view: the connected user may not do this.
	InsufficientPrivileges
	// CloudAdmin is ORA-20000 and the other application errors DBMS_CLOUD_ADMIN raises.
	CloudAdmin
)

// code matches the first Oracle code in a message: ORA-01017, DPI-1047, TNS-12535.
var code = regexp.MustCompile(`\b(ORA|DPI|TNS)-(\d{4,5})\b`)

// Codes returns the Oracle codes in err's text, such as "ORA-01017" or "DPI-1047", in order. ORA-00000 is
// left out: godror puts it before DPI errors, which carry no ORA code.
func Codes(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, m := range code.FindAllStringSubmatch(err.Error(), -1) {
		n, _ := strconv.Atoi(m[2])
		switch {
		case n == 0:
		case m[1] == "DPI":
			out = append(out, fmt.Sprintf("DPI-%04d", n))
		default:
			out = append(out, fmt.Sprintf("%s-%05d", m[1], n))
		}
	}
	return out
}

// Classify returns the class of the first code in err that has one.
func Classify(err error) Class {
	for _, c := range Codes(err) {
		if class := classOfCode(c); class != Other {
			return class
		}
	}
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "connect timeout") {
		return Unreachable
	}
	return Other
}

func classOfCode(code string) Class {
	switch code {
	case "DPI-1047":
		return ClientMissing
	case "ORA-12154", "TNS-12154":
		return UnknownAlias
	case "ORA-28759", "ORA-28791", "ORA-29024", "ORA-28865":
		return WalletUnusable
	case "ORA-01017":
		return BadCredentials
	case "ORA-12170", "ORA-12541", "ORA-12545", "ORA-12535", "TNS-12535", "ORA-12543", "ORA-12560",
		"ORA-03135", "ORA-12547":
		return Unreachable
	case "ORA-01435", "ORA-01918":
		return UnknownUser
	case "ORA-24247":
		return NetworkAccessDenied
	case "ORA-01031", "ORA-00942", "ORA-06598":
		return InsufficientPrivileges
	case "ORA-20000":
		return CloudAdmin
	}
	return Other
}

// Error is a failed connection or statement, explained: Where says what was being done to which database,
// Hint what to fix. The cause keeps its Oracle code for errors.Is and errors.As.
type Error struct {
	Class Class
	Where string
	Hint  string
	Err   error
}

func (e *Error) Error() string {
	if e.Hint == "" {
		return fmt.Sprintf("%s: %v", e.Where, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Where, e.Hint, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class of an *Error in err's chain, else Classify(err).
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Classify(err)
}

// explainConnect wraps a failure to connect to c with the fix its class calls for. The password never appears.
func explainConnect(err error, c Conn) error {
	class := Classify(err)
	var hint string
	switch class {
	case ClientMissing:
		hint = "the Oracle client library libclntsh.so cannot be loaded where the plugin runs: install Oracle " +
			"Instant Client (Basic or Basic Light, 19c or later) and put its directory on LD_LIBRARY_PATH, or " +
			"set " + LibDirEnv + " to that directory (godror's libDir)"
	case UnknownAlias:
		hint = fmt.Sprintf("the connect identifier %q is not defined", c.ConnectString)
		if c.WalletDirectory != "" {
			hint += fmt.Sprintf(" in %s: use one of the aliases listed there (such as <db>_high) or a full "+
				"connect descriptor", c.tnsnamesPath())
		} else {
			hint += ": set walletDirectory to the unzipped wallet that holds tnsnames.ora, or give a full " +
				"connect descriptor"
		}
	case WalletUnusable:
		hint = "the wallet cannot be opened"
		if c.WalletDirectory != "" {
			hint += fmt.Sprintf(": in %s, WALLET_LOCATION must say DIRECTORY=%q and that directory must "+
				"hold cwallet.sso", c.sqlnetPath(), c.WalletDirectory)
		} else {
			hint += ": set walletDirectory to the unzipped wallet, or connect with a one-way TLS descriptor"
		}
	case BadCredentials:
		key := "adminPasswords." + c.databaseName()
		hint = fmt.Sprintf("user %s was refused: check the password, which comes from the config key %s "+
			"(pulumi config set --secret --path '%s' ...)", c.User, key, key)
	case Unreachable:
		hint = "the database's private endpoint is not reachable from here: `pulumi up` must run on a host " +
			"that reaches it (inside the VNet or a peered network, port 1521 or 1522 open, the database's " +
			"private DNS name resolving)"
	}
	return &Error{Class: class, Where: "connecting to " + c.String(), Hint: hint, Err: redact(err, c.Password)}
}

// explainStatement wraps a failed statement with the fix its class calls for.
func explainStatement(err error, s Statement, where string) error {
	class := Classify(err)
	var hint string
	switch class {
	case UnknownUser:
		hint = "the database user or role does not exist; principals are upper-case (ADMIN, not admin) and " +
			"must exist before an ACE names them"
	case NetworkAccessDenied:
		hint = "the database has no host ACE for that host and port: add connect, resolve and http for it " +
			"(odaa:oracle:NetworkAcl)"
	case InsufficientPrivileges:
		hint = "the connected user lacks the privilege for this; connect as ADMIN"
	case CloudAdmin:
		hint = "DBMS_CLOUD_ADMIN refused the call; its message says why (a tenant ID that is not a GUID, " +
			"principal auth already enabled for another tenant, or a database that is not on Azure)"
	case Unreachable:
		hint = "the connection to the database's private endpoint was lost"
	}
	w := fmt.Sprintf("%s on %s", s.Label, where)
	if class == Other {
		return &Error{Class: class, Where: w, Err: err}
	}
	return &Error{Class: class, Where: w, Hint: hint, Err: err}
}

// redact removes secret from err's text. Oracle errors do not carry the password, but a driver's connect
// error might echo its parameters; the text is rebuilt so that no path can print it.
func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return redacted{msg: strings.ReplaceAll(err.Error(), secret, "<redacted>")}
}

type redacted struct{ msg string }

func (r redacted) Error() string { return r.msg }
