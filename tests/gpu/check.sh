#!/usr/bin/env bash
# tests/gpu/check.sh OUTDIR - the whole GPU check, on a machine with an
# NVIDIA GPU, within 5 minutes: build for that GPU, run the cuda-labelled
# tests, train the small net one epoch on Fashion-MNIST on the GPU, time
# every op and the models on the GPU (cuDNN/cuBLAS, and our own kernels
# for the models; the models on the CPU, for the speedup), run PyTorch on the same GPU side by side when it is installed,
# and write the results into OUTDIR as they come, at most 8 files:
#   check.log    every phase's commands, output and time (the training
#                run's last lines among them)
#   info.txt     GPU, driver, CUDA, cuDNN, PyTorch; `cnn info`
#   tests.log    ctest -L cuda
#   cnn.json     cnn bench ops and models rows (GPU, and CPU models)
#   torch.json   the PyTorch peer's rows on the GPU (FP32 and TF32)
#   summary.md   the tables: GPU vs CPU, cnn vs PyTorch, per op and model
#   speedup.png  the plot, when matplotlib or gnuplot is there
#   rest.tar.gz  the build log and every intermediate file
#
# A GPU machine may lack Check, zlib's headers or pkg-config, and have
# cuDNN only inside PyTorch's Python packages. The script uses what is
# there and takes the rest from CNN_GPU_DEPS (default .gpu-deps in the
# repository), made on a Debian machine by tests/gpu/fetch_deps.sh.
# Without a GPU it still builds and runs what it can (the tests skip).
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: tests/gpu/check.sh OUTDIR" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
work=${CNN_GPU_WORK:-$(mktemp -d)}
build=$work/build
mkdir -p "$work"
log=$out/check.log
: > "$log"
start=$(date +%s)
budget=${CNN_GPU_CHECK_SECONDS:-290} # leaves time to pack up within 5 min
status=0

say() { echo "[$(($(date +%s) - start)) s] $*" | tee -a "$log"; }

# Seconds left for a phase: its own limit, or what remains of the budget
# minus what the later phases are promised, whichever is less.
left() {
    local want=$1 reserve=$2
    local remain=$((budget - ($(date +%s) - start) - reserve))
    [ "$remain" -lt "$want" ] && want=$remain
    [ "$want" -lt 1 ] && want=1
    echo "$want"
}

# run NAME LIMIT RESERVE FILE CMD...: one phase, output to FILE (and its
# tail to the log), killed after its limit.
run() {
    local name=$1 limit=$2 reserve=$3 file=$4
    shift 4
    local seconds
    seconds=$(left "$limit" "$reserve")
    say "phase $name (limit ${seconds} s): $*"
    local t0=$(date +%s) rc=0
    timeout --kill-after=5 "$seconds" "$@" > "$file" 2>&1 || rc=$?
    tail -n 40 "$file" >> "$log"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        say "phase $name: TIMED OUT after ${seconds} s"
    else
        say "phase $name: exit $rc in $(($(date +%s) - t0)) s"
    fi
    [ "$rc" -eq 0 ] || status=1
    return "$rc"
}

# --- what the machine has -------------------------------------------------
info=$out/info.txt
{
    echo "date: $(date -u +%FT%TZ)"
    echo "host: $(uname -srm), $(nproc) CPUs"
    if command -v nvidia-smi > /dev/null; then
        nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total \
            --format=csv 2>&1
    else
        echo "nvidia-smi: not found"
    fi
} > "$info"

nvcc=$(command -v nvcc || ls /usr/local/cuda*/bin/nvcc 2> /dev/null | head -n 1)
echo "nvcc: ${nvcc:-none} $([ -n "$nvcc" ] && "$nvcc" --version | tail -n 2 | tr '\n' ' ')" >> "$info"
echo "cmake: $(cmake --version 2>&1 | head -n 1)" >> "$info"

# The GPU's architecture: 9.0 -> 90. "native" needs a GPU at configure
# time, which a build machine may not have, so it is read here.
arch=${CUDAARCHS:-}
if [ -z "$arch" ] && command -v nvidia-smi > /dev/null; then
    arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2> /dev/null |
           head -n 1 | tr -d ' .')
fi
arch=${arch:-90}
echo "building for: sm_$arch" >> "$info"

# PyTorch, and cuDNN from its packages when the system has none.
python=""
for candidate in python3 /usr/bin/python3 python; do
    if command -v "$candidate" > /dev/null &&
        "$candidate" -c "import torch" 2> /dev/null; then
        python=$candidate
        break
    fi
done
if [ -n "$python" ]; then
    "$python" - >> "$info" 2>&1 << 'PY'
import torch
print("pytorch:", torch.__version__, "cuda", torch.version.cuda,
      "available", torch.cuda.is_available())
if torch.cuda.is_available():
    print("pytorch gpu:", torch.cuda.get_device_name(0),
          "cudnn", torch.backends.cudnn.version())
PY
else
    echo "pytorch: not installed (no peer comparison)" >> "$info"
fi

cmake_args=(-DCMAKE_BUILD_TYPE=Release -DCNN_CUDA=ON -DCNN_CUDNN=AUTO
            -DCMAKE_CUDA_ARCHITECTURES="$arch" -DCNN_WERROR=OFF)
[ -n "$nvcc" ] && cmake_args+=(-DCMAKE_CUDA_COMPILER="$nvcc")
libpath=""

has_cudnn=no
for dir in ${CUDNN_PATH:-} /usr/include /usr/local/cuda/include \
           /usr/include/x86_64-linux-gnu; do
    [ -f "$dir/cudnn_version.h" ] || [ -f "$dir/include/cudnn_version.h" ] &&
        has_cudnn=yes
done
if [ "$has_cudnn" = no ] && [ -n "$python" ]; then
    # pip's nvidia-cudnn package: headers and libcudnn.so.9, no
    # unversioned libcudnn.so; give CMake one in a private folder.
    pip_cudnn=$("$python" -c "import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))" 2> /dev/null ||
                "$python" -c "import nvidia.cudnn; print(list(nvidia.cudnn.__path__)[0])" 2> /dev/null)
    if [ -n "$pip_cudnn" ] && [ -f "$pip_cudnn/include/cudnn_version.h" ]; then
        mkdir -p "$work/cudnn/lib"
        ln -sfn "$pip_cudnn/include" "$work/cudnn/include"
        lib=$(ls "$pip_cudnn"/lib/libcudnn.so* | head -n 1)
        ln -sfn "$lib" "$work/cudnn/lib/libcudnn.so"
        export CUDNN_PATH=$work/cudnn
        libpath=$pip_cudnn/lib
        has_cudnn="yes (PyTorch's: $pip_cudnn)"
    fi
fi
echo "cudnn for the build: $has_cudnn" >> "$info"

# Check, zlib, libjpeg-turbo, libpng and pkg-config from the carried
# packages where missing.
deps=${CNN_GPU_DEPS:-$root/.gpu-deps}
need_deps=no
command -v pkg-config > /dev/null && pkg-config --exists check 2> /dev/null ||
    need_deps=yes
for header in zlib.h turbojpeg.h png.h; do
    echo "#include <$header>" | cc -E - > /dev/null 2>&1 || need_deps=yes
done
printf '#include <stdio.h>\n#include <jpeglib.h>\n' | cc -E - > /dev/null 2>&1 ||
    need_deps=yes
if [ "$need_deps" = yes ]; then
    if [ -d "$deps/usr" ]; then
        multiarch=$deps/usr/lib/x86_64-linux-gnu
        cmake_args+=(-DCMAKE_PREFIX_PATH="$deps/usr"
                     -DCMAKE_INCLUDE_PATH="$deps/usr/include"
                     -DCMAKE_LIBRARY_PATH="$multiarch")
        if ! command -v pkg-config > /dev/null; then
            # Without pkg-config, tests/CMakeLists.txt finds Check by its
            # files; pkgconf from the packages may not run on this libc.
            cmake_args+=(-DPKG_CONFIG_EXECUTABLE=/nonexistent)
        fi
        libpath=${libpath:+$libpath:}$multiarch
        echo "dependencies: from $deps" >> "$info"
    else
        echo "dependencies: Check, zlib, libjpeg, TurboJPEG or libpng missing and no $deps" \
             "(run tests/gpu/fetch_deps.sh on a Debian machine)" >> "$info"
    fi
fi
if [ -n "$libpath" ]; then
    export LD_LIBRARY_PATH=$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
say "$(cat "$info")"

# --- build ------------------------------------------------------------------
buildlog=$work/build.log
jobs=$(nproc)
if run configure 60 200 "$work/configure.log" \
       cmake -S "$root" -B "$build" "${cmake_args[@]}"; then
    cat "$work/configure.log" >> "$buildlog"
    # Only what the GPU phases run: the program and the cuda-labelled
    # suites (ctest -N lists them by name, which is their target's).
    targets=(cnn_tool)
    while read -r name; do
        targets+=("$name")
    done < <(cd "$build" && ctest -N -L cuda | awk '/Test +#/ {print $3}')
    run build 170 110 "$work/build-only.log" \
        cmake --build "$build" -j "$jobs" --target "${targets[@]}"
    cat "$work/build-only.log" >> "$buildlog"
else
    cat "$work/configure.log" >> "$buildlog"
fi
cnn=$build/bin/cnn
if [ ! -x "$cnn" ]; then
    say "no cnn program was built; packing up"
else
    "$cnn" info >> "$info" 2>&1

    # --- tests ----------------------------------------------------------------
    run tests 60 100 "$out/tests.log" \
        bash -c "cd '$build' && ctest -L cuda --output-on-failure"

    # --- benchmarks -------------------------------------------------------------
    gpu=no
    "$cnn" info 2>&1 | grep -q "^cuda devices: [1-9]" && gpu=yes
    if [ "$gpu" = yes ]; then
        # The main job on the GPU: one epoch of the small net on
        # Fashion-MNIST (the system's, or the carried copy).
        if [ ! -d /usr/share/datasets/fashion-mnist ] &&
            [ -d "$deps/usr/share/datasets/fashion-mnist" ]; then
            export CNN_FASHION_MNIST=$deps/usr/share/datasets/fashion-mnist
        fi
        run train 35 150 "$work/train.txt" \
            "$cnn" train --model small --device cuda:0 --epochs 1 \
            --out "$work/train"
        run bench_ops 40 70 "$work/bench_ops.txt" \
            "$cnn" bench ops --device cuda:0 --quick --no-validate \
            --json "$work/cnn_ops_gpu.json"
        run bench_models 45 50 "$work/bench_models.txt" \
            "$cnn" bench models --device cuda:0 --samples 5 \
            --json "$work/cnn_models_gpu.json"
        run bench_models_tf32 25 40 "$work/bench_models_tf32.txt" \
            env CNN_MATH=tf32 "$cnn" bench models --device cuda:0 \
            --models alexnet,resnet50 --samples 5 \
            --json "$work/cnn_models_gpu_tf32.json"
        # Our own kernels against cuDNN/cuBLAS on the same models.
        run bench_models_native 25 45 "$work/bench_models_native.txt" \
            env CNN_ENGINE=native "$cnn" bench models --device cuda:0 \
            --models small,resnet18,alexnet --samples 5 \
            --json "$work/cnn_models_gpu_native.json"
        # The CPU side of the speedup: the models at a small batch (the
        # CPU takes seconds per step at the GPU's batch).
        run bench_models_cpu 35 35 "$work/bench_models_cpu.txt" \
            "$cnn" bench models --device cpu --models small,resnet18,alexnet \
            --batch 16 --samples 5 --min-ms 1 --warmup 1 \
            --json "$work/cnn_models_cpu.json"
    else
        say "no usable GPU: the benchmarks are skipped"
    fi

    # --- PyTorch on the same GPU ------------------------------------------------
    if [ -n "$python" ] && [ "$gpu" = yes ] &&
        "$python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
        run torch_models 40 15 "$work/torch_models.txt" \
            "$python" "$root/bench/peer_torch_models.py" --device cuda \
            --samples 5 --json "$work/torch_models_gpu.json"
        run torch_models_tf32 20 10 "$work/torch_models_tf32.txt" \
            "$python" "$root/bench/peer_torch_models.py" --device cuda --tf32 \
            --models alexnet,resnet50 --samples 5 \
            --json "$work/torch_models_gpu_tf32.json"
        run torch_ops 25 8 "$work/torch_ops.txt" \
            "$python" "$root/bench/peer_torch.py" --device cuda --quick \
            --json "$work/torch_ops_gpu.json"
    else
        say "PyTorch with CUDA is not here: no peer comparison"
    fi
fi

# --- results ------------------------------------------------------------------
py=${python:-$(command -v python3 || true)}
if [ -n "$py" ]; then
    "$py" "$root/tests/gpu/summarize.py" "$work" "$out" >> "$log" 2>&1 ||
        say "summarize.py failed"
else
    say "no Python: no summary.md, cnn.json or torch.json"
    cat "$work"/cnn_*.json > "$out/cnn.json" 2> /dev/null
fi
tar -C "$work" --exclude=build --exclude=cudnn -czf "$out/rest.tar.gz" . \
    2>> "$log"
say "done: $(ls "$out" | tr '\n' ' ')"
exit "$status"
