#!/usr/bin/env bash
# The GPU run of issue 16, for a lent machine (after stage.sh, with carry=[".gpu"]): Tessera's OpenCL backend and
# the official PyTorch code in float32 on the same GPU, seconds per image of VAR-d16, LlamaGen-B, NAR-B and
# FlowAR-S (random weights of the released shapes, batch 1), and the GEMM at VAR-d16's large shapes as a fraction
# of the GPU's FP32 peak. Every step has its own time limit inside one overall budget; a step that fails or runs
# out of time is reported and the next one runs.
#   bash examples/bench/gpu/run.sh            # on the GPU machine; results in $OUT (default /tmp/tessera-gpu-out)
#   bash examples/bench/gpu/run.sh --quick    # tiny sizes on any OpenCL device, official VAR-d2 on the CPU
# Results (at most 8 files): summary.txt (the table), run.log (each step's status and time), env.txt (GPU, driver,
# OpenCL devices), sweep.jsonl (bench gemm per tiling), tessera.jsonl + tessera.log (the benches' JSON and logs,
# --profile per-kernel tables included), official.jsonl + official.log (official_time.py).
# Environment: TESSERA_GPU_BUDGET (seconds for all steps, default 450; --quick 1200), TESSERA_GPU_ONLY
# (comma-separated steps: devices,sweep,gemm,var,llamagen,nar,flowar; default all), PYTHON (default python3).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
quick=0; [ "${1:-}" = --quick ] && quick=1
out="${OUT:-/tmp/tessera-gpu-out}"
mkdir -p "$out"
kit="$root/.gpu"
start=$(date +%s)
budget="${TESSERA_GPU_BUDGET:-$([ $quick = 1 ] && echo 1200 || echo 450)}"
famlimit=$([ $quick = 1 ] && echo 900 || echo 120)   # PoCL on a small CPU takes minutes for the VAE decode
offlimit=$([ $quick = 1 ] && echo 600 || echo 90)
only=",${TESSERA_GPU_ONLY:-devices,sweep,gemm,var,llamagen,nar,flowar},"
py="${PYTHON:-python3}"
log() { echo "[$(( $(date +%s) - start ))s] $*" | tee -a "$out/run.log" >&2; }
want() { [[ "$only" == *",$1,"* ]]; }

[ -d "$kit/lib" ] || { log "no .gpu/lib: run examples/bench/gpu/stage.sh here first and carry .gpu"; exit 1; }

# Java: the packed runtime, unpacked once per machine
java=/tmp/tessera-java/java/bin/java
if [ ! -x "$java" ]; then
  if [ -f "$kit/java.tar.xz" ]; then
    mkdir -p /tmp/tessera-java
    if command -v xz > /dev/null; then
      xz -dc -T0 "$kit/java.tar.xz" | tar -x -C /tmp/tessera-java
    else  # no xz: Python's lzma
      "$py" -c 'import sys, tarfile; t = tarfile.open(sys.argv[1])
kw = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
t.extractall(sys.argv[2], **kw)' "$kit/java.tar.xz" /tmp/tessera-java
    fi || { log "cannot unpack .gpu/java.tar.xz"; exit 1; }
  else
    java="${TESSERA_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
  fi
fi
[ -x "$java" ] || { log "no Java runtime (.gpu/java.tar.xz missing and no JDK at $java)"; exit 1; }

# OpenCL: the carried ICD loader, and an ICD file naming the NVIDIA driver's OpenCL library where there is one
libocl="$kit/ocl/libOpenCL.so.1"
[ -f "$libocl" ] || libocl=libOpenCL.so.1
nv=""
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/cuda/lib64; do
  if [ -e "$d/libnvidia-opencl.so.1" ]; then nv="$d/libnvidia-opencl.so.1"; break; fi
done
[ -n "$nv" ] || nv="$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1/ {print $NF; exit}')"
[ -n "$nv" ] || nv="$(find /usr/local/nvidia /usr/lib /usr/lib64 -name 'libnvidia-opencl.so*' 2>/dev/null | head -1)"
if [ -n "$nv" ]; then
  mkdir -p /tmp/tessera-icd
  echo "$nv" > /tmp/tessera-icd/nvidia.icd
  export OCL_ICD_VENDORS=/tmp/tessera-icd
  export LD_LIBRARY_PATH="$(dirname "$nv")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  log "OpenCL: NVIDIA library $nv (ICD file /tmp/tessera-icd/nvidia.icd), loader $libocl"
else
  log "OpenCL: no NVIDIA OpenCL library (libnvidia-opencl.so.1) found; using the ICDs in /etc/OpenCL/vendors"
fi

ram_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 67108864)
jopts=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
  -XX:+UseG1GC -XX:MaxDirectMemorySize="${ram_kb}k" -Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0
  -Dtessera.home="$root" -Dorg.lwjgl.opencl.libname="$libocl")
tessera=("$java" "${jopts[@]}" -cp "$kit/lib/*" dev.tessera.examples.Main)

# step NAME LIMIT OUTFILE ERRFILE COMMAND...: runs within min(LIMIT, what is left of the budget)
step() {
  local name="$1" limit="$2" o="$3" e="$4"; shift 4
  local left=$(( budget - ($(date +%s) - start) ))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -lt 10 ]; then log "$name: skipped (out of time)"; return; fi
  echo "=== $name" >> "$e"
  local t0=$(date +%s) rc=0
  timeout -k 5 "$limit" "$@" >> "$o" 2>> "$e" || rc=$?
  if [ $rc = 0 ]; then log "$name: ok in $(( $(date +%s) - t0 )) s"
  elif [ $rc = 124 ] || [ $rc = 137 ]; then log "$name: TIMED OUT after $limit s"
  else log "$name: FAILED (exit $rc; see its log)"; fi
}

{
  echo "date: $(date -u)"; echo "quick: $quick"
  nvidia-smi -L 2>&1 || echo "nvidia-smi: none"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.sm,power.limit --format=csv 2>&1 || true
  echo "nvidia OpenCL: ${nv:-none}"; echo "loader: $libocl"; echo "OCL_ICD_VENDORS: ${OCL_ICD_VENDORS:-unset}"
  ls /usr/local/nvidia/lib64 2>/dev/null | grep -iE 'opencl|libcuda\.' \
    || echo "no OpenCL/CUDA libraries in /usr/local/nvidia/lib64"
  ls -l /etc/OpenCL/vendors 2>&1 | tail -n +2
  "$java" -version 2>&1
  echo "python: $($py -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__)' 2>&1)"
  nproc
} > "$out/env.txt" 2>&1
want devices && step devices 60 "$out/env.txt" "$out/env.txt" "${tessera[@]}" devices

if [ $quick = 1 ]; then
  dev=(--device opencl); pydev=cpu
  gemm=(--m 8,16 --shape 64x128,128x64 --seconds 0.2)
  fam_var=(var --depth 2 --warmup 0 --runs 1); fam_llamagen=(); fam_nar=(); fam_flowar=()
  off_var=(--depth 2 --runs 1); off_llamagen=(); off_nar=(); off_flowar=()
else
  dev=(--device opencl); pydev=cuda
  gemm=(--seconds 1)
  fam_var=(var --depth 16 --warmup 1 --runs 2); fam_llamagen=(llamagen --size B --warmup 1 --runs 2)
  fam_nar=(nar --size B --warmup 1 --runs 2); fam_flowar=(flowar --size S --warmup 1 --runs 2)
  off_var=(--runs 3); off_llamagen=(--runs 3); off_nar=(--runs 3); off_flowar=(--runs 3)
fi
# The GEMM's work sizes, swept at the two largest MLP shapes (a fraction of a second each): the device's defaults
# (TileSizes.forDevice) and the local-memory GEMM at other tilings (TSMxTSN tiles of C, TSK deep, WPTMxWPTN per
# work-item). The fastest whose results agree with the CPU backend is passed to every later step.
if want sweep; then
  if [ $quick = 1 ]; then tilings=(default 32,32,8,4,4 32,64,8,4,8); sweep=(--m 16 --shape 64x128 --seconds 0.1)
  else
    tilings=(default 64,64,8,4,4 64,64,32,4,4 64,64,16,8,8 128,64,16,8,4 64,128,16,4,8 128,128,8,8,8
             128,128,16,8,8)
    sweep=(--m 512 --shape 1024x4096,4096x1024 --seconds 0.25)
  fi
  for t in "${tilings[@]}"; do
    props=()
    if [ "$t" != default ]; then
      IFS=, read -r tsm tsn tsk wm wn <<< "$t"
      props=(-Dtessera.opencl.gemm=local -Dtessera.opencl.tsm=$tsm -Dtessera.opencl.tsn=$tsn
             -Dtessera.opencl.tsk=$tsk -Dtessera.opencl.wptm=$wm -Dtessera.opencl.wptn=$wn)
    fi
    rm -f "$out/.sweep"
    step "gemm tiles $t" 30 "$out/.sweep" "$out/tessera.log" "$java" "${jopts[@]}" "${props[@]}" -cp "$kit/lib/*" \
      dev.tessera.examples.Main bench gemm "${dev[@]}" "${sweep[@]}" --json
    [ -s "$out/.sweep" ] && sed "s/^{/{\"tiles\": \"$t\", /" "$out/.sweep" >> "$out/sweep.jsonl"
  done
  rm -f "$out/.sweep"
  best="$("$py" - "$out/sweep.jsonl" <<'PY' 2>> "$out/run.log"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
ok = [r for r in rows if all(x['max_error'] <= 1e-4 for x in r['results'])]
if ok:
    print(max(ok, key=lambda r: r['gflops_all_shapes'])['tiles'])
PY
)"
  if [ "$best" = default ]; then
    log "gemm tiles: the device's defaults are the fastest; the later steps use them"
  elif [ -n "$best" ]; then
    IFS=, read -r tsm tsn tsk wm wn <<< "$best"
    tessera=("$java" "${jopts[@]}" -Dtessera.opencl.gemm=local -Dtessera.opencl.tsm=$tsm -Dtessera.opencl.tsn=$tsn
             -Dtessera.opencl.tsk=$tsk -Dtessera.opencl.wptm=$wm -Dtessera.opencl.wptn=$wn -cp "$kit/lib/*"
             dev.tessera.examples.Main)
    log "gemm tiles: $best is the fastest; the later steps use it"
  else
    log "gemm tiles: no tiling ran and agreed with the CPU; the later steps use the device's defaults"
  fi
fi
want gemm && step "tessera gemm" 90 "$out/tessera.jsonl" "$out/tessera.log" \
  "${tessera[@]}" bench gemm "${dev[@]}" "${gemm[@]}" --json
for fam in var llamagen nar flowar; do
  want $fam || continue
  declare -n t="fam_$fam" o="off_$fam"
  if [ ${#t[@]} -gt 0 ]; then
    step "tessera $fam" $famlimit "$out/tessera.jsonl" "$out/tessera.log" \
      "${tessera[@]}" bench "${t[@]}" "${dev[@]}" --json --profile
  fi
  if [ ${#o[@]} -gt 0 ]; then
    if [ -d "$kit/official/$fam" ]; then
      step "official $fam" $offlimit "$out/official.jsonl" "$out/official.log" env PYTHONUNBUFFERED=1 "$py" \
        examples/bench/official_time.py --family $fam --repo "$kit/official/$fam" --device $pydev "${o[@]}" --json
    else
      log "official $fam: skipped (no .gpu/official/$fam)"
    fi
  fi
  unset -n t o
done

"$py" - "$out" > "$out/summary.txt" 2>> "$out/run.log" <<'PY'
import json, os, re, subprocess, sys
out = sys.argv[1]
def lines(name):
    try:
        with open(os.path.join(out, name)) as f:
            return [json.loads(l) for l in f if l.strip().startswith('{')]
    except OSError:
        return []
tess, off = lines('tessera.jsonl'), lines('official.jsonl')
env = open(os.path.join(out, 'env.txt')).read()
# FP32 peak: SMs x 128 FP32 lanes (Hopper, Ampere GA10x, Ada) x 2 (FMA) x the maximum SM clock
peak, how = None, 'no GPU found'
try:
    q = subprocess.run(['nvidia-smi', '--query-gpu=name,clocks.max.sm', '--format=csv,noheader,nounits'],
                       capture_output=True, text=True, check=True).stdout.strip().split('\n')[0]
    name, mhz = [x.strip() for x in q.split(',')]
    import torch
    sms = torch.cuda.get_device_properties(0).multi_processor_count
    peak = sms * 128 * 2 * float(mhz) * 1e6 / 1e9
    how = '%s: %d SMs x 128 FP32 lanes x 2 x %s MHz = %.1f TFLOP/s' % (name, sms, mhz, peak / 1e3)
except Exception as e:  # noqa: BLE001
    # the catalogue figure where the count above failed (H100 SXM and H200: 132 SMs at 1980 MHz)
    named = re.search(r'(H100|H200)', env)
    peak = 66.9e3 if named and 'PCIe' not in env else None
    how = ('%s by name: 66.9 TFLOP/s (%s)' % (named.group(1), e)) if peak else 'peak unknown (%s)' % e
print('FP32 peak: ' + how)
sweep = lines('sweep.jsonl')
if sweep:
    print('\nGEMM tilings (TSM,TSN,TSK,WPTM,WPTN; bench gemm at the largest MLP shapes; max error vs the CPU):')
    for r in sorted(sweep, key=lambda r: -r['gflops_all_shapes']):
        frac = ' %5.1f%% of peak' % (100 * r['gflops_all_shapes'] / peak) if peak else ''
        print('  %-16s %9.1f GFLOP/s%s  err %.1e' % (r['tiles'], r['gflops_all_shapes'], frac,
                                                   max(x['max_error'] for x in r['results'])))
for g in [t for t in tess if 'results' in t]:
    print('\nTessera GEMM on %s (bench gemm, GFLOP/s, max error vs the CPU backend):' % g['device'])
    for r in g['results']:
        frac = ' %5.1f%% of peak' % (100 * r['gflops'] / peak) if peak else ''
        print('  M %4d  %4dx%-4d  %9.1f GFLOP/s%s  err %.1e' % (r['m'], r['in'], r['out'], r['gflops'], frac,
                                                            r['max_error']))
    if peak:
        print('  all shapes: %.1f GFLOP/s = %.1f%% of peak' % (g['gflops_all_shapes'],
                                                             100 * g['gflops_all_shapes'] / peak))
print('\nseconds per image, batch 1, float32 (Tessera: --device opencl; official: PyTorch on %s)' %
      (off[0]['device_name'] if off else '-'))
print('  %-44s %10s %10s %8s' % ('model', 'Tessera', 'official', 'ratio'))
fams = {'var': 'VAR-d', 'llamagen': 'LlamaGen-', 'nar': 'NAR-', 'flowar': 'FlowAR-'}
for fam, prefix in fams.items():
    t = next((x for x in tess if str(x.get('model', '')).startswith(prefix)), None)
    o = next((x for x in off if x.get('family') == fam), None)
    if not t and not o:
        continue
    ts = t['seconds_per_image'] if t else None
    os_ = o['seconds_per_image'] if o else None
    print('  %-44s %10s %10s %8s' % ((t or o)['model'][:44], '%.3f' % ts if ts else '-', '%.3f' % os_ if os_ else '-',
                                    '%.2fx' % (ts / os_) if ts and os_ else '-'))
    if t and 'gflops' in t and peak:
        print('    Tessera whole image: %.1f GFLOP/s = %.1f%% of peak' % (t['gflops'], 100 * t['gflops'] / peak))
PY
log "summary written"
cat "$out/summary.txt" >&2
log "done; files in $out: $(ls "$out" | tr '\n' ' ')"
