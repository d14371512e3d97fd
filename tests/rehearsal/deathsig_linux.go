package rehearsal

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel stop cmd when the rehearsal dies, however it dies (SIGKILL included), so that no
// fake HSM is left serving.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
