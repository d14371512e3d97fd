// Package securitydomain implements the Azure Key Vault Managed HSM security domain file format and its
// cryptography as the Azure CLI (az keyvault security-domain download/upload/restore-blob) implements it.
//
// A version 2 security domain holds:
//   - EncData: data items, each a compact JWE with "alg":"dir" and "enc":"A256CBC-HS512" whose 64-byte key
//     is SP 800-108 counter-mode HMAC-SHA512 of the master secret with the item tag as label, an empty
//     context and L = 512 bits;
//   - SharedKeys: the 32-byte master secret Shamir-shared over GF(257) byte by byte, share x = 1..N
//     encoded as little-endian uint16 words (x << 9) | value, each share a compact JWE (RSA-OAEP-256,
//     A256CBC-HS512) to one download certificate named by x5t_256, the base64url SHA-256 thumbprint of
//     the certificate DER; any "required" shares recover the master by Lagrange interpolation at 0.
//
// The restore blob re-encrypts the items under a fresh master wrapped to the recovering HSM's transfer key.
//
// Nothing here logs; errors name items, shares and certificate thumbprints but never key material or
// plaintext, and Item and KeyPair print without their secrets.
package securitydomain
