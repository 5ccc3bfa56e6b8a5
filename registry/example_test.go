package registry_test

import (
	"errors"
	"fmt"

	"github.com/regcred/regcred/registry"
)

// A platform renders its "add registry" form from the kind's schema.
func ExampleKind_Fields() {
	for _, f := range registry.KindECR.Fields() {
		fmt.Printf("%-16s %-18q required=%-5v secret=%v\n", f.Name, f.Label, f.Required, f.Secret)
	}
	// Output:
	// region           "AWS region"       required=true  secret=false
	// accessKeyId      "Access key ID"    required=false secret=false
	// secretAccessKey  "Secret access key" required=false secret=true
	// sessionToken     "Session token"    required=false secret=true
	// roleArn          "Role to assume"   required=false secret=false
}

// Validation names the field, says what is wrong and what to do.
func ExampleRegistry_Validate() {
	r := registry.Registry{Name: "prod", Kind: registry.KindECR, Fields: map[string]string{
		"region":          "eu-west-1",
		"accessKeyId":     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", // the secret, pasted in the wrong box
		"secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	}}
	err := r.Validate()
	var fe *registry.FieldError
	if errors.As(err, &fe) {
		fmt.Println("field:", fe.Field)
	}
	fmt.Println(errors.Is(err, registry.ErrInvalid))
	fmt.Println(err)
	// Output:
	// field: accessKeyId
	// true
	// field accessKeyId: is not an AWS access key ID (20 characters starting with AKIA (or ASIA for temporary keys); did you swap it with the secret access key?)
}
