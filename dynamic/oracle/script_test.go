// This file tests script mode's rendering of statements and its file: literals, blocks, mode and order.
package oracle

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRenderStatement(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   Statement
		want string
	}{
		{"binds-as-literals", Statement{SQL: "BEGIN p(a => :a, b => :b, c => :c, d => :d); END;",
			Binds: []sql.NamedArg{sql.Named("a", "O'Brien; DROP"), sql.Named("b", nil), sql.Named("c", 443),
				sql.Named("d", 1.5)}},
			"BEGIN p(a => 'O''Brien; DROP', b => NULL, c => 443, d => 1.5); END;\n/\n"},
		{"placeholder-in-literal-kept", Statement{SQL: "BEGIN p(x => ':a', y => :a); END;",
			Binds: []sql.NamedArg{sql.Named("a", "v")}}, "BEGIN p(x => ':a', y => 'v'); END;\n/\n"},
		{"ddl-through-execute-immediate", Statement{SQL: "ALTER DATABASE PROPERTY SET X = 'Y'"},
			"BEGIN\n  EXECUTE IMMEDIATE 'ALTER DATABASE PROPERTY SET X = ''Y''';\nEND;\n/\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RenderStatement(tc.st)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRenderStatementRefusesMissingAndUnknownBinds(t *testing.T) {
	_, err := RenderStatement(Statement{SQL: "BEGIN p(:a); END;"})
	assert.ErrorContains(t, err, "placeholder :a has no bind")
	_, err = RenderStatement(Statement{SQL: "BEGIN p(:a); END;", Binds: []sql.NamedArg{sql.Named("a", []byte{1})}})
	assert.ErrorContains(t, err, "cannot be written as a literal")
}

func TestScriptAppendsEntriesWithOwnerOnlyMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odaa.sql")
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	f := &ScriptFile{Path: path, Now: func() time.Time { return time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC) }}
	first := &Script{File: f, Resource: "urn:first", Where: "database db1 as ADMIN"}
	second := &Script{File: f, Resource: "urn:second", Where: "database db2 as ADMIN"}
	require.NoError(t, first.Exec(context.Background(), Statement{Label: "one", SQL: "BEGIN p(:v); END;",
		Binds: []sql.NamedArg{sql.Named("v", "it's")}}))
	require.NoError(t, second.Exec(context.Background(), Statement{Label: "two", SQL: "BEGIN q; END;"}))
	rows := 0
	require.NoError(t, first.Query(context.Background(), Statement{Label: "three",
		SQL: "SELECT 1 FROM DUAL WHERE X = :x", Binds: []sql.NamedArg{sql.Named("x", "a'b")}},
		func(func(...any) error) error { rows++; return nil }))

	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "-- urn:first\n-- database db1 as ADMIN\n-- 2026-12-04T08:00:00Z\n-- one\nSET DEFINE OFF\n"+
		"BEGIN p('it''s'); END;\n/\n\n"+
		"-- urn:second\n-- database db2 as ADMIN\n-- 2026-12-04T08:00:00Z\n-- two\nSET DEFINE OFF\n"+
		"BEGIN q; END;\n/\n\n"+
		"-- urn:first\n-- database db1 as ADMIN\n-- 2026-12-04T08:00:00Z\n-- three (a read: script mode assumed no "+
		"rows)\nSET DEFINE OFF\nSELECT 1 FROM DUAL WHERE X = 'a''b';\n\n", string(got))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	assert.Zero(t, rows, "script mode reads no rows")
}

func TestScriptEntriesOfConcurrentResourcesDoNotInterleave(t *testing.T) {
	f := &ScriptFile{Path: filepath.Join(t.TempDir(), "odaa.sql"),
		Now: func() time.Time { return time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC) }}
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &Script{File: f, Resource: fmt.Sprintf("urn:r%d", w), Where: "database db as ADMIN"}
			for i := range each {
				assert.NoError(t, s.Exec(context.Background(), Statement{Label: "step",
					SQL: fmt.Sprintf("BEGIN p(%d, %d); END;", w, i)}))
			}
		}()
	}
	wg.Wait()

	got, err := os.ReadFile(f.Path)
	require.NoError(t, err)
	entries := strings.Split(strings.TrimSuffix(string(got), "\n\n"), "\n\n")
	require.Len(t, entries, writers*each)
	next := make([]int, writers)
	for _, e := range entries {
		var w, i int
		_, err := fmt.Sscanf(e, "-- urn:r%d\n-- database db as ADMIN\n-- 2026-12-04T08:00:00Z\n-- step\n"+
			"SET DEFINE OFF\nBEGIN p(%d, %d); END;\n/", &w, &w, &i)
		require.NoError(t, err, "entry %q", e)
		assert.Equal(t, next[w], i, "writer %d's entries out of order", w)
		next[w]++
	}
}
