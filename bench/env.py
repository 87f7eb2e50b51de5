"""What machine and software a run used, for every record and pytest-benchmark's machine_info."""

from __future__ import annotations

import platform
import shutil
import socket
import subprocess
from functools import cache

import torch


@cache
def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@cache
def _driver_version() -> str | None:
    if not shutil.which("nvidia-smi"):
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout else None


def environment(device: torch.device) -> dict:
    """Flat, JSON-safe facts about the device and software versions."""
    info = {
        "device": device.type,
        "device_name": _cpu_name(),
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda,
        "cudnn_version": None,
        "driver_version": None,
        "python_version": platform.python_version(),
        "hostname": socket.gethostname(),
        "cpu_threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(
            device_name=props.name,
            device_memory_bytes=props.total_memory,
            device_capability=f"{props.major}.{props.minor}",
            cudnn_version=torch.backends.cudnn.version(),
            driver_version=_driver_version(),
        )
    return info
