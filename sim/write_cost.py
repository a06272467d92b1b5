"""Cost of loading weights into STT-RAM with write errors and write-verify (docs/semantics.md 9.1).

Energy from the device table (sim/devices.json): every write attempt drives every cell of
the word (``write_energy_pj_per_bit``, as :func:`spinaps.sim.cost.weight_load_energy_j`
assumes for one clean load) and every verify read senses the word
(``read_energy_pj_per_bit``). Time: the memory's write cycles at the table's clock.
"""

from spinaps.sim.devices import value

__all__ = ["load_cost"]

PJ = 1e-12


def load_cost(stats, widths, devices, memory="sttram"):
    """Cost of a load whose per-layer counters are ``stats`` (:class:`spinaps.sw.write_faults.WriteStats`)
    into memories ``widths`` cells wide. Returns a dict: ``write_cycles`` (summed over layers;
    the layers' memories could write in parallel, this is the serial figure), ``attempts``,
    ``verify_reads``, ``energy_j`` and ``time_s`` (write cycles at ``clock_mhz``)."""
    table = devices["memories"][memory]
    e_write, e_read = value(table, "write_energy_pj_per_bit"), value(table, "read_energy_pj_per_bit")
    cycles = sum(s.cycles for s in stats)
    energy = sum((s.attempts * e_write + s.verify_reads * e_read) * w for s, w in zip(stats, widths)) * PJ
    return {"write_cycles": cycles, "attempts": sum(s.attempts for s in stats),
            "verify_reads": sum(s.verify_reads for s in stats), "energy_j": energy,
            "time_s": cycles / (value(devices, "clock_mhz") * 1e6)}
