"""Cost of a weight load with write errors and write-verify (spinaps.sim.write_cost)."""

from spinaps.sim.devices import load_devices, value
from spinaps.sim.models import random_network
from spinaps.sim.write_cost import load_cost
from spinaps.sw import write_faults


def test_plain_load_costs_one_write_per_cell_and_verify_adds_reads():
    devices = load_devices()
    stt = devices["memories"]["sttram"]
    model = random_network(3, sizes=(12, 8, 5), lanes=[4, 5])
    widths = [lp.lanes * lp.weight_bits for lp in model.layers]
    cells = sum(len(w) * width for w, width in zip(write_faults.network_words(model), widths))
    _, plain = write_faults.load_network(model, p=0.0, seed=1)
    cost = load_cost(plain, widths, devices)
    assert abs(cost["energy_j"] - cells * value(stt, "write_energy_pj_per_bit") * 1e-12) < 1e-18
    assert cost["write_cycles"] == 4 * sum(len(w) for w in write_faults.network_words(model))
    _, verified = write_faults.load_network(model, p=0.2, seed=1, retries=2)
    vcost = load_cost(verified, widths, devices)
    assert vcost["attempts"] > cost["attempts"] and vcost["verify_reads"] == vcost["attempts"]
    assert vcost["energy_j"] > cost["energy_j"] * (1 + value(stt, "read_energy_pj_per_bit") / value(stt, "write_energy_pj_per_bit"))
