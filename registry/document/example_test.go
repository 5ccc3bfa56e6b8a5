package document_test

import (
	"fmt"

	"github.com/regcred/regcred/registry/document"
)

// The documents' flat shape: the kind comes from the URL's host, the password goes to the
// kind's own field (GHCR's token).
func ExampleFromDocument() {
	r, inferred, err := document.FromDocument(document.Document{
		Name: "GitHub Registry", URL: "ghcr.io", Username: "my-github-user", Password: "ghp_xxxxxxxxxxxx"})
	fmt.Println(r, err)
	fmt.Println(inferred)
	fmt.Println(r.Redacted().Fields)

	_, _, err = document.FromDocument(document.Document{Name: "GitHub Registry", URL: "ghcr.io", Username: "my-github-user"})
	fmt.Println(err)
	// Output:
	// registry "GitHub Registry" (ghcr, ghcr.io) <nil>
	// type ghcr (GitHub Container Registry) inferred from host ghcr.io
	// map[token:REDACTED username:my-github-user]
	// field password: is required for GitHub Container Registry (a classic or fine-grained token with read:packages (write:packages to push))
}
