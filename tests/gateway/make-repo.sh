#!/usr/bin/env bash
# make-repo.sh DIR: DIR/repo.git, a bare repository with one commit whose
# README says "hello from git". Serve DIR with `servers.py git DIR`.
set -euo pipefail
dir=${1:?usage: make-repo.sh DIR}
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$work GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@example.test \
	GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@example.test
git init -q -b main "$work/src"
echo "hello from git" > "$work/src/README"
git -C "$work/src" add README
git -C "$work/src" commit -q -m "first"
git clone -q --bare "$work/src" "$dir/repo.git"
chmod -R a+rX "$dir"
