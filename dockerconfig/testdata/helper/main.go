// Command docker-credential-regcredtest is a tiny credential helper for dockerconfig's
// tests. It speaks the docker-credential-helpers protocol through that module's own server
// side (credentials.Serve): "get" reads a server URL on stdin and prints
// {"ServerURL","Username","Secret"}. Its store is the JSON file named by
// $REGCRED_TEST_HELPER_DB ({"server": ["user", "secret"]}); every request is appended to
// $REGCRED_TEST_HELPER_LOG. Servers "fail.example" and "slow.example" misbehave on purpose.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"
)

type helper struct{}

func (helper) Add(*credentials.Credentials) error { return errors.New("read-only test helper") }
func (helper) Delete(string) error                { return errors.New("read-only test helper") }
func (helper) List() (map[string]string, error)   { return nil, errors.New("not implemented") }

func (helper) Get(serverURL string) (string, string, error) {
	if p := os.Getenv("REGCRED_TEST_HELPER_LOG"); p != "" {
		if f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			fmt.Fprintln(f, serverURL)
			f.Close()
		}
	}
	switch serverURL {
	case "fail.example":
		fmt.Fprintln(os.Stderr, "backend exploded: keychain locked")
		return "", "", errors.New("keychain locked")
	case "slow.example":
		time.Sleep(time.Hour)
	}
	data, err := os.ReadFile(os.Getenv("REGCRED_TEST_HELPER_DB"))
	if err != nil {
		return "", "", err
	}
	var db map[string][2]string
	if err := json.Unmarshal(data, &db); err != nil {
		return "", "", err
	}
	c, ok := db[serverURL]
	if !ok {
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	return c[0], c[1], nil
}

func main() { credentials.Serve(helper{}) }
