#!/usr/bin/env bash
# Writes the OCI API-key credentials from the environment (repository secrets) into ~/.oci/config and
# ~/.oci/oci_api_key.pem, both 0600 in a 0700 directory, for the oci provider and the odaa plugin
# (DEFAULT profile). Nothing is echoed.
set -euo pipefail
for v in OCI_USER_OCID OCI_TENANCY_OCID OCI_FINGERPRINT OCI_REGION OCI_PRIVATE_KEY; do
  if [ -z "${!v:-}" ]; then
    echo "oci-credentials: $v is empty: set it as a repository secret (OCI_REGION as a variable)" >&2
    exit 1
  fi
done
umask 077
mkdir -p "$HOME/.oci"
chmod 700 "$HOME/.oci"
key="$HOME/.oci/oci_api_key.pem"
printf '%s\n' "$OCI_PRIVATE_KEY" > "$key"
cat > "$HOME/.oci/config" <<CONFIG
[DEFAULT]
user=$OCI_USER_OCID
fingerprint=$OCI_FINGERPRINT
tenancy=$OCI_TENANCY_OCID
region=$OCI_REGION
key_file=$key
CONFIG
chmod 600 "$key" "$HOME/.oci/config"
