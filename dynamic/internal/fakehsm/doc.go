// Package fakehsm is a local stand-in for an Azure Key Vault Managed HSM for tests: an HTTPS server on
// 127.0.0.1 that speaks the data-plane REST protocol (security domain, local RBAC, keys) and the
// management-plane (ARM) resource well enough that the real Azure SDK clients (azkeys.Client, the azadmin
// rbac.Client) and our own security-domain client work against it unchanged.
//
// The security domain is real cryptography: a download creates a domain with securitydomain.Create from the
// caller's certificates, and an upload opens the restore blob with the server's transfer key. Keys are real
// RSA keys, so encrypt/decrypt and wrap/unwrap round trips are genuine; a key backup is sealed under a key
// derived from the security domain's items, so it restores only into an HSM holding the same domain.
//
// Authorization follows the service: a data-plane request without a bearer token gets the Key Vault
// challenge; a token the server issued (Server.Token, Server.Credential) names a principal, and the
// principal's role assignments, checked against the data actions of the built-in role definitions, decide
// what it may do. Before the security domain is downloaded every key and role call is refused.
//
// Everything is deterministic and counted: faults (throttling, outages, delayed role propagation, principals
// not yet replicated) are injected a configured number of times, every request is logged with its route and
// principal (never its body), and nothing sleeps. A Server is safe for concurrent use.
package fakehsm
