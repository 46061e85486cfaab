#!/usr/bin/env bash
# A throwaway copy of this computer for installing packages for real, run by
# the package tests as: unshare --mount --propagation private sandbox.sh BASE PKGS
# Mounts, in a private mount namespace: a tmpfs at BASE; an overlay at
# BASE/root whose lower layer is the host's root file system and whose upper
# layer lives in that tmpfs (so dpkg, useradd, systemd-analyze are the host's
# but nothing written reaches the host); /proc, /dev, a fresh /tmp and /run;
# PKGS read-only at /pkgs. Prints "ready", then waits to be killed: the tests
# enter it with nsenter --mount --target PID chroot BASE/root. Killing this
# process ends the namespace and frees every mount.
set -euo pipefail

base=$1
pkgs=$2
mount --make-rprivate /
mount -t tmpfs -o mode=0755 tmpfs "$base"
mkdir "$base/upper" "$base/work" "$base/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" "$base/root"
r=$base/root
mount -t proc proc "$r/proc"
mount --rbind /dev "$r/dev"
mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$r/run"
mkdir -p "$r/pkgs"
mount --bind "$pkgs" "$r/pkgs"
mount -o remount,bind,ro "$r/pkgs"
echo ready
exec sleep infinity
