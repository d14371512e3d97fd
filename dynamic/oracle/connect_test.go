// This file tests connecting (field case 8): the wallet checks before the client, the ping before any
// statement, and each connection failure explained with what to fix and without the password.
package oracle

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testPassword = "Sup3r-Secret-Pw1"

// newMock returns a sqlmock database that matches statements exactly and expects pings explicitly.
func newMock(t *testing.T) (*sql.DB, sqlmock.Sqlmock) {
	t.Helper()
	db, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqlmock.QueryMatcherEqual),
		sqlmock.MonitorPingsOption(true))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db, mock
}

// opener hands out db as the opened database and counts the calls.
func opener(db *sql.DB, calls *int) Opener {
	return func(context.Context, Conn) (*sql.DB, error) {
		*calls++
		return db, nil
	}
}

// writeWallet makes a wallet directory with tnsnames.ora defining aliases and sqlnet.ora pointing at dir
// (directory "" means the directory itself).
func writeWallet(t *testing.T, directory string, aliases ...string) string {
	t.Helper()
	dir := t.TempDir()
	var tns strings.Builder
	for _, a := range aliases {
		tns.WriteString(a + " = (description= (retry_count=20)(address=(protocol=tcps)(port=1522)" +
			"(host=adb.eastus.oraclecloud.com))(connect_data=(service_name=x_" + a + ".adb.oraclecloud.com))" +
			"(security=(ssl_server_dn_match=yes)))\n\n")
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tnsnames.ora"), []byte(tns.String()), 0o600))
	if directory == "" {
		directory = dir
	}
	sqlnet := `WALLET_LOCATION = (SOURCE = (METHOD = file) (METHOD_DATA = (DIRECTORY="` + directory + `")))` +
		"\nSSL_SERVER_DN_MATCH=yes\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sqlnet.ora"), []byte(sqlnet), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cwallet.sso"), []byte("wallet"), 0o600))
	return dir
}

const descriptor = "(description=(retry_count=20)(retry_delay=3)(address=(protocol=tcps)(port=1521)" +
	"(host=adb.eastus.oraclecloud.com))(connect_data=(service_name=abc_adbhsmdemo_high.adb.oraclecloud.com))" +
	"(security=(ssl_server_dn_match=yes)))"

func TestFieldCase8PingsBeforeAnyStatementAndNamesTheFailingAlias(t *testing.T) {
	wallet := writeWallet(t, "", "adbhsmdemo_high", "adbhsmdemo_low")
	db, mock := newMock(t)
	// The alias is in tnsnames.ora, yet the client cannot resolve it (a stale TNS_ADMIN, say): the ping fails
	// and no statement is ever sent.
	mock.ExpectPing().WillReturnError(errors.New("ORA-12154: TNS:could not resolve the connect identifier " +
		"specified"))
	mock.ExpectClose()
	calls := 0
	c := Conn{ConnectString: "adbhsmdemo_high", WalletDirectory: wallet, User: "ADMIN", Password: testPassword}

	got, err := Connect(context.Background(), c, opener(db, &calls))

	require.Error(t, err)
	assert.Nil(t, got)
	assert.Equal(t, UnknownAlias, ClassOf(err))
	assert.Contains(t, err.Error(), `"adbhsmdemo_high"`)
	assert.Contains(t, err.Error(), filepath.Join(wallet, "tnsnames.ora"))
	assert.NotContains(t, err.Error(), testPassword)
	assert.NoError(t, mock.ExpectationsWereMet())
}

func TestConnectPingsThenHandsOutTheDatabase(t *testing.T) {
	db, mock := newMock(t)
	mock.ExpectPing()
	mock.ExpectQuery(SelectKeystores().SQL).WillReturnRows(sqlmock.NewRows([]string{"WRL_TYPE", "WALLET_TYPE",
		"STATUS"}).AddRow("AZURE_KEY_VAULT", "CLOUD", "OPEN"))
	calls := 0

	got, err := Connect(context.Background(), Conn{ConnectString: descriptor, User: "ADMIN", Password: testPassword},
		opener(db, &calls))
	require.NoError(t, err)
	rows, err := ReadKeystores(context.Background(), NewDB(got, "test", nil))

	require.NoError(t, err)
	assert.Equal(t, []Keystore{{WrlType: "AZURE_KEY_VAULT", WalletType: "CLOUD", Status: "OPEN"}}, rows)
	assert.Equal(t, 1, calls)
	assert.NoError(t, mock.ExpectationsWereMet())
}

func TestFieldCase8WalletPathIsRejectedWithTheFix(t *testing.T) {
	elsewhere := t.TempDir() // exists, holds no wallet
	for _, tc := range []struct {
		name      string
		directory string
		want      []string
	}{
		{"oracle-home-placeholder", "?/network/admin", []string{`DIRECTORY="?/network/admin"`, "ORA-28759",
			"ORACLE_HOME"}},
		{"relative-path", "wallet", []string{`DIRECTORY="wallet"`, "relative"}},
		{"missing-directory", "/nonexistent/wallet", []string{"does not exist"}},
		{"directory-without-wallet", elsewhere, []string{"no cwallet.sso"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wallet := writeWallet(t, tc.directory, "adbhsmdemo_high")
			calls := 0
			c := Conn{ConnectString: "adbhsmdemo_high", WalletDirectory: wallet, User: "ADMIN",
				Password: testPassword}

			_, err := Connect(context.Background(), c, opener(nil, &calls))

			require.Error(t, err)
			assert.Equal(t, 0, calls, "the client was reached despite a broken wallet")
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			// The fix names the file to edit and the exact line to write.
			assert.Contains(t, err.Error(), "edit "+filepath.Join(wallet, "sqlnet.ora"))
			assert.Contains(t, err.Error(), `DIRECTORY="`+wallet+`"`)
		})
	}
}

func TestWalletChecksBeforeConnecting(t *testing.T) {
	good := writeWallet(t, "", "adbhsmdemo_high", "adbhsmdemo_medium")
	for _, tc := range []struct {
		name string
		conn Conn
		want []string // empty: the wallet is accepted
	}{
		{"alias-in-tnsnames", Conn{ConnectString: "ADBHSMDEMO_HIGH", WalletDirectory: good}, nil},
		{"descriptor-without-wallet", Conn{ConnectString: descriptor}, nil},
		{"alias-missing-from-tnsnames", Conn{ConnectString: "adbhsmdemo_tp", WalletDirectory: good},
			[]string{`"adbhsmdemo_tp"`, filepath.Join(good, "tnsnames.ora"), "adbhsmdemo_high, adbhsmdemo_medium",
				"ORA-12154"}},
		{"wallet-directory-missing", Conn{ConnectString: "adbhsmdemo_high", WalletDirectory: "/nonexistent"},
			[]string{"walletDirectory", "/nonexistent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.conn.User, tc.conn.Password = "ADMIN", testPassword
			err := tc.conn.CheckWallet()
			if len(tc.want) == 0 {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestValidateNamesMissingInputs(t *testing.T) {
	for _, tc := range []struct {
		name string
		conn Conn
		want string
	}{
		{"nothing", Conn{}, "connectString, user, password required"},
		{"alias-without-wallet", Conn{ConnectString: "adbhsmdemo_high", User: "ADMIN", Password: "x"},
			"needs walletDirectory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.conn.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestConnectExplainsEachFailureWithoutThePassword(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   string
		class Class
		want  []string
	}{
		{"dpi-1047-client-missing", `DPI-1047: Cannot locate a 64-bit Oracle Client library: "libclntsh.so: ` +
			`cannot open shared object file: No such file or directory"`, ClientMissing,
			[]string{"libclntsh", "Instant Client", "LD_LIBRARY_PATH", LibDirEnv, "libDir"}},
		{"ora-12154-unknown-alias", "ORA-12154: TNS:could not resolve the connect identifier specified",
			UnknownAlias, []string{"is not defined", "full connect descriptor"}},
		{"ora-28759-wallet", "ORA-28759: failure to open file", WalletUnusable, []string{"wallet cannot be opened"}},
		{"ora-01017-password", "ORA-01017: invalid username/password; logon denied", BadCredentials,
			[]string{"user ADMIN was refused", "config key adminPasswords.adbhsmdemo "}},
		{"ora-12170-timeout", "ORA-12170: TNS:Connect timeout occurred", Unreachable,
			[]string{"private endpoint", "`pulumi up`"}},
		{"ora-12541-no-listener", "ORA-12541: TNS:no listener", Unreachable, []string{"private endpoint"}},
		{"ora-12545-unknown-host", "ORA-12545: Connect failed because target host or object does not exist",
			Unreachable, []string{"private endpoint", "DNS"}},
		{"tns-12535-timeout", "ORA-12170: TNS:Connect timeout occurred\nTNS-12535: TNS:operation timed out",
			Unreachable, []string{"private endpoint"}},
		{"password-echoed-by-driver", "connect user=ADMIN password=" + testPassword + ": ORA-01017: invalid",
			BadCredentials, []string{"<redacted>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, mock := newMock(t)
			mock.ExpectPing().WillReturnError(errors.New(tc.err))
			mock.ExpectClose()
			calls := 0
			c := Conn{ConnectString: descriptor, User: "ADMIN", Password: testPassword}

			_, err := Connect(context.Background(), c, opener(db, &calls))

			require.Error(t, err)
			assert.Equal(t, tc.class, ClassOf(err))
			assert.Contains(t, err.Error(), "connecting to database abc_adbhsmdemo_high.adb.oraclecloud.com on "+
				"adb.eastus.oraclecloud.com as ADMIN")
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), testPassword)
			assert.NoError(t, mock.ExpectationsWereMet())
		})
	}
}

// TestFieldCase8MissingClientLibraryIsNamed opens through godror itself: where no Oracle client is installed
// (as here), the first round trip fails with DPI-1047, and the message names libclntsh and how to provide it.
func TestFieldCase8MissingClientLibraryIsNamed(t *testing.T) {
	t.Setenv(LibDirEnv, t.TempDir())
	c := Conn{ConnectString: "(description=(address=(protocol=tcp)(host=127.0.0.1)(port=9))" +
		"(connect_data=(service_name=none)))", User: "ADMIN", Password: testPassword}

	_, err := Connect(context.Background(), c, Open)

	require.Error(t, err)
	if ClassOf(err) != ClientMissing {
		t.Skipf("an Oracle client is installed here, so no DPI-1047: %v", err)
	}
	assert.Contains(t, err.Error(), "DPI-1047")
	assert.Contains(t, err.Error(), "libclntsh")
	assert.Contains(t, err.Error(), "LD_LIBRARY_PATH")
	assert.NotContains(t, err.Error(), testPassword)
}

func TestOpenRefusesASecondWalletDirectory(t *testing.T) {
	clientConfig.Lock()
	saved := clientConfig.dir
	savedPinned := clientConfig.pinned
	clientConfig.dir, clientConfig.pinned = "", false
	clientConfig.Unlock()
	t.Cleanup(func() {
		clientConfig.Lock()
		clientConfig.dir, clientConfig.pinned = saved, savedPinned
		clientConfig.Unlock()
	})
	first, second := t.TempDir(), t.TempDir()
	open := func(wallet, connect string) error {
		db, err := Open(context.Background(), Conn{ConnectString: connect, WalletDirectory: wallet, User: "ADMIN",
			Password: testPassword})
		if db != nil {
			_ = db.Close()
		}
		return err
	}

	require.NoError(t, open(first, "adbhsmdemo_high"))
	require.NoError(t, open("", descriptor), "a descriptor without a wallet shares the directory in use")
	require.NoError(t, open(first, "adbhsmdemo_low"))
	err := open(second, "otherdb_high")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "one configuration directory per process")
	assert.Contains(t, err.Error(), second)
	assert.Contains(t, err.Error(), first)
	assert.NotContains(t, err.Error(), testPassword)
}

func TestDatabaseNameForTheConfigKey(t *testing.T) {
	for _, tc := range []struct{ name, connect, want string }{
		{"alias", "adbhsmdemo_high", "adbhsmdemo"},
		{"upper-case-alias", "ADBHSMDEMO_TPURGENT", "adbhsmdemo"},
		{"descriptor", descriptor, "adbhsmdemo"},
		{"unusual-alias", "mydb", "<database>"},
		{"easy-connect", "tcps://adb.eastus.oraclecloud.com:1522/abc_sales_low.adb.oraclecloud.com", "<database>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Conn{ConnectString: tc.connect}.databaseName())
		})
	}
}
