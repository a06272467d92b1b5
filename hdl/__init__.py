"""spinaps.hdl: the Amaranth gateware only (no tool runners, no torch, nothing from spinaps.sw).

Parameters are checked against :mod:`spinaps.contract`; the synapse-memory kinds are
:data:`spinaps.hdl.synapse_memory.MEMORY_KINDS`. Verilog writing and synthesis live in
:mod:`spinaps.toolchain`.
"""
