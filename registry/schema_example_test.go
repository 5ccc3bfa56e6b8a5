package registry_test

import (
	"errors"
	"fmt"

	"github.com/regcred/regcred/registry"
)

// A UI renders the add-registry form from the schema: here, the ECR form's inputs.
func ExampleKind_Schema() {
	s := registry.KindECR.Schema()
	fmt.Println(s.Type, "-", s.Label)
	for _, f := range s.Fields {
		req := ""
		switch {
		case f.Required:
			req = " (required)"
		case len(f.RequiredWhen) > 0:
			req = " (required with " + f.RequiredWhen[0].Field + ")"
		}
		fmt.Printf("  %-16s %-9s %s%s\n", f.Name, f.Type, f.Label, req)
	}
	fmt.Println(s.Rules[0].Text)
	// Output:
	// ECR - Amazon ECR
	//   type             select    Registry type (required)
	//   name             text      Name (required)
	//   url              text      Registry URL
	//   region           text      AWS region (required)
	//   accessKeyId      text      Access key ID (required with secretAccessKey)
	//   secretAccessKey  password  Secret access key (required with accessKeyId)
	//   sessionToken     password  Session token
	//   roleArn          text      Role to assume
	//   credentialsExpire date      Credentials expire on
	//   default          checkbox  Set as default registry
	//   tls.mode         select    TLS
	//   tls.caBundle     textarea  CA certificate (required with tls.mode)
	//   tls.systemRoots  checkbox  Trust the system CAs too
	//   scope.teams      list      Teams
	//   scope.projects   list      Projects
	//   scope.namespaces list      Namespaces
	//   mirror.of        text      Mirror of (required with mirror.order)
	//   mirror.order     number    Order
	//   mirror.fallback  checkbox  Fall back to the upstream
	// access key ID and secret access key together, or neither: the default AWS credential chain (environment, node role)
}

// Validate reports every problem at once, each naming its input, so a form shows each
// under its input; the value of a credential field is never quoted.
func ExampleValidationError() {
	r, _ := registry.FromForm(map[string]string{
		"type": "ECR", "name": "prod", "region": "eu-west-1",
		"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAcessKey": "typo'd",
	})
	var ve *registry.ValidationError
	if errors.As(r.Validate(), &ve) {
		for _, fe := range ve.Errors {
			fmt.Printf("%s: %s\n", fe.Field, fe.Reason)
		}
	}
	// Output:
	// secretAcessKey: is not a field of Amazon ECR
	// secretAccessKey: is required when accessKeyId is given
}
