package kubesatest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TokenMarker is in every token the fake issues, so tests can look for leaks.
const TokenMarker = "KUBESATOKEN"

// Issuer is the iss claim of issued tokens.
const Issuer = "https://kubernetes.default.svc.cluster.local"

// Clientset is a client-go fake clientset whose "create serviceaccounts/token" behaves
// like the TokenRequest API: it fails with NotFound for a ServiceAccount that is not in
// the tracker, refuses expirationSeconds below 600 (Invalid), and issues a JWT-shaped token
// whose claims carry the audiences, the subject and the expiry it also reports in
// status.expirationTimestamp.
type Clientset struct {
	*fake.Clientset
	// Now is the clock of issued tokens (default time.Now).
	Now    func() time.Time
	issued atomic.Int64
}

// NewClientset returns the fake with objects (ServiceAccounts, ...) in its tracker.
func NewClientset(objects ...runtime.Object) *Clientset {
	c := &Clientset{Clientset: fake.NewSimpleClientset(objects...), Now: time.Now}
	c.PrependReactor("create", "serviceaccounts", c.react)
	return c
}

// Issued returns how many tokens were issued.
func (c *Clientset) Issued() int { return int(c.issued.Load()) }

// ServiceAccount builds a ServiceAccount object for NewClientset.
func ServiceAccount(namespace, name string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: "f847810d-bcdd-42b8-9f95-2c2d8d10bc8c"}}
}

var saResource = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}

func (c *Clientset) react(action k8stesting.Action) (bool, runtime.Object, error) {
	ca, ok := action.(k8stesting.CreateAction)
	if !ok || action.GetSubresource() != "token" {
		return false, nil, nil
	}
	name := ""
	if na, ok := action.(k8stesting.CreateActionImpl); ok {
		name = na.Name
	}
	req, ok := ca.GetObject().(*authv1.TokenRequest)
	if !ok {
		return true, nil, apierrors.NewBadRequest("not a TokenRequest")
	}
	ns := action.GetNamespace()
	obj, err := c.Tracker().Get(saResource, ns, name)
	if err != nil {
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccounts"}, name)
	}
	sa := obj.(*corev1.ServiceAccount)
	secs := int64(3600)
	if req.Spec.ExpirationSeconds != nil {
		secs = *req.Spec.ExpirationSeconds
	}
	if secs < 600 {
		return true, nil, apierrors.NewInvalid(schema.GroupKind{Group: "authentication.k8s.io", Kind: "TokenRequest"}, name, nil)
	}
	now := c.Now()
	exp := now.Add(time.Duration(secs) * time.Second)
	n := c.issued.Add(1)
	aud := req.Spec.Audiences
	if len(aud) == 0 {
		aud = []string{Issuer}
	}
	claims, _ := json.Marshal(map[string]any{
		"aud": aud, "exp": exp.Unix(), "iat": now.Unix(), "iss": Issuer,
		"sub":           "system:serviceaccount:" + ns + ":" + name,
		"kubernetes.io": map[string]any{"namespace": ns, "serviceaccount": map[string]string{"name": name, "uid": string(sa.UID)}},
		"jti":           fmt.Sprintf("%s%d", TokenMarker, n),
	})
	enc := base64.RawURLEncoding.EncodeToString
	token := enc([]byte(`{"alg":"RS256","kid":"fake"}`)) + "." + enc(claims) + "." + enc([]byte(TokenMarker+"signature"))
	out := req.DeepCopy()
	out.Namespace, out.Name = ns, name
	out.Status = authv1.TokenRequestStatus{Token: token, ExpirationTimestamp: metav1.NewTime(exp)}
	return true, out, nil
}

// Claims decodes the claims of a token the fake issued (no verification).
func Claims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}
