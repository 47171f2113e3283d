#!/usr/bin/env bash
# Undoes stage.sh: puts the data folders it took out of the index back (git reset -- PATHS: the index entries come
# back from HEAD; the files never left the disk) and removes its lines from .git/info/exclude. Keeps .gpu/
# (ignored; reused by the next stage) unless given --clean. Safe to run twice.
#   examples/bench/gpu/unstage.sh [--clean]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
gitdir="$(git rev-parse --absolute-git-dir)"
exclude="$(git rev-parse --path-format=absolute --git-common-dir)/info/exclude"
record="$gitdir/tessera-gpu-stage"
say() { echo "unstage: $*" >&2; }

if [ -f "$record" ]; then
  head0="$(sed -n 1p "$record")"
  count="$(sed -n 2p "$record")"
  mapfile -t big < <(tail -n +3 "$record")
  if [ "$(git rev-parse HEAD)" != "$head0" ]; then
    for d in "${big[@]}"; do
      if ! git cat-file -e "HEAD:$d" 2>/dev/null; then
        say "HEAD moved since stage.sh ($head0) and no longer holds $d: a commit recorded the data folders as"
        say "deleted. Nothing was changed; undo that commit first (its files are still on disk), then run this again."
        exit 1
      fi
    done
    say "note: HEAD moved since stage.sh; restoring the folders from the new HEAD"
  fi
  git reset -q -- "${big[@]}"
  now="$(git ls-files -- "${big[@]}" | wc -l)"
  [ "$now" = "$count" ] || say "WARNING: $now files are tracked under ${big[*]} again; $count were before stage.sh"
  rm -f "$record"
  say "restored ${big[*]} ($now files) to the index"
else
  say "nothing staged"
fi
if [ -f "$exclude" ] && grep -q '^# tessera-gpu-stage begin' "$exclude"; then
  sed -i '/^# tessera-gpu-stage begin/,/^# tessera-gpu-stage end/d' "$exclude"
  say "removed stage.sh's lines from $exclude"
fi
if [ "${1:-}" = --clean ]; then rm -rf .gpu; say "removed .gpu/"; fi
git status --short | head -20 >&2
