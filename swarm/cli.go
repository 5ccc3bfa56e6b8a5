package swarm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"

	"github.com/regcred/regcred/internal/engineerr"
	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
)

// CLILogin runs `docker login --username USER --password-stdin SERVER` with DOCKER_CONFIG
// set to configDir, for hosts reachable only through the CLI. The password goes to the
// CLI's standard input, never into argv (where ps and /proc/PID/cmdline would show it).
// The CLI stores the credentials in configDir/config.json (or its configured credential
// store); the user's own ~/.docker is not touched unless configDir is it.
//
// Only username and password credentials can log in this way: identity and registry
// tokens are refused with ErrInvalid (give them to the engine with EncodeAuth instead).
// A refusal by the registry wraps registry.ErrUnauthorized.
//
// The CLI hands the credentials to the daemon, which logs in: as for Login, the registry
// must first complete a TLS handshake under the record's TLS mode (WithTLS; the secure
// mode when it is not given), else the CLI is not run. Options: WithTLS, WithDockerBinary,
// WithEnv.
func CLILogin(ctx context.Context, configDir, serverAddress string, c registry.Credentials, opts ...Option) error {
	cfg := newConfig(opts)
	cmd, err := loginCommand(ctx, configDir, serverAddress, c, cfg)
	if err != nil {
		return err
	}
	if err := checkTLS(ctx, "docker login", cfg.tls, serverAddress, c); err != nil {
		return err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(blank(out.String(), c.Password.Reveal()))
		sentinel := sentinelOf(engineerr.ClassifyText(msg))
		msg = untrusted.Limit(msg, maxVerdictRunes)
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			msg = err.Error() + " " + msg // the CLI did not run
		}
		return &registry.Error{Op: "docker login", Registry: ServerAddress(serverAddress), Err: &EngineError{Verdict: msg, Err: sentinel}}
	}
	return nil
}

// loginCommand builds the docker login command; split out so tests can inspect argv.
func loginCommand(ctx context.Context, configDir, serverAddress string, c registry.Credentials, cfg config) (*exec.Cmd, error) {
	server := ServerAddress(serverAddress)
	fail := func(fe *registry.FieldError) (*exec.Cmd, error) {
		return nil, &registry.Error{Op: "docker login", Registry: server, Err: fe}
	}
	switch {
	case configDir == "":
		return fail(&registry.FieldError{Field: "dockerConfig", Reason: "is empty", Hint: "give the DOCKER_CONFIG directory to log in to"})
	case server == "":
		return fail(&registry.FieldError{Field: "url", Reason: "is empty"})
	case c.Username == "" || c.Password == "":
		return fail(&registry.FieldError{Field: "password", Reason: "docker login needs a username and a password",
			Hint: "pass token credentials to the engine with EncodeAuth, or use the docker-credential-regcred helper"})
	case strings.HasPrefix(c.Username, "-"):
		return fail(&registry.FieldError{Field: "username", Reason: "starts with a dash"})
	}
	cmd := exec.CommandContext(ctx, cfg.binary, "login", "--username", c.Username, "--password-stdin", server)
	env := make([]string, 0, len(os.Environ())+len(cfg.env)+1)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_CONFIG=") {
			env = append(env, kv)
		}
	}
	env = append(env, cfg.env...)
	cmd.Env = append(env, "DOCKER_CONFIG="+configDir)
	cmd.Stdin = strings.NewReader(c.Password.Reveal())
	return cmd, nil
}
