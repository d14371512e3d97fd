// This file holds Statement, one SQL statement as a value (text, binds, label), and Executor, the one path by
// which statements run. Statements are values so that every one goes through one executor, which reports it
// by its label in status lines and errors, and so that tests expect the exact text and binds. DB runs them on a
// connected database; Script (script.go) writes them to a file for a DBA instead.
package oracle

import (
	"context"
	"database/sql"
	"fmt"
)

// Statement is one SQL statement or PL/SQL block. User input goes only into Binds, never into SQL, except
// where Oracle cannot bind (ALTER DATABASE PROPERTY), and there only after an allow-list check.
type Statement struct {
	// Label says what the statement does, for status lines and errors: "appending host ACE".
	Label string
	// SQL is the text sent, with :name placeholders.
	SQL string
	// Binds are the values of the placeholders, in the order they appear.
	Binds []sql.NamedArg
}

// Args returns the binds as arguments for database/sql.
func (s Statement) Args() []any {
	out := make([]any, len(s.Binds))
	for i, b := range s.Binds {
		out[i] = b
	}
	return out
}

// Executor runs statements. Exec runs a statement that changes the database; Query runs a read and calls row
// once per result row with a function that scans it.
type Executor interface {
	Exec(ctx context.Context, s Statement) error
	Query(ctx context.Context, s Statement, row func(scan func(dest ...any) error) error) error
}

// DB is the Executor over a connected database. Every failure is explained and names Where.
type DB struct {
	db *sql.DB
	// Where names the database in errors, as Conn.String does.
	Where string
	// Progress, when set, receives a status line before each change.
	Progress func(msg string)
}

// NewDB returns the Executor for db, which Connect has pinged.
func NewDB(db *sql.DB, where string, progress func(string)) *DB {
	return &DB{db: db, Where: where, Progress: progress}
}

// Exec runs s.
func (d *DB) Exec(ctx context.Context, s Statement) error {
	if d.Progress != nil {
		d.Progress(fmt.Sprintf("%s on %s", s.Label, d.Where))
	}
	if _, err := d.db.ExecContext(ctx, s.SQL, s.Args()...); err != nil {
		return explainStatement(err, s, d.Where)
	}
	return nil
}

// Query runs s and hands each row to row.
func (d *DB) Query(ctx context.Context, s Statement, row func(scan func(dest ...any) error) error) error {
	rows, err := d.db.QueryContext(ctx, s.SQL, s.Args()...)
	if err != nil {
		return explainStatement(err, s, d.Where)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return fmt.Errorf("%s on %s: %w", s.Label, d.Where, err)
		}
	}
	if err := rows.Err(); err != nil {
		return explainStatement(err, s, d.Where)
	}
	return nil
}
