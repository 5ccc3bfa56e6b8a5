// Command pause is the sandbox ("pause") container of the harness's kubelet, and the
// image its tests pull: a static program that waits for SIGTERM or SIGINT and exits 0, as
// registry.k8s.io/pause does. It is built and packed into an image at test time
// (testenv.PauseImage), since the machines the tests run on have no internet.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
