// This file holds the harness of the Oracle resources' tests: the provider served in process with its database
// opener replaced by sqlmock sessions (one per connection the provider makes, each expecting the ping first and
// then exact statements), and a restarter that records restarts.
package provider

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
)

const (
	testAdminPassword = "Adb-Hsm-Pass-2026"
	testDescriptor    = "(description=(retry_count=20)(retry_delay=3)(address=(protocol=tcps)(port=1521)" +
		"(host=adb.eastus.oraclecloud.com))(connect_data=(service_name=abc_adbhsmdemo_high.adb.oraclecloud.com))" +
		"(security=(ssl_server_dn_match=yes)))"
	testDatabaseOcid = "ocid1.autonomousdatabase.oc1.iad.anuwcljexample"
)

// sqlSessions hands the provider one prepared sqlmock database per connection, in order.
type sqlSessions struct {
	t        *testing.T
	mu       sync.Mutex
	sessions []sqlmock.Sqlmock
	dbs      []*sql.DB
	conns    []oracle.Conn
}

// expect prepares the next connection: its ping is expected first; the caller adds the statements.
func (s *sqlSessions) expect() sqlmock.Sqlmock {
	s.t.Helper()
	return s.session(nil)
}

// failPing prepares the next connection to fail its ping with err, and to see no statement.
func (s *sqlSessions) failPing(err error) {
	s.t.Helper()
	s.session(err)
}

func (s *sqlSessions) session(pingErr error) sqlmock.Sqlmock {
	s.t.Helper()
	db, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqlmock.QueryMatcherEqual),
		sqlmock.MonitorPingsOption(true))
	require.NoError(s.t, err)
	s.t.Cleanup(func() { _ = db.Close() })
	mock.ExpectPing().WillReturnError(pingErr)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = append(s.sessions, mock)
	s.dbs = append(s.dbs, db)
	return mock
}

// open is the provider's opener: the next prepared session, or a failure when the provider connects more often
// than the test prepared for.
func (s *sqlSessions) open(_ context.Context, c oracle.Conn) (*sql.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.conns)
	s.conns = append(s.conns, c)
	if n >= len(s.dbs) {
		s.t.Errorf("connection %d to %s was not expected", n+1, c)
		return nil, errors.New("unexpected connection")
	}
	return s.dbs[n], nil
}

// opened returns how many connections the provider made.
func (s *sqlSessions) opened() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// verify checks that every prepared session was used and saw exactly its statements.
func (s *sqlSessions) verify() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) != len(s.dbs) {
		s.t.Errorf("%d connections made, %d prepared", len(s.conns), len(s.dbs))
	}
	for i, m := range s.sessions {
		if err := m.ExpectationsWereMet(); err != nil {
			s.t.Errorf("connection %d: %v", i+1, err)
		}
	}
}

// recordingRestarter records the databases it was asked to restart.
type recordingRestarter struct {
	mu        sync.Mutex
	restarted []string
	err       error
}

func (r *recordingRestarter) Restart(_ context.Context, ocid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.restarted = append(r.restarted, ocid)
	return r.err
}

func (r *recordingRestarter) Restarts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.restarted...)
}

// newSQLEnv serves a provider whose database connections are db's sessions and whose restarts go to restart
// (nil: no OCI client configured).
func newSQLEnv(t *testing.T, restart databaseRestarter) (*testEnv, *sqlSessions) {
	t.Helper()
	db := &sqlSessions{t: t}
	opts := Options{openDB: db.open}
	if restart != nil {
		opts.restart = restart
	}
	return newTestEnvWith(t, nil, opts), db
}

// connectionInputs are the connection inputs every SQL resource takes, as the program sends them.
func connectionInputs(m map[string]property.Value) property.Map {
	m["connectString"] = property.New(testDescriptor)
	m["user"] = property.New("ADMIN")
	m["password"] = property.New(testAdminPassword).WithSecret(true)
	return property.NewMap(m)
}

func stringArray(values ...string) property.Value {
	out := make([]property.Value, len(values))
	for i, v := range values {
		out[i] = property.New(v)
	}
	return property.New(out)
}
