#!/bin/sh
# Kubernetes mounts a Secret's files owned by root and readable by the pod's group; the product refuses a private key
# that others can read, as ssh does. So each file mounted in $ASSURANCE_SECRETS (default /var/run/secrets/assurance)
# is copied to a file of this user, mode 0600, in $HOME/.assurance, before the command runs.
set -eu
secrets="${ASSURANCE_SECRETS:-/var/run/secrets/assurance}"
private="$HOME/.assurance"
if [ -d "$secrets" ]; then
  mkdir -p "$private"
  chmod 0700 "$private"
  for file in "$secrets"/*; do
    [ -f "$file" ] || continue
    install -m 0600 "$file" "$private/$(basename "$file")"
  done
fi
exec "$@"
