#!/usr/bin/env bash
# Install the Debian/Ubuntu packages named as arguments if any is missing.
# Runs apt-get as root, through sudo when available; otherwise says what to install and
# carries on (voicecli works without them, with fewer features).
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "sysdeps: not a Debian/Ubuntu system; install these yourself: ${missing[*]}" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo"; else
  echo "sysdeps: not root and no sudo; install these yourself: ${missing[*]}" >&2
  exit 0
fi
echo "sysdeps: updating the package lists (apt-get update)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
echo "sysdeps: installing ${missing[*]}" >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
