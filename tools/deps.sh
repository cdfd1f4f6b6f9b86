#!/bin/sh
# tools/deps.sh: installs the Debian packages funnel builds and tests with,
# when any is missing. Runs apt-get as root (or through sudo).
set -e
PKGS="build-essential autoconf automake libtool pkg-config flex bison \
libsqlite3-dev libffi-dev libjansson-dev check \
libcurl4-openssl-dev libpango1.0-dev libcairo2-dev fonts-dejavu-core poppler-utils"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "tools/deps.sh: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
