"""Environment variables between our runners and the cocotb test modules.

Kept free of imports: the cocotb modules run inside the simulator's Python, and importing
the runner there would load Amaranth, the accelerator and torch at every launch.
"""

OUT_ENV = "SPINAPS_OUT"                  # JSON file a cocotb test writes its observations to
IN_ENV = "SPINAPS_COMPONENT_IN"          # JSON file of a component test's stimulus
