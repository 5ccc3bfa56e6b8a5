package google_test

import (
	"fmt"

	"github.com/regcred/regcred/providers/google"
)

func ExampleArtifactRegistryHost() {
	host, _ := google.ArtifactRegistryHost("europe-west1")
	fmt.Println(host)
	_, err := google.ArtifactRegistryHost("europe-west1.evil.io")
	fmt.Println(err)
	// Output:
	// europe-west1-docker.pkg.dev
	// field region: is not an Artifact Registry location (a region such as us-central1 or europe-west1, or a multi-region: us, europe, asia)
}

func ExampleNew() {
	// A key whose private_key lost its line breaks (a common copy-paste accident) is refused
	// before any network call, without echoing the key.
	key := `{"type":"service_account","client_email":"puller@p.iam.gserviceaccount.com",` +
		`"private_key":"-----BEGIN PRIVATE KEY----- MIIEv... -----END PRIVATE KEY-----"}`
	_, err := google.New(key)
	fmt.Println(err)
	// Output:
	// field serviceAccountKey: private_key is not PEM (the key may have been truncated or its \n escapes lost; download a new key)
}
