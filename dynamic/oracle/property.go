// This file holds database properties: ROUTE_OUTBOUND_CONNECTIONS, set with ALTER DATABASE PROPERTY and read
// back from DATABASE_PROPERTIES.
package oracle

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// RouteOutboundConnections is the property that sends the database's outbound calls through its private
// endpoint.
const RouteOutboundConnections = "ROUTE_OUTBOUND_CONNECTIONS"

// PropertyValues lists, per property this package may set, the values it may take; "" resets the property.
var PropertyValues = map[string][]string{
	RouteOutboundConnections: {"PRIVATE_ENDPOINT", "ENFORCE_PRIVATE_ENDPOINT", ""},
}

// CheckProperty accepts a property and value from PropertyValues.
func CheckProperty(name, value string) error {
	allowed, ok := PropertyValues[name]
	if !ok {
		return fmt.Errorf("property %q is not one this provider sets (%s)", name, RouteOutboundConnections)
	}
	if !slices.Contains(allowed, value) {
		return fmt.Errorf("%s must be PRIVATE_ENDPOINT, ENFORCE_PRIVATE_ENDPOINT or '' (reset), not %q", name,
			value)
	}
	return nil
}

// SelectProperty reads a property's value.
func SelectProperty(name string) Statement {
	return Statement{
		Label: "reading database property " + name,
		SQL:   "SELECT PROPERTY_VALUE FROM DATABASE_PROPERTIES WHERE PROPERTY_NAME = :name",
		Binds: []sql.NamedArg{sql.Named("name", name)},
	}
}

// SetProperty sets a property. ALTER DATABASE takes no binds, so name and value are written into the text;
// both are checked against PropertyValues first, which leaves no room for anything but the allowed words.
func SetProperty(name, value string) (Statement, error) {
	if err := CheckProperty(name, value); err != nil {
		return Statement{}, err
	}
	shown := value
	if shown == "" {
		shown = "'' (reset)"
	}
	return Statement{
		Label: fmt.Sprintf("setting database property %s to %s", name, shown),
		SQL:   fmt.Sprintf("ALTER DATABASE PROPERTY SET %s = '%s'", name, value),
	}, nil
}

// ReadProperty returns a property's value; a property without a row or with a NULL value reads as "".
func ReadProperty(ctx context.Context, ex Executor, name string) (string, error) {
	var value string
	err := ex.Query(ctx, SelectProperty(name), func(scan func(...any) error) error {
		var v sql.NullString
		if err := scan(&v); err != nil {
			return err
		}
		value = strings.TrimSpace(v.String)
		return nil
	})
	return value, err
}

// EnsureProperty sets name to value unless it already has it, reads it back and returns the value found
// before and whether it changed.
func EnsureProperty(ctx context.Context, ex Executor, name, value string) (string, bool, error) {
	stmt, err := SetProperty(name, value)
	if err != nil {
		return "", false, err
	}
	before, err := ReadProperty(ctx, ex, name)
	if err != nil {
		return "", false, err
	}
	if strings.EqualFold(before, value) {
		return before, false, nil
	}
	if err := ex.Exec(ctx, stmt); err != nil {
		return before, false, err
	}
	after, err := ReadProperty(ctx, ex, name)
	if err != nil {
		return before, true, err
	}
	if !strings.EqualFold(after, value) {
		return before, true, fmt.Errorf("%s reads %q after it was set to %q: the database did not take the "+
			"value", name, after, value)
	}
	return before, true, nil
}
