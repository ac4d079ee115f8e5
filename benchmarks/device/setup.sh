#!/usr/bin/env bash
# There (source it from the repository root on the lent GPU machine): unpack .dev/ship, made
# here by benchmarks/device/ship.sh, rebuild multilingual-e5-small, and set the environment.
ship="${OPTICAL_IR_SHIP:-.dev/ship}"
tar -C "$ship" -xJf "$ship/bundle.tar.xz"
export PYTHONPATH="$PWD/$ship/pysite:$PWD" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 OPTICAL_IR_OFFLINE=1
export OPTICAL_IR_MIRROR="$PWD/$ship/pack/data" OPTICAL_IR_CACHE="${OPTICAL_IR_CACHE:-/tmp/optical_ir}"
python3 benchmarks/device/pack.py unpack --pack "$ship"
