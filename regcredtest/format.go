package regcredtest

import (
	"fmt"
	"io"
)

// The kit's types hold credentials (test values, but a platform's test log is no place for
// them either): every fmt verb prints String, which names the fake and never a secret.

func (r *Registry) String() string {
	return fmt.Sprintf("regcredtest.Registry{%s, %s auth}", r.URL, r.Auth)
}

// Format prints String for every verb (%v, %+v, %#v, %s).
func (r *Registry) Format(f fmt.State, _ rune) { io.WriteString(f, r.String()) }

func (e *ECR) String() string { return "regcredtest.ECR{" + e.Host + "}" }

// Format prints String for every verb.
func (e *ECR) Format(f fmt.State, _ rune) { io.WriteString(f, e.String()) }

func (a *ACR) String() string { return "regcredtest.ACR{" + a.LoginServer + "}" }

// Format prints String for every verb.
func (a *ACR) Format(f fmt.State, _ rune) { io.WriteString(f, a.String()) }

func (g *Google) String() string { return "regcredtest.Google{" + g.g.TokenURL() + "}" }

// Format prints String for every verb.
func (g *Google) Format(f fmt.State, _ rune) { io.WriteString(f, g.String()) }
