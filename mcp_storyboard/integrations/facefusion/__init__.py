"""FaceFusion 3.x driven through its CLI (``facefusion.py headless-run``): argument mapping, inputs and outputs."""
