//go:build !linux

package rehearsal

import "os/exec"

// dieWithParent does nothing where the kernel offers no parent-death signal; Close stops the fake.
func dieWithParent(*exec.Cmd) {}
