// Package tests runs the whole program, and each component, under Pulumi's mock engine with a mock cloud that
// answers like the real providers.
package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/odaa-platform/adbs-hsm/internal/stack"
	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
)

const (
	project      = "odaa-adbs-hsm"
	testPassword = "Tr1cky#Passw0rd"
)

// stackConfig is a stack's configuration as the engine hands it to the program: Pulumi.yaml's defaults,
// overlaid by the stack file, overlaid by what a test sets; values are raw strings or JSON.
type stackConfig struct {
	values  map[string]string
	secrets []string
}

// devConfig is Pulumi.yaml's defaults with Pulumi.dev.yaml on top and the one secret the dev stack needs.
func devConfig(t testing.TB) *stackConfig {
	t.Helper()
	c := &stackConfig{values: map[string]string{}}

	var proj struct {
		Config map[string]struct {
			Default any `yaml:"default"`
		} `yaml:"config"`
	}
	readYAML(t, "Pulumi.yaml", &proj)
	for key, decl := range proj.Config {
		if decl.Default != nil {
			c.set(t, project+":"+key, decl.Default)
		}
	}

	var dev struct {
		Config map[string]any `yaml:"config"`
	}
	readYAML(t, "Pulumi.dev.yaml", &dev)
	for key, v := range dev.Config {
		c.set(t, key, v)
	}
	c.secret(t, "adminPasswords", map[string]string{"adbhsmdemo": testPassword})
	return c
}

func readYAML(t testing.TB, name string, into any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", name))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(data, into))
}

// set stores a value: strings as they are, everything else as JSON, as the engine does.
func (c *stackConfig) set(t testing.TB, key string, v any) {
	t.Helper()
	if s, ok := v.(string); ok {
		c.values[key] = s
		return
	}
	data, err := json.Marshal(v)
	require.NoError(t, err)
	c.values[key] = string(data)
}

// secret stores a project key as a secret.
func (c *stackConfig) secret(t testing.TB, key string, v any) {
	t.Helper()
	c.set(t, project+":"+key, v)
	c.secrets = append(c.secrets, project+":"+key)
}

// patch merges fields into a project object key, the way `pulumi config set --path` does.
func (c *stackConfig) patch(t testing.TB, key string, fields map[string]any) {
	t.Helper()
	obj := map[string]any{}
	if raw, ok := c.values[project+":"+key]; ok {
		require.NoError(t, json.Unmarshal([]byte(raw), &obj))
	}
	for k, v := range fields {
		obj[k] = v
	}
	c.set(t, project+":"+key, obj)
}

// run executes the program under the mock engine with this configuration.
func (c *stackConfig) run(t *testing.T, cloud *mockcloud.Cloud) error {
	t.Helper()
	return c.runProgram(t, cloud, stack.Program)
}

// runProgram executes any program under the mock engine with this configuration.
func (c *stackConfig) runProgram(t testing.TB, cloud pulumi.MockResourceMonitor, program pulumi.RunFunc) error {
	t.Helper()
	values, err := json.Marshal(c.values)
	require.NoError(t, err)
	secrets, err := json.Marshal(c.secrets)
	require.NoError(t, err)
	t.Setenv(pulumi.EnvConfig, string(values))
	t.Setenv(pulumi.EnvConfigSecretKeys, string(secrets))
	return pulumi.RunErr(program, pulumi.WithMocks(project, "dev", cloud))
}

// deployed runs the dev stack on a fresh mock cloud and fails the test on error.
func deployed(t *testing.T) *result {
	t.Helper()
	cloud := mockcloud.New()
	require.NoError(t, devConfig(t).run(t, cloud))
	return newResult(cloud)
}

// result indexes what a run registered.
type result struct {
	regs   []mockcloud.Registration
	byName map[string]mockcloud.Registration
}

func newResult(cloud *mockcloud.Cloud) *result {
	r := &result{regs: cloud.Registrations(), byName: map[string]mockcloud.Registration{}}
	for _, reg := range r.regs {
		r.byName[reg.Name] = reg
	}
	return r
}

func (r *result) get(t *testing.T, name string) mockcloud.Registration {
	t.Helper()
	reg, ok := r.byName[name]
	require.Truef(t, ok, "no resource named %q was registered; have %v", name, r.names())
	return reg
}

func (r *result) names() []string {
	var names []string
	for _, reg := range r.regs {
		names = append(names, reg.Name)
	}
	sort.Strings(names)
	return names
}

func (r *result) ofType(token string) []mockcloud.Registration {
	var out []mockcloud.Registration
	for _, reg := range r.regs {
		if reg.Type == token {
			out = append(out, reg)
		}
	}
	return out
}

// dependsOn reports whether a depends on b, directly or through other resources.
func (r *result) dependsOn(a, b string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(n string) bool {
		for _, d := range r.byName[n].DependsOn {
			if d == b {
				return true
			}
			if !seen[d] {
				seen[d] = true
				if walk(d) {
					return true
				}
			}
		}
		return false
	}
	return walk(a)
}

// in reads a nested input value by a dotted path, looking through secrets.
func in(reg mockcloud.Registration, path string) resource.PropertyValue {
	return lookup(reg.Inputs, path)
}

// out reads a nested output value by a dotted path, looking through secrets.
func out(reg mockcloud.Registration, path string) resource.PropertyValue {
	return lookup(reg.Outputs, path)
}

func lookup(m resource.PropertyMap, path string) resource.PropertyValue {
	v := resource.NewObjectProperty(m)
	for _, part := range strings.Split(path, ".") {
		v = plain(v)
		if !v.IsObject() {
			return resource.NewNullProperty()
		}
		v = v.ObjectValue()[resource.PropertyKey(part)]
	}
	return v
}

func plain(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

func str(v resource.PropertyValue) string {
	v = plain(v)
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func strs(v resource.PropertyValue) []string {
	v = plain(v)
	var out []string
	if v.IsArray() {
		for _, e := range v.ArrayValue() {
			out = append(out, str(e))
		}
	}
	return out
}

func num(v resource.PropertyValue) float64 {
	v = plain(v)
	if v.IsNumber() {
		return v.NumberValue()
	}
	return -1
}

// field reads a key of an object value, looking through secrets.
func field(v resource.PropertyValue, key string) resource.PropertyValue {
	v = plain(v)
	if !v.IsObject() {
		return resource.NewNullProperty()
	}
	return v.ObjectValue()[resource.PropertyKey(key)]
}

// plainContains reports whether needle occurs in a string of m that is not inside a secret.
func plainContains(m resource.PropertyMap, needle string) bool {
	var walk func(v resource.PropertyValue) bool
	walk = func(v resource.PropertyValue) bool {
		switch {
		case v.IsSecret():
			return false
		case v.IsString():
			return strings.Contains(v.StringValue(), needle)
		case v.IsArray():
			for _, e := range v.ArrayValue() {
				if walk(e) {
					return true
				}
			}
		case v.IsObject():
			for _, e := range v.ObjectValue() {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(resource.NewObjectProperty(m))
}
