// Package rehearsal runs the real program (internal/stack.Program) under the real Pulumi engine, offline: an
// Automation API inline program, a file:// backend, a passphrase secrets provider, and the stand-in provider
// plugins of ./standin on a private PATH. `make rehearse` and the rehearsal-tagged tests drive it.
package rehearsal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"gopkg.in/yaml.v3"

	"github.com/odaa-platform/adbs-hsm/internal/stack"
)

// Plugins are the provider names the stand-in is built under. odaa is not among them: the real
// pulumi-resource-odaa runs, against the fake HSM (local mode) and in script mode for the SQL and OCI steps.
var Plugins = []string{"azure-native", "azuread", "oci"}

// Made are the entries a rehearsal makes in Options.Dir.
var Made = []string{"bin", "state", "work", "home", "journal", "fakehsm", ScriptFile}

// ScriptFile is the file in Options.Dir that the real odaa plugin writes its SQL and OCI steps to.
const ScriptFile = "odaa-steps.sql"

// Options say where the rehearsal finds the repository and the CLI, and where it keeps its files.
type Options struct {
	// Root is the repository: Pulumi.yaml, Pulumi.<Stack>.yaml and tests/rehearsal/standin.
	Root string
	// Dir holds everything the rehearsal makes: bin (the stand-ins), state (the backend), work (the
	// workspace), home (PULUMI_HOME) and journal. It must be private to this rehearsal.
	Dir string
	// CLI is the Pulumi CLI's path; the Automation API finds it as <root>/bin/pulumi.
	CLI string
	// Stack whose settings file seeds the configuration. Default "dev".
	Stack string
	// Progress receives the engine's output; nil discards it.
	Progress io.Writer
	// Bin is a directory that Build has filled, shared by rehearsals that need not build again. Default: Prepare
	// builds into Dir/bin.
	Bin string
}

// Rehearsal is one prepared stack.
type Rehearsal struct {
	opts  Options
	Stack auto.Stack
	// Secrets are the secret values the rehearsal set, so that a test can look for them where they must not be.
	Secrets []string
	// HsmName is the HSM the program computes and the fake HSM answers for.
	HsmName string
	fake    *fakeHSM
}

// Prepare builds the stand-ins and the real odaa plugin into Dir/bin, starts the fake HSM on 127.0.0.1, lays
// out a workspace from the repository's project and stack settings, creates the stack in a fresh file backend
// and sets the secret config a run needs (a random password for each database; never printed). Close stops
// the fake HSM; a failing Prepare stops it itself.
func Prepare(ctx context.Context, opts Options) (*Rehearsal, error) {
	if opts.Stack == "" {
		opts.Stack = "dev"
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if v, ok := os.LookupEnv("PULUMI_IGNORE_AMBIENT_PLUGINS"); ok && v != "" && v != "false" && v != "0" {
		return nil, errors.New("PULUMI_IGNORE_AMBIENT_PLUGINS is set: the engine would not use the stand-in " +
			"plugins on the rehearsal's PATH; unset it")
	}
	bin := opts.Bin
	if bin == "" {
		bin = filepath.Join(opts.Dir, "bin")
	}
	work := filepath.Join(opts.Dir, "work")
	for _, d := range []string{bin, work, filepath.Join(opts.Dir, "state"), filepath.Join(opts.Dir, "home")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("making the rehearsal directory %s: %w", d, err)
		}
	}
	if opts.Bin == "" {
		if err := Build(ctx, opts.Root, bin); err != nil {
			return nil, err
		}
	}

	proj, err := workspace.LoadProject(filepath.Join(opts.Root, "Pulumi.yaml"))
	if err != nil {
		return nil, fmt.Errorf("reading the project %s: %w", filepath.Join(opts.Root, "Pulumi.yaml"), err)
	}
	// The stand-ins come from PATH; the project's ./bin would bring the real odaa plugin.
	proj.Plugins = nil
	settings, err := os.ReadFile(filepath.Join(opts.Root, "Pulumi."+opts.Stack+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("reading the stack settings: %w", err)
	}
	// The workspace reads the stack's settings from its own directory; the passphrase provider adds its salt.
	if err := os.WriteFile(filepath.Join(work, "Pulumi."+opts.Stack+".yaml"), settings, 0o600); err != nil {
		return nil, fmt.Errorf("copying the stack settings into the workspace: %w", err)
	}
	site, err := hsmOf(settings, opts.Stack)
	if err != nil {
		return nil, err
	}
	fake, err := startFakeHSM(ctx, filepath.Join(bin, "odaa-fakehsm"), filepath.Join(opts.Dir, "fakehsm"), site)
	if err != nil {
		return nil, err
	}
	r := &Rehearsal{opts: opts, HsmName: site.name, fake: fake}
	prepared := false
	defer func() {
		if !prepared {
			r.Close()
		}
	}()

	cli, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: filepath.Dir(filepath.Dir(opts.CLI))})
	if err != nil {
		return nil, fmt.Errorf("checking the Pulumi CLI %s: %w", opts.CLI, err)
	}
	passphrase, err := randomHex(24)
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		"PATH":                     bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"PULUMI_BACKEND_URL":       "file://" + filepath.Join(opts.Dir, "state"),
		"PULUMI_CONFIG_PASSPHRASE": passphrase,
		"PULUMI_HOME":              filepath.Join(opts.Dir, "home"),
		"PULUMI_SKIP_UPDATE_CHECK": "true",
		"STANDIN_JOURNAL":          filepath.Join(opts.Dir, "journal"),
		"ODAA_SQL_SCRIPT":          filepath.Join(opts.Dir, ScriptFile),
	}
	for k, v := range fake.env {
		env[k] = v
	}
	s, err := auto.UpsertStackInlineSource(ctx, opts.Stack, proj.Name.String(), stack.Program,
		auto.Project(*proj), auto.WorkDir(work), auto.Pulumi(cli), auto.EnvVars(env),
		auto.SecretsProvider("passphrase"))
	if err != nil {
		return nil, fmt.Errorf("creating the stack %s in %s: %w", opts.Stack, opts.Dir, err)
	}
	r.Stack = s
	dbs, err := databaseNames(settings)
	if err != nil {
		return nil, err
	}
	for _, db := range dbs {
		password, err := randomPassword()
		if err != nil {
			return nil, err
		}
		r.Secrets = append(r.Secrets, password)
		err = s.SetConfigWithOptions(ctx, "adminPasswords."+db, auto.ConfigValue{Value: password, Secret: true},
			&auto.ConfigOptions{Path: true})
		if err != nil {
			return nil, fmt.Errorf("setting the secret adminPasswords.%s: %w", db, err)
		}
	}
	prepared = true
	return r, nil
}

// WorkPath resolves a path as the plugins see it: they run in the workspace, so relative paths such as the
// security domain's .secrets/<hsm>-sd.json are under it.
func (r *Rehearsal) WorkPath(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(r.opts.Dir, "work", path)
}

// ScriptPath is the file the real odaa plugin writes its SQL and OCI steps to (ODAA_SQL_SCRIPT).
func (r *Rehearsal) ScriptPath() string { return filepath.Join(r.opts.Dir, ScriptFile) }

// Resources returns the custom resources of the stack's state of one type.
func (r *Rehearsal) Resources(ctx context.Context, typ string) ([]apitype.ResourceV3, error) {
	dep, err := r.Stack.Export(ctx)
	if err != nil {
		return nil, fmt.Errorf("exporting the stack: %w", err)
	}
	var state apitype.DeploymentV3
	if err := json.Unmarshal(dep.Deployment, &state); err != nil {
		return nil, fmt.Errorf("decoding the exported stack: %w", err)
	}
	var found []apitype.ResourceV3
	for _, res := range state.Resources {
		if string(res.Type) == typ && res.Custom {
			found = append(found, res)
		}
	}
	return found, nil
}

// Close stops the fake HSM and waits for it to exit.
func (r *Rehearsal) Close() {
	if r.fake != nil {
		r.fake.stop()
	}
}

// Build builds into bin the stand-ins under their plugin names, the real pulumi-resource-odaa and the fake
// HSM's command: all a rehearsal runs.
func Build(ctx context.Context, root, bin string) error {
	if err := buildStandins(ctx, root, bin); err != nil {
		return err
	}
	return buildPlugin(ctx, root, bin)
}

// buildPlugin builds the real pulumi-resource-odaa and the fake HSM's command into bin.
func buildPlugin(ctx context.Context, root, bin string) error {
	for _, b := range []struct{ out, pkg string }{
		{"pulumi-resource-odaa", "./dynamic/cmd/pulumi-resource-odaa"},
		{"odaa-fakehsm", "./dynamic/cmd/odaa-fakehsm"},
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, b.out), b.pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %w\n%s", b.pkg, err, out)
		}
	}
	return nil
}

// buildStandins builds the stand-in once and links it under each plugin's name.
func buildStandins(ctx context.Context, root, bin string) error {
	first := filepath.Join(bin, "pulumi-resource-"+Plugins[0])
	cmd := exec.CommandContext(ctx, "go", "build", "-o", first, "./tests/rehearsal/standin")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the stand-in plugins: %w\n%s", err, out)
	}
	for _, name := range Plugins[1:] {
		dst := filepath.Join(bin, "pulumi-resource-"+name)
		if err := os.Remove(dst); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("replacing the stand-in %s: %w", dst, err)
		}
		if err := os.Link(first, dst); err != nil {
			return fmt.Errorf("linking the stand-in %s: %w", dst, err)
		}
	}
	return nil
}

// databaseNames reads the names of the databases in a stack settings file, each of which needs a password.
func databaseNames(settings []byte) ([]string, error) {
	var file struct {
		Config struct {
			Databases []struct {
				Name string `yaml:"name"`
			} `yaml:"odaa-adbs-hsm:databases"`
		} `yaml:"config"`
	}
	if err := yaml.Unmarshal(settings, &file); err != nil {
		return nil, fmt.Errorf("reading the databases of the stack settings: %w", err)
	}
	names := make([]string, 0, len(file.Config.Databases))
	for _, d := range file.Config.Databases {
		names = append(names, d.Name)
	}
	return names, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// randomPassword meets Autonomous Database's rules: 12–30 characters, upper and lower case, a digit, no quote.
func randomPassword() (string, error) {
	h, err := randomHex(8)
	if err != nil {
		return "", err
	}
	return "Rh" + h + "#9x", nil
}

// Up runs `pulumi up` and returns the count of each operation.
func (r *Rehearsal) Up(ctx context.Context) (map[string]int, error) {
	res, err := r.Stack.Up(ctx, optup.ProgressStreams(r.opts.Progress), optup.ErrorProgressStreams(r.opts.Progress))
	if err != nil {
		return nil, fmt.Errorf("pulumi up: %w", err)
	}
	if res.Summary.ResourceChanges == nil {
		return map[string]int{}, nil
	}
	return *res.Summary.ResourceChanges, nil
}

// Step is what the engine planned for one resource.
type Step struct {
	Op    string
	Type  string
	URN   string
	Diffs []string
	Keys  []string
}

// Preview runs `pulumi preview --diff` and returns every planned step but those that leave a resource as it is.
func (r *Rehearsal) Preview(ctx context.Context) ([]Step, error) {
	ch := make(chan events.EngineEvent)
	done := make(chan []Step)
	go func() {
		var steps []Step
		for e := range ch {
			if e.ResourcePreEvent == nil {
				continue
			}
			m := e.ResourcePreEvent.Metadata
			if string(m.Op) == "same" {
				continue
			}
			steps = append(steps, Step{Op: string(m.Op), Type: m.Type, URN: m.URN, Diffs: m.Diffs, Keys: m.Keys})
		}
		done <- steps
	}()
	_, err := r.Stack.Preview(ctx, optpreview.Diff(), optpreview.EventStreams(ch),
		optpreview.ProgressStreams(r.opts.Progress), optpreview.ErrorProgressStreams(r.opts.Progress))
	steps := <-done
	if err != nil {
		return nil, fmt.Errorf("pulumi preview --diff: %w", err)
	}
	return steps, nil
}

// SetTag sets one tag in the stack's config, as a user changing `tags` would.
func (r *Rehearsal) SetTag(ctx context.Context, key, value string) error {
	return r.SetConfig(ctx, "tags."+key, value)
}

// SetConfig sets a plain config value by path, as `pulumi config set --path` does.
func (r *Rehearsal) SetConfig(ctx context.Context, path, value string) error {
	err := r.Stack.SetConfigWithOptions(ctx, path, auto.ConfigValue{Value: value}, &auto.ConfigOptions{Path: true})
	if err != nil {
		return fmt.Errorf("setting %s: %w", path, err)
	}
	return nil
}

// Tagged returns the URNs of the resources in state whose inputs carry tags: those a tag change must update.
func (r *Rehearsal) Tagged(ctx context.Context) (map[string]bool, error) {
	dep, err := r.Stack.Export(ctx)
	if err != nil {
		return nil, fmt.Errorf("exporting the stack: %w", err)
	}
	var state apitype.DeploymentV3
	if err := json.Unmarshal(dep.Deployment, &state); err != nil {
		return nil, fmt.Errorf("decoding the exported stack: %w", err)
	}
	tagged := map[string]bool{}
	for _, res := range state.Resources {
		if _, ok := res.Inputs["tags"]; ok && res.Custom {
			tagged[string(res.URN)] = true
		}
	}
	return tagged, nil
}

// Destroy runs `pulumi destroy` and returns the count of each operation the engine reported.
func (r *Rehearsal) Destroy(ctx context.Context) (map[string]int, error) {
	res, err := r.Stack.Destroy(ctx, optdestroy.ProgressStreams(r.opts.Progress),
		optdestroy.ErrorProgressStreams(r.opts.Progress))
	if err != nil {
		return nil, fmt.Errorf("pulumi destroy: %w", err)
	}
	if res.Summary.ResourceChanges == nil {
		return map[string]int{}, nil
	}
	return *res.Summary.ResourceChanges, nil
}

// Journal returns what reached the stand-in clouds, one "op type urn" line each, in order.
func (r *Rehearsal) Journal() ([]string, error) {
	data, err := os.ReadFile(filepath.Join(r.opts.Dir, "journal"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the stand-ins' journal: %w", err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n"), nil
}

// StateFile returns the raw checkpoint of the stack in the file backend.
func (r *Rehearsal) StateFile() ([]byte, error) {
	var found []byte
	root := filepath.Join(r.opts.Dir, "state", ".pulumi", "stacks")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Base(path) == r.opts.Stack+".json" {
			found, err = os.ReadFile(path)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the state under %s: %w", root, err)
	}
	if found == nil {
		return nil, fmt.Errorf("no state file %s.json under %s", r.opts.Stack, root)
	}
	return found, nil
}
