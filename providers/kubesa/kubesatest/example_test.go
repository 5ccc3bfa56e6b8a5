package kubesatest_test

import (
	"context"
	"fmt"

	authv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/providers/kubesa/kubesatest"
)

func ExampleNewClientset() {
	kc := kubesatest.NewClientset(kubesatest.ServiceAccount("payload", "my-pull-sa"))
	secs := int64(3600)
	tr, err := kc.CoreV1().ServiceAccounts("payload").CreateToken(context.Background(), "my-pull-sa",
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{Audiences: []string{"registry"}, ExpirationSeconds: &secs}}, metav1.CreateOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	claims, _ := kubesatest.Claims(tr.Status.Token)
	fmt.Println(claims["sub"], claims["aud"], kc.Issued())

	_, err = kc.CoreV1().ServiceAccounts("payload").CreateToken(context.Background(), "nope", &authv1.TokenRequest{}, metav1.CreateOptions{})
	fmt.Println(err)
	// Output:
	// system:serviceaccount:payload:my-pull-sa [registry] 1
	// serviceaccounts "nope" not found
}
