package kubesa_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/regcred/regcred/providers/kubesa"
	"github.com/regcred/regcred/providers/kubesa/kubesatest"
	"github.com/regcred/regcred/registry"
)

func ExampleNew() {
	now := time.Date(2026, 3, 5, 2, 14, 19, 0, time.UTC)
	client := kubesatest.NewClientset(kubesatest.ServiceAccount("payload", "my-pull-sa"))
	client.Now = func() time.Time { return now }

	p, _ := kubesa.New(client, "payload", "my-pull-sa", kubesa.WithAudiences("payload-registry.example.com"))
	c, _ := p.Credentials(context.Background())
	fmt.Println(p)
	fmt.Println(c)

	gone, _ := kubesa.New(client, "payload", "deleted-sa")
	_, err := gone.Credentials(context.Background())
	fmt.Println(errors.Is(err, registry.ErrNotFound))
	fmt.Println(err)
	// Output:
	// kubernetes serviceaccount payload/my-pull-sa (audience payload-registry.example.com)
	// credentials{user=token password=REDACTED expires=2026-03-06T02:14:19Z}
	// true
	// refresh: serviceaccount payload/deleted-sa: not found; it was deleted or never created: create it (kubectl create serviceaccount deleted-sa -n payload) or fix the record's serviceAccount
}
