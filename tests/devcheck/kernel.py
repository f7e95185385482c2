"""An IPython kernel with the simulated CUDA device on (see fake_cuda.py).

``make devcheck`` registers it as the kernel ``python3-fake-cuda`` and runs every
notebook in it with ``DLBOOK_DEVICE=cuda``.
"""

from ipykernel import kernelapp

from tests.devcheck import fake_cuda

if __name__ == "__main__":
    fake_cuda.enable()
    kernelapp.launch_new_instance()
