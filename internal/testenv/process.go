package testenv

import (
	"os"
	"time"
)

// stopProcess asks p to stop with sig, waits up to grace for it to exit (exited receives
// cmd.Wait's result), then kills it and waits. It reports whether p had to be killed.
func stopProcess(p *os.Process, exited <-chan error, sig os.Signal, grace time.Duration) (killed bool) {
	p.Signal(sig)
	select {
	case <-exited:
		return false
	case <-time.After(grace):
		p.Kill()
		<-exited
		return true
	}
}
