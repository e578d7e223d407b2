#!/usr/bin/env bash
# Installs the system packages the integration tests need, when running as root and only
# those `command -v` does not find: one `apt-get update` and one `apt-get install`.
set -euo pipefail

# command → Debian package
declare -A need=(
  [sshd]=openssh-server
  [ssh]=openssh-client
  [ssh-keygen]=openssh-client
  [ip]=iproute2
  [busybox]=busybox-static
  [dockerd]=docker.io
  [iptables]=iptables
  [debootstrap]=debootstrap
  [nsenter]=util-linux
  # A real VS Code for the extension's end-to-end tests (code-server + headless Chromium)
  [chromium]=chromium
  [rg]=ripgrep
  [krb5-config]=libkrb5-dev
  # code-server's native modules (argon2…) build from source: their prebuilt binaries come from
  # GitHub, which the test machines cannot reach
  [g++]=g++
  [make]=make
  [python3]=python3
)
missing=()
for cmd in "${!need[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ]; then
    missing+=("${need[$cmd]}")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" != 0 ]; then
  echo "test infra: not root, cannot install ${pkgs[*]}; integration suites that need them will say so" >&2
  exit 0
fi
echo "test infra: installing ${pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
