#!/bin/sh
# Container entrypoint: SageMaker starts the image as `<image> serve`.
set -eu

# Use the CUDA forward-compatibility libraries when the host driver is older than this image's CUDA 12.8 runtime.
if [ -d /usr/local/cuda/compat ] && [ -r /proc/driver/nvidia/version ]; then
  driver_major=$(sed -n 's/.*Kernel Module *\([0-9]*\)\..*/\1/p' /proc/driver/nvidia/version | head -n 1)
  if [ -n "${driver_major}" ] && [ "${driver_major}" -lt 570 ]; then
    export LD_LIBRARY_PATH="/usr/local/cuda/compat${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"
  fi
fi

case "${1:-serve}" in
  serve)
    # exec: node replaces the shell, so it receives SIGTERM from SageMaker directly (and stops llama-server).
    exec node /opt/chatstack/main.js serve
    ;;
  *)
    exec "$@"
    ;;
esac
