// Package acr is the Azure Container Registry credential provider, on net/http only (no
// Azure SDK).
//
// Rules:
//   - Without a tenant, the login server's username and password (a service principal's
//     client ID and secret, an ACR token, or the admin user) are basic auth as they are;
//     nothing expires and no call is made.
//   - With a tenant (WithTenant), each Credentials call runs the Azure AD flow: an OAuth 2.0
//     client-credentials token from https://login.microsoftonline.com/TENANT/oauth2/v2.0/token
//     (the sovereign clouds' hosts for .azurecr.cn and .azurecr.us) for scope
//     https://containerregistry.azure.net/.default (an ACR-audience token, accepted even
//     when a registry disables ARM-audience tokens; WithScope changes it), then a form post
//     to https://LOGINSERVER/oauth2/exchange (grant_type=access_token, service, tenant,
//     access_token) that returns an ACR refresh token. The result is
//     Credentials{Username: TokenUsername, IdentityToken: refresh token} — what
//     `docker login -u 00000000-0000-0000-0000-000000000000` stores as "identitytoken".
//   - Expiry is the refresh token's JWT exp claim, read without verification (the registry
//     verifies it); an opaque token gets DefaultLifetime (3 h, WithDefaultLifetime).
//   - The provider does not cache: wrap it with providers/cache (providers.For does when a
//     tenant is set).
//   - Errors are *registry.Error{Op: "refresh"} naming the step ("azure ad token", "acr
//     token exchange") and wrapping ErrUnauthorized (wrong client ID or secret, no AcrPull
//     role), ErrForbidden, ErrUnavailable (5xx, timeouts, malformed answers) or ErrInvalid
//     (an unknown tenant: a *registry.FieldError for "tenant"). They quote Azure AD's error
//     code and AADSTS number, never its description, the request or a secret.
package acr
