"""OT and distillation benchmark: batched Sinkhorn vs POT, OT's share of a training step, throughput.

All comparisons are made in one run, on the same inputs:

* the batched log-domain Sinkhorn of :mod:`optical_ir.ot` on a padded batch against a
  per-pair loop of POT's ``ot.sinkhorn(method="sinkhorn_log")`` (same ε, same iterations)
  and against POT's batched solver ``ot.batch.solve_batch`` (torch backend, log-Sinkhorn);
* the share of an OPTICAL training step (student forward + backward + AdamW) spent in the
  OT loss (target ≤ 15%);
* training throughput (sentence pairs per second) of OPTICAL against sentence-level MSE
  distillation on the same batches;
* the peak resident memory of the process.

    python benchmarks/sinkhorn.py [--pairs 64] [--batch-size 16] [--device cpu|cuda] [--output benchmarks/sinkhorn.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from _measure import peak_rss_mib


def _median_time(fn: Any, repeats: int, sync: Any) -> float:
    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=64, help="NTREX sw training pairs used")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--eps", type=float, default=0.05)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", default="benchmarks/sinkhorn.json")
    args = parser.parse_args()

    import numpy as np
    import torch

    try:
        import ot as pot
    except ImportError:  # a machine without POT: the per-pair loop runs our own solver instead
        pot = None

    from optical_ir.distillation import DistillConfig, build_loss, training_pairs
    from optical_ir.distillation.features import TokenSide, stack, teacher_cache
    from optical_ir.distillation.losses import Batch
    from optical_ir.encoders import DenseEncoder
    from optical_ir.ot import cost_matrix, marginals, ot_loss, sinkhorn_log

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    config = DistillConfig(languages=("sw",), max_pairs=args.pairs, batch_size=args.batch_size,
                           eps=args.eps, sinkhorn_iterations=args.iterations)
    pairs = training_pairs(config)
    teacher = DenseEncoder(config.teacher, device=args.device)
    teacher.model.eval().requires_grad_(False)
    student = DenseEncoder(config.student, device=args.device)
    student.model.get_input_embeddings().weight.requires_grad_(False)
    student.model.train()
    t_side, s_side = TokenSide(teacher, config.max_length), TokenSide(student, config.max_length)
    cache = teacher_cache(t_side, [e for _, _, e in pairs], args.batch_size)
    batches = [pairs[i : i + args.batch_size] for i in range(0, len(pairs), args.batch_size)]
    results: dict[str, Any] = {"device": str(device), "threads": args.threads, "pairs": len(pairs),
                               "batch_size": args.batch_size, "eps": args.eps, "iterations": args.iterations}

    # 1. batched Sinkhorn vs POT, on the real token vectors of one batch
    batch = batches[0]
    with torch.no_grad():
        x, xm, _ = s_side.run([s for _, s, _ in batch])
        y, ym, _ = stack([cache[e] for _, _, e in batch], device)
        cost = cost_matrix(x, y)
        a, b = marginals(xm), marginals(ym)
    ours = _median_time(lambda: sinkhorn_log(cost, a, b, args.eps, args.iterations), args.repeats, sync)
    problems = []
    for i in range(len(batch)):
        rx, ry = xm[i].bool(), ym[i].bool()
        M = cost[i][rx][:, ry].double().cpu().numpy()
        problems.append((np.full(M.shape[0], 1 / M.shape[0]), np.full(M.shape[1], 1 / M.shape[1]), M))

    def pot_loop() -> None:
        for pa, pb, M in problems:
            pot.sinkhorn(pa, pb, M, args.eps, method="sinkhorn_log", numItermax=args.iterations, stopThr=0)

    if pot is None:
        print("POT is not installed here: skipping the comparisons with POT")
        results["sinkhorn"] = {"batched_ms": 1000 * ours}
    else:
        loop = _median_time(pot_loop, args.repeats, sync)
        plan = sinkhorn_log(cost, a, b, args.eps, 200)
        ref = pot.sinkhorn(*problems[0][:2], problems[0][2], args.eps, method="sinkhorn_log", numItermax=200,
                           stopThr=0)
        agree = float(np.abs(plan[0][xm[0].bool()][:, ym[0].bool()].double().cpu().numpy() - ref).max())
        results["sinkhorn"] = {"batched_ms": 1000 * ours, "pot_loop_ms": 1000 * loop,
                               "speedup_vs_pot_loop": loop / ours, "max_abs_plan_difference_vs_pot": agree}
        if device.type == "cuda":  # POT's torch backend on the GPU, still one pair at a time
            on_device = [tuple(torch.as_tensor(v, device=device) for v in p) for p in problems]

            def pot_device_loop() -> None:
                for pa, pb, M in on_device:
                    pot.sinkhorn(pa, pb, M, args.eps, method="sinkhorn_log", numItermax=args.iterations, stopThr=0)

            loop_dev = _median_time(pot_device_loop, args.repeats, sync)
            results["sinkhorn"]["pot_loop_on_device_ms"] = 1000 * loop_dev
            results["sinkhorn"]["speedup_vs_pot_loop_on_device"] = loop_dev / ours
    try:
        from ot.batch import solve_batch

        n = max(int(xm.sum(1).max()), int(ym.sum(1).max()))
        dense_cost = cost[:, :n, :n].contiguous()  # POT's batch solver takes no masks: an unpadded square crop
        pot_batch = _median_time(lambda: solve_batch(dense_cost, reg=args.eps, max_iter=args.iterations, tol=0,
                                                     method="log_sinkhorn", grad="detach"), args.repeats, sync)
        uniform = torch.full(dense_cost.shape[:2], 1 / n, device=device)
        ours_crop = _median_time(lambda: sinkhorn_log(dense_cost, uniform, uniform, args.eps,
                                                      args.iterations), args.repeats, sync)
        results["sinkhorn"]["pot_solve_batch_ms"] = 1000 * pot_batch
        results["sinkhorn"]["ours_same_unmasked_problem_ms"] = 1000 * ours_crop
    except Exception as err:  # noqa: BLE001 - an optional comparison
        results["sinkhorn"]["pot_solve_batch_error"] = str(err)

    # 2. OT's share of a training step, and throughput against MSE distillation
    params = [p for p in student.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-6)

    def step(method: str, b: list[tuple[str, str, str]]) -> None:
        loss_fn = build_loss(DistillConfig(languages=("sw",), method=method, eps=args.eps,
                                           sinkhorn_iterations=args.iterations))
        english = [e for _, _, e in b]
        batch = Batch(s_side.run([s for _, s, _ in b]), stack([cache[e] for e in english], device),
                      s_side.run(english) if loss_fn.student_reads_english else None)
        loss, _ = loss_fn(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def epoch(method: str) -> None:
        for b in batches:
            step(method, b)

    t_opt, t_mse = (_median_time(lambda m=m: epoch(m), max(1, args.repeats - 1), sync) for m in ("optical", "mse"))
    ot_times = []
    for b in batches:
        with torch.no_grad():
            x, xm, _ = s_side.run([s for _, s, _ in b])
        tok, mask, _ = stack([cache[e] for _, _, e in b], device)
        xg = x.detach().requires_grad_(True)
        ot_times.append(_median_time(lambda xg=xg, tok=tok, xm=xm, mask=mask: ot_loss(
            xg, tok, xm, mask, eps=args.eps, n_iter=args.iterations).loss.mean().backward(), args.repeats, sync))
    t_ot = sum(ot_times)
    results["training"] = {"optical_pairs_per_second": len(pairs) / t_opt, "mse_pairs_per_second": len(pairs) / t_mse,
                           "optical_over_mse_time": t_opt / t_mse, "ot_share_of_step": t_ot / t_opt,
                           "ot_ms_per_batch": 1000 * t_ot / len(batches)}
    results["peak_rss_mib"] = peak_rss_mib()
    if device.type == "cuda":
        results["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20

    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(f"{args.output}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(results, indent=2) + "\n")
    os.replace(tmp, args.output)
    s, t = results["sinkhorn"], results["training"]
    versus_pot = (f", POT per-pair loop {s['pot_loop_ms']:.1f} ms (×{s['speedup_vs_pot_loop']:.1f}); plan differs "
                  f"from POT's by at most {s['max_abs_plan_difference_vs_pot']:.1e}") if "pot_loop_ms" in s else ""
    print(f"Sinkhorn on one batch ({len(batch)} pairs, ε={args.eps}, {args.iterations} iterations): batched "
          f"{s['batched_ms']:.1f} ms{versus_pot}")
    if "pot_solve_batch_ms" in s:
        print(f"unmasked square crop: POT solve_batch {s['pot_solve_batch_ms']:.1f} ms, ours "
              f"{s['ours_same_unmasked_problem_ms']:.1f} ms")
    print(f"training: OPTICAL {t['optical_pairs_per_second']:.1f} pairs/s, "
          f"MSE {t['mse_pairs_per_second']:.1f} pairs/s; "
          f"OT is {100 * t['ot_share_of_step']:.1f}% of an OPTICAL step ({t['ot_ms_per_batch']:.1f} ms per batch); "
          f"peak RSS {results['peak_rss_mib']:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
