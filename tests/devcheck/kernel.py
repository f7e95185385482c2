"""An IPython kernel with a simulated GPU (see fake_gpu.py).

The GPU kind comes from ``DLBOOK_DEVICE`` (``cuda`` or ``mps``), the variable that
also makes ``dlbook.get_device()`` choose it. ``make devcheck`` registers this
kernel as ``python3-fake-gpu`` and runs every notebook in it.
"""

import os

from ipykernel import kernelapp

from tests.devcheck import fake_gpu

if __name__ == "__main__":
    kind = os.environ.get("DLBOOK_DEVICE", "cuda").partition(":")[0]
    fake_gpu.enable(kind)
    kernelapp.launch_new_instance()
