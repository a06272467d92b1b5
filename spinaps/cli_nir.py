"""The NIR commands of ``spinaps`` (docs/nir.md): ``import`` (a .nir graph from snnTorch, Norse
or spinaps -> a verified-hardware artifact) and ``export-nir`` (an all-LIF artifact -> a .nir
graph to simulate the quantized network in its framework).

Like every command, each checks its options, the input file, the output path and the whole
graph (one error listing every node that cannot map) before the golden model runs.
"""

from __future__ import annotations

from spinaps import preflight as pre

__all__ = ["cmd_import", "cmd_export_nir", "add_parsers"]


def cmd_import(args):
    from spinaps.cli import _load_data, _threads
    from spinaps.contract import check
    from spinaps.sw import artifact as art
    from spinaps.sw.nir_export import hardware_options
    from spinaps.sw.nir_import import import_nir, nir_layers, read_graph

    source = pre.in_file("MODEL.nir", args.model, "write one with your framework's NIR export")
    out = pre.out_file("--out", args.out, force=args.force)
    if not args.dt > 0:
        raise pre.OptionError(f"--dt {args.dt}: give the simulation time step in seconds (snnTorch: 1e-4)")
    graph = read_graph(source)
    # What a spinaps export carried, user options win; the data set gives the input shape.
    options = {k: v for k, v in hardware_options(graph).items() if k not in ("frames", "n_inputs")}
    given = {"t_max": args.t_max, "readout": args.readout, "reset": args.reset,
             "weight_bits": pre.per_layer("--weight-bits", args.weight_bits),
             "v_bits": pre.per_layer("--v-bits", args.v_bits),
             "lanes": pre.per_layer("--lanes", args.lanes), "encoder_lanes": args.encoder_lanes,
             "leak_tolerance": args.leak_tolerance, "encoder": args.encoder}
    options.update({k: v for k, v in given.items() if v is not None})
    options.setdefault("t_max", 16)
    check("t_max", options["t_max"], field="--t-max")
    nir_layers(graph, dt=args.dt, **({"leak_tolerance": options["leak_tolerance"]}
                                     if "leak_tolerance" in options else {}))   # every bad node, now
    if args.data is None:
        raise pre.OptionError("--data: give the data set the network was trained on (a built-in name or a "
                              "file), so the artifact records it and its golden accuracy")
    ds = _load_data(args.data)
    _threads(args)
    manifest, arrays, gold = import_nir(graph, ds, dt=args.dt, source_accuracy=args.source_accuracy, **options)
    artifact = art.load(art.save(out, manifest, arrays))
    print(f"imported {source} ({len(manifest['layers'])} LIF layers, {manifest['decision']}, t_max "
          f"{manifest['t_max']}): golden accuracy {gold.accuracy(ds.y_test):.4f} on {ds.name}")
    print(f"wrote {artifact.path}; check it in RTL with `spinaps verify --model {artifact.path}`")


def cmd_export_nir(args):
    from spinaps.cli import _model
    from spinaps.sw.nir_export import to_nir, write_nir

    out = pre.out_file("--out", args.out, force=args.force)
    if not args.dt > 0:
        raise pre.OptionError(f"--dt {args.dt}: give the time step the graph is for (snnTorch: 1e-4)")
    path = write_nir(out, to_nir(_model(args), dt=args.dt))
    print(f"wrote {path} (integer weights and thresholds; docs/nir.md says how to load it)")


def add_parsers(command, data_option, threads_option, default_model):
    """Register both commands with the CLI's ``command(name, func, help)`` factory."""
    from spinaps.contract import DECISIONS, ENCODER_TYPES, RESETS
    from spinaps.sw.lanes import DEFAULT_ENCODER_LANES

    sp = command("import", cmd_import, "map a NIR graph (snnTorch, Norse, spinaps) onto integer LIF "
                                       "layers and save its artifact (docs/nir.md)")
    sp.add_argument("model", metavar="MODEL.nir", help="the NIR graph file")
    sp.add_argument("--out", default="build/model/imported.npz", help="artifact to write")
    sp.add_argument("--force", action="store_true", help="overwrite an existing --out")
    sp.add_argument("--dt", type=float, required=True,
                    help="time step the graph's tau are relative to, in seconds (snnTorch 1.0 writes 1e-4)")
    sp.add_argument("--t-max", type=int, default=None, help="time steps per inference (default 16)")
    sp.add_argument("--readout", choices=[d for d in DECISIONS], default=None,
                    help="decision rule of the output layer (default spike_count)")
    sp.add_argument("--reset", choices=RESETS, default=None,
                    help="reset after a spike (default zero, as NIR states it; snnTorch trains with subtract)")
    sp.add_argument("--weight-bits", default=None, help="cells per weight, one value or one per layer (default 8)")
    sp.add_argument("--v-bits", default=None, help="potential width, one or per layer (default: from the weights)")
    sp.add_argument("--lanes", default=None, help="neuron lanes, one or per layer (default: half the neurons, <= 16)")
    sp.add_argument("--encoder-lanes", type=int, default=None,
                    help=f"inputs compared per cycle (default {DEFAULT_ENCODER_LANES})")
    sp.add_argument("--encoder", choices=ENCODER_TYPES, default=None,
                    help="input encoder: bernoulli (rate-coded input) or deterministic (for a network trained "
                         "on direct input; default bernoulli)")
    sp.add_argument("--leak-tolerance", type=float, default=None,
                    help="largest relative error of the power-of-two leak (default 0.34)")
    sp.add_argument("--source-accuracy", type=float, default=None,
                    help="the framework's own test accuracy, recorded as accuracy.float")
    data_option(sp, "required: the data the network was trained on")
    threads_option(sp)

    sp = command("export-nir", cmd_export_nir, "write an all-LIF artifact as a NIR graph (integer scale; "
                                               "docs/nir.md)")
    sp.add_argument("--model", default=default_model, help="artifact (.npz)")
    sp.add_argument("--out", default="build/model/model.nir", help="NIR file to write")
    sp.add_argument("--force", action="store_true", help="overwrite an existing --out")
    sp.add_argument("--dt", type=float, default=1e-4, help="time step the graph's tau are for, in seconds")
