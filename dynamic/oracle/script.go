// This file holds Script, the Executor of script mode: instead of running statements it appends them, as
// SQL*Plus PL/SQL blocks with their binds written as quoted literals, to a file a DBA runs by hand. Reads
// cannot reach a database in that mode, so Query writes the query and returns no rows; each caller documents
// what it then assumes.
package oracle

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ScriptFile is the file script mode appends to. One ScriptFile serves a whole plugin process, so that
// resources running at once append whole entries, one after the other.
type ScriptFile struct {
	// Path names the file; it is created with mode 0600, as it names databases and users.
	Path string
	// Now stamps each entry; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex
}

// Append writes one entry: a header naming resource, the database (where, which holds no credentials) and the
// time, then text.
func (f *ScriptFile) Append(resource, where, text string) error {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s\n-- %s\n-- %s\n%s\n", oneLine(resource), oneLine(where),
		now().UTC().Format(time.RFC3339), text)

	f.mu.Lock()
	defer f.mu.Unlock()
	file, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening the SQL script %s: %w", f.Path, err)
	}
	// A file made before with looser permissions is narrowed, as every entry names a database.
	if err := file.Chmod(0o600); err != nil {
		_ = file.Close()
		return fmt.Errorf("restricting the SQL script %s to its owner: %w", f.Path, err)
	}
	if _, err := file.WriteString(b.String()); err != nil {
		_ = file.Close()
		return fmt.Errorf("writing to the SQL script %s: %w", f.Path, err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("writing to the SQL script %s: %w", f.Path, err)
	}
	return nil
}

// oneLine keeps a header on its comment line whatever a name holds.
func oneLine(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

// Script is the Executor that writes statements to File for Resource on the database Where names.
type Script struct {
	File     *ScriptFile
	Resource string
	Where    string
	// Progress, when set, receives a status line for each statement written.
	Progress func(msg string)
}

// Exec appends s as a runnable block.
func (s *Script) Exec(_ context.Context, st Statement) error {
	text, err := RenderStatement(st)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", st.Label, s.Where, err)
	}
	if s.Progress != nil {
		s.Progress(fmt.Sprintf("%s on %s: written to %s", st.Label, s.Where, s.File.Path))
	}
	// SET DEFINE OFF keeps SQL*Plus from reading an & in a literal as a substitution variable.
	return s.File.Append(s.Resource, s.Where, "-- "+oneLine(st.Label)+"\nSET DEFINE OFF\n"+text)
}

// Query writes s as a plain SQL query, so that the DBA sees what a real run would have checked at that point,
// and returns no rows: script mode cannot read the database. Its callers document what they then assume.
func (s *Script) Query(_ context.Context, st Statement, _ func(scan func(dest ...any) error) error) error {
	text, err := substituteBinds(st.SQL, st.Binds)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", st.Label, s.Where, err)
	}
	return s.File.Append(s.Resource, s.Where, "-- "+oneLine(st.Label)+" (a read: script mode assumed no rows)\n"+
		"SET DEFINE OFF\n"+text+";\n")
}

// RenderStatement returns st as SQL*Plus runs it: a PL/SQL block ended by "/", with every bind written as a
// literal. A statement that is not a block already (ALTER DATABASE) is run through EXECUTE IMMEDIATE.
func RenderStatement(st Statement) (string, error) {
	text, err := substituteBinds(st.SQL, st.Binds)
	if err != nil {
		return "", err
	}
	upper := strings.ToUpper(strings.TrimSpace(text))
	if !strings.HasPrefix(upper, "BEGIN") && !strings.HasPrefix(upper, "DECLARE") {
		text = "BEGIN\n  EXECUTE IMMEDIATE " + quote(text) + ";\nEND;"
	}
	return text + "\n/\n", nil
}

// substituteBinds replaces each :name outside quoted literals with the literal of its bind.
func substituteBinds(text string, binds []sql.NamedArg) (string, error) {
	values := make(map[string]any, len(binds))
	for _, b := range binds {
		values[strings.ToLower(b.Name)] = b.Value
	}
	var out strings.Builder
	inQuote := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
		case c == ':' && !inQuote && i+1 < len(text) && identStart(text[i+1]):
			j := i + 1
			for j < len(text) && identPart(text[j]) {
				j++
			}
			name := strings.ToLower(text[i+1 : j])
			v, ok := values[name]
			if !ok {
				return "", fmt.Errorf("placeholder :%s has no bind", name)
			}
			lit, err := literal(v)
			if err != nil {
				return "", fmt.Errorf("bind %s: %w", name, err)
			}
			out.WriteString(lit)
			i = j - 1
			continue
		}
		out.WriteByte(c)
	}
	return out.String(), nil
}

func identStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func identPart(c byte) bool { return identStart(c) || c >= '0' && c <= '9' || c == '_' || c == '$' }

// literal writes v as SQL: NULL for nil, numbers as numbers, text quoted with its quotes doubled.
func literal(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "NULL", nil
	case string:
		return quote(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	default:
		return "", fmt.Errorf("a %T cannot be written as a literal", v)
	}
}

// quote returns s as a SQL string literal. Oracle's only escape inside one is a doubled quote.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
