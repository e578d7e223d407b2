#!/usr/bin/env bash
# Makes this machine ready for the chosen suites (all when none is named): installs the system
# packages they need, when running as root and only those `command -v` does not find (one
# `apt-get update` and one `apt-get install`), and creates what those programs expect but only
# their services make (/run/sshd), so a fresh machine passes as a used one does.
#   bash test/infra/setup.sh [unit] [integration] [e2e]
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
  # The sync lists files with git; dotfiles tests clone a local repository with it
  [git]=git
  # node prepare's test: a node user whose sudo asks for a password
  [sudo]=sudo
  # Registry pulls: a local registry, its bcrypt htpasswd, and the docker CLI that pushes to it
  [docker]=docker.io
  [docker-registry]=docker-registry
  [htpasswd]=apache2-utils
  # QEMU workspaces: the emulator, qemu-img for overlays, isoinfo to read a seed back
  [qemu-system-x86_64]=qemu-system-x86
  [qemu-img]=qemu-utils
  [isoinfo]=genisoimage
  # The accelerator probe's guest is checked against its assembly source
  [as]=binutils
  [ld]=binutils
  # LXC workspaces: a private LXD daemon per test run (test/infra/lxd.ts)
  [lxd]=lxd
  [lxc]=lxd-client
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
# The unit suite needs only the OpenSSH server (it checks generated configs with `sshd -T`) and git.
if [ $# -gt 0 ] && [ "$*" = unit ]; then
  declare -A unitNeed=([sshd]=openssh-server [git]=git)
  need=()
  for cmd in "${!unitNeed[@]}"; do need[$cmd]=${unitNeed[$cmd]}; done
fi
ready() {
  # sshd refuses to run as root (even `sshd -T`) without its privilege-separation folder.
  if [ "$(id -u)" = 0 ]; then install -d -m 0755 /run/sshd; fi
}
missing=()
for cmd in "${!need[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ]; then
    missing+=("${need[$cmd]}")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  ready
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
ready
