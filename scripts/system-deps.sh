#!/usr/bin/env bash
# System packages some tests need: bubblewrap (the sandbox; as root it also needs setpriv, from
# util-linux) and Chromium (the browser test). Installed with apt when we are root; otherwise
# those tests skip and name the install command.
set -u
need=()
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v setpriv >/dev/null || need+=(util-linux)
command -v chromium >/dev/null || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${need[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq "${need[@]}" >/dev/null \
        || echo "warning: apt-get install ${need[*]} failed; the tests that need them will skip"
else
    echo "note: ${need[*]} missing; install with: sudo apt-get install ${need[*]}"
fi
exit 0
