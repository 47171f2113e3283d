#!/usr/bin/env bash
# Prepares this checkout for one run of examples/bench/gpu/run.sh on a lent GPU machine (the device tool sends the
# checkout: tracked files plus untracked files git does not ignore, plus the ignored paths named in `carry`, 64 MiB
# in all). Two things, both undone by unstage.sh:
#   1. builds the ignored folder .gpu/ (listed in .git/info/exclude, never committed): a jlinked Java 25 runtime
#      packed as java.tar.xz, the tessera bench jar and its dependencies (LWJGL with its Linux natives), Debian's
#      OpenCL ICD loader libOpenCL.so.1, and the official VAR/LlamaGen/NAR/FlowAR files official_time.py imports,
#      exported (git archive) from bare mirrors at the pinned commits;
#   2. takes the large data folders (testdata/* except testdata/scripts, examples/models) out of the index
#      (git rm -r --cached: the files stay on disk) and ignores them, so that they do not travel.
# Refuses to run when those folders hold staged changes (the restore would drop them) or when already staged.
# While staged, commit nothing in this checkout: a commit would record the folders as deleted. Run unstage.sh
# right after the device run.
#   examples/bench/gpu/stage.sh          # then the run call it prints, then examples/bench/gpu/unstage.sh
# Environment: TESSERA_JAVA_HOME (a JDK 25; default /usr/lib/jvm/temurin-25-jdk-amd64), TESSERA_MIRRORS (folder of
# the bare mirrors owner+name/repo; default /work/.mirror).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
jdk="${TESSERA_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mirrors="${TESSERA_MIRRORS:-/work/.mirror}"
gitdir="$(git rev-parse --absolute-git-dir)"
exclude="$(git rev-parse --path-format=absolute --git-common-dir)/info/exclude"
record="$gitdir/tessera-gpu-stage"
say() { echo "stage: $*" >&2; }
die() { say "$*"; exit 1; }

[ -f "$record" ] && die "already staged (see $record); run examples/bench/gpu/unstage.sh first"
[ -x "$jdk/bin/jlink" ] || die "no JDK 25 with jlink at $jdk (set TESSERA_JAVA_HOME)"
# the data folders that stay behind: every testdata/ folder but scripts/ (official_time.py imports from it)
big=(examples/models)
for d in testdata/*/; do d="${d%/}"; [ "$d" = testdata/scripts ] || big+=("$d"); done
tracked=$(git ls-files -- "${big[@]}" | wc -l)
[ "$tracked" -gt 0 ] || die "none of ${big[*]} is tracked: nothing to leave behind"
git diff --cached --quiet -- "${big[@]}" \
    || die "staged changes under ${big[*]}: commit or unstage them first (the restore would drop them)"

# 1. the jars, built as ./tessera builds them when missing or older than the sources
jar=examples/bench/target/tessera-bench.jar
if [ ! -f "$jar" ] || [ -n "$(find . \( -name target -o -name .git -o -name testdata -o -name .gpu \) -prune -o \
    \( -name '*.java' -o -name pom.xml -o -path '*/src/main/resources/*' \) -newer "$jar" -print -quit)" ]; then
  say "building the jars (mvn -q -B -DskipTests package)..."
  JAVA_HOME="$jdk" MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" mvn -q -B -DskipTests package \
      || die "the build failed"
fi
grep -qxF '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"   # stays: .gpu/ is never committed
new=.gpu.new
rm -rf "$new"
mkdir -p "$new/lib" "$new/ocl" "$new/official"
cp "$jar" examples/bench/target/lib/*.jar "$new/lib/"

# 2. the Java runtime: the modules jdeps finds in the jars plus the vector API, debug symbols stripped, packed
#    with xz (about 20 MB instead of 60 MB), reused while the JDK and the module list stay the same
mods="$("$jdk/bin/jdeps" --ignore-missing-deps --multi-release 25 --print-module-deps "$new"/lib/*.jar 2>/dev/null \
    | tail -1)"
[ -n "$mods" ] || die "jdeps found no modules in the jars"
mods="$(echo "$mods,jdk.incubator.vector" | tr , '\n' | sort -u | paste -sd, -)"
key="$("$jdk/bin/java" -version 2>&1 | head -1) | $mods"
if [ -f .gpu/java.tar.xz ] && [ "$(cat .gpu/java.key 2>/dev/null)" = "$key" ]; then
  cp .gpu/java.tar.xz .gpu/java.key "$new/"
  say "Java runtime reused ($mods)"
else
  say "jlink $mods (a few minutes with xz)..."
  tmp="$(mktemp -d)"
  { "$jdk/bin/jlink" --add-modules "$mods" --strip-debug --no-header-files --no-man-pages --output "$tmp/java" 2>&1 \
      | grep -v 'incubator modules' >&2; } || true
  [ -x "$tmp/java/bin/java" ] || die "jlink failed (see above)"
  strip --strip-unneeded "$tmp/java/lib/server/libjvm.so" 2>/dev/null || true
  tar -C "$tmp" -c java | xz -6 -T0 > "$new/java.tar.xz"
  rm -rf "$tmp"
  echo "$key" > "$new/java.key"
fi

# 3. the OpenCL ICD loader (ocl-icd: reads OCL_ICD_VENDORS), for machines without one
ocl="$(ldconfig -p | awk '/libOpenCL\.so\.1 .*x86-64/ {print $NF; exit}')"
[ -n "$ocl" ] || ocl=/usr/lib/x86_64-linux-gnu/libOpenCL.so.1
[ -e "$ocl" ] || die "no libOpenCL.so.1 here (apt-get install ocl-icd-libopencl1)"
cp -L "$ocl" "$new/ocl/libOpenCL.so.1"

# 4. the official files official_time.py imports, at the pinned commits (the mirrors may lack unrelated blobs)
export_official() {  # family, mirror, commit, paths...
  local fam="$1" repo="$mirrors/$2/repo" commit="$3"
  shift 3
  if [ ! -d "$repo" ]; then say "no mirror $repo: the official $fam timing will be skipped"; return; fi
  mkdir -p "$new/official/$fam"
  if ! git -C "$repo" archive "$commit" -- "$@" 2>/dev/null | tar -x -C "$new/official/$fam"; then
    say "could not export $fam from $repo at $commit: the official $fam timing will be skipped"
    rm -rf "$new/official/$fam"
  fi
}
export_official var FoundationVision+VAR 78b95394fc5896192e3a003e4b295f8ea743c48f dist.py models
export_official llamagen FoundationVision+LlamaGen ce98ec41803a74a90ce68c40ababa9eaeffeb4ec autoregressive/models \
    utils/drop_path.py tokenizer/tokenizer_image/vq_model.py
export_official nar ThisisBillhe+NAR 225c1fb563df80172ebbd51782838fe1fd09b40a NAR-images/autoregressive/models \
    NAR-images/utils/drop_path.py NAR-images/tokenizer/tokenizer_image/vq_model.py
export_official flowar wangqiang9+FlowAR 5745a964df1d7320e56f0879c75e4f73e88d960f models
rm -rf .gpu
mv "$new" .gpu

# 5. leave the data folders behind: out of the index, ignored; the record says what to restore
{
  echo "# tessera-gpu-stage begin (examples/bench/gpu/unstage.sh removes these lines)"
  for d in "${big[@]}"; do echo "/$d/"; done
  echo "# tessera-gpu-stage end"
} >> "$exclude"
{ git rev-parse HEAD; echo "$tracked"; printf '%s\n' "${big[@]}"; } > "$record"
git rm -r -q --cached -- "${big[@]}"

# 6. what will travel
sum() { tr '\0' '\n' | while IFS= read -r f; do [ -f "$f" ] && [ ! -L "$f" ] && stat -c %s "$f"; done \
    | awk '{s += $1} END {print s + 0}'; }
t=$(git ls-files -z | sum)
u=$(git ls-files -z --others --exclude-standard | sum)
k=$(du -sb .gpu | cut -f1)
s=0; [ -d shared ] && s=$(du -sb shared | cut -f1)
total=$((t + u + k + s))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
say "left behind: ${big[*]} ($tracked files, out of the index; still on disk)"
shared_note=""; [ "$s" -gt 0 ] && shared_note=", shared $(mib "$s")"
say "travels: tracked $(mib "$t"), untracked $(mib "$u"), .gpu $(mib "$k")$shared_note"
say "total $(mib "$total") of 64 MiB"
if [ "$total" -gt $((64 * 1048576)) ]; then
  say "OVER the 64 MiB limit: remove untracked files or large tracked ones, or run unstage.sh"
  exit 1
fi
cat >&2 <<MSG
stage: ready. The device call (one command, about 8 minutes; results come back under files_at):
  run(command="bash examples/bench/gpu/run.sh", carry=[".gpu"], timeout_s=600)
then, at once, whatever happened:
  bash examples/bench/gpu/unstage.sh
MSG
