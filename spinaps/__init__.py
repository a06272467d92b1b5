"""spinaps: trained spiking neural networks to verified FPGA/ASIC accelerators."""

__version__ = "0.1.0"
