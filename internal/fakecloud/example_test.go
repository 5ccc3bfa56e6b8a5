package fakecloud_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/regcred/regcred/internal/fakecloud"
)

// A request signed by the AWS SDK's signer verifies; the same request checked with another
// secret does not.
func ExampleVerifySigV4() {
	body := `{}`
	sign := func() *http.Request {
		r, _ := http.NewRequest("POST", "https://api.ecr.eu-west-3.amazonaws.com/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken")
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "right"}
		v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "ecr", "eu-west-3", time.Now())
		return r
	}
	for _, secret := range []string{"right", "wrong"} {
		sig, err := fakecloud.VerifySigV4(sign(), func(string) (string, bool) { return secret, true })
		fmt.Println(secret, sig.Service, sig.Region, err)
	}
	// Output:
	// right ecr eu-west-3 <nil>
	// wrong ecr eu-west-3 InvalidSignatureException: the request signature does not match
}
