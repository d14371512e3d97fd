// This file starts and stops the project's fake Managed HSM (dynamic/cmd/odaa-fakehsm) for a rehearsal: a
// separate process, since the fake lives under dynamic/internal, serving on 127.0.0.1 only, answering for
// the HSM, subscription, resource group and tenant the program computes from the stand-ins' answers.
package rehearsal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/odaa-platform/adbs-hsm/internal/config"
	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
)

// fakeStartTimeout bounds the wait for the fake HSM to write its environment file; it starts in milliseconds.
const fakeStartTimeout = 30 * time.Second

// fakePollMs paces the plugin's polls of the fake's long-running answers (the activation): without a hint the
// plugin waits its own 10 seconds between polls.
const fakePollMs = 20

// fakeHSM is a running odaa-fakehsm process and the variables that point pulumi-resource-odaa at it.
type fakeHSM struct {
	cmd    *exec.Cmd
	exited chan struct{}
	env    map[string]string
}

// startFakeHSM runs the fake for the HSM name in group, its files in dir, and waits (bounded) until it serves.
// The fake's administrator is the deployer the stand-ins sign in as, so its token may download the security
// domain and assign roles; every principal is known to it, as the stand-in's azuread answers are.
func startFakeHSM(ctx context.Context, binary, dir string, h hsmSite) (*fakeHSM, error) {
	cmd := exec.Command(binary, "-dir", dir, "-name", h.name, "-resource-group", h.group,
		"-location", h.location, "-subscription", mockcloud.SubscriptionID, "-tenant", mockcloud.TenantID,
		"-admin", mockcloud.DeployerObjectID, "-retry-after-ms", strconv.Itoa(fakePollMs))
	dieWithParent(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting the fake HSM: %w", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the fake HSM %s: %w", binary, err)
	}
	f := &fakeHSM{cmd: cmd, exited: make(chan struct{})}
	ready := make(chan bool, 1)
	go func() {
		// The fake prints one line once its files are written, then nothing until it exits.
		sc := bufio.NewScanner(stdout)
		ready <- sc.Scan()
		for sc.Scan() {
		}
		_ = cmd.Wait()
		close(f.exited)
	}()

	wait, cancel := context.WithTimeout(ctx, fakeStartTimeout)
	defer cancel()
	select {
	case ok := <-ready:
		if !ok {
			f.stop()
			return nil, fmt.Errorf("the fake HSM exited before serving: %s", strings.TrimSpace(stderr.String()))
		}
	case <-wait.Done():
		f.stop()
		return nil, fmt.Errorf("waiting for the fake HSM to serve: %w", wait.Err())
	}

	data, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		f.stop()
		return nil, fmt.Errorf("reading the fake HSM's environment: %w", err)
	}
	f.env = map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			f.stop()
			return nil, fmt.Errorf("reading the fake HSM's environment: no variable in %q", line)
		}
		f.env[k] = v
	}
	return f, nil
}

// stop interrupts the fake (it serves until interrupted) and waits for it, killing it if it lingers.
func (f *fakeHSM) stop() {
	if err := f.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = f.cmd.Process.Kill()
	}
	select {
	case <-f.exited:
	case <-time.After(fakeStartTimeout):
		_ = f.cmd.Process.Kill()
		<-f.exited
	}
}

// hsmSite is where the program puts the HSM.
type hsmSite struct{ name, group, location string }

// hsmOf returns the HSM name the program computes for the stack under the stand-ins' subscription, its
// resource group and location, from the stack settings (the defaults where they name none).
func hsmOf(settings []byte, stackName string) (hsmSite, error) {
	var file struct {
		Config struct {
			Location          string `yaml:"odaa-adbs-hsm:location"`
			ResourceGroupName string `yaml:"odaa-adbs-hsm:resourceGroupName"`
			Hsm               struct {
				Name       string `yaml:"name"`
				NamePrefix string `yaml:"namePrefix"`
			} `yaml:"odaa-adbs-hsm:hsm"`
		} `yaml:"config"`
	}
	if err := yaml.Unmarshal(settings, &file); err != nil {
		return hsmSite{}, fmt.Errorf("reading the HSM of the stack settings: %w", err)
	}
	cfg := config.Defaults()
	if v := file.Config.ResourceGroupName; v != "" {
		cfg.ResourceGroupName = v
	}
	if v := file.Config.Location; v != "" {
		cfg.Location = v
	}
	if v := file.Config.Hsm.NamePrefix; v != "" {
		cfg.Hsm.NamePrefix = v
	}
	cfg.Hsm.Name = file.Config.Hsm.Name
	return hsmSite{cfg.HsmName(mockcloud.SubscriptionID, stackName), cfg.ResourceGroupName, cfg.Location}, nil
}
