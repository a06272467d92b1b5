"""Environment variables between our runners and the cocotb test modules.

Kept free of imports: the cocotb modules run inside the simulator's Python, and importing
the runner there would load Amaranth, the accelerator and torch at every launch.
"""

OUT_ENV = "SPINAPS_OUT"                  # JSON file a cocotb test writes its observations to
IN_ENV = "SPINAPS_COMPONENT_IN"          # JSON file of a component test's stimulus


def read_params():
    """The stimulus a runner wrote for this cocotb test (JSON at ``$SPINAPS_COMPONENT_IN``)."""
    import json
    import os
    with open(os.environ[IN_ENV]) as f:
        return json.load(f)


def write_output(observed):
    """Hand the test's observations back to the runner (JSON at ``$SPINAPS_OUT``)."""
    import json
    import os
    with open(os.environ[OUT_ENV], "w") as f:
        json.dump(observed, f)
